//! Tor v3 onion addresses, anchored on `.onion`: the 56 base32 characters before it,
//! checked for the version byte and checksum of the onion service specification.

use super::chars::{all, at, before, is, lower, ALNUM, BASE32};
use super::Sink;
use crate::features::kind::Kind;
use crate::features::validate::onion;
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// Built once: a searcher per call would cost more than searching a short run.
static ONION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b".onion"));

const LABEL: usize = 56;

pub fn find(text: &[u8], sink: &mut Sink) {
    for dot in ONION.find_iter(text) {
        let end = dot + 6;
        if dot < LABEL || is(at(text, end), ALNUM) {
            continue;
        }
        let start = dot - LABEL;
        let label = &text[start..dot];
        if !all(label, BASE32) || is(before(text, start), ALNUM) {
            continue;
        }
        sink.push(
            Kind::Onion,
            start,
            end,
            lower(&text[start..end]),
            onion::valid_v3(label),
        );
    }
}

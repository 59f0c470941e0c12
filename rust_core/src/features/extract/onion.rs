//! Tor v3 onion addresses, anchored on `.onion`: the 56 base32 characters before it,
//! checked for the version byte and checksum of the onion service specification.

use super::chars::{all, at, before, is, lower, ALNUM, BASE32};
use super::Sink;
use crate::features::kind::Kind;
use crate::features::validate::onion;

const LABEL: usize = 56;

pub fn find(text: &[u8], sink: &mut Sink) {
    for dot in memchr::memmem::find_iter(text, b".onion") {
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

//! Extractors: given one run of text (every byte printable ASCII or white space), find the
//! features in it. Each extractor anchors on what its kind must contain (`@`, `://`, `:`,
//! `.onion`, `-----BEGIN `) or takes the words of one shared word pass, so a run costs one
//! walk plus a few `memchr` searches.

mod chars;
mod email;
mod ipv6;
mod keys;
mod numbers;
mod onion;
mod url;
mod words;

use super::kind::{Kind, Kinds};

/// A feature found in a run: `start..end` within the run, its normalised value, and whether
/// its checksum (if it has one) holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub value: String,
    pub valid: bool,
}

/// Where extractors put what they find; drops kinds not asked for.
pub struct Sink<'a> {
    pub kinds: Kinds,
    pub out: &'a mut Vec<Found>,
}

impl Sink<'_> {
    pub fn wants(&self, kind: Kind) -> bool {
        self.kinds.has(kind)
    }

    pub fn push(&mut self, kind: Kind, start: usize, end: usize, value: String, valid: bool) {
        if self.kinds.has(kind) {
            self.out.push(Found {
                kind,
                start,
                end,
                value,
                valid,
            });
        }
    }
}

/// Every feature of the asked kinds in `text` (one run), valid or not; the caller filters.
pub fn extract(text: &[u8], kinds: Kinds, out: &mut Vec<Found>) {
    let mut sink = Sink { kinds, out };
    if sink.kinds.any(&[Kind::Email, Kind::Domain]) {
        email::find(text, &mut sink);
    }
    if sink.kinds.any(&[Kind::Url, Kind::Domain]) {
        url::find(text, &mut sink);
    }
    if sink.wants(Kind::Ipv6) {
        ipv6::find(text, &mut sink);
    }
    if sink.wants(Kind::Onion) {
        onion::find(text, &mut sink);
    }
    if sink.kinds.any(&[Kind::PgpPrivateKey, Kind::SshPrivateKey]) {
        keys::find(text, &mut sink);
    }
    if sink.kinds.any(&words::KINDS) {
        words::find(text, &mut sink);
    }
}

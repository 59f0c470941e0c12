//! E-mail addresses, anchored on `@`; the domain of each is also a `domain` feature.

use super::chars::{domain_end, is, lower, string, LOCAL};
use super::Sink;
use crate::features::kind::Kind;

pub fn find(text: &[u8], sink: &mut Sink) {
    for at in memchr::memchr_iter(b'@', text) {
        let mut start = at;
        while start > 0 && at - start < 64 && is(text[start - 1], LOCAL) {
            start -= 1;
        }
        if start > 0 && is(text[start - 1], LOCAL) {
            continue; // a local part longer than 64 characters
        }
        while start < at && text[start] == b'.' {
            start += 1;
        }
        if start == at || text[at - 1] == b'.' {
            continue;
        }
        let Some(end) = domain_end(text, at + 1) else {
            continue;
        };
        sink.push(Kind::Email, start, end, string(&text[start..end]), true);
        sink.push(Kind::Domain, at + 1, end, lower(&text[at + 1..end]), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::extract::Found;
    use crate::features::kind::Kinds;

    fn emails(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        find(
            text.as_bytes(),
            &mut Sink {
                kinds: Kinds::of(&[Kind::Email]),
                out: &mut out,
            },
        );
        out.into_iter()
            .map(|Found { start, value, .. }| (start, value))
            .collect()
    }

    #[test]
    fn addresses_in_text() {
        assert_eq!(
            emails("mail john.smith@example.co.uk."),
            vec![(5, "john.smith@example.co.uk".into())]
        );
        assert_eq!(emails("<a+b@x-y.org>"), vec![(1, "a+b@x-y.org".into())]);
        assert!(emails("user@localhost and @example.com and a@b.c1").is_empty());
        assert_eq!(emails("x@host.example.123"), vec![(0, "x@host.example".into())]);
    }
}

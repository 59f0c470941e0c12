//! URLs of the schemes a lab follows (http, https, ftp, ftps), anchored on `://`; the host
//! of each, when a name, is also a `domain` feature.

use super::chars::{at, before, domain_end, is, lower, string, ALNUM, DIGIT, HEX};
use super::Sink;
use crate::features::kind::Kind;
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// Built once: a searcher per call would cost more than searching a short run.
static SEPARATOR: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"://"));

const SCHEMES: [&[u8]; 4] = [b"http", b"https", b"ftp", b"ftps"];

fn ends_path(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
    )
}

pub fn find(text: &[u8], sink: &mut Sink) {
    for sep in SEPARATOR.find_iter(text) {
        let mut start = sep;
        while start > 0 && text[start - 1].is_ascii_alphabetic() && sep - start < 6 {
            start -= 1;
        }
        if is(before(text, start), ALNUM) {
            continue;
        }
        let scheme = lower(&text[start..sep]);
        if !SCHEMES.contains(&scheme.as_bytes()) {
            continue;
        }
        let host = sep + 3;
        let (host_end, named) = if at(text, host) == b'[' {
            let n = text[host + 1..]
                .iter()
                .take_while(|&&b| is(b, HEX) || b == b':' || b == b'.')
                .count();
            if at(text, host + 1 + n) != b']' || n < 2 {
                continue;
            }
            (host + n + 2, false)
        } else if let Some(e) = domain_end(text, host) {
            (e, true)
        } else if let Some(e) = super::numbers::ipv4_end(text, host) {
            (e, false)
        } else {
            continue;
        };
        let mut end = host_end;
        if at(text, end) == b':' && is(at(text, end + 1), DIGIT) {
            end += 1;
            while is(at(text, end), DIGIT) {
                end += 1;
            }
        }
        if matches!(at(text, end), b'/' | b'?' | b'#') {
            while end < text.len() && !ends_path(text[end]) {
                end += 1;
            }
        } else if is(at(text, end), ALNUM) || at(text, end) == b'-' {
            continue; // the host runs on into something that is not a host
        }
        while end > host_end && matches!(text[end - 1], b'.' | b',' | b';' | b':' | b'!' | b'?' | b')') {
            end -= 1;
        }
        sink.push(Kind::Url, start, end, string(&text[start..end]), true);
        if named {
            sink.push(Kind::Domain, host, host_end, lower(&text[host..host_end]), true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::extract::Found;
    use crate::features::kind::Kinds;

    fn urls(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        find(
            text.as_bytes(),
            &mut Sink {
                kinds: Kinds::of(&[Kind::Url, Kind::Domain]),
                out: &mut out,
            },
        );
        out.into_iter()
            .map(|Found { start, value, .. }| (start, value))
            .collect()
    }

    #[test]
    fn urls_and_their_hosts() {
        assert_eq!(
            urls("see https://www.Example.org/a/b?q=1#f)."),
            vec![
                (4, "https://www.Example.org/a/b?q=1#f".into()),
                (12, "www.example.org".into())
            ]
        );
        assert_eq!(
            urls("(ftp://10.0.0.1:21/x)"),
            vec![(1, "ftp://10.0.0.1:21/x".into())]
        );
        assert_eq!(
            urls("http://[2001:db8::1]/"),
            vec![(0, "http://[2001:db8::1]/".into())]
        );
        assert!(urls("gopher://example.org xhttp://example.org http://nohost/").is_empty());
    }
}

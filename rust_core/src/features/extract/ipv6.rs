//! IPv6 addresses, anchored on `:`: the span of hex digits, colons and dots around it must
//! parse as an address. Compressed forms need four hex digits and two groups or a whole
//! group of four (so C++'s `a::b` is not an address, `fe80::` is), except the loopback `::1`.

use super::chars::{before, is, lower, ALNUM, HEX};
use super::Sink;
use crate::features::kind::Kind;
use std::net::Ipv6Addr;

fn part(b: u8) -> bool {
    is(b, HEX) || b == b':' || b == b'.'
}

pub fn find(text: &[u8], sink: &mut Sink) {
    let mut covered = 0;
    for colon in memchr::memchr_iter(b':', text) {
        if colon < covered {
            continue;
        }
        let mut s = colon;
        while s > 0 && part(text[s - 1]) {
            s -= 1;
        }
        let mut e = colon;
        while e < text.len() && part(text[e]) {
            e += 1;
        }
        covered = e;
        if is(before(text, s), ALNUM) || (e < text.len() && is(text[e], ALNUM)) {
            continue;
        }
        while s < e && text[s] == b'.' {
            s += 1;
        }
        while e > s && text[e - 1] == b'.' {
            e -= 1;
        }
        if e > s + 1 && text[e - 1] == b':' && text[e - 2] != b':' {
            e -= 1; // "at 2001:db8::1: the..." ends at the address
        }
        if s < e && text[s] == b':' && text.get(s + 1) != Some(&b':') {
            s += 1; // a sentence's colon before the address
        }
        let token = &text[s..e];
        if memchr::memchr_iter(b':', token).count() < 2 {
            continue;
        }
        let Ok(addr) = std::str::from_utf8(token).unwrap_or("").parse::<Ipv6Addr>() else {
            continue;
        };
        // Compressed forms (C++ writes `a::b` too) need four hex digits and either two
        // groups or one whole group of four (`fe80::`); `::1` is the loopback.
        let groups: Vec<&[u8]> = token.split(|&b| b == b':').filter(|g| !g.is_empty()).collect();
        let hex = token.iter().filter(|b| is(**b, HEX)).count();
        let enough = hex >= 4 && (groups.len() >= 2 || groups.iter().any(|g| g.len() == 4));
        if !enough && addr != Ipv6Addr::LOCALHOST {
            continue;
        }
        sink.push(Kind::Ipv6, s, e, lower(token), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::kind::Kinds;

    fn ips(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        find(
            text.as_bytes(),
            &mut Sink {
                kinds: Kinds::of(&[Kind::Ipv6]),
                out: &mut out,
            },
        );
        out.into_iter().map(|f| (f.start, f.value)).collect()
    }

    #[test]
    fn addresses_not_times_macs_or_paths() {
        assert_eq!(
            ips("host 2001:DB8::8a2e:370:7334."),
            vec![(5, "2001:db8::8a2e:370:7334".into())]
        );
        assert_eq!(ips("lo ::1 up"), vec![(3, "::1".into())]);
        assert_eq!(ips("gw fe80::1:"), vec![(3, "fe80::1".into())]);
        assert_eq!(ips("net fe80:: and"), vec![(4, "fe80::".into())]);
        assert_eq!(ips("m ::ffff:192.0.2.1"), vec![(2, "::ffff:192.0.2.1".into())]);
        assert_eq!(ips("1:2:3:4:5:6:7:8"), vec![(0, "1:2:3:4:5:6:7:8".into())]);
        assert!(ips("12:30:45 00:1A:2B:3C:4D:5E std::vector a::b x2001:db8::1").is_empty());
    }
}

//! Private-key blocks (PGP armour, OpenSSH, PEM and PKCS#8), from their BEGIN line to their
//! END line, at most MAX_BLOCK bytes (cut there when the END line is missing).

use super::chars::string;
use super::Sink;
use crate::features::kind::Kind;
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// Built once: a searcher per call would cost more than searching a short run.
static BEGIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"-----BEGIN "));

pub const MAX_BLOCK: usize = 64 << 10;

const LABELS: [(&[u8], Kind); 7] = [
    (b"PGP PRIVATE KEY BLOCK", Kind::PgpPrivateKey),
    (b"OPENSSH PRIVATE KEY", Kind::SshPrivateKey),
    (b"RSA PRIVATE KEY", Kind::SshPrivateKey),
    (b"DSA PRIVATE KEY", Kind::SshPrivateKey),
    (b"EC PRIVATE KEY", Kind::SshPrivateKey),
    (b"ENCRYPTED PRIVATE KEY", Kind::SshPrivateKey),
    (b"PRIVATE KEY", Kind::SshPrivateKey),
];

pub fn find(text: &[u8], sink: &mut Sink) {
    let mut from = 0;
    for begin in BEGIN.find_iter(text) {
        if begin < from {
            continue;
        }
        let label_at = begin + 11;
        let Some(&(label, kind)) = LABELS.iter().find(|(label, _)| {
            text[label_at..].starts_with(label) && text[label_at + label.len()..].starts_with(b"-----")
        }) else {
            continue;
        };
        let limit = (begin + MAX_BLOCK).min(text.len());
        let mut end_line = b"-----END ".to_vec();
        end_line.extend_from_slice(label);
        end_line.extend_from_slice(b"-----");
        let end = memchr::memmem::find(&text[label_at..limit], &end_line)
            .map(|i| label_at + i + end_line.len())
            .unwrap_or(limit);
        from = end;
        sink.push(kind, begin, end, string(&text[begin..end]), true);
    }
}

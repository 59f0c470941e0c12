//! Digests checked against the coreutils tools (md5sum, sha1sum, sha256sum), an
//! implementation independent of the crates the core uses.

use _native::hashing::{digest, MultiHasher};
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_FILE: AtomicUsize = AtomicUsize::new(0);

fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn coreutils(tool: &str, data: &[u8]) -> String {
    let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("quarry-digest-{}-{n}", std::process::id()));
    std::fs::File::create(&dir)
        .and_then(|mut f| f.write_all(data))
        .expect("write temp file");
    let out = Command::new(tool)
        .arg(&dir)
        .output()
        .expect("coreutils tool runs");
    std::fs::remove_file(&dir).ok();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn block_edge_sizes_and_megabytes_match_coreutils() {
    for size in [0usize, 1, 55, 56, 63, 64, 65, 3 * 1024 * 1024 + 17] {
        let data = pseudo_random(size, 0x9E37_79B9_7F4A_7C15 ^ size as u64);
        let d = digest(&data);
        assert_eq!(d.md5, coreutils("md5sum", &data), "md5 of {size} bytes");
        assert_eq!(d.sha1, coreutils("sha1sum", &data), "sha1 of {size} bytes");
        assert_eq!(d.sha256, coreutils("sha256sum", &data), "sha256 of {size} bytes");
        assert_eq!(d.length, size as u64);
    }
}

#[test]
fn streamed_in_odd_pieces_matches_coreutils() {
    let data = pseudo_random(2 * 1024 * 1024 + 3, 42);
    let mut h = MultiHasher::new();
    h.update(&data[..1]);
    h.update(&data[1..56]);
    for piece in data[56..].chunks(65_537) {
        h.update(piece);
    }
    assert_eq!(h.digests().sha256, coreutils("sha256sum", &data));
    assert_eq!(h.digests().md5, coreutils("md5sum", &data));
}

//! Digests checked against the coreutils tools (md5sum, sha1sum, sha256sum, sha512sum),
//! an implementation independent of the core and the crates it uses.

use _native::hashing::{digest, Algorithm, ParallelHasher, Spec};
use _native::noise::noise as pseudo_random;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_FILE: AtomicUsize = AtomicUsize::new(0);

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

const TOOLS: [(Algorithm, &str); 4] = [
    (Algorithm::Md5, "md5sum"),
    (Algorithm::Sha1, "sha1sum"),
    (Algorithm::Sha256, "sha256sum"),
    (Algorithm::Sha512, "sha512sum"),
];

#[test]
fn block_edge_sizes_and_megabytes_match_coreutils() {
    let all: Vec<Algorithm> = TOOLS.iter().map(|(a, _)| *a).collect();
    for size in [
        0usize,
        1,
        55,
        56,
        57,
        63,
        64,
        65,
        111,
        112,
        119,
        120,
        127,
        128,
        129,
        3 * 1024 * 1024 + 17,
    ] {
        let data = pseudo_random(size, 0x9E37_79B9_7F4A_7C15 ^ size as u64);
        let d = digest(&data, &all);
        for (algorithm, tool) in TOOLS {
            assert_eq!(
                d.get(algorithm).unwrap(),
                coreutils(tool, &data),
                "{tool} of {size} bytes"
            );
        }
        assert_eq!(d.length, size as u64);
    }
}

#[test]
fn streamed_in_odd_pieces_over_threads_matches_coreutils() {
    let data = pseudo_random(9 * 1024 * 1024 + 3, 42);
    let spec = Spec {
        algorithms: TOOLS.iter().map(|(a, _)| *a).collect(),
        window_size: 0,
        window_algorithms: vec![],
        threads: 3,
    };
    let mut h = ParallelHasher::new(&spec).unwrap();
    h.update(&data[..1]).unwrap();
    h.update(&data[1..56]).unwrap();
    for piece in data[56..].chunks(65_537) {
        h.update(piece).unwrap();
    }
    let (d, _) = h.finish().unwrap();
    for (algorithm, tool) in TOOLS {
        assert_eq!(d.get(algorithm).unwrap(), coreutils(tool, &data), "{tool}");
    }
}

#[test]
fn a_file_read_by_the_core_matches_coreutils() {
    let data = pseudo_random(5 * 1024 * 1024 + 999, 7);
    let path = std::env::temp_dir().join(format!("quarry-digest-file-{}", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let spec = Spec {
        algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
        window_size: 0,
        window_algorithms: vec![],
        threads: 0,
    };
    let mut h = ParallelHasher::new(&spec).unwrap();
    // Skip the first 1000 bytes and ask for more than the file holds: fed up to its end.
    let fed = h.update_from_file(&file, 1000, 1 << 30).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(fed, data.len() as u64 - 1000);
    let (d, _) = h.finish().unwrap();
    assert_eq!(d.get(Algorithm::Md5).unwrap(), coreutils("md5sum", &data[1000..]));
    assert_eq!(
        d.get(Algorithm::Sha256).unwrap(),
        coreutils("sha256sum", &data[1000..])
    );
}

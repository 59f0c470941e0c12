//! Hash set files against a slow, obviously correct oracle (a BTreeSet): every digest
//! added is found, digests never added are not, whatever the run size (one digest, a
//! few, all in memory) and whatever the duplicates across runs. Damaged files are
//! refused with the file named.

use _native::hashset::{Algorithm, Builder, HashSet, SetError};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("quarry-hashset-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pseudo-random digests (xorshift), with about one in five repeating an earlier one.
fn digests(count: usize, width: usize, mut seed: u64) -> Vec<Vec<u8>> {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(count);
    for _ in 0..count {
        let r = next();
        if !out.is_empty() && r % 5 == 0 {
            let again = out[(r as usize / 5) % out.len()].clone();
            out.push(again);
        } else {
            out.push((0..width).map(|_| next() as u8).collect());
        }
    }
    out
}

fn build(dir: &Scratch, algorithm: Algorithm, items: &[Vec<u8>], run_bytes: usize) -> (HashSet, u64) {
    let mut builder = Builder::new(algorithm, &dir.0, run_bytes);
    for chunk in items.chunks(37) {
        builder.add(&chunk.concat()).unwrap();
    }
    let out = dir.0.join(format!("{}.qhs", algorithm.name()));
    let stats = builder.finish(&out).unwrap();
    assert_eq!(stats.added, items.len() as u64);
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "runs and partial files removed: {leftovers:?}"
    );
    (HashSet::open(&out).unwrap(), stats.count)
}

#[test]
fn lookups_equal_the_oracle_for_every_algorithm_and_run_size() {
    for algorithm in Algorithm::ALL {
        let w = algorithm.width();
        let items = digests(5000, w, 0x9e37_79b9_7f4a_7c15 ^ w as u64);
        let all: BTreeSet<Vec<u8>> = items.iter().cloned().collect();
        let absent: Vec<Vec<u8>> = digests(2000, w, 12345)
            .into_iter()
            .filter(|d| !all.contains(d))
            .collect();
        // One digest per run (300 runs, merged in two levels), 100 runs, 5 runs, one run.
        for (items, run_bytes) in [
            (&items[..300], w),
            (&items[..], 50 * w),
            (&items[..], 1000 * w),
            (&items[..], 1 << 20),
        ] {
            let oracle: BTreeSet<Vec<u8>> = items.iter().cloned().collect();
            let dir = Scratch::new();
            let (set, count) = build(&dir, algorithm, items, run_bytes);
            assert_eq!(count, oracle.len() as u64, "{algorithm:?} run {run_bytes}");
            assert_eq!(set.count(), count);
            set.verify().unwrap();
            for d in &oracle {
                assert!(set.contains(d).unwrap());
            }
            for d in &absent {
                assert!(!set.contains(d).unwrap());
            }
            let queries: Vec<u8> = oracle
                .iter()
                .take(100)
                .chain(absent.iter().take(50))
                .flatten()
                .copied()
                .collect();
            let mut found = vec![9u8; 150];
            assert_eq!(set.contains_many(&queries, &mut found).unwrap(), 100);
            assert_eq!(found, [vec![1u8; 100], vec![0u8; 50]].concat());
        }
    }
}

#[test]
fn the_extremes_of_the_digest_space_are_found() {
    let dir = Scratch::new();
    let items = vec![vec![0u8; 20], vec![0xffu8; 20], vec![0x80u8; 20]];
    let mut more = digests(300, 20, 7);
    more.extend(items.clone());
    let (set, _) = build(&dir, Algorithm::Sha1, &more, 1 << 20);
    for d in &items {
        assert!(set.contains(d).unwrap());
    }
    let mut near = vec![0xffu8; 20];
    near[19] = 0xfe;
    assert_eq!(set.contains(&near).unwrap(), more.contains(&near));
}

#[test]
fn an_empty_and_a_one_digest_set_work() {
    let dir = Scratch::new();
    let (empty, count) = build(&dir, Algorithm::Md5, &[], 1 << 20);
    assert_eq!(count, 0);
    assert!(!empty.contains(&[0u8; 16]).unwrap());
    empty.verify().unwrap();
    let dir = Scratch::new();
    let (one, count) = build(&dir, Algorithm::Md5, &[vec![7u8; 16]], 1 << 20);
    assert_eq!(count, 1);
    assert!(one.contains(&[7u8; 16]).unwrap());
    assert!(!one.contains(&[8u8; 16]).unwrap());
}

#[test]
fn bytes_per_digest_is_the_width_plus_at_most_one() {
    let dir = Scratch::new();
    let items = digests(100_000, 32, 99);
    let (set, count) = build(&dir, Algorithm::Sha256, &items, 1 << 20);
    let per_digest = set.file_len() as f64 / count as f64;
    assert!((32.0..33.0).contains(&per_digest), "{per_digest}");
}

#[test]
fn wrong_widths_are_argument_errors() {
    let dir = Scratch::new();
    let (set, _) = build(&dir, Algorithm::Sha1, &digests(10, 20, 3), 1 << 20);
    assert!(matches!(set.contains(&[0u8; 16]), Err(SetError::Argument(_))));
    let mut found = vec![0u8; 2];
    assert!(matches!(
        set.contains_many(&[0u8; 41], &mut found),
        Err(SetError::Argument(_))
    ));
    let mut builder = Builder::new(Algorithm::Sha1, &dir.0, 1 << 20);
    assert!(matches!(builder.add(&[0u8; 21]), Err(SetError::Argument(_))));
}

#[test]
fn damaged_files_are_refused_naming_the_file() {
    let dir = Scratch::new();
    let (set, _) = build(&dir, Algorithm::Sha256, &digests(1000, 32, 5), 1 << 20);
    let good = std::fs::read(set.path()).unwrap();
    let path = dir.0.join("damaged.qhs");
    let mut cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() - 1].to_vec(), "bytes"),
        (b"SQLite format 3\0".to_vec(), "shorter"),
        ([b"NOTASET!".as_slice(), &good[8..]].concat(), "magic"),
    ];
    // An index entry that runs backwards, and digests swapped out of order.
    let index_at = good.len() - ((1 << set.index_bits()) + 1) * 8;
    let mut backwards = good.clone();
    backwards[index_at + 8..index_at + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    cases.push((backwards, "index"));
    let mut unsorted = good.clone();
    unsorted[64..96].copy_from_slice(&good[96..128]);
    unsorted[96..128].copy_from_slice(&good[64..96]);
    for (bytes, problem) in &cases {
        std::fs::write(&path, bytes).unwrap();
        let err = HashSet::open(&path).err().expect("damaged file opened");
        let text = err.to_string();
        assert!(
            text.starts_with(&path.display().to_string()) && text.contains(problem),
            "{text}"
        );
    }
    std::fs::write(&path, &unsorted).unwrap();
    let err = HashSet::open(&path).unwrap().verify().unwrap_err().to_string();
    assert!(err.contains("damaged.qhs") && err.contains("digest 1"), "{err}");
    let missing = HashSet::open(&dir.0.join("absent.qhs")).err().unwrap();
    assert!(matches!(missing, SetError::Io { .. }));
}

#[test]
fn digests_that_share_their_top_bits_are_still_found() {
    // Not what real digests look like, but a list could hold such values: every digest
    // lands in one bucket, which lookups then binary-search.
    let dir = Scratch::new();
    let items: Vec<Vec<u8>> = digests(2000, 16, 11)
        .into_iter()
        .map(|mut d| {
            d[..10].fill(0);
            d
        })
        .collect();
    let oracle: BTreeSet<Vec<u8>> = items.iter().cloned().collect();
    let (set, _) = build(&dir, Algorithm::Md5, &items, 1 << 20);
    set.verify().unwrap();
    for d in &oracle {
        assert!(set.contains(d).unwrap());
    }
    let queries: Vec<u8> = oracle.iter().flatten().copied().collect();
    let mut found = vec![0u8; oracle.len()];
    assert_eq!(set.contains_many(&queries, &mut found).unwrap(), oracle.len());
    for probe in digests(500, 16, 12) {
        let mut near = probe.clone();
        near[..10].fill(0);
        assert_eq!(set.contains(&near).unwrap(), oracle.contains(&near));
        assert_eq!(set.contains(&probe).unwrap(), oracle.contains(&probe));
    }
}

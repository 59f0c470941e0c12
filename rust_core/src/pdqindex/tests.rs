//! The index against an obviously correct oracle: every (query, hash, label) pair compared
//! bit by bit, on random hashes with neighbours planted at known distances.

use super::format::HEADER_LEN;
use super::index::{ball, flips};
use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// xorshift64*: reproducible pseudo-random words with no crate to pull in.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hash(&mut self) -> Pdq {
        [self.next(), self.next(), self.next(), self.next()]
    }

    /// `h` with exactly `bits` distinct bits flipped.
    fn flip(&mut self, h: &Pdq, bits: u32) -> Pdq {
        let mut out = *h;
        let mut chosen = BTreeSet::new();
        while chosen.len() < bits as usize {
            chosen.insert(self.below(256) as usize);
        }
        for bit in chosen {
            out[bit / 64] ^= 1u64 << (bit % 64);
        }
        out
    }
}

/// The bit at position `bit` (0: the first hex digit's top bit), read from the hex text.
fn hex_bit(hex: &str, bit: usize) -> u32 {
    let digit = u32::from_str_radix(&hex[bit / 4..bit / 4 + 1], 16).unwrap();
    (digit >> (3 - bit % 4)) & 1
}

fn naive_distance(a: &Pdq, b: &Pdq) -> u32 {
    let (a, b) = (to_hex(a), to_hex(b));
    (0..256).filter(|&i| hex_bit(&a, i) != hex_bit(&b, i)).count() as u32
}

/// A file path in a folder of its own, removed with the folder when the test is done (an
/// index file can be hundreds of MB: none may be left behind).
struct Scratch {
    dir: PathBuf,
    path: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch(name: &str) -> Scratch {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("quarry-pdqindex-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    Scratch { dir, path }
}

fn build(entries: &[(Pdq, String)], path: &Path, chunks: Option<usize>) -> (PdqIndex, BuildStats) {
    let mut b = IndexBuilder::new();
    for (h, label) in entries {
        b.add(*h, label).unwrap();
    }
    let stats = b.finish(path, chunks).unwrap();
    let index = PdqIndex::open(path).unwrap();
    index.verify().unwrap();
    (index, stats)
}

type Found = BTreeSet<(u32, String, String, u32)>;

/// (query, hash hex, label, distance) of every distinct entry within the threshold.
fn oracle(entries: &[(Pdq, String)], queries: &[Pdq], threshold: u32) -> Found {
    let mut out = Found::new();
    for (qi, q) in queries.iter().enumerate() {
        for (h, label) in entries {
            let d = naive_distance(q, h);
            if d <= threshold {
                out.insert((qi as u32, to_hex(h), label.clone(), d));
            }
        }
    }
    out
}

fn found(index: &PdqIndex, matches: &[Match]) -> Found {
    let out: Found = matches
        .iter()
        .map(|m| {
            let h = index.hash(u64::from(m.entry)).unwrap();
            let label = index.label(u64::from(m.entry)).unwrap().to_owned();
            (m.query, to_hex(&h), label, m.distance)
        })
        .collect();
    assert_eq!(out.len(), matches.len(), "an entry reported twice for one query");
    out
}

/// Random list entries and queries, each query with list neighbours planted at distances
/// 0..=40 (and a few exact duplicates in the list under other labels).
fn planted_case(seed: u64, list: usize, queries: usize) -> (Vec<(Pdq, String)>, Vec<Pdq>) {
    let mut rng = Rng(seed);
    let mut entries: Vec<(Pdq, String)> = (0..list)
        .map(|i| (rng.hash(), format!("random-{}", i % 7)))
        .collect();
    let qs: Vec<Pdq> = (0..queries).map(|_| rng.hash()).collect();
    for (qi, q) in qs.iter().enumerate() {
        for d in (0..=40).step_by(1 + qi % 3) {
            entries.push((rng.flip(q, d), format!("planted-{qi}-{d}")));
        }
    }
    for i in 0..20 {
        let (h, _) = entries[i * 7].clone();
        entries.push((h, "duplicate".into()));
        entries.push((h, "duplicate".into()));
    }
    (entries, qs)
}

#[test]
fn hex_round_trips_and_rejects_the_rest() {
    let hex = "0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978";
    let h = parse_hex(hex).unwrap();
    assert_eq!(h[0], 0x0123_4567_89ab_cdef);
    assert_eq!(to_hex(&h), hex);
    assert_eq!(parse_hex(&hex.to_uppercase()), Some(h));
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert_eq!(from_bytes(raw.as_slice().try_into().unwrap()), h);
    assert_eq!(parse_hex(&hex[1..]), None);
    assert_eq!(parse_hex(&format!("{}g", &hex[1..])), None);
    assert_eq!(parse_hex(&format!("{hex}0")), None);
    assert!(hashes_from_bytes(&raw[1..], "q").is_err());
    assert_eq!(hashes_from_bytes(&raw, "q").unwrap(), vec![h]);
}

#[test]
fn distance_counts_differing_bits() {
    let mut rng = Rng(7);
    for bits in 0..=256 {
        let a = rng.hash();
        let b = rng.flip(&a, bits);
        assert_eq!(distance(&a, &b), bits);
        assert_eq!(naive_distance(&a, &b), bits);
    }
}

#[test]
fn chunks_cover_the_bits_and_read_them_in_order() {
    let mut rng = Rng(11);
    let hashes: Vec<Pdq> = (0..50).map(|_| rng.hash()).collect();
    for m in MIN_CHUNKS..=MAX_CHUNKS {
        let chunks = Chunks::new(m).unwrap();
        assert_eq!((0..m).map(|i| chunks.width(i)).sum::<u32>(), 256);
        for h in &hashes {
            let hex = to_hex(h);
            let mut bit = 0;
            for i in 0..m {
                let want = (0..chunks.width(i) as usize).fold(0u32, |v, k| (v << 1) | hex_bit(&hex, bit + k));
                assert_eq!(chunks.value(h, i), want, "m={m} chunk {i}");
                bit += chunks.width(i) as usize;
            }
            let other = rng.hash();
            let x = [h[0] ^ other[0], h[1] ^ other[1], h[2] ^ other[2], h[3] ^ other[3]];
            assert_eq!(
                (0..m).map(|i| chunks.distance_in(&x, i)).sum::<u32>(),
                distance(h, &other)
            );
        }
    }
    assert!(Chunks::new(MIN_CHUNKS - 1).is_err() && Chunks::new(MAX_CHUNKS + 1).is_err());
}

#[test]
fn chunk_count_follows_the_list_size() {
    assert_eq!(Chunks::for_count(0), 32);
    assert_eq!(Chunks::for_count(1000), 26);
    assert_eq!(Chunks::for_count(1_000_000), 13);
    assert_eq!(Chunks::for_count(10_000_000), 12);
    assert_eq!(Chunks::for_count(1 << 40), 12);
}

#[test]
fn flips_are_every_value_within_the_radius_once() {
    for width in [4u32, 9, 16] {
        for radius in 0..=5 {
            let got = flips(width, radius);
            let want: Vec<u32> = (0..1u32 << width).filter(|v| v.count_ones() <= radius).collect();
            assert_eq!(got.len() as u64, ball(width, radius));
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, want, "width {width} radius {radius}");
        }
    }
    assert_eq!(ball(22, 2), 1 + 22 + 231);
}

#[test]
fn radii_never_miss_a_hash_within_the_threshold() {
    // Every way to spread `threshold` differing bits over the chunks leaves one chunk
    // within its radius: the worst case puts radius+1 bits in every searched chunk.
    for m in [11usize, 12, 16, 26, 64] {
        let chunks = Chunks::new(m).unwrap();
        for threshold in 0..=80u32 {
            let radii = chunks.radii(threshold);
            let to_escape: u32 = radii.iter().map(|r| r.map_or(0, |r| r + 1)).sum();
            assert!(to_escape > threshold, "m={m} threshold {threshold}");
        }
    }
}

#[test]
fn mih_equals_brute_force_at_every_threshold() {
    let (entries, queries) = planted_case(1, 3000, 24);
    let (index, stats) = build(&entries, &scratch("planted.qpdq"), None);
    assert_eq!(stats.added, entries.len() as u64);
    let distinct: BTreeSet<&(Pdq, String)> = entries.iter().collect();
    assert!(distinct.len() < entries.len());
    assert_eq!(stats.count, distinct.len() as u64, "each (hash, label) kept once");
    for threshold in 0..=64 {
        let want = oracle(&entries, &queries, threshold);
        for method in [Method::Mih, Method::Linear, Method::Auto] {
            let got = index.search(&queries, threshold, method, 2).unwrap();
            assert_eq!(found(&index, &got), want, "threshold {threshold} {method:?}");
        }
    }
}

#[test]
fn every_chunk_count_gives_the_same_answers() {
    let (entries, queries) = planted_case(2, 2000, 12);
    let want = oracle(&entries, &queries, 31);
    assert!(
        want.len() >= 12 * 10,
        "planted neighbours within 31: {}",
        want.len()
    );
    for m in [11usize, 12, 13, 16, 22, 32, 47, 64] {
        let (index, stats) = build(&entries, &scratch("chunks.qpdq"), Some(m));
        assert_eq!(stats.chunks, m);
        let got = index.search(&queries, 31, Method::Mih, 1).unwrap();
        assert_eq!(found(&index, &got), want, "m={m}");
    }
}

#[test]
fn threads_do_not_change_the_answer() {
    let (entries, queries) = planted_case(3, 1000, 600);
    let (index, _) = build(&entries, &scratch("threads.qpdq"), None);
    let one = index.search(&queries, 31, Method::Mih, 1).unwrap();
    assert!(one.windows(2).all(|w| w[0] < w[1]), "sorted by query, then entry");
    for threads in [2, 3, 8] {
        assert_eq!(index.search(&queries, 31, Method::Mih, threads).unwrap(), one);
    }
}

#[test]
fn an_empty_list_matches_nothing() {
    let path = scratch("empty.qpdq");
    let (index, stats) = build(&[], &path, None);
    assert_eq!((stats.count, stats.labels, index.count()), (0, 0, 0));
    let q = [Rng(5).hash()];
    for method in [Method::Mih, Method::Linear, Method::Auto] {
        assert!(index.search(&q, 256, Method::Linear, 0).unwrap().is_empty());
        assert!(index.search(&q, 31, method, 0).unwrap().is_empty());
    }
    assert!(index.search(&[], 31, Method::Auto, 0).unwrap().is_empty());
    assert!(index.label(0).is_err());
}

#[test]
fn duplicates_and_labels_are_kept_apart() {
    let mut rng = Rng(9);
    let h = rng.hash();
    let near = rng.flip(&h, 3);
    let entries: Vec<(Pdq, String)> = [(h, "b"), (h, "a"), (h, "b"), (near, ""), (near, "a"), (h, "a")]
        .iter()
        .map(|(h, l)| (*h, (*l).to_owned()))
        .collect();
    let (index, stats) = build(&entries, &scratch("dups.qpdq"), None);
    assert_eq!((stats.added, stats.count, stats.labels), (6, 4, 3));
    let got = index.search(&[h], 31, Method::Mih, 1).unwrap();
    assert_eq!(found(&index, &got), oracle(&entries, &[h], 31));
    assert_eq!(got.len(), 4);
    assert!(index
        .search(&[h], 2, Method::Mih, 1)
        .unwrap()
        .iter()
        .all(|m| m.distance == 0));
}

#[test]
fn the_same_entries_in_any_order_make_the_same_file() {
    let (mut entries, _) = planted_case(4, 500, 3);
    let (a, b) = (scratch("a.qpdq"), scratch("b.qpdq"));
    build(&entries, &a, None);
    entries.reverse();
    build(&entries, &b, None);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn a_large_threshold_scans_and_mih_refuses_it() {
    let (entries, queries) = planted_case(6, 300, 2);
    let (index, _) = build(&entries, &scratch("large.qpdq"), Some(11));
    let all = index.search(&queries, 256, Method::Auto, 1).unwrap();
    assert_eq!(all.len(), 2 * index.count() as usize);
    let err = index.search(&queries, 200, Method::Mih, 1).unwrap_err();
    assert!(err.to_string().contains("search it linearly"), "{err}");
}

#[test]
fn damaged_files_say_what_is_wrong() {
    let (entries, _) = planted_case(8, 200, 2);
    let path = scratch("good.qpdq");
    build(&entries, &path, Some(16));
    let good = std::fs::read(&path).unwrap();
    let bad = scratch("bad.qpdq");
    let cases: [(usize, u8, &str); 4] = [
        (0, b'X', "magic"),
        (8, 2, "format version"),
        (12, 5, "chunks"),
        (17, 0x10, "do not fit"),
    ];
    for (at, value, problem) in cases {
        let mut bytes = good.clone();
        bytes[at] = value;
        std::fs::write(&bad, &bytes).unwrap();
        let err = PdqIndex::open(&bad).err().unwrap().to_string();
        assert!(err.contains(problem) && err.contains("bad.qpdq"), "{err}");
    }
    std::fs::write(&bad, &good[..good.len() - 1]).unwrap();
    let err = PdqIndex::open(&bad).err().unwrap().to_string();
    assert!(err.contains("header's counts need"), "{err}");
    std::fs::write(&bad, &good[..10]).unwrap();
    assert!(PdqIndex::open(&bad)
        .err()
        .unwrap()
        .to_string()
        .contains("shorter"));

    // Two hashes swapped: opening works, verify finds it, and searching does not crash.
    let mut bytes = good.clone();
    let (a, b) = (HEADER_LEN, HEADER_LEN + WIDTH);
    let first: Vec<u8> = bytes[a..b].to_vec();
    bytes.copy_within(b..b + WIDTH, a);
    bytes[b..b + WIDTH].copy_from_slice(&first);
    std::fs::write(&bad, &bytes).unwrap();
    let index = PdqIndex::open(&bad).unwrap();
    let err = index.verify().unwrap_err().to_string();
    assert!(err.contains("not above"), "{err}");
    index.search(&[Rng(1).hash()], 40, Method::Mih, 1).unwrap();

    // Ids and bucket offsets past the end are skipped, not followed.
    let mut bytes = good.clone();
    let tables_at = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
    for word in bytes[tables_at..tables_at + 4 * 2000].chunks_exact_mut(4) {
        word.copy_from_slice(&u32::MAX.to_le_bytes());
    }
    std::fs::write(&bad, &bytes).unwrap();
    let index = PdqIndex::open(&bad).unwrap();
    assert!(index.verify().is_err());
    for threshold in [0, 31, 64] {
        index.search(&[Rng(2).hash()], threshold, Method::Mih, 1).unwrap();
    }
}

//! Deterministic pseudo-random bytes (xorshift64) for tests and benchmarks: reproducible
//! from a seed, with no crate to pull in.

/// `len` bytes from `seed`.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

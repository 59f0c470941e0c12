//! MD5 (RFC 1321) written for the longest dependency chain per step: each step's
//! message word, constant and independent terms are added off the critical path, so
//! one stream hashes as fast as the core's serial latency allows (MD5 cannot be split
//! over cores). Checked against coreutils md5sum and Python's hashlib in the tests.

#![allow(clippy::many_single_char_names)]

/// floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
#[rustfmt::skip]
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

macro_rules! f {
    ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = $a
            .wrapping_add($m)
            .wrapping_add($k)
            .wrapping_add($d ^ ($b & ($c ^ $d)))
            .rotate_left($s)
            .wrapping_add($b);
    };
}
macro_rules! g {
    ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = $a
            .wrapping_add($m)
            .wrapping_add($k)
            .wrapping_add($c & !$d)
            .wrapping_add($b & $d)
            .rotate_left($s)
            .wrapping_add($b);
    };
}
macro_rules! h {
    ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = $a
            .wrapping_add($m)
            .wrapping_add($k)
            .wrapping_add($b ^ ($c ^ $d))
            .rotate_left($s)
            .wrapping_add($b);
    };
}
macro_rules! i {
    ($a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = $a
            .wrapping_add($m)
            .wrapping_add($k)
            .wrapping_add($c ^ ($b | !$d))
            .rotate_left($s)
            .wrapping_add($b);
    };
}

#[rustfmt::skip]
#[inline(always)]
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut x = [0u32; 16];
    for (o, c) in x.iter_mut().zip(block.chunks_exact(4)) { *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]); }
    let [mut a, mut b, mut c, mut d] = *state;
    f!(a,b,c,d,x[0],K[0],7); f!(d,a,b,c,x[1],K[1],12); f!(c,d,a,b,x[2],K[2],17); f!(b,c,d,a,x[3],K[3],22);
    f!(a,b,c,d,x[4],K[4],7); f!(d,a,b,c,x[5],K[5],12); f!(c,d,a,b,x[6],K[6],17); f!(b,c,d,a,x[7],K[7],22);
    f!(a,b,c,d,x[8],K[8],7); f!(d,a,b,c,x[9],K[9],12); f!(c,d,a,b,x[10],K[10],17); f!(b,c,d,a,x[11],K[11],22);
    f!(a,b,c,d,x[12],K[12],7); f!(d,a,b,c,x[13],K[13],12); f!(c,d,a,b,x[14],K[14],17); f!(b,c,d,a,x[15],K[15],22);
    g!(a,b,c,d,x[1],K[16],5); g!(d,a,b,c,x[6],K[17],9); g!(c,d,a,b,x[11],K[18],14); g!(b,c,d,a,x[0],K[19],20);
    g!(a,b,c,d,x[5],K[20],5); g!(d,a,b,c,x[10],K[21],9); g!(c,d,a,b,x[15],K[22],14); g!(b,c,d,a,x[4],K[23],20);
    g!(a,b,c,d,x[9],K[24],5); g!(d,a,b,c,x[14],K[25],9); g!(c,d,a,b,x[3],K[26],14); g!(b,c,d,a,x[8],K[27],20);
    g!(a,b,c,d,x[13],K[28],5); g!(d,a,b,c,x[2],K[29],9); g!(c,d,a,b,x[7],K[30],14); g!(b,c,d,a,x[12],K[31],20);
    h!(a,b,c,d,x[5],K[32],4); h!(d,a,b,c,x[8],K[33],11); h!(c,d,a,b,x[11],K[34],16); h!(b,c,d,a,x[14],K[35],23);
    h!(a,b,c,d,x[1],K[36],4); h!(d,a,b,c,x[4],K[37],11); h!(c,d,a,b,x[7],K[38],16); h!(b,c,d,a,x[10],K[39],23);
    h!(a,b,c,d,x[13],K[40],4); h!(d,a,b,c,x[0],K[41],11); h!(c,d,a,b,x[3],K[42],16); h!(b,c,d,a,x[6],K[43],23);
    h!(a,b,c,d,x[9],K[44],4); h!(d,a,b,c,x[12],K[45],11); h!(c,d,a,b,x[15],K[46],16); h!(b,c,d,a,x[2],K[47],23);
    i!(a,b,c,d,x[0],K[48],6); i!(d,a,b,c,x[7],K[49],10); i!(c,d,a,b,x[14],K[50],15); i!(b,c,d,a,x[5],K[51],21);
    i!(a,b,c,d,x[12],K[52],6); i!(d,a,b,c,x[3],K[53],10); i!(c,d,a,b,x[10],K[54],15); i!(b,c,d,a,x[1],K[55],21);
    i!(a,b,c,d,x[8],K[56],6); i!(d,a,b,c,x[15],K[57],10); i!(c,d,a,b,x[6],K[58],15); i!(b,c,d,a,x[13],K[59],21);
    i!(a,b,c,d,x[4],K[60],6); i!(d,a,b,c,x[11],K[61],10); i!(c,d,a,b,x[2],K[62],15); i!(b,c,d,a,x[9],K[63],21);
    state[0] = state[0].wrapping_add(a); state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c); state[3] = state[3].wrapping_add(d);
}

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Streaming MD5.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    pending: [u8; 64],
    pending_len: usize,
    length: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Md5 {
            state: INIT,
            pending: [0; 64],
            pending_len: 0,
            length: 0,
        }
    }
}

impl Md5 {
    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            compress(&mut self.state, &block);
            self.pending_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            compress(&mut self.state, block.try_into().expect("64-byte chunk"));
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The digest of everything fed so far (the state carries on unchanged).
    pub fn value(&self) -> [u8; 16] {
        let mut state = self.state;
        let mut tail = [0u8; 128];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let blocks = if self.pending_len < 56 { 1 } else { 2 };
        let end = blocks * 64;
        tail[end - 8..end].copy_from_slice(&self.length.wrapping_mul(8).to_le_bytes());
        for block in tail[..end].chunks_exact(64) {
            compress(&mut state, block.try_into().expect("64-byte chunk"));
        }
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

//! JPEG: marker segments from SOI, entropy-coded scans after each SOS, up to EOI.
//!
//! A frame header (SOF) must precede the first scan, and every marker must be one a
//! JPEG may contain at that point; anything else ends the walk. The segments that have
//! an inner layout (SOF, DHT, DQT, DRI, SOS) must fill their declared length exactly,
//! restart markers must count 0..7 in turn, the scans together must code every
//! coefficient of every component to full precision (a progressive JPEG needs its last
//! scans), and the scans of a Huffman-coded sequential frame (SOF0/SOF1, the common
//! case) are decoded code by code without keeping coefficients: each must hold exactly
//! the blocks the frame's size calls for, and end there. A walk that reaches EOI but
//! fails one of these checks is a damaged file. The decode is also what keeps a cut
//! JPEG followed by unrelated bytes from passing as whole when those bytes happen to
//! hold an EOI marker.
//!
//! A file cut and followed by other bytes is truncated where its structure breaks off,
//! but the segment just before the break is not trusted (a cut inside it leaves it
//! taking in foreign bytes as its own), nor any segment since the last one whose
//! content was checked; a cut inside a scan keeps the scan's data up to the first
//! marker, so the top of the picture survives.
//!
//! Segments are skipped by their length, so a JPEG thumbnail inside an APP1 (EXIF)
//! segment does not disturb the walk of the file holding it; the scanner finds the
//! thumbnail at its own offset.

use super::{be_u16, ran_out, Found, Probe};
use memchr::memchr;
use std::ops::ControlFlow;

const SOI_LEN: usize = 2;
/// Bits looked up at once when decoding a Huffman code.
const LUT_BITS: u32 = 9;

fn is_sof(m: u8) -> bool {
    matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC)
}

/// Markers followed by a two-byte length and a payload.
fn has_length(m: u8) -> bool {
    matches!(m, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xEF | 0xFE) && m != 0xC8
}

#[derive(Clone, Copy, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
}

struct Frame {
    marker: u8,
    precision: u8,
    width: usize,
    height: usize,
    components: Vec<Component>,
}

impl Frame {
    /// Huffman-coded sequential DCT (baseline or extended): scans that are decoded.
    fn sequential_huffman(&self) -> bool {
        matches!(self.marker, 0xC0 | 0xC1)
    }

    fn hierarchical(&self) -> bool {
        matches!(self.marker, 0xC5..=0xC7 | 0xCD..=0xCF)
    }

    fn max_h(&self) -> usize {
        self.components.iter().map(|c| c.h).max().unwrap_or(1)
    }

    fn max_v(&self) -> usize {
        self.components.iter().map(|c| c.v).max().unwrap_or(1)
    }
}

#[derive(Default)]
struct Walk {
    frame: Option<Frame>,
    dqt: bool,
    dht: bool,
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart_interval: usize,
    scans: usize,
    /// Scans whose entropy-coded data decoded to exactly the blocks expected.
    decoded: usize,
    /// A JFIF (APP0) or Exif (APP1) header was seen: a JPEG's beginning even when it is
    /// cut before its frame header.
    app_header: bool,
    /// A check inside failed: a segment whose layout does not fill its length, restart
    /// markers out of turn, a scan that does not decode.
    inconsistent: bool,
    /// Where the first segment since the last checked one starts that was not checked
    /// or failed its check.
    suspect: Option<usize>,
    /// For each frame component, the coefficients coded to full precision so far.
    coverage: [u64; 4],
    /// Where the last marker segment walked starts (or the last scan's data ends).
    last_segment: usize,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let (data, at_eof) = if data.len() > max_len {
        (&data[..max_len], false)
    } else {
        (data, at_eof)
    };
    let mut w = Walk::default();
    let mut pos = SOI_LEN;
    loop {
        let (Some(&ff), Some(&m)) = (data.get(pos), data.get(pos + 1)) else {
            return w.ran_out(data, at_eof, max_len);
        };
        if ff != 0xFF {
            return w.broken(pos);
        }
        match m {
            0xFF => pos += 1, // fill byte before a marker
            0xD9 if w.scans > 0 => return Probe::Found(w.finish(pos + 2)),
            0xD0..=0xD7 if w.scans > 0 => pos += 2,
            _ if has_length(m) => {
                // A segment the data ends inside is not checked: at the end of the image,
                // what is sound ends before it.
                w.suspect.get_or_insert(pos);
                w.last_segment = pos;
                let Some(len) = be_u16(data, pos + 2) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                if len < 2 {
                    return w.broken(pos);
                }
                let Some(body) = data.get(pos + 4..pos + 2 + len) else {
                    return w.ran_out(data, at_eof, max_len);
                };
                // Whether the segment's layout was checked and held.
                let checked = match m {
                    _ if is_sof(m) => match (parse_frame(m, body), &w.frame) {
                        (Some(f), None) => {
                            w.frame = Some(f);
                            true
                        }
                        // A second frame only in hierarchical mode.
                        (Some(_), Some(f)) if f.hierarchical() => true,
                        (_, Some(_)) => false,
                        (None, None) => return w.broken(pos),
                    },
                    0xC4 => {
                        w.dht = true;
                        w.tables(body)
                    }
                    0xDB => {
                        w.dqt = true;
                        quant_tables_fill(body)
                    }
                    0xDD => match be_u16(body, 0) {
                        Some(ri) if len == 4 => {
                            w.restart_interval = ri;
                            true
                        }
                        _ => false,
                    },
                    0xDA => {
                        if w.frame.is_none() {
                            return Probe::Invalid;
                        }
                        w.scan_header(body)
                    }
                    // APPn, COM, DAC...: their content is not checked here, but a JFIF or
                    // Exif identifier marks the start of a JPEG.
                    _ => {
                        w.app_header |= (m == 0xE0 && body.starts_with(b"JFIF\0"))
                            || (m == 0xE1 && body.starts_with(b"Exif\0\0"));
                        pos += 2 + len;
                        continue;
                    }
                };
                if checked {
                    w.suspect = None;
                } else {
                    w.inconsistent = true;
                }
                pos += 2 + len;
                if m == 0xDA {
                    w.scans += 1;
                    let Some((end, out_of_turn)) = next_marker(data, pos) else {
                        return w.ran_out(data, at_eof, max_len);
                    };
                    let decoded = if checked {
                        w.decode(body, &data[pos..end])
                    } else {
                        Some(false)
                    };
                    match decoded {
                        Some(true) => w.decoded += 1,
                        // The scan's data is kept (a cut inside it leaves a useful
                        // start), but nothing after it is confirmed.
                        Some(false) => {
                            w.inconsistent = true;
                            w.suspect.get_or_insert(end);
                        }
                        None => {}
                    }
                    if let Some(at) = out_of_turn {
                        // The scan's data is sound up to there at most.
                        w.inconsistent = true;
                        w.suspect = Some(w.suspect.map_or(at, |s| s.min(at)));
                    }
                    pos = end;
                    w.last_segment = end;
                }
            }
            _ => return w.broken(pos),
        }
    }
}

impl Walk {
    /// A frame header and at least one table: a JPEG's beginning, even with no scan.
    fn solid(&self) -> bool {
        self.scans > 0 || self.frame.is_some() && (self.dqt || self.dht) || self.app_header
    }

    /// Something that is not a JPEG marker where one must be. A file cut inside a
    /// segment runs on into bytes that the segment takes in as its own, so what is sound
    /// ends before the segment just walked (a scan's data is kept: a cut inside it
    /// leaves the top of the picture), or before the first one since the last checked
    /// segment that was not checked or failed.
    fn broken(&self, pos: usize) -> Probe {
        let len = self.suspect.unwrap_or(pos).min(self.last_segment.max(SOI_LEN));
        if self.scans > 0 {
            Probe::Found(Found::truncated(len, None, 60))
        } else if self.solid() {
            // Headers only: the image data was cut or overwritten.
            Probe::Found(Found::truncated(len, None, 30))
        } else {
            Probe::Invalid
        }
    }

    fn ran_out(&self, data: &[u8], at_eof: bool, max_len: usize) -> Probe {
        match (
            ran_out(data, at_eof, max_len, usize::from(self.solid())),
            self.suspect,
        ) {
            (Probe::Found(_), Some(len)) => Probe::Found(Found::truncated(len, None, 40)),
            (outcome, _) => outcome,
        }
    }

    /// EOI after at least one scan.
    fn finish(&self, len: usize) -> Found {
        if self.inconsistent || !self.covered() {
            return Found::damaged(len, 60);
        }
        let confidence = if self.decoded == self.scans {
            95
        } else if self.dqt {
            85
        } else {
            75
        };
        Found::complete(len, confidence)
    }

    /// Whether the scans coded every coefficient of every component to full precision
    /// (a progressive JPEG cut before its last scans is not a whole image).
    fn covered(&self) -> bool {
        match &self.frame {
            Some(f) if !f.hierarchical() => self
                .coverage
                .iter()
                .take(f.components.len())
                .all(|&c| c == u64::MAX),
            _ => true,
        }
    }

    /// Read the Huffman tables of one DHT segment; whether they fill it exactly.
    fn tables(&mut self, mut body: &[u8]) -> bool {
        while let Some((&class_id, rest)) = body.split_first() {
            let (class, id) = (class_id >> 4, (class_id & 15) as usize);
            let Some(counts) = rest.get(..16) else {
                return false;
            };
            let total: usize = counts.iter().map(|&c| c as usize).sum();
            let Some(symbols) = rest.get(16..16 + total) else {
                return false;
            };
            if class > 1 || id > 3 || total > 256 {
                return false;
            }
            let table = Huffman::new(counts, symbols);
            let ok = table.is_some();
            if class == 0 {
                self.dc[id] = table;
            } else {
                self.ac[id] = table;
            }
            if !ok {
                return false;
            }
            body = &rest[16 + total..];
        }
        true
    }

    /// Check an SOS header against the frame (whether it fits) and note which
    /// coefficients of which components it codes to full precision.
    fn scan_header(&mut self, header: &[u8]) -> bool {
        let Some(frame) = self.frame.as_ref() else {
            return false;
        };
        let ns = header.first().map_or(0, |&n| n as usize);
        if !(1..=4).contains(&ns) || header.len() != 4 + 2 * ns {
            return false;
        }
        let (ss, se, approx) = (header[1 + 2 * ns], header[2 + 2 * ns], header[3 + 2 * ns]);
        let progressive = matches!(frame.marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
        let lossless = matches!(frame.marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
        // Which coefficients this scan leaves final (successive approximation bit 0).
        let coded: u64 = if lossless {
            u64::MAX
        } else if progressive {
            if se > 63 || ss > se || ss == 0 && se != 0 || ss > 0 && ns != 1 {
                return false;
            }
            if approx & 15 != 0 {
                0
            } else {
                let width = u32::from(se - ss) + 1;
                (u64::MAX >> (64 - width)) << ss
            }
        } else {
            if ss != 0 || se != 63 || approx != 0 {
                return false;
            }
            u64::MAX
        };
        for i in 0..ns {
            let (id, tables) = (header[1 + 2 * i], header[2 + 2 * i]);
            let Some(index) = frame.components.iter().position(|c| c.id == id) else {
                return false;
            };
            if tables >> 4 > 3 || tables & 15 > 3 {
                return false;
            }
            self.coverage[index] |= coded;
        }
        true
    }

    /// Decode a scan of a Huffman-coded sequential frame: `Some(ok)` when decoded,
    /// `None` when this walker does not decode such scans.
    fn decode(&self, header: &[u8], coded: &[u8]) -> Option<bool> {
        let frame = self.frame.as_ref()?;
        if !frame.sequential_huffman() || frame.height == 0 || !self.dht {
            // Other codings; a height given later (DNL); the standard tables implied
            // (motion JPEG): not decoded here.
            return None;
        }
        let ns = *header.first()? as usize;
        let mut blocks = Vec::with_capacity(10);
        let mut first = None;
        for i in 0..ns {
            let (&id, &tables) = (header.get(1 + 2 * i)?, header.get(2 + 2 * i)?);
            let c = *frame.components.iter().find(|c| c.id == id)?;
            first.get_or_insert(c);
            let (Some(dc), Some(ac)) = (
                self.dc[(tables >> 4) as usize & 3].as_ref(),
                self.ac[(tables & 15) as usize & 3].as_ref(),
            ) else {
                return Some(false);
            };
            let per_mcu = if ns == 1 { 1 } else { c.h * c.v };
            blocks.extend(std::iter::repeat_n((dc, ac), per_mcu));
        }
        if blocks.len() > 10 {
            return Some(false);
        }
        let (max_h, max_v) = (frame.max_h(), frame.max_v());
        let mcus = if ns == 1 {
            let c = first?;
            let w = (frame.width * c.h).div_ceil(max_h).div_ceil(8);
            let h = (frame.height * c.v).div_ceil(max_v).div_ceil(8);
            w * h
        } else {
            frame.width.div_ceil(8 * max_h) * frame.height.div_ceil(8 * max_v)
        };
        let max_dc = if frame.precision > 8 { 15 } else { 11 };
        Some(decode_scan(coded, &blocks, mcus, self.restart_interval, max_dc))
    }
}

fn parse_frame(marker: u8, body: &[u8]) -> Option<Frame> {
    let precision = *body.first()?;
    let height = be_u16(body, 1)?;
    let width = be_u16(body, 3)?;
    let n = *body.get(5)? as usize;
    let lossless = matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
    let precision_ok = if lossless {
        (2..=16).contains(&precision)
    } else {
        precision == 8 || precision == 12
    };
    if !precision_ok || width == 0 || !(1..=4).contains(&n) || body.len() != 6 + 3 * n {
        return None;
    }
    let mut components = Vec::with_capacity(n);
    for i in 0..n {
        let (id, sampling, tq) = (body[6 + 3 * i], body[7 + 3 * i], body[8 + 3 * i]);
        let (h, v) = ((sampling >> 4) as usize, (sampling & 15) as usize);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
            return None;
        }
        components.push(Component { id, h, v });
    }
    Some(Frame {
        marker,
        precision,
        width,
        height,
        components,
    })
}

/// Whether a DQT segment is whole quantisation tables and nothing else.
fn quant_tables_fill(mut body: &[u8]) -> bool {
    while let Some((&pq_tq, rest)) = body.split_first() {
        let (pq, tq) = (pq_tq >> 4, pq_tq & 15);
        let size = 64 * (1 + pq as usize);
        if pq > 1 || tq > 3 || rest.len() < size {
            return false;
        }
        body = &rest[size..];
    }
    true
}

/// What a marker walk meets, in file order: segments are skipped by their declared
/// lengths, a scan's data runs to the marker after it, nothing is decoded.
enum Met {
    /// A segment with a length: its marker at `at`, its declared end.
    Segment { at: usize, marker: u8, end: usize },
    /// A scan's entropy-coded data from `from` to the next marker (None: the data ends
    /// inside it).
    ScanData { from: usize, to: Option<usize> },
    /// EOI.
    End,
    /// Bytes at this position that continue no JPEG structure (or the data's end).
    Stop(usize),
}

/// Walk the markers of `data` from after SOI, telling `visit` what is met until it says
/// to stop or the walk cannot go on. The quick walk gap carving uses to tell where a cut
/// falls and where a cut file breaks, without the full walk's decoding.
fn walk_markers(data: &[u8], mut visit: impl FnMut(Met) -> ControlFlow<()>) {
    let mut pos = SOI_LEN;
    loop {
        let (Some(&ff), Some(&m)) = (data.get(pos), data.get(pos + 1)) else {
            let _ = visit(Met::Stop(pos.min(data.len())));
            return;
        };
        let met = match m {
            _ if ff != 0xFF => Met::Stop(pos),
            0xFF => {
                pos += 1;
                continue;
            }
            0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            0xD9 => Met::End,
            _ if has_length(m) => match be_u16(data, pos + 2).filter(|&l| l >= 2) {
                Some(len) => Met::Segment {
                    at: pos,
                    marker: m,
                    end: pos + 2 + len,
                },
                None => Met::Stop(pos),
            },
            _ => Met::Stop(pos),
        };
        let next = match met {
            Met::Segment { end, marker, .. } => Some((end, marker == 0xDA)),
            _ => None,
        };
        if visit(met).is_break() {
            return;
        }
        let Some((end, scan)) = next else { return };
        pos = end;
        if scan {
            let to = next_marker(data, pos).map(|(at, _)| at);
            if visit(Met::ScanData { from: pos, to }).is_break() {
                return;
            }
            let Some(to) = to else { return };
            pos = to;
        }
    }
}

/// Where a marker walk sees a cut file break: where the walk cannot go on, and before
/// that each marker with a length that ended a scan (a later scan's tables, or a chance
/// pair of bytes after the cut). Empty when the walk reaches an end (EOI).
pub(super) fn breaks(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut ended = false;
    walk_markers(data, |met| {
        match met {
            Met::ScanData { to: Some(end), .. } => {
                let code = end + 1 + data[end + 1..].iter().take_while(|&&b| b == 0xFF).count();
                if data.get(code).is_some_and(|&c| has_length(c)) {
                    out.push(end);
                }
            }
            Met::ScanData { to: None, .. } => out.push(data.len()),
            Met::Stop(at) => out.push(at),
            Met::End => ended = true,
            Met::Segment { .. } => {}
        }
        if ended || out.len() >= MAX_BREAKS {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    if ended {
        out.clear();
    }
    out
}

/// Break points [`breaks`] reports at most.
const MAX_BREAKS: usize = 16;

/// Where a cut at `at` falls in a JPEG, by a marker walk of the bytes before it: what
/// bytes continuing the file there must look like for a walk of the whole to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CutIn {
    /// Inside a scan's entropy-coded data: see [`scan_data_may_continue`].
    ScanData,
    /// Inside a marker segment's payload, `rest` bytes before its end, where the next
    /// marker's 0xFF must stand.
    Segment { rest: usize },
    /// Anywhere else (a segment's header, a 0xFF whose meaning the next byte decides).
    Unknown,
}

pub(super) fn cut_in(data: &[u8], at: usize) -> CutIn {
    let Some(head) = data.get(..at) else {
        return CutIn::Unknown;
    };
    if head.last() == Some(&0xFF) {
        return CutIn::Unknown;
    }
    let mut found = CutIn::Unknown;
    walk_markers(head, |met| {
        match met {
            // Inside a segment's payload; a scan header is followed by scan data, not by
            // a marker, so a cut inside one (or at its end) tells nothing.
            Met::Segment { at: pos, marker, end } if end > at && marker != 0xDA && at >= pos + 4 => {
                found = CutIn::Segment { rest: end - at };
            }
            Met::Segment { marker, end, .. } if end > at || (marker == 0xDA && end == at) => {}
            Met::Segment { .. } => return ControlFlow::Continue(()),
            Met::ScanData { from, to: None } if from < at => found = CutIn::ScanData,
            Met::ScanData { to: Some(_), .. } => return ControlFlow::Continue(()),
            _ => {}
        }
        ControlFlow::Break(())
    });
    found
}

/// Could `cont` go on from inside a scan's entropy-coded data? False only when, before
/// any marker a walk would follow, it holds a 0xFF pair no JPEG may hold there: the walk
/// of a file continued by it would break, so the walk need not be run.
pub(super) fn scan_data_may_continue(cont: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(k) = memchr(0xFF, &cont[pos..]) {
        let mut code = pos + k + 1;
        while cont.get(code) == Some(&0xFF) {
            code += 1;
        }
        let Some(&m) = cont.get(code) else {
            return true;
        };
        match m {
            0x00 | 0xD0..=0xD7 => pos = code + 1,
            0xD9 => return true,
            _ => return has_length(m),
        }
    }
    true
}

/// Position of the next marker after entropy-coded data (skipping stuffed 0xFF00 and
/// RSTn, with any 0xFF fill bytes before them), and where the first restart marker
/// out of turn is, if one is.
fn next_marker(data: &[u8], mut pos: usize) -> Option<(usize, Option<usize>)> {
    let mut expected = 0xD0;
    let mut out_of_turn = None;
    loop {
        pos += memchr(0xFF, data.get(pos..)?)?;
        let mut code = pos + 1;
        while *data.get(code)? == 0xFF {
            code += 1;
        }
        match data[code] {
            0x00 => pos = code + 1,
            m @ 0xD0..=0xD7 => {
                if m != expected {
                    out_of_turn.get_or_insert(pos);
                }
                expected = if m == 0xD7 { 0xD0 } else { m + 1 };
                pos = code + 1;
            }
            _ => return Some((pos, out_of_turn)),
        }
    }
}

/// A canonical Huffman table (ITU T.81 Annex C), for decoding only code lengths.
struct Huffman {
    /// For each `LUT_BITS`-bit prefix: code length << 8 | symbol, or 0.
    lut: Vec<u16>,
    /// For lengths 1..=16: the largest code of that length (-1 if none), the first
    /// code, and the index of its symbol.
    max_code: [i32; 17],
    min_code: [i32; 17],
    first_symbol: [usize; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8], symbols: &[u8]) -> Option<Huffman> {
        let mut t = Huffman {
            lut: vec![0; 1 << LUT_BITS],
            max_code: [-1; 17],
            min_code: [0; 17],
            first_symbol: [0; 17],
            symbols: symbols.to_vec(),
        };
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as usize;
            t.min_code[len as usize] = code as i32;
            t.first_symbol[len as usize] = k;
            for _ in 0..n {
                if code >= 1 << len {
                    return None; // more codes than fit in this length
                }
                if len <= LUT_BITS {
                    let shift = LUT_BITS - len;
                    let start = (code << shift) as usize;
                    let entry = (len as u16) << 8 | u16::from(*symbols.get(k)?);
                    t.lut[start..start + (1 << shift)].fill(entry);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                t.max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Some(t)
    }
}

/// Bits of one run of entropy-coded data, unstuffed (0xFF00 is 0xFF), up to a marker.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits not yet used, most significant first.
    acc: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            acc: 0,
            count: 0,
            at_marker: false,
        }
    }

    fn fill(&mut self) {
        // Fast path: eight bytes with no 0xFF among them go in whole bytes at once.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
            let inverted = !word;
            let has_ff = inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 && self.count <= 56 {
                let bytes = (64 - self.count) / 8;
                self.acc |= (word >> (64 - 8 * bytes)) << (64 - self.count - 8 * bytes);
                self.count += 8 * bytes;
                self.pos += bytes as usize;
                return;
            }
        }
        while self.count <= 56 && !self.at_marker {
            let Some(&b) = self.data.get(self.pos) else {
                self.at_marker = true;
                return;
            };
            if b == 0xFF {
                if self.data.get(self.pos + 1) == Some(&0) {
                    self.pos += 1;
                } else {
                    self.at_marker = true;
                    return;
                }
            }
            self.pos += 1;
            self.acc |= u64::from(b) << (56 - self.count);
            self.count += 8;
        }
    }

    fn skip(&mut self, n: u32) -> Option<()> {
        if n > self.count {
            self.fill();
            if n > self.count {
                return None;
            }
        }
        self.acc <<= n;
        self.count -= n;
        Some(())
    }

    fn decode(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 16 {
            self.fill();
        }
        let peek = (self.acc >> 48) as u32;
        let entry = table.lut[(peek >> (16 - LUT_BITS)) as usize];
        let (len, symbol) = if entry != 0 {
            ((entry >> 8) as u32, entry as u8)
        } else {
            let mut found = None;
            for len in LUT_BITS + 1..=16 {
                let code = (peek >> (16 - len)) as i32;
                let (min, max) = (table.min_code[len as usize], table.max_code[len as usize]);
                if code <= max {
                    if code < min {
                        return None;
                    }
                    let i = table.first_symbol[len as usize] + (code - min) as usize;
                    found = Some((len, *table.symbols.get(i)?));
                    break;
                }
            }
            found?
        };
        if len > self.count {
            return None; // the code runs past the data
        }
        self.acc <<= len;
        self.count -= len;
        Some(symbol)
    }

    /// After the last block before a marker: only padding (under a byte) may be left.
    fn at_end(&mut self) -> bool {
        self.fill();
        self.at_marker && self.count < 8
    }
}

/// One 8x8 block's codes: a DC difference, then AC run/size codes to EOB or the 63rd.
fn block(bits: &mut Bits, dc: &Huffman, ac: &Huffman, max_dc: u8) -> Option<()> {
    let size = bits.decode(dc)?;
    if size > max_dc {
        return None;
    }
    bits.skip(u32::from(size))?;
    let mut k = 1;
    while k < 64 {
        let rs = bits.decode(ac)?;
        let (run, size) = ((rs >> 4) as usize, rs & 15);
        if size == 0 {
            match run {
                0 => break,       // EOB
                15 => k += 16,    // sixteen zeros
                _ => return None, // no such code
            }
            continue;
        }
        k += run;
        if k > 63 {
            return None;
        }
        bits.skip(u32::from(size))?;
        k += 1;
    }
    (k <= 64).then_some(())
}

/// Decode `mcus` MCUs of `blocks` (DC and AC table per block) from `coded`, the data
/// from after the SOS header to the marker ending the scan, with a restart marker after
/// every `interval` MCUs. Whether they decode and fill the scan exactly.
fn decode_scan(
    coded: &[u8],
    blocks: &[(&Huffman, &Huffman)],
    mcus: usize,
    interval: usize,
    max_dc: u8,
) -> bool {
    let mut start = 0;
    let mut left = mcus;
    loop {
        let run = if interval > 0 { left.min(interval) } else { left };
        let Some(segment) = coded.get(start..) else {
            return false;
        };
        let mut bits = Bits::new(segment);
        for _ in 0..run {
            for &(dc, ac) in blocks {
                if block(&mut bits, dc, ac, max_dc).is_none() {
                    return false;
                }
            }
        }
        if !bits.at_end() {
            return false;
        }
        left -= run;
        let marker_at = start + bits.pos;
        if left == 0 {
            // Nothing but the marker ending the scan may follow.
            return marker_at == coded.len();
        }
        // Fill bytes may come before the restart marker.
        let mut code = marker_at + 1;
        while coded.get(code) == Some(&0xFF) {
            code += 1;
        }
        match coded.get(code) {
            Some(0xD0..=0xD7) => start = code + 1,
            _ => return false,
        }
    }
}

//! SQLite 3 database files: the 100-byte header, then every page checked.
//!
//! The header must hold a power-of-two page size (512..=65536), file format versions 1
//! or 2, the fixed payload fractions 64/32/32, a usable page size of at least 480 bytes
//! and a zeroed reserved area; page 1's b-tree header (at byte 100) must be a table
//! page's. Since SQLite 3.7.0 the header records the database size in pages, valid when
//! the "version-valid-for" number equals the change counter: the file is that many
//! pages.
//!
//! Every page is then checked, so a file cut and followed by other bytes is not taken
//! whole: a b-tree page needs a consistent header, cell pointers inside its content
//! area and cells whose record headers add up to their payload sizes; pages on the
//! freelist (read from the trunk chain) may hold anything; pointer-map pages (auto-vacuum)
//! hold typed entries; any other page is an overflow page whose next-page number must be
//! a page of the file. If the last page fails, the file is truncated at the first page
//! that failed (the rest counted missing); if only pages inside fail, or the freelist
//! chain disagrees with the header's count, it is damaged. An image that ends (or a size
//! cap reached) before the last page gives a truncated file of the whole pages there.
//! Complete: confidence 95. A database whose page 2 already
//! fails is a copy of page 1 (in a write-ahead log or rollback journal, which hold page
//! images), not a file, and is rejected.
//!
//! Without a valid size (files written by SQLite before 3.7.0), pages are walked from the
//! start while they pass the same checks, and the file ends before the first page that
//! does not (or that is all zero): a guess, given a low confidence (30).

use super::{be_u16, be_u32, Found, Probe};

const HEADER: usize = 100;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(h) = data.get(..HEADER + 12) else {
        return need(data, at_eof, max_len);
    };
    let page_size = match be_u16(h, 16).unwrap_or(0) {
        1 => 65536,
        n if n.is_power_of_two() && (512..=32768).contains(&n) => n,
        _ => return Probe::Invalid,
    };
    let reserved = h[20] as usize;
    let usable = page_size - reserved;
    if !(1..=2).contains(&h[18])
        || !(1..=2).contains(&h[19])
        || (h[21], h[22], h[23]) != (64, 32, 32)
        || usable < 480
        || h[72..92].iter().any(|&b| b != 0)
        || be_u32(h, 44).unwrap_or(9) > 4
        || be_u32(h, 56).unwrap_or(9) > 3
        || !matches!(h[100], 0x05 | 0x0D)
    {
        return Probe::Invalid;
    }
    let geometry = Geometry {
        page_size,
        usable,
        auto_vacuum: be_u32(h, 52).unwrap_or(0) != 0,
    };
    let change_counter = be_u32(h, 24);
    let recorded = be_u32(h, 28).unwrap_or(0);
    if recorded > 0 && be_u32(h, 92) == change_counter {
        recorded_size(data, at_eof, max_len, geometry, recorded)
    } else {
        legacy(data, at_eof, max_len, geometry)
    }
}

fn need(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if at_eof || data.len() >= max_len {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

#[derive(Clone, Copy)]
struct Geometry {
    page_size: usize,
    usable: usize,
    auto_vacuum: bool,
}

impl Geometry {
    fn page<'a>(&self, data: &'a [u8], n: usize) -> Option<&'a [u8]> {
        let start = (n - 1).checked_mul(self.page_size)?;
        data.get(start..start.checked_add(self.page_size)?)
    }

    /// Pointer-map pages of an auto-vacuum database: page 2 and every
    /// `usable / 5 + 1` pages after it.
    fn is_ptrmap(&self, n: usize) -> bool {
        let every = self.usable / 5 + 1;
        self.auto_vacuum && n >= 2 && (n - 2).is_multiple_of(every)
    }

    /// The page holding the byte at 1 GiB: never used, may hold anything.
    fn is_lock_page(&self, n: usize) -> bool {
        n == (1 << 30) / self.page_size + 1
    }
}

/// The header records the size: check every page of it.
fn recorded_size(data: &[u8], at_eof: bool, max_len: usize, g: Geometry, pages: usize) -> Probe {
    let Some(full) = pages.checked_mul(g.page_size) else {
        return Probe::Invalid;
    };
    if full > data.len() && !at_eof && data.len() < max_len {
        return Probe::NeedMore;
    }
    let present = (data.len().min(max_len) / g.page_size).min(pages);
    if present == 0 {
        // The image ends inside page 1: only the header was seen.
        let have = data.len().min(max_len);
        return Probe::Found(Found::truncated(have, Some((full - have) as u64), 30));
    }
    let free = freelist(data, g, pages, present);
    let mut first_bad = None;
    let mut last_ok = false;
    for n in 1..=present {
        last_ok = page_ok(data, g, n, pages, &free);
        if !last_ok && first_bad.is_none() {
            first_bad = Some(n);
        }
    }
    let header_sane = free.consistent;
    match first_bad {
        // Page 1 alone is a page image (journal, WAL), not a database.
        Some(2) if !last_ok || present == 2 => Probe::Invalid,
        Some(1) => Probe::Invalid,
        Some(b) if !last_ok || present < pages => {
            let len = (b - 1) * g.page_size;
            Probe::Found(Found::truncated(len, Some((full - len) as u64), 50))
        }
        Some(_) => Probe::Found(Found::damaged(full, 50)),
        None if present < pages => {
            let len = present * g.page_size;
            Probe::Found(Found::truncated(len, Some((full - len) as u64), 60))
        }
        None if !header_sane => Probe::Found(Found::damaged(full, 50)),
        None => Probe::Found(Found::complete(full, 95)),
    }
}

/// No size in the header: pages while they check out.
fn legacy(data: &[u8], at_eof: bool, max_len: usize, g: Geometry) -> Probe {
    let limit = max_len / g.page_size;
    let mut n = 1;
    loop {
        if n > limit {
            return Probe::Found(Found::truncated((n - 1) * g.page_size, None, 20));
        }
        let Some(page) = g.page(data, n) else {
            if !at_eof && data.len() < max_len {
                return Probe::NeedMore;
            }
            if n == 1 {
                return Probe::Found(Found::truncated(data.len().min(max_len), None, 20));
            }
            let len = (n - 1) * g.page_size;
            return Probe::Found(if data.len() == len {
                Found::complete(len, 30)
            } else {
                Found::truncated(len, None, 20)
            });
        };
        let blank = n > 1 && page.iter().all(|&b| b == 0);
        if blank || !page_ok(data, g, n, limit, &Free::default()) {
            if n == 1 {
                return Probe::Invalid;
            }
            return Probe::Found(Found::complete((n - 1) * g.page_size, 30));
        }
        n += 1;
    }
}

/// Pages on the freelist, read from its trunk chain.
#[derive(Default)]
struct Free {
    pages: Vec<bool>,
    /// The chain held as many pages as the header counts, all inside the file.
    consistent: bool,
}

impl Free {
    fn contains(&self, n: usize) -> bool {
        self.pages.get(n).copied().unwrap_or(false)
    }
}

/// Only pages up to `present` (those in the data) are marked.
fn freelist(data: &[u8], g: Geometry, pages: usize, present: usize) -> Free {
    let mut free = Free {
        pages: vec![false; present + 1],
        consistent: true,
    };
    let (Some(mut trunk), Some(count)) = (be_u32(data, 32), be_u32(data, 36)) else {
        free.consistent = false;
        return free;
    };
    let max_leaves = g.usable / 4 - 2;
    let mut seen = 0usize;
    while trunk != 0 {
        if trunk > pages || free.contains(trunk) {
            free.consistent = false;
            break;
        }
        let Some(page) = g.page(data, trunk).filter(|_| trunk <= present) else {
            break; // past the data: the page walk reports what is missing
        };
        let (next, leaves) = (
            be_u32(page, 0).unwrap_or(0),
            be_u32(page, 4).unwrap_or(usize::MAX),
        );
        if leaves > max_leaves {
            free.consistent = false;
            break;
        }
        free.pages[trunk] = true;
        seen += 1;
        if seen > pages {
            free.consistent = false;
            break;
        }
        for i in 0..leaves {
            let leaf = be_u32(page, 8 + 4 * i).unwrap_or(0);
            if leaf < 2 || leaf > pages {
                free.consistent = false;
                continue;
            }
            if let Some(slot) = free.pages.get_mut(leaf) {
                *slot = true;
            }
            seen += 1;
        }
        trunk = next;
    }
    free.consistent &= seen == count;
    free
}

/// Page `n` reads as what it must be: a b-tree page, a pointer-map page, a freelist page
/// or an overflow page.
fn page_ok(data: &[u8], g: Geometry, n: usize, pages: usize, free: &Free) -> bool {
    let Some(page) = g.page(data, n) else {
        return false;
    };
    if free.contains(n) || g.is_lock_page(n) {
        return true;
    }
    if g.is_ptrmap(n) {
        return page[..g.usable - g.usable % 5]
            .chunks_exact(5)
            .all(|e| e[0] <= 5 && be_u32(e, 1).is_some_and(|p| p <= pages) && (e[0] != 0 || p_zero(e)));
    }
    let hdr = if n == 1 { HEADER } else { 0 };
    match page[hdr] {
        0x02 | 0x05 | 0x0A | 0x0D => btree_ok(page, hdr, g.usable, pages),
        // An overflow page: the next page of the chain (0 at its end), then payload.
        _ if n > 1 => be_u32(page, 0).is_some_and(|next| next <= pages),
        _ => false,
    }
}

fn p_zero(e: &[u8]) -> bool {
    e.iter().all(|&b| b == 0)
}

/// A b-tree page whose header starts at `page[hdr]`.
fn btree_ok(page: &[u8], hdr: usize, usable: usize, pages: usize) -> bool {
    let kind = page[hdr];
    let interior = matches!(kind, 0x02 | 0x05);
    let head_len = if interior { 12 } else { 8 };
    let (Some(freeblock), Some(cells), Some(content)) = (
        be_u16(page, hdr + 1),
        be_u16(page, hdr + 3),
        be_u16(page, hdr + 5),
    ) else {
        return false;
    };
    let content = if content == 0 { 65536 } else { content };
    let array_end = hdr + head_len + 2 * cells;
    let fragmented = page.get(hdr + 7).copied().unwrap_or(255);
    if fragmented > 60 || content > usable || (cells > 0 && array_end > content) || array_end > usable {
        return false;
    }
    if freeblock != 0 && (freeblock < array_end || freeblock + 4 > usable) {
        return false;
    }
    if interior && !be_u32(page, hdr + 8).is_some_and(|c| (1..=pages).contains(&c)) {
        return false;
    }
    let usable_page = &page[..usable];
    (0..cells).all(|i| {
        let at = be_u16(page, hdr + head_len + 2 * i).unwrap_or(0);
        at >= content && at < usable && cell_ok(usable_page, at, kind, usable, pages)
    })
}

/// One cell: child pointer (interior), payload size and key, the local payload whose
/// record header must add up to the payload size, and the first overflow page.
fn cell_ok(page: &[u8], at: usize, kind: u8, usable: usize, pages: usize) -> bool {
    let mut p = at;
    if matches!(kind, 0x02 | 0x05) {
        if !be_u32(page, p).is_some_and(|c| (1..=pages).contains(&c)) {
            return false;
        }
        p += 4;
    }
    if kind == 0x05 {
        return varint(page, p).is_some(); // the key (a rowid)
    }
    let Some((payload, n)) = varint(page, p) else {
        return false;
    };
    p += n;
    if kind == 0x0D {
        let Some((_, n)) = varint(page, p) else {
            return false;
        };
        p += n;
    }
    let Ok(payload) = usize::try_from(payload) else {
        return false;
    };
    // How much of the payload is stored on this page (the file format's formula).
    let max_local = if kind == 0x0D {
        usable - 35
    } else {
        (usable - 12) * 64 / 255 - 23
    };
    let min_local = (usable - 12) * 32 / 255 - 23;
    let local = if payload <= max_local {
        payload
    } else {
        let k = min_local + (payload - min_local) % (usable - 4);
        if k <= max_local {
            k
        } else {
            min_local
        }
    };
    let Some(body) = page.get(p..p + local) else {
        return false;
    };
    if local < payload && !be_u32(page, p + local).is_some_and(|o| (2..=pages).contains(&o)) {
        return false;
    }
    record_ok(body, payload)
}

/// A record's header (its size, then one serial type per column) accounts for exactly
/// the payload's bytes. Only checked when the header is on this page.
fn record_ok(local: &[u8], payload: usize) -> bool {
    let Some((head, mut p)) = varint(local, 0) else {
        return local.len() < 9 && local.len() < payload;
    };
    let Ok(head) = usize::try_from(head) else {
        return false;
    };
    if head > payload || head < p {
        return false;
    }
    if head > local.len() {
        return true; // the header continues on an overflow page
    }
    let mut body = 0usize;
    while p < head {
        let Some((t, n)) = varint(&local[..head], p) else {
            return false;
        };
        p += n;
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return false,
            n => ((n - 12) / 2) as usize,
        };
        body = body.saturating_add(size);
    }
    head.checked_add(body) == Some(payload)
}

/// SQLite's variable-length integer at `d[at]`: value and byte count.
fn varint(d: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let b = *d.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | b as u64, 9));
        }
        v = (v << 7) | (b & 0x7F) as u64;
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_per_the_file_format() {
        assert_eq!(varint(&[0x05], 0), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xFF; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81], 0), None);
    }

    #[test]
    fn record_headers_must_add_up() {
        // Header 3 bytes: an int8 (1 byte) and a 3-character text (serial 19).
        assert!(record_ok(&[3, 1, 19, 7, b'a', b'b', b'c'], 7));
        assert!(!record_ok(&[3, 1, 19, 7, b'a', b'b', b'c'], 8));
        assert!(!record_ok(&[2, 10], 2));
    }
}

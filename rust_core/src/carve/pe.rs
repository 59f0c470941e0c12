//! "MZ" executables: PE (Windows), NE (16-bit Windows/OS/2), LE/LX (OS/2, VxD) and plain
//! DOS programs.
//!
//! `e_lfanew` (at 0x3C, under 64 KiB) points to the new header; its signature picks the
//! walker:
//!
//! - PE: "PE\0\0", a COFF header with a known machine and at most 96 sections, an
//!   optional header (PE32/PE32+) at least as long as its magic and directory count need,
//!   power-of-two file and section alignments that agree; the section table. Length: the
//!   furthest of `SizeOfHeaders`, every section's raw data end, the COFF symbol and
//!   string tables (MinGW, Go) and the certificate table (data directory 4, a file
//!   offset; its first WIN_CERTIFICATE header must read right, else the bytes there are
//!   not the file's and it is truncated before them). A non-zero `CheckSum` is computed
//!   over the carved bytes: a match gives confidence 100, a mismatch makes the file
//!   damaged (or it had an overlay, bytes after its image that no header records; those
//!   are never part of the carve). Subtype: "dll" (IMAGE_FILE_DLL), "sys" (native
//!   subsystem), "efi" (EFI subsystems), else "exe".
//! - A section-less "tiny PE" (headers overlapping, optional header size 0) has nothing
//!   but header fields to bound it: the largest of `SizeOfHeaders`, `SizeOfImage` when
//!   the file is mapped flat (file alignment = section alignment) and the optional header
//!   through `Subsystem` (the loader reads that far and zero-fills a shorter file). Its
//!   data directories, when inside the file, must be ranges inside the image, else it is
//!   truncated there. Confidence 25.
//! - NE: the segment table (sector-shifted offsets, lengths, relocation records after
//!   each segment), the resource table and the non-resident name table. Subtype "ne".
//! - LE/LX: the object page table (LX: shifted offsets and sizes; LE: page-sized pages
//!   and the last page's size), the non-resident name table and the debug information.
//!   Subtype "le"/"lx".
//! - Anything else: a DOS program as long as its page count says (`e_cp` pages, the last
//!   one `e_cblp` bytes), when its header is consistent (header and relocation table
//!   inside the program, entry point inside the load module, overlay number 0). Such a
//!   header holds no checksum and nothing after it can be checked, so the confidence is
//!   low (30). Subtype "dos".
//!
//! A chance "MZ" in random data fails the DOS checks (or `e_lfanew` finds no signature)
//! without anything past the first 64 bytes being read, except once in 64 Ki when
//! `e_lfanew` happens to point past the data and more is asked for.

use super::{le_u16, le_u32, Found, Probe};

const MAX_LFANEW: usize = 64 * 1024;
const IMAGE_FILE_DLL: usize = 0x2000;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(_) = data.get(..0x40) else {
        return need(data, at_eof, max_len);
    };
    let lfanew = le_u32(data, 0x3C).unwrap_or(0);
    if (4..=MAX_LFANEW).contains(&lfanew) {
        match data.get(lfanew..lfanew + 4) {
            Some(b"PE\0\0") => return pe(data, lfanew, at_eof, max_len),
            Some([b'N', b'E', ..]) => return ne(data, lfanew, at_eof, max_len),
            Some([b'L', b'E' | b'X', ..]) => return le(data, lfanew, at_eof, max_len),
            Some(_) => {}
            // A new-style header may be there (a chance "MZ" gets here once in 64 Ki).
            None if !at_eof && data.len() < max_len && lfanew + 4 <= max_len => return Probe::NeedMore,
            None => {}
        }
    }
    match dos_extent(data) {
        Some(len) => finish(data, len, at_eof, max_len, 30, "dos"),
        None => Probe::Invalid,
    }
}

fn need(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if at_eof || data.len() >= max_len {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

/// A file of `len` bytes whose structure checked out: complete when the data holds it,
/// else more data or (at the end of the image or the cap) truncated.
fn finish(
    data: &[u8],
    len: usize,
    at_eof: bool,
    max_len: usize,
    confidence: u8,
    subtype: &'static str,
) -> Probe {
    if len <= data.len() {
        return Probe::Found(Found::complete(len, confidence).with_subtype(subtype));
    }
    if at_eof || data.len() >= max_len {
        let have = data.len().min(max_len);
        return Probe::Found(
            Found::truncated(have, Some((len - have) as u64), confidence.min(40)).with_subtype(subtype),
        );
    }
    Probe::NeedMore
}

/// Length of a DOS program from its page count, when its header is consistent.
fn dos_extent(d: &[u8]) -> Option<usize> {
    let w = |at| le_u16(d, at);
    let (cblp, cp, crlc, cparhdr) = (w(2)?, w(4)?, w(6)?, w(8)?);
    let (minalloc, maxalloc) = (w(0x0A)?, w(0x0C)?);
    let (ip, cs, lfarlc, ovno) = (w(0x14)?, w(0x16)?, w(0x18)?, w(0x1A)?);
    if cblp >= 512 || cp == 0 || ovno != 0 || cparhdr < 2 || minalloc > maxalloc {
        return None;
    }
    let len = (cp - 1) * 512 + if cblp == 0 { 512 } else { cblp };
    let header = cparhdr * 16;
    if header >= len {
        return None;
    }
    if crlc > 0 && (lfarlc < 0x1C || lfarlc + 4 * crlc > header) {
        return None;
    }
    // The entry point lies in the load module (code segment relative to its start).
    if cs * 16 + ip >= len - header {
        return None;
    }
    Some(len)
}

/// Machines a PE image is built for.
fn known_machine(m: usize) -> bool {
    matches!(
        m,
        0x014C // i386
            | 0x8664 // AMD64
            | 0xAA64 // ARM64
            | 0xA641 // ARM64EC
            | 0xA64E // ARM64X
            | 0x01C0 // ARM
            | 0x01C2 // Thumb
            | 0x01C4 // ARMv7 (NT)
            | 0x0200 // Itanium
            | 0x0162 | 0x0166 | 0x0168 | 0x0169 // MIPS
            | 0x0266 | 0x0366 | 0x0466 // MIPS16 / FPU
            | 0x0184 | 0x0284 // Alpha
            | 0x01A2 | 0x01A3 | 0x01A6 | 0x01A8 // SuperH
            | 0x01F0 | 0x01F1 // PowerPC
            | 0x01D3 // AM33
            | 0x0EBC // EFI byte code
            | 0x5032 | 0x5064 | 0x5128 // RISC-V
            | 0x6232 | 0x6264 // LoongArch
            | 0x9041 // M32R
    )
}

fn pe(d: &[u8], lfanew: usize, at_eof: bool, max_len: usize) -> Probe {
    let coff = lfanew + 4;
    let Some(_) = d.get(coff..coff + 20) else {
        return need(d, at_eof, max_len);
    };
    let w = |at| le_u16(d, at).unwrap_or(0);
    let machine = w(coff);
    let nsections = w(coff + 2);
    let opt_size = w(coff + 16);
    let characteristics = w(coff + 18);
    let opt = coff + 20;
    if !known_machine(machine) || nsections > 96 {
        return Probe::Invalid;
    }
    // The optional header through the Windows fields (Subsystem at +68) and, for a
    // regular image, its data directories.
    let Some(magic) = le_u16(d, opt) else {
        return need(d, at_eof, max_len);
    };
    let base = match magic {
        0x10B => 96,
        0x20B => 112,
        _ => return Probe::Invalid,
    };
    let tiny = nsections == 0;
    let fixed = opt + 70;
    if d.len() < fixed && (!at_eof || !tiny) {
        return need(d, at_eof, max_len);
    }
    let r32 = |at| le_u32(d, at).unwrap_or(0);
    let section_align = r32(opt + 32);
    let file_align = r32(opt + 36);
    let size_of_image = r32(opt + 56);
    let size_of_headers = r32(opt + 60);
    let checksum_at = opt + 64;
    let subsystem = w(opt + 68);
    if !file_align.is_power_of_two()
        || file_align > 0x1_0000
        || !section_align.is_power_of_two()
        || section_align < file_align
        || (file_align < 512 && file_align != section_align)
    {
        return Probe::Invalid;
    }
    let subtype = if characteristics & IMAGE_FILE_DLL != 0 {
        "dll"
    } else {
        match subsystem {
            1 => "sys",
            10..=13 => "efi",
            _ => "exe",
        }
    };

    if tiny {
        // Headers overlap each other; nothing but the header fields bounds the file.
        if opt_size != 0 && opt_size < base {
            return Probe::Invalid;
        }
        let mut len = size_of_headers;
        if file_align == section_align {
            len = len.max(size_of_image);
        }
        if len < fixed {
            // The loader reads the optional header through Subsystem. Its valid values
            // are below 256: a non-zero byte where its high byte would be is not the
            // file's, which ends after the low byte (the loader zero-fills the rest).
            len = match d.get(fixed - 1) {
                Some(0) => fixed,
                _ => fixed - 1,
            };
        }
        if len > 0x10_0000 {
            return Probe::Invalid;
        }
        if at_eof && d.len() < len && d.len() > opt + 4 {
            // The loader zero-fills what a tiny image leaves off.
            return Probe::Found(
                Found::truncated(d.len(), Some((len - d.len()) as u64), 20).with_subtype(subtype),
            );
        }
        if len <= d.len() {
            if let Some(cut) = tiny_directories_break(d, opt + base, len, size_of_image) {
                return Probe::Found(Found::truncated(cut, None, 20).with_subtype(subtype));
            }
        }
        return finish(d, len, at_eof, max_len, 25, subtype);
    }

    let Some(dirs) = le_u32(d, opt + base - 4) else {
        return need(d, at_eof, max_len);
    };
    if dirs > 16 || opt_size < base + 8 * dirs || opt_size > 1024 || !opt_size.is_multiple_of(8) {
        return Probe::Invalid;
    }
    let sections = opt + opt_size;
    let table_end = sections + 40 * nsections;
    if table_end > max_len {
        return Probe::Invalid;
    }
    let Some(table) = d.get(sections..table_end) else {
        return need(d, at_eof, max_len);
    };
    if size_of_headers > 0x10_0000 {
        return Probe::Invalid;
    }
    let mut end = size_of_headers.max(table_end);
    // Consistency that raises the confidence: headers cover the section table, offsets
    // are aligned, names are printable.
    let mut tidy = size_of_headers >= table_end && size_of_headers.is_multiple_of(file_align);
    for s in table.chunks_exact(40) {
        let name = &s[..8];
        // Section names are NUL-padded printable ASCII ("/4" style long names included).
        let printable = name.iter().position(|&b| b == 0).map_or(name, |n| &name[..n]);
        tidy &= printable.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
            && name[printable.len()..].iter().all(|&b| b == 0);
        let raw_size = le_u32(s, 16).unwrap_or(0);
        let raw_ptr = le_u32(s, 20).unwrap_or(0);
        if raw_size == 0 {
            continue;
        }
        let Some(e) = raw_ptr.checked_add(raw_size).filter(|&e| e <= 1 << 32) else {
            return Probe::Invalid;
        };
        tidy &= raw_ptr.is_multiple_of(file_align);
        end = end.max(e);
    }

    // A COFF symbol table (MinGW and Go images keep one): 18-byte symbols, then a string
    // table whose first four bytes are its size.
    let (symbols, nsymbols) = (r32(coff + 8), r32(coff + 12));
    if symbols != 0 && nsymbols != 0 && nsymbols < 1 << 24 && symbols >= table_end && symbols < 1 << 31 {
        let strings = symbols + 18 * nsymbols;
        match le_u32(d, strings) {
            Some(size) if (4..1 << 28).contains(&size) => end = end.max(strings + size),
            Some(_) => end = end.max(strings),
            None => return finish(d, strings + 4, at_eof, max_len, 40, subtype),
        }
    }

    // The certificate table (a file offset, not an RVA).
    let mut signed = false;
    if dirs > 4 {
        let dir = opt + base + 4 * 8;
        let (cert_off, cert_size) = (r32(dir), r32(dir + 4));
        if cert_off != 0 && cert_size != 0 {
            let Some(cert_end) = cert_off.checked_add(cert_size).filter(|&e| e <= 1 << 32) else {
                return Probe::Invalid;
            };
            // A directory that points into the image is not a certificate table.
            if cert_off >= end && cert_size >= 8 {
                // Its first WIN_CERTIFICATE: length, revision, type (read once present).
                if let (Some(len), Some(rev), Some(kind)) = (
                    le_u32(d, cert_off),
                    le_u16(d, cert_off + 4),
                    le_u16(d, cert_off + 6),
                ) {
                    if len < 8 || len > cert_size || !matches!(rev, 0x100 | 0x200) || !(1..=4).contains(&kind)
                    {
                        return damaged_or_short(d, end, at_eof, max_len, subtype);
                    }
                    signed = true;
                }
                end = end.max(cert_end);
            }
        }
    }

    if end > d.len() {
        return finish(d, end, at_eof, max_len, 40, subtype);
    }
    let stored = r32(checksum_at);
    let confidence = if tidy { 80 } else { 65 } + if signed { 10 } else { 0 };
    if stored != 0 {
        if pe_checksum(&d[..end], checksum_at) == stored as u32 {
            return Probe::Found(Found::complete(end, 100).with_subtype(subtype));
        }
        return Probe::Found(Found::damaged(end, 40).with_subtype(subtype));
    }
    Probe::Found(Found::complete(end, confidence).with_subtype(subtype))
}

/// In a section-less image whose data directories lie inside the file, the first
/// directory (or the count before them) that cannot be right: the image was cut there.
/// Every directory but the certificate table (a file offset) is an address range inside
/// `SizeOfImage`.
fn tiny_directories_break(d: &[u8], dirs_at: usize, len: usize, size_of_image: usize) -> Option<usize> {
    if dirs_at > len {
        return None;
    }
    let count = le_u32(d, dirs_at - 4)?;
    if count > 16 {
        return Some(dirs_at - 4);
    }
    for i in 0..count {
        let at = dirs_at + 8 * i;
        if at + 8 > len {
            break;
        }
        let (va, size) = (le_u32(d, at)?, le_u32(d, at + 4)?);
        if i != 4 && (va, size) != (0, 0) && va + size > size_of_image {
            return Some(at);
        }
    }
    None
}

/// A certificate entry that does not read as one: the bytes there are not the file's.
fn damaged_or_short(d: &[u8], end: usize, at_eof: bool, max_len: usize, subtype: &'static str) -> Probe {
    match finish(d, end, at_eof, max_len, 40, subtype) {
        Probe::Found(f) if f.status == super::Status::Complete => {
            Probe::Found(Found::truncated(end, None, 40).with_subtype(subtype))
        }
        other => other,
    }
}

/// The PE image checksum: 16-bit one's-complement-style sum of the file (with the
/// CheckSum field as zero), folded, plus the file length.
fn pe_checksum(file: &[u8], checksum_at: usize) -> u32 {
    let mut sum: u64 = 0;
    let mut words = file.chunks(2).enumerate();
    for (i, w) in &mut words {
        let at = i * 2;
        if at == checksum_at || at == checksum_at + 2 {
            continue;
        }
        let v = if w.len() == 2 {
            u16::from_le_bytes([w[0], w[1]])
        } else {
            w[0] as u16
        };
        sum += v as u64;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    (sum as u32).wrapping_add(file.len() as u32)
}

/// NE: segments, resources and the non-resident name table.
fn ne(d: &[u8], ne: usize, at_eof: bool, max_len: usize) -> Probe {
    let Some(h) = d.get(ne..ne + 64) else {
        return need(d, at_eof, max_len);
    };
    let w = |at: usize| le_u16(h, at).unwrap_or(0);
    let segments = w(0x1C);
    let seg_table = ne + w(0x22);
    let res_table = ne + w(0x24);
    let resname_table = ne + w(0x26);
    let modref_table = ne + w(0x28);
    let import_table = ne + w(0x2A);
    let entry_table = ne + w(0x04);
    let nonres = le_u32(h, 0x2C).unwrap_or(0);
    let nonres_size = w(0x20);
    let shift = w(0x32);
    let target_os = h[0x36];
    // The resident tables follow one another in this order.
    let ordered = seg_table >= ne + 0x40
        && seg_table + 8 * segments <= res_table
        && res_table <= resname_table
        && resname_table <= modref_table
        && modref_table <= import_table
        && import_table <= entry_table;
    if !ordered || shift > 16 || target_os > 5 || segments > 1024 {
        return Probe::Invalid;
    }
    let mut end = entry_table + w(0x06);
    if nonres != 0 {
        end = end.max(nonres + nonres_size);
    }
    let Some(table) = d.get(seg_table..seg_table + 8 * segments) else {
        return need(d, at_eof, max_len);
    };
    let mut relocs = Vec::new();
    for s in table.chunks_exact(8) {
        let sector = le_u16(s, 0).unwrap_or(0);
        let len = le_u16(s, 2).unwrap_or(0);
        let flags = le_u16(s, 4).unwrap_or(0);
        if sector == 0 {
            continue;
        }
        let start = sector << shift;
        let seg_end = start + if len == 0 { 0x1_0000 } else { len };
        if flags & 0x100 != 0 {
            relocs.push(seg_end);
        }
        end = end.max(seg_end);
    }
    // Relocation records after a segment: a count, then 8 bytes each.
    for at in relocs {
        let Some(n) = le_u16(d, at) else {
            return finish(d, at + 2, at_eof, max_len, 40, "ne");
        };
        end = end.max(at + 2 + 8 * n);
    }
    // Resources: an alignment shift, then type records of named resources.
    if res_table < resname_table {
        let Some(rshift) = le_u16(d, res_table) else {
            return need(d, at_eof, max_len);
        };
        if rshift > 16 {
            return Probe::Invalid;
        }
        let mut p = res_table + 2;
        loop {
            if p + 2 > resname_table {
                break;
            }
            let Some(kind) = le_u16(d, p) else {
                return need(d, at_eof, max_len);
            };
            if kind == 0 {
                break;
            }
            let count = le_u16(d, p + 2).unwrap_or(0);
            p += 8;
            if p + 12 * count > resname_table {
                return Probe::Invalid;
            }
            for i in 0..count {
                let e = p + 12 * i;
                let (off, len) = (le_u16(d, e).unwrap_or(0), le_u16(d, e + 2).unwrap_or(0));
                end = end.max((off + len) << rshift);
            }
            p += 12 * count;
        }
    }
    finish(d, end, at_eof, max_len, 60, "ne")
}

/// LE/LX: pages of the objects, the non-resident name table and debug information.
fn le(d: &[u8], le: usize, at_eof: bool, max_len: usize) -> Probe {
    let Some(h) = d.get(le..le + 0xAC) else {
        return need(d, at_eof, max_len);
    };
    let lx = h[1] == b'X';
    let r = |at: usize| le_u32(h, at).unwrap_or(0);
    // Byte and word order 0 (little-endian), format level 0, a known CPU and OS.
    if h[2] > 1 || h[3] > 1 || r(4) != 0 || !(1..=0x42).contains(&le_u16(h, 8).unwrap_or(0)) {
        return Probe::Invalid;
    }
    let os = le_u16(h, 10).unwrap_or(0);
    let pages = r(0x14);
    let page_size = r(0x28);
    let shift_or_last = r(0x2C);
    let page_table = le + r(0x48);
    let data_pages = r(0x80);
    if os > 4 || !page_size.is_power_of_two() || page_size > 0x1_0000 || pages > 0x10_0000 {
        return Probe::Invalid;
    }
    let mut end = 0usize;
    if lx {
        if shift_or_last > 16 {
            return Probe::Invalid;
        }
        let Some(table) = d.get(page_table..page_table + 8 * pages) else {
            return need(d, at_eof, max_len);
        };
        for e in table.chunks_exact(8) {
            let off = le_u32(e, 0).unwrap_or(0);
            let size = le_u16(e, 4).unwrap_or(0);
            let flags = le_u16(e, 6).unwrap_or(0);
            // Flags 0 (legal) and 1 (iterated) and 5 (compressed) pages hold file data.
            if matches!(flags, 0 | 1 | 5) && size > 0 {
                let Some(e) = off
                    .checked_shl(shift_or_last as u32)
                    .map(|o| data_pages + o + size)
                else {
                    return Probe::Invalid;
                };
                end = end.max(e);
            }
        }
    } else if pages > 0 {
        if shift_or_last > page_size {
            return Probe::Invalid;
        }
        end = data_pages + (pages - 1) * page_size + shift_or_last;
    }
    let (nonres, nonres_len) = (r(0x88), r(0x8C));
    if nonres != 0 {
        end = end.max(nonres + nonres_len);
    }
    let (debug, debug_len) = (r(0x98), r(0x9C));
    if debug != 0 {
        end = end.max(debug + debug_len);
    }
    if end == 0 || end > 1 << 32 {
        return Probe::Invalid;
    }
    finish(d, end, at_eof, max_len, 60, if lx { "lx" } else { "le" })
}

//! ELF: the identification bytes and header, then the program and section header tables.
//!
//! The header must name a class, a data encoding and version 1, an object type 1..=4, a
//! machine, and the header and table entry sizes of its class. The file's length is the
//! furthest of: the header, the end of the program header table, the end of the section
//! header table, the end of every section with bytes in the file (not `SHT_NOBITS`) and
//! the end of every segment's file image. Nothing in an ELF is checksummed, so the
//! tables are checked instead: every program header has a known type; section 0 is the
//! all-zero null entry; every section header has a known type, a sane extent, link,
//! alignment and entry size; the section name table is a string table whose names are
//! terminated strings.
//!
//! The section header table usually ends the file, so a cut (or overwritten) tail shows
//! there: when its entries read right up to some entry and not from there on, the file
//! is truncated at that entry (at the table's start when none reads), with the missing
//! bytes the headers record. Entries that fail here and there with good ones after them
//! make the file damaged. A table past the end of the image makes a truncated file of
//! what is there. Subtype by `e_type`: "object", "exec", "dyn", "core".

use super::{le_u16, le_u32, le_u64, Found, Probe};

const SHT_NOBITS: u32 = 8;
const SHT_STRTAB: u32 = 3;
/// Sections read at most (real files have far fewer).
const MAX_ENTRIES: usize = 1 << 16;
/// Extents past this (1 TiB) are not a file's: a header that says so is not an ELF's.
const SANE: u64 = 1 << 40;
/// Bytes of a section name looked at for its terminator.
const MAX_NAME: usize = 4096;

/// Field readers for one class (32/64-bit) and data encoding (LSB/MSB).
#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn u16(self, d: &[u8], at: usize) -> Option<u64> {
        let v = if self.big {
            super::be_u16(d, at)
        } else {
            le_u16(d, at)
        };
        v.map(|v| v as u64)
    }

    fn u32(self, d: &[u8], at: usize) -> Option<u64> {
        let v = if self.big {
            super::be_u32(d, at)
        } else {
            le_u32(d, at)
        };
        v.map(|v| v as u64)
    }

    fn u64(self, d: &[u8], at: usize) -> Option<u64> {
        if self.big {
            super::be_u64(d, at)
        } else {
            le_u64(d, at)
        }
    }

    /// A 32-bit field in ELF32, 64-bit in ELF64 (addresses, offsets, sizes).
    fn word(self, d: &[u8], at: usize) -> Option<u64> {
        if self.wide {
            self.u64(d, at)
        } else {
            self.u32(d, at)
        }
    }

    fn ehsize(self) -> u64 {
        if self.wide {
            64
        } else {
            52
        }
    }

    fn phentsize(self) -> u64 {
        if self.wide {
            56
        } else {
            32
        }
    }

    fn shentsize(self) -> u64 {
        if self.wide {
            64
        } else {
            40
        }
    }
}

struct Header {
    lay: Layout,
    e_type: u64,
    phoff: u64,
    phnum: u64,
    shoff: u64,
    shnum: u64,
    shstrndx: u64,
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(ident) = data.get(..16) else {
        return need(data, at_eof, max_len);
    };
    let lay = match (ident[4], ident[5]) {
        (c @ 1..=2, d @ 1..=2) => Layout {
            wide: c == 2,
            big: d == 2,
        },
        _ => return Probe::Invalid,
    };
    if ident[6] != 1 {
        return Probe::Invalid;
    }
    let ehsize = lay.ehsize() as usize;
    if data.len() < ehsize {
        return need(data, at_eof, max_len);
    }
    let Some(h) = header(data, lay) else {
        return Probe::Invalid;
    };
    let subtype = match h.e_type {
        1 => "object",
        2 => "exec",
        3 => "dyn",
        _ => "core",
    };
    let mut end = ehsize as u64;
    let mut checks = 0u32; // independent confirmations passed

    // Program headers: near the start; every one must have a known type.
    if h.phnum > 0 {
        let Some(table_end) = table_end(h.phoff, h.phnum, lay.phentsize()).filter(|&e| e <= SANE) else {
            return Probe::Invalid;
        };
        let Some(table) = data.get(h.phoff as usize..table_end as usize) else {
            return need(data, at_eof, max_len);
        };
        end = end.max(table_end);
        for entry in table.chunks_exact(lay.phentsize() as usize) {
            let Some((p_type, off, filesz)) = segment(entry, lay) else {
                return Probe::Invalid;
            };
            if !known_segment(p_type) {
                return Probe::Invalid;
            }
            if filesz > 0 {
                match off.checked_add(filesz) {
                    Some(e) if e <= SANE => end = end.max(e),
                    _ => return Probe::Invalid,
                }
            }
        }
        checks += 1;
    }

    // Section headers: usually at the end of the file.
    let mut damaged = false;
    if h.shoff != 0 {
        let (shnum, shstrndx) = match extended_counts(data, &h) {
            Ok(v) => v,
            Err(p) => return ask(p, data, at_eof, max_len, end, subtype),
        };
        if shnum == 0 || shnum as usize > MAX_ENTRIES {
            return Probe::Invalid;
        }
        let Some(table_end) = table_end(h.shoff, shnum, lay.shentsize()).filter(|&e| e <= SANE) else {
            return Probe::Invalid;
        };
        end = end.max(table_end);
        let Some(table) = data.get(h.shoff as usize..table_end as usize) else {
            return ask(Probe::NeedMore, data, at_eof, max_len, end, subtype);
        };
        match sections(data, table, lay, shstrndx) {
            Sections::CutAt(k) => {
                // The table breaks off at entry k: the file was cut (or overwritten)
                // there, and what the table records after it is missing.
                let len = h.shoff as usize + k * lay.shentsize() as usize;
                let missing = (end as usize).checked_sub(len).map(|m| m as u64);
                return Probe::Found(Found::truncated(len, missing, 40).with_subtype(subtype));
            }
            Sections::Read {
                end: s_end,
                consistent,
                names,
            } => {
                end = end.max(s_end);
                damaged = !consistent;
                checks += 1 + u32::from(names);
            }
        }
    }

    if h.phnum == 0 && h.shoff == 0 {
        // Nothing but a header: no structure to confirm.
        return Probe::Invalid;
    }
    let end = end as usize;
    if end > data.len() {
        if at_eof || data.len() >= max_len {
            let have = data.len().min(max_len);
            return Probe::Found(Found::truncated(have, Some((end - have) as u64), 40).with_subtype(subtype));
        }
        return Probe::NeedMore;
    }
    let confidence = match checks {
        0 | 1 => 60,
        2 => 80,
        _ => 90,
    };
    let found = if damaged {
        Found::damaged(end, 40)
    } else {
        Found::complete(end, confidence)
    };
    Probe::Found(found.with_subtype(subtype))
}

/// The ELF header's fields after `e_ident`, checked against the class.
fn header(d: &[u8], lay: Layout) -> Option<Header> {
    let e_type = lay.u16(d, 16)?;
    let machine = lay.u16(d, 18)?;
    let version = lay.u32(d, 20)?;
    if !(1..=4).contains(&e_type) || machine == 0 || version != 1 {
        return None;
    }
    let (phoff, shoff, rest) = if lay.wide {
        (lay.u64(d, 32)?, lay.u64(d, 40)?, 52)
    } else {
        (lay.u32(d, 28)?, lay.u32(d, 32)?, 40)
    };
    let ehsize = lay.u16(d, rest)?;
    let phentsize = lay.u16(d, rest + 2)?;
    let phnum = lay.u16(d, rest + 4)?;
    let shentsize = lay.u16(d, rest + 6)?;
    let shnum = lay.u16(d, rest + 8)?;
    let shstrndx = lay.u16(d, rest + 10)?;
    if ehsize != lay.ehsize()
        || (phnum > 0 && (phentsize != lay.phentsize() || phoff == 0))
        || (shoff != 0 && shentsize != lay.shentsize())
        || (shoff == 0 && shnum != 0)
        || (phnum == 0 && phoff != 0 && phentsize != 0 && phentsize != lay.phentsize())
    {
        return None;
    }
    Some(Header {
        lay,
        e_type,
        phoff,
        phnum,
        shoff,
        shnum,
        shstrndx,
    })
}

fn table_end(off: u64, count: u64, entsize: u64) -> Option<u64> {
    count.checked_mul(entsize)?.checked_add(off)
}

/// Section count and name-table index, reading the null entry for the extended forms
/// (`e_shnum` 0, `e_shstrndx` 0xFFFF). `Err` carries the probe to answer when the null
/// entry is not in the data yet.
fn extended_counts(data: &[u8], h: &Header) -> Result<(u64, u64), Probe> {
    let lay = h.lay;
    if h.shnum != 0 && h.shstrndx != 0xFFFF {
        return Ok((h.shnum, h.shstrndx));
    }
    let at = usize::try_from(h.shoff).map_err(|_| Probe::Invalid)?;
    let Some(null) = data.get(at..at.saturating_add(lay.shentsize() as usize)) else {
        return Err(Probe::NeedMore);
    };
    // sh_size (the count) and sh_link (the index) of the null entry.
    let (size_at, link_at) = if lay.wide { (32, 40) } else { (20, 24) };
    let shnum = if h.shnum == 0 {
        lay.word(null, size_at).ok_or(Probe::Invalid)?
    } else {
        h.shnum
    };
    let shstrndx = if h.shstrndx == 0xFFFF {
        lay.u32(null, link_at).ok_or(Probe::Invalid)?
    } else {
        h.shstrndx
    };
    Ok((shnum, shstrndx))
}

/// Answer a walk that needs the section header table: ask for more, or (at the end of
/// the image or the cap) a truncated file.
fn ask(p: Probe, data: &[u8], at_eof: bool, max_len: usize, end: u64, subtype: &'static str) -> Probe {
    if p != Probe::NeedMore {
        return p;
    }
    if at_eof || data.len() >= max_len {
        let have = data.len().min(max_len);
        let missing = (end as usize)
            .checked_sub(have)
            .filter(|&m| m > 0)
            .map(|m| m as u64);
        return Probe::Found(Found::truncated(have, missing, 30).with_subtype(subtype));
    }
    Probe::NeedMore
}

fn need(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if at_eof || data.len() >= max_len {
        Probe::Invalid
    } else {
        Probe::NeedMore
    }
}

/// (p_type, p_offset, p_filesz) of one program header.
fn segment(e: &[u8], lay: Layout) -> Option<(u64, u64, u64)> {
    let p_type = lay.u32(e, 0)?;
    if lay.wide {
        Some((p_type, lay.u64(e, 8)?, lay.u64(e, 32)?))
    } else {
        Some((p_type, lay.u32(e, 4)?, lay.u32(e, 16)?))
    }
}

fn known_segment(t: u64) -> bool {
    // PT_NULL..PT_TLS; GNU (EH_FRAME, STACK, RELRO, PROPERTY, SFRAME); PaX/OpenBSD; Sun;
    // processor-specific (ARM_EXIDX, MIPS_*, RISCV_ATTRIBUTES...).
    t <= 8
        || (0x6000_0000..=0x6000_00FF).contains(&t)
        || (0x6474_E550..=0x6474_E5FF).contains(&t)
        || (0x6500_0000..=0x65FF_FFFF).contains(&t)
        || (0x6FFF_FF00..=0x6FFF_FFFF).contains(&t)
        || (0x7000_0000..=0x7000_00FF).contains(&t)
}

fn known_section(t: u64) -> bool {
    // SHT_NULL..SHT_RELR; Android; LLVM and GNU/Sun (versions, hashes, attributes);
    // processor-specific (ARM_EXIDX, X86_64_UNWIND, MIPS_*...).
    t <= 19
        || (0x6000_0000..=0x6000_00FF).contains(&t)
        || (0x6FFF_0000..=0x6FFF_FFFF).contains(&t)
        || (0x7000_0000..=0x7000_00FF).contains(&t)
}

enum Sections {
    /// The table reads up to entry `k` (0: not at all) and is garbage from there to its
    /// end: what a cut file looks like.
    CutAt(usize),
    Read {
        /// End of the furthest section with bytes in the file.
        end: u64,
        /// Every entry read right and the name table index named a string table.
        consistent: bool,
        /// Every section name is a terminated string in the name table.
        names: bool,
    },
}

struct Section {
    name: u64,
    kind: u64,
    offset: u64,
    size: u64,
    /// Every field is one a section header can hold.
    sane: bool,
}

fn section(e: &[u8], lay: Layout, shnum: u64) -> Option<Section> {
    let name = lay.u32(e, 0)?;
    let kind = lay.u32(e, 4)?;
    let flags = lay.word(e, 8)?;
    let (offset, size, link, align, entsize) = if lay.wide {
        (
            lay.u64(e, 24)?,
            lay.u64(e, 32)?,
            lay.u32(e, 40)?,
            lay.u64(e, 48)?,
            lay.u64(e, 56)?,
        )
    } else {
        (
            lay.u32(e, 16)?,
            lay.u32(e, 20)?,
            lay.u32(e, 24)?,
            lay.u32(e, 32)?,
            lay.u32(e, 36)?,
        )
    };
    let extent = kind == SHT_NOBITS as u64 || offset.checked_add(size).is_some_and(|e| e <= SANE);
    let sane = known_section(kind)
        && flags >> 32 == 0
        && extent
        && size <= SANE
        && link <= shnum.max(0xFFFF)
        && (align == 0 || align.is_power_of_two())
        && entsize <= 0x1_0000;
    Some(Section {
        name,
        kind,
        offset,
        size,
        sane,
    })
}

fn sections(data: &[u8], table: &[u8], lay: Layout, shstrndx: u64) -> Sections {
    let entsize = lay.shentsize() as usize;
    let shnum = (table.len() / entsize) as u64;
    let entries: Vec<Section> = table
        .chunks_exact(entsize)
        .filter_map(|e| section(e, lay, shnum))
        .collect();
    let mut good: Vec<bool> = entries.iter().map(|s| s.sane).collect();
    // The null entry: name, type, flags, address and offset all zero.
    if let (Some(null), Some(slot)) = (entries.first(), good.first_mut()) {
        let flags_addr = if lay.wide { 8..24 } else { 8..16 };
        *slot = null.name == 0
            && null.kind == 0
            && null.offset == 0
            && table.get(flags_addr).is_some_and(|b| b.iter().all(|&x| x == 0));
    }
    if let Some(k) = good.iter().position(|&g| !g) {
        if good[k..].iter().all(|&g| !g) {
            return Sections::CutAt(k);
        }
    }
    let mut end = 0u64;
    let mut consistent = good.iter().all(|&g| g);
    for s in entries.iter().skip(1).filter(|s| s.sane) {
        if s.kind != SHT_NOBITS as u64 && s.kind != 0 {
            end = end.max(s.offset + s.size);
        }
    }
    // The name table: a string table whose names are in range and terminated.
    let mut names = false;
    match entries.get(shstrndx as usize) {
        Some(strtab) if shstrndx != 0 && strtab.kind == SHT_STRTAB as u64 && strtab.sane => {
            let (off, size) = (strtab.offset as usize, strtab.size as usize);
            if let Some(strings) = data.get(off..off + size) {
                names = entries.iter().all(|s| {
                    strings
                        .get(s.name as usize..)
                        .is_some_and(|rest| rest.iter().take(MAX_NAME).any(|&b| b == 0))
                });
                consistent &= names;
            }
        }
        Some(_) if shstrndx != 0 => consistent = false,
        None => consistent = false,
        _ => {}
    }
    Sections::Read {
        end,
        consistent,
        names,
    }
}

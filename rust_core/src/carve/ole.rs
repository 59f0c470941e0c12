//! OLE2 / Compound File Binary ([MS-CFB]): the 512-byte header, the FAT sectors it (and
//! its DIFAT chain) lists, and the directory, which names the streams.
//!
//! Header: byte order FFFE, version 3 with 512-byte sectors or 4 with 4096-byte ones,
//! 64-byte mini sectors, a 4096-byte mini stream cutoff, reserved fields zero, at least
//! one FAT sector, and DIFAT entries that are sector numbers up to the FAT count and free
//! after it. Sector `n` lies at `(n + 1) * sector_size`.
//!
//! The file ends after the highest sector the FAT marks as used: `(highest + 2) *
//! sector_size` bytes. Every FAT entry must be a sector number inside the FAT's reach or
//! one of the special values; the FAT and DIFAT sectors must be marked as such in the
//! FAT; the directory chain must end in ENDOFCHAIN, and its first entry must be the root.
//!
//! Status: Complete when all of that holds and the bytes are there. Damaged when the
//! sectors are all readable but the FAT disagrees with itself (a FAT sector not marked
//! FATSECT, a chain that runs off). Truncated when a FAT, DIFAT or directory sector holds
//! bytes that are no such thing (an overwritten tail: the carve ends before that sector)
//! or when the image ends before the last sector (`missing` = bytes short).
//!
//! Subtype from the root storage's own streams: `WordDocument` doc, `Workbook`/`Book`
//! xls, `PowerPoint Document` ppt, and msi by the root CLSID of an installer database
//! ({000C1084-0000-0000-C000-000000000046}) or streams with MSI's packed table names.

use super::{le_u16, le_u32, Found, Probe};

const HEADER_LEN: usize = 512;
const FREESECT: u32 = 0xFFFF_FFFF;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FATSECT: u32 = 0xFFFF_FFFD;
const DIFSECT: u32 = 0xFFFF_FFFC;
/// Largest regular sector number.
const MAXREGSECT: u32 = 0xFFFF_FFFA;
const DIR_ENTRY: usize = 128;
const HEADER_DIFAT: usize = 109;
/// CLSID of an MSI database (and of a patch and a transform), as stored.
const MSI_CLSIDS: [[u8; 16]; 3] = [clsid(0x000C_1084), clsid(0x000C_1086), clsid(0x000C_1082)];

const fn clsid(data1: u32) -> [u8; 16] {
    let d = data1.to_le_bytes();
    [d[0], d[1], d[2], d[3], 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let more = !at_eof && data.len() < max_len;
    let Some(h) = data.get(..HEADER_LEN) else {
        return if more { Probe::NeedMore } else { Probe::Invalid };
    };
    let Some(g) = Geometry::read(h, max_len) else {
        return Probe::Invalid;
    };
    let d = &data[..data.len().min(max_len)];
    let mut cfb = Cfb {
        d,
        g,
        fat_sectors: Vec::new(),
        problem: None,
        damaged: false,
    };
    match cfb.walk() {
        Walk::Done(names) => cfb.conclude(names, more),
        Walk::NeedData => {
            if more {
                Probe::NeedMore
            } else {
                // The image (or the cap) ends before the metadata: what is there.
                Probe::Found(Found::truncated(d.len(), None, 30))
            }
        }
    }
}

/// The header's numbers.
#[derive(Clone, Copy)]
struct Geometry {
    /// Sector size in bytes.
    ss: usize,
    fat_count: usize,
    first_dir: u32,
    first_minifat: u32,
    first_difat: u32,
    difat_count: usize,
}

impl Geometry {
    fn read(h: &[u8], max_len: usize) -> Option<Geometry> {
        let field16 = |at| le_u16(h, at).unwrap_or(usize::MAX);
        let field32 = |at| le_u32(h, at).unwrap_or(usize::MAX);
        let (major, byte_order, shift, mini_shift) = (field16(26), field16(28), field16(30), field16(32));
        let ok = byte_order == 0xFFFE
            && matches!((major, shift), (3, 9) | (4, 12))
            && mini_shift == 6
            && h[34..40].iter().all(|&b| b == 0)
            && (major == 4 || field32(40) == 0)
            && field32(56) == 4096;
        if !ok {
            return None;
        }
        let ss = 1usize << shift;
        let fat_count = field32(44);
        let difat_count = field32(72);
        // Every FAT sector must fit under the cap; the DIFAT must cover the FAT.
        let per_difat = ss / 4 - 1;
        let needed_difat = fat_count.saturating_sub(HEADER_DIFAT).div_ceil(per_difat);
        if fat_count == 0 || fat_count.saturating_mul(ss) > max_len || difat_count != needed_difat {
            return None;
        }
        // Header DIFAT: sector numbers for the FAT sectors, free after them.
        for i in 0..HEADER_DIFAT {
            let v = field32(76 + 4 * i) as u32;
            let used = i < fat_count;
            if used && v > MAXREGSECT || !used && v != FREESECT {
                return None;
            }
        }
        Some(Geometry {
            ss,
            fat_count,
            first_dir: field32(48) as u32,
            first_minifat: field32(60) as u32,
            first_difat: field32(68) as u32,
            difat_count,
        })
    }
}

enum Walk {
    Done(Names),
    /// A sector needed lies past the data.
    NeedData,
}

/// Where the walk found bytes that are not what the structure says.
struct Problem {
    /// Offset of the first sector that is not what it should be.
    at: usize,
}

struct Cfb<'a> {
    d: &'a [u8],
    g: Geometry,
    fat_sectors: Vec<u32>,
    /// The lowest metadata sector whose content is garbage.
    problem: Option<Problem>,
    /// The FAT disagrees with itself.
    damaged: bool,
}

/// What the directory said.
#[derive(Default)]
struct Names {
    subtype: Option<&'static str>,
    /// Highest sector in use per the FAT.
    highest: Option<u32>,
}

impl<'a> Cfb<'a> {
    fn sector(&self, n: u32) -> Result<&'a [u8], ()> {
        let at = (n as usize + 1).checked_mul(self.g.ss).ok_or(())?;
        self.d.get(at..at + self.g.ss).ok_or(())
    }

    fn sector_at(&self, n: u32) -> usize {
        (n as usize + 1) * self.g.ss
    }

    fn bad_sector(&mut self, n: u32) {
        let at = self.sector_at(n);
        if self.problem.as_ref().is_none_or(|p| at < p.at) {
            self.problem = Some(Problem { at });
        }
    }

    /// Entries the FAT can hold (its sectors times entries per sector).
    fn reach(&self) -> u32 {
        (self.g.fat_count * (self.g.ss / 4)).min(MAXREGSECT as usize + 1) as u32
    }

    fn fat(&self, i: u32) -> Option<u32> {
        let per = (self.g.ss / 4) as u32;
        let s = *self.fat_sectors.get((i / per) as usize)?;
        let sector = self.sector(s).ok()?;
        le_u32(sector, 4 * (i % per) as usize).map(|v| v as u32)
    }

    fn walk(&mut self) -> Walk {
        let g = self.g;
        let per = g.ss / 4;
        // FAT sector list: the header's, then the DIFAT chain's.
        let header = &self.d[..HEADER_LEN];
        self.fat_sectors = (0..g.fat_count.min(HEADER_DIFAT))
            .map(|i| le_u32(header, 76 + 4 * i).unwrap_or(0) as u32)
            .collect();
        let mut difat_sectors = Vec::new();
        let mut next = g.first_difat;
        for _ in 0..g.difat_count {
            if next > MAXREGSECT {
                self.damaged = true;
                break;
            }
            let Ok(sector) = self.sector(next) else {
                return Walk::NeedData;
            };
            difat_sectors.push(next);
            for k in 0..per - 1 {
                if self.fat_sectors.len() == g.fat_count {
                    break;
                }
                let v = le_u32(sector, 4 * k).unwrap_or(0) as u32;
                if v > MAXREGSECT {
                    self.bad_sector(next);
                    return Walk::Done(Names::default());
                }
                self.fat_sectors.push(v);
            }
            next = le_u32(sector, 4 * (per - 1)).unwrap_or(0) as u32;
        }
        if self.fat_sectors.len() != g.fat_count {
            return Walk::Done(Names::default());
        }
        // Every FAT entry: a sector inside the FAT's reach or a special value.
        let reach = self.reach();
        let mut highest = None;
        for (k, &s) in self.fat_sectors.clone().iter().enumerate() {
            if s >= reach {
                self.damaged = true;
                continue;
            }
            let Ok(sector) = self.sector(s) else {
                return Walk::NeedData;
            };
            let mut garbage = false;
            for j in 0..per {
                let v = le_u32(sector, 4 * j).unwrap_or(0) as u32;
                if v != FREESECT {
                    highest = Some((k * per + j) as u32);
                }
                if v >= reach && !matches!(v, FREESECT | ENDOFCHAIN | FATSECT | DIFSECT) {
                    garbage = true;
                }
            }
            if garbage {
                self.bad_sector(s);
            }
        }
        if self.problem.is_some() {
            // A FAT with garbage in it says nothing reliable about the file's length.
            return Walk::Done(Names::default());
        }
        // The FAT marks its own sectors and the DIFAT's.
        self.damaged |= self.fat_sectors.iter().any(|&s| self.fat(s) != Some(FATSECT));
        self.damaged |= difat_sectors.iter().any(|&s| self.fat(s) != Some(DIFSECT));
        if !(g.first_minifat == ENDOFCHAIN || g.first_minifat < reach) {
            self.damaged = true;
        }
        let mut names = match self.directory() {
            Ok(n) => n,
            Err(()) => return Walk::NeedData,
        };
        names.highest = highest;
        Walk::Done(names)
    }

    /// The directory chain: the root's own streams name the subtype.
    fn directory(&mut self) -> Result<Names, ()> {
        let reach = self.reach();
        let mut entries: Vec<&'a [u8]> = Vec::new();
        let mut s = self.g.first_dir;
        let mut steps = 0u32;
        loop {
            if s == ENDOFCHAIN {
                break;
            }
            if s >= reach || steps >= reach {
                self.damaged = true; // off the FAT, or a loop
                break;
            }
            let sector = self.sector(s)?;
            let start = entries.len();
            entries.extend(sector.chunks_exact(DIR_ENTRY));
            if !entries[start..]
                .iter()
                .enumerate()
                .all(|(i, e)| entry_ok(e, start + i == 0))
            {
                self.bad_sector(s);
                return Ok(Names::default());
            }
            steps += 1;
            match self.fat(s) {
                Some(n) => s = n,
                None => {
                    self.damaged = true;
                    break;
                }
            }
        }
        if entries.is_empty() {
            self.damaged = true;
            return Ok(Names::default());
        }
        Ok(Names {
            subtype: classify(&entries),
            highest: None,
        })
    }

    fn conclude(&self, names: Names, more: bool) -> Probe {
        let len = names.highest.map(|h| (h as usize + 2) * self.g.ss);
        if let Some(p) = &self.problem {
            let missing = len.filter(|&l| l > p.at).map(|l| (l - p.at) as u64);
            return Probe::Found(Found::truncated(p.at, missing, 30));
        }
        let Some(len) = len else {
            return Probe::Invalid; // a FAT with nothing in use
        };
        let found = if len > self.d.len() {
            if more {
                return Probe::NeedMore;
            }
            Found::truncated(self.d.len(), Some((len - self.d.len()) as u64), 40)
        } else if self.damaged {
            Found::damaged(len, 50)
        } else {
            Found::complete(len, 90)
        };
        Probe::Found(match names.subtype {
            Some(s) => found.with_subtype(s),
            None => found,
        })
    }
}

/// A directory entry that could be one: name length even and at most 64 bytes, a known
/// object type (the first entry the root), a red or black colour.
fn entry_ok(e: &[u8], first: bool) -> bool {
    let name_len = le_u16(e, 64).unwrap_or(usize::MAX);
    let (kind, color) = (e[66], e[67]);
    if first {
        return kind == 5 && name_len > 0;
    }
    name_len <= 64
        && name_len.is_multiple_of(2)
        && matches!(kind, 0..=2)
        && color <= 1
        && (kind == 0 || name_len >= 2)
}

/// The UTF-16 units of an entry's name (without the terminating zero).
fn name_units(e: &[u8]) -> impl Iterator<Item = u16> + '_ {
    let n = le_u16(e, 64).unwrap_or(0).min(64) / 2;
    (0..n.saturating_sub(1)).map(move |i| le_u16(e, 2 * i).unwrap_or(0) as u16)
}

fn name_is(e: &[u8], name: &str) -> bool {
    name_units(e).eq(name.encode_utf16())
}

/// The subtype from the root's CLSID and the names directly under the root.
fn classify(entries: &[&[u8]]) -> Option<&'static str> {
    let root = entries.first()?;
    let root_clsid = root.get(80..96)?;
    let top = root_children(entries);
    let has = |name: &str| top.iter().any(|&i| name_is(entries[i], name));
    if has("WordDocument") {
        return Some("doc");
    }
    if has("Workbook") || has("Book") {
        return Some("xls");
    }
    if has("PowerPoint Document") {
        return Some("ppt");
    }
    // MSI packs table names into characters from U+3800; "\u{4840}" starts table streams.
    let msi_names = top.iter().any(|&i| name_units(entries[i]).next() == Some(0x4840));
    if MSI_CLSIDS.iter().any(|c| c[..] == *root_clsid) || msi_names {
        return Some("msi");
    }
    None
}

/// Entries directly under the root storage: its child and that child's siblings (a
/// red-black tree by left/right ids), each visited once.
fn root_children(entries: &[&[u8]]) -> Vec<usize> {
    let id = |e: &[u8], at: usize| le_u32(e, at).map(|v| v as u32).unwrap_or(FREESECT);
    let mut seen = vec![false; entries.len()];
    let mut out = Vec::new();
    let mut stack = vec![id(entries[0], 76)];
    while let Some(n) = stack.pop() {
        let i = n as usize;
        if n > MAXREGSECT || i >= entries.len() || seen[i] || i == 0 {
            continue;
        }
        seen[i] = true;
        out.push(i);
        stack.push(id(entries[i], 68));
        stack.push(id(entries[i], 72));
    }
    out
}

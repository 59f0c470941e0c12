//! LNK (Windows shell link, MS-SHLLINK): the 76-byte header, then the structures its
//! LinkFlags announce, in order, up to the terminal ExtraData block.
//!
//! - Header: size 0x4C and the CLSID (both in the signature), the three reserved fields
//!   zero (the specification says they must be; random bytes after a chance signature
//!   fail here).
//! - LinkTargetIDList (HasLinkTargetIDList): a u16 size, then item IDs (a u16 size of at
//!   least 2 each) that end with a zero TerminalID exactly at the list's end.
//! - LinkInfo (HasLinkInfo): a u32 size and a header size of 0x1C or at least 0x24; the
//!   flags say which of VolumeID/LocalBasePath and CommonNetworkRelativeLink are present
//!   and their offsets must be set (inside the structure, past its header) or zero to
//!   match; the VolumeID and the network link fit, the paths end with a NUL inside.
//! - StringData: NAME, RELATIVE_PATH, WORKING_DIR, COMMAND_LINE_ARGUMENTS, ICON_LOCATION
//!   as their flags say, each a u16 character count (UTF-16 with IsUnicode, else bytes).
//!   Their text is not checked.
//! - ExtraData: blocks of a u32 size of at least 8 and a signature 0xA0000001..=0xA000000C
//!   (fixed sizes checked for the blocks that have one; the tracker's length and version,
//!   the property store's serialized storages and the ID list of the Vista block walked),
//!   ended by a terminal block whose size is below 4. The file ends after it.
//!
//! Status: Complete when every size is consistent. An inner check that fails while the
//! outer sizes still lead to the terminal block is Damaged. A structure whose size or
//! signature cannot be followed ends the file there (Truncated); its length never goes
//! past the first place a check failed, nor past the start of content that has no check
//! of its own (the strings, the blocks without inner checks) when the break follows it
//! with nothing sound between: such content cannot show where a cut fell.

use super::{le_u16, le_u32, Found, Probe};

const HEADER: usize = 0x4C;

const HAS_ID_LIST: usize = 1 << 0;
const HAS_LINK_INFO: usize = 1 << 1;
/// HasName, HasRelativePath, HasWorkingDir, HasArguments, HasIconLocation.
const STRING_FLAGS: [usize; 5] = [1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6];
const IS_UNICODE: usize = 1 << 7;

const VOLUME_AND_LOCAL_PATH: usize = 1 << 0;
const NETWORK_AND_SUFFIX: usize = 1 << 1;

const BLOCK_FIRST: usize = 0xA000_0001;
const BLOCK_LAST: usize = 0xA000_000C;
const TRACKER: usize = 0xA000_0003;
const PROPERTY_STORE: usize = 0xA000_0009;
const VISTA_ID_LIST: usize = 0xA000_000C;
/// The serialized property storage's version: "1SPS".
const SPS_VERSION: usize = 0x5350_5331;

/// Why the walk stopped short of the terminal block.
enum Stop {
    /// The data ends inside a structure, and more may come.
    More,
    /// The data (the image or the size cap) ends inside a structure.
    Cut,
    /// The structure at this offset cannot be followed.
    Break(usize),
}

struct Walk<'a> {
    data: &'a [u8],
    more: bool,
    max_len: usize,
    /// The first offset where a check failed.
    doubt: Option<usize>,
    /// The start of structures whose content has no check of its own (the strings, some
    /// ExtraData blocks) and that no sound structure has followed yet: a break found
    /// after them may lie inside them.
    unconfirmed: Option<usize>,
}

impl<'a> Walk<'a> {
    /// `len` bytes at `at`, for the structure that starts at `start`.
    fn get(&self, at: usize, len: usize, start: usize) -> Result<&'a [u8], Stop> {
        let end = at.checked_add(len).ok_or(Stop::Break(start))?;
        if end > self.max_len {
            return Err(Stop::Break(start));
        }
        match self.data.get(at..end) {
            Some(b) => Ok(b),
            None if self.more => Err(Stop::More),
            None => Err(Stop::Cut),
        }
    }

    fn u16_at(&self, at: usize, start: usize) -> Result<usize, Stop> {
        self.get(at, 2, start).map(|b| le_u16(b, 0).unwrap_or(0))
    }

    fn u32_at(&self, at: usize, start: usize) -> Result<usize, Stop> {
        self.get(at, 4, start).map(|b| le_u32(b, 0).unwrap_or(0))
    }

    fn check(&mut self, ok: bool, at: usize) {
        if !ok {
            self.doubt.get_or_insert(at);
        }
    }

    /// The whole walk: the offset just after the terminal block.
    fn run(&mut self) -> Result<usize, Stop> {
        let header = self.get(0, HEADER, 0)?;
        if header[66..HEADER].iter().any(|&b| b != 0) {
            return Err(Stop::Break(0));
        }
        let flags = le_u32(header, 20).unwrap_or(0);
        let mut pos = HEADER;
        if flags & HAS_ID_LIST != 0 {
            let size = self.u16_at(pos, pos)?;
            let list = self.get(pos + 2, size, pos)?;
            let ok = id_list_ok(list);
            self.check(ok, pos);
            pos += 2 + size;
        }
        if flags & HAS_LINK_INFO != 0 {
            let size = self.u32_at(pos, pos)?;
            if size < 0x1C {
                return Err(Stop::Break(pos));
            }
            let info = self.get(pos, size, pos)?;
            let ok = link_info_ok(info);
            self.check(ok, pos);
            pos += size;
        }
        let unit = if flags & IS_UNICODE != 0 { 2 } else { 1 };
        for f in STRING_FLAGS {
            if flags & f != 0 {
                self.unconfirmed.get_or_insert(pos);
                let count = self.u16_at(pos, pos)?;
                self.get(pos + 2, count * unit, pos)?;
                pos += 2 + count * unit;
            }
        }
        loop {
            let size = self.u32_at(pos, pos)?;
            if size < 4 {
                return Ok(pos + 4);
            }
            if size < 8 {
                return Err(Stop::Break(pos));
            }
            let sig = self.u32_at(pos + 4, pos)?;
            if !(BLOCK_FIRST..=BLOCK_LAST).contains(&sig) {
                return Err(Stop::Break(pos));
            }
            let block = self.get(pos, size, pos)?;
            // A sound block header: what came before it was not cut.
            self.unconfirmed = None;
            let ok = block_ok(sig, block);
            self.check(ok, pos);
            if !has_checks(sig) {
                self.unconfirmed = Some(pos);
            }
            pos += size;
        }
    }
}

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let mut walk = Walk {
        data: &data[..data.len().min(max_len)],
        more: !at_eof && data.len() < max_len,
        max_len,
        doubt: None,
        unconfirmed: None,
    };
    let result = walk.run();
    let upto = |at: usize| walk.doubt.map_or(at, |d| d.min(at));
    match result {
        Ok(end) if walk.doubt.is_none() => Probe::Found(Found::complete(end, 90)),
        Ok(end) => Probe::Found(Found::damaged(end, 60)),
        Err(Stop::More) => Probe::NeedMore,
        Err(Stop::Break(0)) => Probe::Invalid,
        Err(Stop::Break(at)) => {
            let at = walk.unconfirmed.map_or(at, |u| u.min(at));
            Probe::Found(Found::truncated(upto(at), None, 50))
        }
        Err(Stop::Cut) if walk.data.len() < HEADER => Probe::Invalid,
        Err(Stop::Cut) => Probe::Found(Found::truncated(upto(walk.data.len()), None, 50)),
    }
}

/// Item IDs (u16 size including itself, at least 2) closed by a zero TerminalID exactly
/// at the end of `list`.
fn id_list_ok(list: &[u8]) -> bool {
    let mut at = 0;
    loop {
        let Some(size) = le_u16(list, at) else {
            return false;
        };
        if size == 0 {
            return at + 2 == list.len();
        }
        if size < 2 || at + size > list.len() {
            return false;
        }
        at += size;
    }
}

/// A NUL inside `b[at..]` (a string that ends inside its structure).
fn terminated(b: &[u8], at: usize) -> bool {
    b.get(at..).is_some_and(|s| s.contains(&0))
}

/// The LinkInfo structure's offsets agree with its flags and fit inside it.
fn link_info_ok(info: &[u8]) -> bool {
    let field = |at| le_u32(info, at).unwrap_or(usize::MAX);
    let size = info.len();
    let header = field(4);
    let flags = field(8);
    let (volume, local, network, suffix) = (field(12), field(16), field(20), field(24));
    let unicode_offsets = header >= 0x24;
    if !(header == 0x1C || (unicode_offsets && header < size)) || flags & !3 != 0 {
        return false;
    }
    let inside = |off: usize| off >= header && off < size;
    let volume_ok = if flags & VOLUME_AND_LOCAL_PATH != 0 {
        let vsize = le_u32(info, volume).unwrap_or(0);
        inside(volume)
            && inside(local)
            && vsize > 0x10
            && volume + vsize <= size
            && le_u32(info, volume + 4).is_some_and(|t| t <= 6)
            && terminated(info, local)
    } else {
        volume == 0 && local == 0
    };
    let network_ok = if flags & NETWORK_AND_SUFFIX != 0 {
        let nsize = le_u32(info, network).unwrap_or(0);
        inside(network) && nsize >= 0x14 && network + nsize <= size
    } else {
        network == 0
    };
    let suffix_ok = inside(suffix) && terminated(info, suffix);
    let unicode_ok = !unicode_offsets || {
        let (ulocal, usuffix) = (field(28), field(32));
        (ulocal == 0 || inside(ulocal)) && (usuffix == 0 || inside(usuffix))
    };
    volume_ok && network_ok && suffix_ok && unicode_ok
}

/// An ExtraData block's own checks.
fn block_ok(sig: usize, block: &[u8]) -> bool {
    let size = block.len();
    let fixed = match sig {
        0xA000_0001 | 0xA000_0006 | 0xA000_0007 => Some(0x314),
        0xA000_0002 => Some(0xCC),
        TRACKER => Some(0x60),
        0xA000_0004 => Some(0x0C),
        0xA000_0005 => Some(0x10),
        0xA000_000B => Some(0x1C),
        _ => None,
    };
    if fixed.is_some_and(|f| f != size) {
        return false;
    }
    match sig {
        // Environment variables, Darwin, icon environment: an ANSI and a UTF-16 target.
        0xA000_0001 | 0xA000_0006 | 0xA000_0007 => {
            block[8..268].contains(&0) && block[268..788].chunks_exact(2).any(|c| c == [0, 0])
        }
        TRACKER => {
            le_u32(block, 8) == Some(0x58) && le_u32(block, 12) == Some(0) && block[16..32].contains(&0)
        }
        0xA000_0008 => size >= 0x88,
        PROPERTY_STORE => property_store_ok(block),
        VISTA_ID_LIST => size >= 0x0A && id_list_ok(&block[8..]),
        _ => true,
    }
}

/// Blocks whose content [`block_ok`] checks beyond their size.
fn has_checks(sig: usize) -> bool {
    matches!(
        sig,
        0xA000_0001 | 0xA000_0006 | 0xA000_0007 | TRACKER | PROPERTY_STORE | VISTA_ID_LIST
    )
}

/// Serialized property storages (a size, "1SPS", a format ID, values) ending with a zero
/// size exactly at the end of the block.
fn property_store_ok(block: &[u8]) -> bool {
    let mut at = 8;
    loop {
        let Some(size) = le_u32(block, at) else {
            return false;
        };
        if size == 0 {
            return at + 4 == block.len();
        }
        if size < 24 || le_u32(block, at + 4) != Some(SPS_VERSION) || at + size > block.len() {
            return false;
        }
        at += size;
    }
}

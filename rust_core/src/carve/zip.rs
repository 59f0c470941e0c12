//! ZIP (APPNOTE 6.3): from a local file header to the end-of-central-directory record
//! whose central directory lies where it says, and whose every entry points back at a
//! local header that agrees with it.
//!
//! The archive start is derived from the EOCD (`cd_end - cd_size - cd_offset`, with the
//! ZIP64 record's values where the archive has one), so the local headers of a zip's
//! second and later members are never taken for new archives: the first well-formed EOCD
//! after them belongs to an archive that starts before them, and they are not carved.
//!
//! Status: Complete when the central directory is walked entry by entry to the EOCD and
//! every entry's local header carries the same name, method and (where the header has it)
//! compressed size, and every stored or deflated member checked decodes to its CRC-32
//! and size (DEFLATE walked without keeping its output, within a budget per archive).
//! Damaged when the EOCD and central directory are ours but a local header disagrees or
//! is missing, or a member's data fails its CRC. Truncated when no EOCD of ours follows but a run of
//! local headers does, each member's compressed size leading to the next local header
//! (or the central directory): the carve ends after the last member so confirmed. The
//! runs are followed through data descriptors too (a DEFLATE member's end is found by
//! walking its stream, a stored one's by the descriptor that gives its size).
//!
//! Subtypes come from member names in the central directory (nothing is decompressed):
//! OOXML by `[Content_Types].xml` and its part folders, ODF and EPUB by the stored
//! `mimetype` first member, APK by `AndroidManifest.xml` with `classes.dex`, JAR by
//! `META-INF/MANIFEST.MF`.

use super::gzip::{deflate_end, inflate_check, Stop};
use super::{le_u16, le_u32, le_u64, Found, Probe};
use memchr::memmem;

const EOCD: &[u8] = b"PK\x05\x06";
const CDH: &[u8] = b"PK\x01\x02";
const LFH: &[u8] = b"PK\x03\x04";
const EOCD64: &[u8] = b"PK\x06\x06";
const LOCATOR64: &[u8] = b"PK\x06\x07";
const DESCRIPTOR: &[u8] = b"PK\x07\x08";
const DIGITAL_SIGNATURE: &[u8] = b"PK\x05\x05";
const ARCHIVE_EXTRA: &[u8] = b"PK\x06\x08";
const EOCD_LEN: usize = 22;
const CDH_LEN: usize = 46;
const LFH_LEN: usize = 30;
const LOCATOR64_LEN: usize = 20;
/// A ZIP64 EOCD record without extensible data: signature, size field, 44 bytes.
const EOCD64_LEN: usize = 56;
const SAT32: u64 = 0xFFFF_FFFF;
const FLAG_DESCRIPTOR: usize = 1 << 3;
const FLAG_ENCRYPTED: usize = 1;
/// Compressed bytes of members checked against their CRC-32 per archive (stored ones
/// hashed, deflated ones decoded without keeping the output); past it only structure.
const VERIFY_BUDGET: u64 = 64 << 20;
/// How far [`follows_member`] looks back for the member before a local header.
const LOOKBACK: usize = 8 << 20;

pub(super) fn probe(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    if data.starts_with(EOCD) {
        return empty_archive(data, at_eof, max_len);
    }
    let limit = data.len().min(max_len);
    let capped = data.len() >= max_len;
    // A chance "PK\3\4" (or one inside compressed data) is dropped before any search.
    match parse_local(data, 0) {
        Ok(_) => {}
        Err(Stop::Eof) if !at_eof && !capped => return Probe::NeedMore,
        Err(_) => return Probe::Invalid,
    }
    let mut run: Option<Run> = None;
    for e in memmem::find_iter(&data[..limit], EOCD) {
        match check_eocd(data, e) {
            Eocd::Ours(archive) => return finish(data, &archive, at_eof, max_len),
            Eocd::NotOne => {}
            Eocd::Cut => break,
            // That archive starts before this header and ends after it: this is one of
            // its members (or lies inside one).
            Eocd::Other { start } if start < 0 => return Probe::Invalid,
            Eocd::Other { .. } => {
                // An archive starting after this header: nested inside one of our
                // members (a stored zip in a zip) or the next file after ours.
                let r = run.get_or_insert_with(|| walk_locals(data, limit));
                if e >= r.extent {
                    return truncated(r, at_eof, limit);
                }
            }
        }
    }
    let r = run.get_or_insert_with(|| walk_locals(data, limit));
    if at_eof || capped || !(r.ran_out || r.reached_cd) {
        // Members that lead to something other than a member or a central directory
        // inside the data: no EOCD of ours can come after them.
        truncated(r, at_eof, limit)
    } else {
        Probe::NeedMore
    }
}

/// An archive of no members is only its EOCD record (all counts and offsets zero).
fn empty_archive(data: &[u8], at_eof: bool, max_len: usize) -> Probe {
    let Some(rec) = data.get(..EOCD_LEN) else {
        return if at_eof || data.len() >= max_len {
            Probe::Invalid
        } else {
            Probe::NeedMore
        };
    };
    if rec[4..20].iter().any(|&b| b != 0) {
        return Probe::Invalid;
    }
    let end = EOCD_LEN + le_u16(rec, 20).unwrap_or(0);
    if end > max_len {
        return Probe::Invalid;
    }
    match data.get(EOCD_LEN..end) {
        Some(comment) if comment.iter().all(|&b| b >= 0x20 || b.is_ascii_whitespace()) => {
            Probe::Found(Found::complete(end, 40))
        }
        Some(_) => Probe::Invalid,
        None if at_eof => Probe::Found(Found::truncated(data.len(), Some((end - data.len()) as u64), 20)),
        None => Probe::NeedMore,
    }
}

/// The central directory of the archive that starts at data[0].
struct Archive {
    cd_start: usize,
    cd_end: usize,
    entries: u64,
    /// End of the EOCD record and its comment.
    end: usize,
}

/// What an end-of-central-directory signature at some position turned out to be.
enum Eocd {
    Ours(Archive),
    /// The record runs past the data.
    Cut,
    /// A well-formed EOCD of an archive that starts `start` bytes from data[0].
    Other {
        start: i128,
    },
    /// Not an EOCD record (the signature occurs by chance).
    NotOne,
}

fn check_eocd(data: &[u8], e: usize) -> Eocd {
    let Some(rec) = data.get(e..e + EOCD_LEN) else {
        return Eocd::Cut;
    };
    let field16 = |at| le_u16(rec, at).unwrap_or(0);
    let field32 = |at| le_u32(rec, at).unwrap_or(0) as u64;
    let (mut disk, mut cd_disk) = (field16(4) as u64, field16(6) as u64);
    let (mut entries, mut entries_here) = (field16(10) as u64, field16(8) as u64);
    let (mut cd_size, mut cd_off) = (field32(12), field32(16));
    let mut cd_end = e;
    if let Some(z) = zip64_record(data, e) {
        let f64 = |at| le_u64(data, z + at).unwrap_or(u64::MAX);
        let f32 = |at| le_u32(data, z + at).map_or(u64::MAX, |v| v as u64);
        (disk, cd_disk) = (f32(16), f32(20));
        (entries_here, entries) = (f64(24), f64(32));
        (cd_size, cd_off) = (f64(40), f64(48));
        cd_end = z;
    }
    if disk != 0 || cd_disk != 0 || entries == 0 || entries != entries_here {
        return Eocd::NotOne;
    }
    let Some(cd_start) = usize::try_from(cd_size).ok().and_then(|s| cd_end.checked_sub(s)) else {
        return Eocd::NotOne;
    };
    if data.get(cd_start..cd_start + 4) != Some(CDH) {
        return Eocd::NotOne;
    }
    let start = cd_start as i128 - cd_off as i128;
    if start != 0 {
        return Eocd::Other { start };
    }
    Eocd::Ours(Archive {
        cd_start,
        cd_end,
        entries,
        end: e + EOCD_LEN + field16(20),
    })
}

/// The ZIP64 EOCD record of the EOCD at `e`, found through the locator just before it.
fn zip64_record(data: &[u8], e: usize) -> Option<usize> {
    let loc = e.checked_sub(LOCATOR64_LEN)?;
    if data.get(loc..loc + 4)? != LOCATOR64 {
        return None;
    }
    let fits = |z: usize| {
        data.get(z..z + 4) == Some(EOCD64)
            && le_u64(data, z + 4)
                .and_then(|s| usize::try_from(s).ok())
                .and_then(|s| z.checked_add(12 + s))
                == Some(loc)
    };
    // Usually the record has no extensible data and sits right before the locator;
    // otherwise the locator's offset is taken as relative to data[0].
    if let Some(z) = loc.checked_sub(EOCD64_LEN).filter(|&z| fits(z)) {
        return Some(z);
    }
    let z = usize::try_from(le_u64(data, loc + 8)?).ok()?;
    fits(z).then_some(z)
}

/// One central directory entry, with ZIP64 values resolved.
struct Central<'a> {
    name: &'a [u8],
    method: usize,
    flags: usize,
    crc: u32,
    csize: u64,
    /// Uncompressed size.
    full: u64,
    local: u64,
    next: usize,
}

fn parse_central(data: &[u8], pos: usize) -> Option<Central<'_>> {
    if data.get(pos..pos + 4)? != CDH {
        return None;
    }
    let flags = le_u16(data, pos + 8)?;
    let method = le_u16(data, pos + 10)?;
    let mut csize = le_u32(data, pos + 20)? as u64;
    let crc = le_u32(data, pos + 16)? as u32;
    let mut full = le_u32(data, pos + 24)? as u64;
    let name_len = le_u16(data, pos + 28)?;
    let extra_len = le_u16(data, pos + 30)?;
    let note_len = le_u16(data, pos + 32)?;
    let mut local = le_u32(data, pos + 42)? as u64;
    let name = data.get(pos + CDH_LEN..pos + CDH_LEN + name_len)?;
    let extra = data.get(pos + CDH_LEN + name_len..pos + CDH_LEN + name_len + extra_len)?;
    if let Some(z) = zip64_extra(extra) {
        // Present in this order, each only where the header's own field is saturated.
        let mut at = 0;
        let mut take = |saturated: bool| -> Option<Option<u64>> {
            if !saturated {
                return Some(None);
            }
            let v = le_u64(z, at)?;
            at += 8;
            Some(Some(v))
        };
        full = take(full == SAT32)?.unwrap_or(full);
        csize = take(csize == SAT32)?.unwrap_or(csize);
        local = take(local == SAT32)?.unwrap_or(local);
    }
    Some(Central {
        name,
        method,
        flags,
        crc,
        csize,
        full,
        local,
        next: pos + CDH_LEN + name_len + extra_len + note_len,
    })
}

/// The data of the ZIP64 extended-information extra field (id 1), if present.
fn zip64_extra(extra: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = le_u16(extra, at)?;
        let len = le_u16(extra, at + 2)?;
        let body = extra.get(at + 4..at + 4 + len)?;
        if id == 1 {
            return Some(body);
        }
        at += 4 + len;
    }
    None
}

/// What a walk of our own central directory found.
#[derive(Default)]
struct Names {
    content_types: bool,
    word: bool,
    xl: bool,
    ppt: bool,
    android_manifest: bool,
    classes_dex: bool,
    jar_manifest: bool,
    /// Content of a stored `mimetype` member at the archive's start.
    mimetype: Option<Vec<u8>>,
}

impl Names {
    fn note(&mut self, name: &[u8]) {
        match name {
            b"[Content_Types].xml" => self.content_types = true,
            b"AndroidManifest.xml" => self.android_manifest = true,
            b"classes.dex" => self.classes_dex = true,
            b"META-INF/MANIFEST.MF" => self.jar_manifest = true,
            _ => {}
        }
        self.word |= name.starts_with(b"word/");
        self.xl |= name.starts_with(b"xl/");
        self.ppt |= name.starts_with(b"ppt/");
    }

    fn subtype(&self) -> Option<&'static str> {
        if self.content_types {
            if self.word {
                return Some("docx");
            }
            if self.xl {
                return Some("xlsx");
            }
            if self.ppt {
                return Some("pptx");
            }
        }
        match self.mimetype.as_deref() {
            Some(b"application/vnd.oasis.opendocument.text") => return Some("odt"),
            Some(b"application/vnd.oasis.opendocument.spreadsheet") => return Some("ods"),
            Some(b"application/vnd.oasis.opendocument.presentation") => return Some("odp"),
            Some(b"application/epub+zip") => return Some("epub"),
            _ => {}
        }
        if self.android_manifest && self.classes_dex {
            return Some("apk");
        }
        self.jar_manifest.then_some("jar")
    }
}

/// Walk our central directory: each entry against its local header, then the subtype.
fn finish(data: &[u8], a: &Archive, at_eof: bool, max_len: usize) -> Probe {
    let mut names = Names::default();
    let mut pos = a.cd_start;
    let mut agree = true;
    let mut whole_cd = true;
    let mut n = 0u64;
    let mut budget = VERIFY_BUDGET;
    let (mut checked, mut bad_crc) = (0u64, false);
    while n < a.entries {
        let Some(c) = parse_central(data, pos).filter(|c| c.next <= a.cd_end) else {
            whole_cd = false;
            break;
        };
        names.note(c.name);
        match local_agrees(data, &c, a.cd_start) {
            Some((true, data_at)) => {
                match member_crc_ok(data, &c, data_at, &mut budget) {
                    Some(true) => checked += 1,
                    Some(false) => bad_crc = true,
                    None => {}
                }
                if c.local == 0 && c.name == b"mimetype" && c.method == 0 {
                    let len = usize::try_from(c.csize).unwrap_or(usize::MAX).min(256);
                    names.mimetype = data.get(data_at..data_at.saturating_add(len)).map(<[u8]>::to_vec);
                }
            }
            _ => agree = false,
        }
        pos = c.next;
        n += 1;
    }
    if whole_cd && pos != a.cd_end {
        // A digital signature record may close the central directory.
        let sig_len = le_u16(data, pos + 4).unwrap_or(usize::MAX);
        whole_cd =
            data.get(pos..pos + 4) == Some(DIGITAL_SIGNATURE) && pos.saturating_add(6 + sig_len) == a.cd_end;
    }
    if a.end > max_len {
        return Probe::Found(Found::truncated(max_len.min(data.len()), None, 40));
    }
    if a.end > data.len() {
        // Only the archive comment is cut.
        return if at_eof || data.len() >= max_len {
            Probe::Found(Found::truncated(
                data.len(),
                Some((a.end - data.len()) as u64),
                60,
            ))
        } else {
            Probe::NeedMore
        };
    }
    let found = if !whole_cd {
        Found::damaged(a.end, 40)
    } else if !agree || bad_crc {
        Found::damaged(a.end, 60)
    } else if checked == a.entries {
        Found::complete(a.end, 95)
    } else {
        Found::complete(a.end, 90)
    };
    Probe::Found(match names.subtype() {
        Some(s) => found.with_subtype(s),
        None => found,
    })
}

/// Does a member's data decode to its CRC-32 and size? None when it cannot be told
/// (encrypted, a method other than store or deflate, or past the budget).
fn member_crc_ok(data: &[u8], c: &Central, data_at: usize, budget: &mut u64) -> Option<bool> {
    if c.flags & FLAG_ENCRYPTED != 0 || c.csize > *budget {
        return None;
    }
    let end = data_at.checked_add(usize::try_from(c.csize).ok()?)?;
    let stream = data.get(data_at..end)?;
    *budget -= c.csize;
    match c.method {
        0 => Some(c.csize == c.full && crc32fast::hash(stream) == c.crc),
        8 => Some(match inflate_check(&data[..end], data_at) {
            Ok(d) => d.end == end && d.size == c.full && d.crc.is_none_or(|crc| crc == c.crc),
            Err(_) => false,
        }),
        _ => None,
    }
}

/// Does the local header a central entry points at carry the same name, method and
/// (unless sizes follow the data) compressed size, with its data ending before the
/// central directory? Also returns where the member's data starts.
fn local_agrees(data: &[u8], c: &Central, cd_start: usize) -> Option<(bool, usize)> {
    let at = usize::try_from(c.local).ok().filter(|&l| l < cd_start)?;
    let l = parse_local(data, at).ok()?;
    let mut same = l.name == c.name && l.method == c.method;
    if l.flags & FLAG_DESCRIPTOR == 0 && c.flags & FLAG_DESCRIPTOR == 0 {
        same &= l.csize == c.csize;
    }
    let end = (l.data_at as u64).checked_add(c.csize)?;
    same &= end <= cd_start as u64;
    Some((same, l.data_at))
}

/// A local file header.
struct Local<'a> {
    name: &'a [u8],
    flags: usize,
    method: usize,
    /// Compressed size from the header (ZIP64 extra resolved); meaningless when sizes
    /// follow the data.
    csize: u64,
    zip64: bool,
    data_at: usize,
}

/// Methods in APPNOTE's list (0-20, 93-99).
fn known_method(m: usize) -> bool {
    matches!(m, 0..=20 | 93..=99)
}

fn parse_local(data: &[u8], pos: usize) -> Result<Local<'_>, Stop> {
    let h = data.get(pos..pos + LFH_LEN).ok_or(Stop::Eof)?;
    if &h[..4] != LFH {
        return Err(Stop::Bad);
    }
    let field16 = |at| le_u16(h, at).unwrap_or(0);
    let (version, flags, method) = (field16(4), field16(6), field16(8));
    let mut csize = le_u32(h, 18).unwrap_or(0) as u64;
    let (name_len, extra_len) = (field16(26), field16(28));
    if version & 0xFF > 100 || !known_method(method) || name_len == 0 {
        return Err(Stop::Bad);
    }
    let name = data
        .get(pos + LFH_LEN..pos + LFH_LEN + name_len)
        .ok_or(Stop::Eof)?;
    // Names are text (CP437 or UTF-8): no control characters.
    if name.iter().any(|&b| b < 0x20 || b == 0x7F) {
        return Err(Stop::Bad);
    }
    let data_at = pos + LFH_LEN + name_len + extra_len;
    let extra = data.get(pos + LFH_LEN + name_len..data_at).ok_or(Stop::Eof)?;
    let z = zip64_extra(extra);
    if csize == SAT32 {
        // The local ZIP64 field holds both sizes: uncompressed, then compressed.
        if let Some(v) = z.and_then(|z| le_u64(z, 8)) {
            csize = v;
        }
    }
    Ok(Local {
        name,
        flags,
        method,
        csize,
        zip64: z.is_some(),
        data_at,
    })
}

/// A run of local headers from data[0].
#[derive(Debug, Default)]
struct Run {
    /// Members whose data led to another local header or the central directory.
    whole: usize,
    /// End of the last whole member.
    valid_end: usize,
    /// Furthest point the members claim (the last one's data may run past the data).
    extent: usize,
    /// The walk needed bytes past the data.
    ran_out: bool,
    /// The last member led to a central directory.
    reached_cd: bool,
    /// The first header also has a version and a DOS date and time as archivers write
    /// them (vouches for a lone member cut by the image's end).
    first_plausible: bool,
}

fn walk_locals(data: &[u8], limit: usize) -> Run {
    let data = &data[..limit];
    let mut run = Run {
        first_plausible: plausible_header(data),
        ..Run::default()
    };
    let mut pos = 0;
    loop {
        let member = parse_local(data, pos).and_then(|l| member_end(data, &l).map(|end| (l, end)));
        let end = match member {
            Ok((_, end)) => end,
            Err(Stop::Eof) => {
                run.ran_out = true;
                if let Ok(l) = parse_local(data, pos) {
                    if l.flags & FLAG_DESCRIPTOR == 0 {
                        let claimed = (l.data_at as u64).saturating_add(l.csize);
                        run.extent = run.extent.max(usize::try_from(claimed).unwrap_or(usize::MAX));
                    } else {
                        run.extent = usize::MAX;
                    }
                }
                return run;
            }
            Err(Stop::Bad) => return run,
        };
        run.extent = run.extent.max(end);
        let Some(next) = data.get(end..end + 4) else {
            run.ran_out = true; // what follows the member is past the data
            return run;
        };
        let cd_next =
            next == CDH || next == ARCHIVE_EXTRA || next == DIGITAL_SIGNATURE || apk_signing_block(data, end);
        if next == LFH || cd_next {
            run.whole += 1;
            run.valid_end = end;
        }
        if next != LFH {
            run.reached_cd = cd_next;
            return run;
        }
        pos = end;
    }
}

/// Version needed to extract among APPNOTE's, and a valid DOS time and date.
fn plausible_header(data: &[u8]) -> bool {
    let (Some(version), Some(time), Some(date)) = (le_u16(data, 4), le_u16(data, 10), le_u16(data, 12))
    else {
        return false;
    };
    let known = matches!(
        version,
        10 | 11 | 20 | 21 | 25 | 27 | 45 | 46 | 50 | 51 | 52 | 61 | 62 | 63
    );
    let time_ok = time >> 11 < 24 && (time >> 5) & 0x3F < 60 && time & 0x1F < 30;
    let (month, day) = ((date >> 5) & 0xF, date & 0x1F);
    known && time_ok && (1..=12).contains(&month) && day >= 1
}

/// An APK signing block (between the last member and the central directory): its size,
/// its closing magic, and a central directory header after it.
fn apk_signing_block(data: &[u8], at: usize) -> bool {
    let Some(size) = le_u64(data, at).and_then(|s| usize::try_from(s).ok()) else {
        return false;
    };
    let Some(end) = at.checked_add(8).and_then(|p| p.checked_add(size)) else {
        return false;
    };
    size >= 24
        && end.checked_sub(16).and_then(|m| data.get(m..end)) == Some(&b"APK Sig Block 42"[..])
        && data.get(end..end + 4) == Some(CDH)
}

/// End of a member's data (and of its data descriptor, when it has one).
fn member_end(data: &[u8], l: &Local) -> Result<usize, Stop> {
    if l.flags & FLAG_DESCRIPTOR == 0 {
        let end = usize::try_from((l.data_at as u64).saturating_add(l.csize)).map_err(|_| Stop::Eof)?;
        return if end <= data.len() {
            Ok(end)
        } else {
            Err(Stop::Eof)
        };
    }
    let sizes = if l.zip64 { 8 } else { 4 };
    let desc_len = 4 + 2 * sizes; // CRC and the two sizes, after an optional signature
    let size_at = |d: usize| -> Option<u64> {
        if sizes == 8 {
            le_u64(data, d)
        } else {
            le_u32(data, d).map(|v| v as u64)
        }
    };
    if l.method == 8 {
        let end = deflate_end(data, l.data_at)?;
        let csize = (end - l.data_at) as u64;
        for (sig, len) in [(4, 4 + desc_len), (0, desc_len)] {
            if (sig == 0 || data.get(end..end + 4) == Some(DESCRIPTOR))
                && size_at(end + sig + 4) == Some(csize)
            {
                return Ok(end + len);
            }
        }
        return if data.len() < end + 4 + desc_len {
            Err(Stop::Eof)
        } else {
            Err(Stop::Bad)
        };
    }
    // Other methods: the descriptor whose compressed size is its own distance from the data.
    for d in memmem::find_iter(&data[l.data_at.min(data.len())..], DESCRIPTOR) {
        let at = l.data_at + d;
        if size_at(at + 8) == Some(d as u64) {
            return Ok(at + 4 + desc_len);
        }
    }
    Err(Stop::Eof)
}

/// A run of members with no EOCD of ours after it.
fn truncated(run: &Run, at_eof: bool, limit: usize) -> Probe {
    if run.ran_out && at_eof && (run.whole > 0 || run.first_plausible) {
        // The image ends inside the archive: keep everything to its end.
        return Probe::Found(Found::truncated(limit, None, 30));
    }
    if run.whole == 0 {
        return Probe::Invalid;
    }
    let confidence = (30 + 5 * run.whole).min(60) as u8;
    Probe::Found(Found::truncated(run.valid_end, None, confidence))
}

/// Does the local header at `data[pos]` directly follow a member of an archive (so it is
/// a later member, not a file's start)? The nearest plausible local header before it,
/// within [`LOOKBACK`], must end exactly at `pos`. For a look-back caller: without it a
/// truncated archive's later members are each carved as a truncated archive of their own.
pub(crate) fn follows_member(data: &[u8], pos: usize) -> bool {
    let pos = pos.min(data.len());
    let from = pos.saturating_sub(LOOKBACK);
    for at in memmem::rfind_iter(&data[from..pos], LFH).map(|p| from + p) {
        let Ok(l) = parse_local(data, at) else { continue };
        let end = if l.flags & FLAG_DESCRIPTOR == 0 {
            Some(l.data_at as u64 + l.csize)
        } else {
            member_end(&data[..pos], &l).ok().map(|e| e as u64)
        };
        return end == Some(pos as u64);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn a_second_member_is_seen_to_follow_the_first() {
        let mut data = vec![0xEEu8; 100];
        data.extend_from_slice(&member(b"a.txt", b"first member"));
        let second = data.len();
        data.extend_from_slice(&member(b"b.txt", b"second"));
        assert!(follows_member(&data, second));
        assert!(!follows_member(&data, 100));
        assert!(!follows_member(&data, second + 1));
    }
}

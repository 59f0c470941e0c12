//! The MP4, MP3, ELF, PE and SQLite walkers against files whose lengths are known without
//! them: published samples (shared/testdata/small), ELF programs on this system (their
//! file size), files built here byte by byte from the formats' specifications (their
//! built length), and SQLite databases written by python3's sqlite3 module. Each is
//! planted at an odd offset in pseudo-random bytes and must come back once, whole, at any
//! window size; cut, corrupted and random copies must never pass as whole files.

use _native::carve::{Carver, FileType, Found, Probe, Status};
use _native::noise::noise;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{read, scan_windowed};

const KINDS: [FileType; 5] = [
    FileType::Mp4,
    FileType::Mp3,
    FileType::Elf,
    FileType::Pe,
    FileType::Sqlite,
];

fn carver() -> Carver {
    let mut c = Carver::new();
    c.only(&KINDS);
    c
}

/// The carve of `kind` at `at` in `data` (scanned whole), which must exist.
fn carve_at(data: &[u8], kind: FileType, at: usize, at_eof: bool) -> Found {
    let hits = carver().scan(data, 0, data.len(), at_eof);
    let hit = hits
        .iter()
        .find(|h| h.kind == kind && h.offset as usize == at)
        .unwrap_or_else(|| panic!("no {kind:?} candidate at {at}: {hits:?}"));
    match hit.outcome {
        Probe::Found(f) => f,
        Probe::NeedMore => carver()
            .carve_at(&data[at..], kind, true)
            .found()
            .copied()
            .expect("found after re-read"),
        Probe::Invalid => unreachable!(),
    }
}

/// `file` at `at` in noise, followed by more noise.
fn in_noise(file: &[u8], at: usize, after: usize, seed: u64) -> Vec<u8> {
    let mut data = noise(at + file.len() + after, seed);
    data[at..at + file.len()].copy_from_slice(file);
    data
}

// ---------------------------------------------------------------------------------------
// Files built by hand from the specifications.

fn be32(v: usize) -> [u8; 4] {
    (v as u32).to_be_bytes()
}

/// An ISO BMFF box: 32-bit size, type, payload.
fn bmff(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = be32(8 + payload.len()).to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

fn full_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 0, 0, 0]; // version 0, flags 0
    p.extend_from_slice(body);
    bmff(kind, &p)
}

/// An MP4 (ISO/IEC 14496-12): ftyp, an mdat of `media` bytes (a 64-bit-size box when
/// `large`), then a moov with one track whose chunk offsets point into the mdat.
fn tiny_mp4(brand: &[u8; 4], media: usize, large: bool) -> Vec<u8> {
    let mut ftyp = brand.to_vec();
    ftyp.extend_from_slice(&[0, 0, 2, 0]);
    ftyp.extend_from_slice(brand);
    ftyp.extend_from_slice(b"mp41");
    let mut out = bmff(b"ftyp", &ftyp);
    let mdat_payload_at = out.len() + if large { 16 } else { 8 };
    let payload = noise(media, 99);
    if large {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&((16 + media) as u64).to_be_bytes());
        out.extend_from_slice(&payload);
    } else {
        out.extend_from_slice(&bmff(b"mdat", &payload));
    }
    let chunks = 4;
    let chunk = media / chunks;
    let mut stco = be32(chunks).to_vec();
    let mut stsz = vec![0, 0, 0, 0];
    stsz.extend_from_slice(&be32(chunks));
    for i in 0..chunks {
        stco.extend_from_slice(&be32(mdat_payload_at + i * chunk));
        stsz.extend_from_slice(&be32(chunk));
    }
    let mut stsc = be32(1).to_vec();
    stsc.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    let stbl = [
        full_box(b"stsd", &be32(0)),
        full_box(b"stts", &be32(0)),
        full_box(b"stsc", &stsc),
        full_box(b"stsz", &stsz),
        full_box(b"stco", &stco),
    ]
    .concat();
    let dref = full_box(b"dref", &[be32(1).to_vec(), full_box(b"url ", &[])].concat());
    let minf = [
        full_box(b"smhd", &[0; 4]),
        bmff(b"dinf", &dref),
        bmff(b"stbl", &stbl),
    ]
    .concat();
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"soun");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"Sound\0");
    let mdia = [
        full_box(b"mdhd", &[0; 20]),
        full_box(b"hdlr", &hdlr),
        bmff(b"minf", &minf),
    ]
    .concat();
    let trak = [full_box(b"tkhd", &[0; 80]), bmff(b"mdia", &mdia)].concat();
    let moov = [full_box(b"mvhd", &[0; 96]), bmff(b"trak", &trak)].concat();
    out.extend_from_slice(&bmff(b"moov", &moov));
    out
}

/// One MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz, joint stereo: 417 bytes. `crc`:
/// protected (FF FA) with the CRC-16 over header bytes 2-3 and the side info.
fn mp3_frame(main_data_begin: u16, seed: u64, crc: bool) -> Vec<u8> {
    let mut f = noise(417, seed);
    f[..4].copy_from_slice(&[0xFF, if crc { 0xFA } else { 0xFB }, 0x90, 0x64]);
    let side = if crc { 6 } else { 4 };
    // main_data_begin: the first 9 bits of the side information.
    f[side] = (main_data_begin >> 1) as u8;
    f[side + 1] = (f[side + 1] & 0x7F) | (((main_data_begin & 1) as u8) << 7);
    if crc {
        let mut c = 0xFFFFu16;
        for &b in f[2..4].iter().chain(&f[6..6 + 32]) {
            c ^= (b as u16) << 8;
            for _ in 0..8 {
                c = if c & 0x8000 != 0 {
                    (c << 1) ^ 0x8005
                } else {
                    c << 1
                };
            }
        }
        f[4..6].copy_from_slice(&c.to_be_bytes());
    }
    f
}

/// The first frame of a LAME-style stream: an Info tag after the side information,
/// recording `frames` audio frames and the stream's `bytes` (this frame included).
fn info_frame(frames: usize, bytes: usize) -> Vec<u8> {
    let mut f = vec![0u8; 417];
    f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
    f[36..40].copy_from_slice(b"Info");
    f[40..44].copy_from_slice(&3u32.to_be_bytes());
    f[44..48].copy_from_slice(&be32(frames));
    f[48..52].copy_from_slice(&be32(bytes));
    f
}

/// ID3v2.3 tag (one TIT2 frame and padding), an Info frame, `n` audio frames and an
/// ID3v1 tag. Returns the file and where the audio starts.
fn tagged_mp3(n: usize) -> (Vec<u8>, usize) {
    let mut body = b"TIT2".to_vec();
    let title = b"\0Quarry test tone";
    body.extend_from_slice(&be32(title.len()));
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(title);
    body.resize(body.len() + 200, 0); // padding
    let size = body.len();
    let mut out = b"ID3\x03\x00\x00".to_vec();
    out.extend_from_slice(&[
        (size >> 21) as u8 & 0x7F,
        (size >> 14) as u8 & 0x7F,
        (size >> 7) as u8 & 0x7F,
        size as u8 & 0x7F,
    ]);
    out.extend_from_slice(&body);
    let audio = out.len();
    out.extend_from_slice(&info_frame(n, (n + 1) * 417));
    for i in 0..n {
        out.extend_from_slice(&mp3_frame(100 + (i % 300) as u16, 1000 + i as u64, false));
    }
    out.extend_from_slice(b"TAG");
    out.extend_from_slice(&[b' '; 125]);
    (out, audio)
}

/// `n` protected MPEG-1 Layer III frames with no tag (the first with an empty reservoir).
fn bare_mp3(n: usize, crc: bool) -> Vec<u8> {
    (0..n)
        .flat_map(|i| mp3_frame(if i == 0 { 0 } else { 77 }, 5000 + i as u64, crc))
        .collect()
}

fn le16(v: usize) -> [u8; 2] {
    (v as u16).to_le_bytes()
}

fn le32(v: usize) -> [u8; 4] {
    (v as u32).to_le_bytes()
}

/// The PE image checksum as the PE/COFF specification's loader computes it: 16-bit
/// words summed with carries folded, the CheckSum field taken as zero, plus the length.
fn pe_checksum(file: &[u8], field: usize) -> u32 {
    let mut sum: u32 = 0;
    for (i, w) in file.chunks(2).enumerate() {
        if i * 2 == field || i * 2 == field + 2 {
            continue;
        }
        let v = u16::from_le_bytes([w[0], *w.get(1).unwrap_or(&0)]) as u32;
        sum += v;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    ((sum & 0xFFFF) + (sum >> 16)) + file.len() as u32
}

/// A PE32+ image per the PE/COFF specification: MS-DOS stub header, COFF header, optional
/// header with 16 data directories, two sections (0x400 and 0x200 bytes of raw data at
/// file alignment 0x200), a certificate table after them (directory 4) when `signed`,
/// and a correct CheckSum when `checksum`. Length: 0x800, plus 0x18 when signed.
fn tiny_pe(dll: bool, signed: bool, checksum: bool) -> Vec<u8> {
    let mut f = vec![0u8; 0x800];
    // DOS header: 0x90 bytes in 3 pages, 4-paragraph header, relocations at 0x40.
    f[0..2].copy_from_slice(b"MZ");
    f[2..4].copy_from_slice(&le16(0x90));
    f[4..6].copy_from_slice(&le16(3));
    f[8..10].copy_from_slice(&le16(4));
    f[0x0C..0x0E].copy_from_slice(&le16(0xFFFF));
    f[0x10..0x12].copy_from_slice(&le16(0xB8));
    f[0x18..0x1A].copy_from_slice(&le16(0x40));
    f[0x3C..0x40].copy_from_slice(&le32(0x80));
    f[0x40..0x4E].copy_from_slice(b"\x0E\x1F\xBA\x0E\x00\xB4\x09\xCD\x21\xB8\x01\x4C\xCD\x21");
    // PE signature and COFF header.
    f[0x80..0x84].copy_from_slice(b"PE\0\0");
    let coff = 0x84;
    f[coff..coff + 2].copy_from_slice(&le16(0x8664));
    f[coff + 2..coff + 4].copy_from_slice(&le16(2));
    f[coff + 16..coff + 18].copy_from_slice(&le16(240));
    f[coff + 18..coff + 20].copy_from_slice(&le16(if dll { 0x2022 } else { 0x22 }));
    // Optional header (PE32+).
    let opt = coff + 20;
    f[opt..opt + 2].copy_from_slice(&le16(0x20B));
    f[opt + 32..opt + 36].copy_from_slice(&le32(0x1000)); // SectionAlignment
    f[opt + 36..opt + 40].copy_from_slice(&le32(0x200)); // FileAlignment
    f[opt + 56..opt + 60].copy_from_slice(&le32(0x3000)); // SizeOfImage
    f[opt + 60..opt + 64].copy_from_slice(&le32(0x200)); // SizeOfHeaders
    f[opt + 68..opt + 70].copy_from_slice(&le16(3)); // console
    f[opt + 108..opt + 112].copy_from_slice(&le32(16));
    // Section table.
    let sections = opt + 240;
    for (i, (name, raw, size)) in [(b".text\0\0\0", 0x200, 0x400), (b".data\0\0\0", 0x600, 0x200)]
        .iter()
        .enumerate()
    {
        let s = sections + 40 * i;
        f[s..s + 8].copy_from_slice(*name);
        f[s + 8..s + 12].copy_from_slice(&le32(*size));
        f[s + 12..s + 16].copy_from_slice(&le32(0x1000 * (i + 1)));
        f[s + 16..s + 20].copy_from_slice(&le32(*size));
        f[s + 20..s + 24].copy_from_slice(&le32(*raw));
        f[s + 36..s + 40].copy_from_slice(&le32(0x6000_0020));
    }
    let code = noise(0x600, 4242);
    f[0x200..0x800].copy_from_slice(&code);
    if signed {
        let dir = opt + 112 + 4 * 8;
        f[dir..dir + 4].copy_from_slice(&le32(0x800));
        f[dir + 4..dir + 8].copy_from_slice(&le32(0x18));
        let mut cert = le32(0x18).to_vec();
        cert.extend_from_slice(&le16(0x200));
        cert.extend_from_slice(&le16(2));
        cert.extend_from_slice(&[0x30; 16]);
        f.extend_from_slice(&cert);
    }
    if checksum {
        let sum = pe_checksum(&f, opt + 64);
        f[opt + 64..opt + 68].copy_from_slice(&sum.to_le_bytes());
    }
    f
}

/// A big-endian 64-bit ELF relocatable object: header, a .text section, .shstrtab, and
/// the section header table (null, .text, .shstrtab) at the end.
fn tiny_elf_be() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7FELF");
    f[4] = 2; // 64-bit
    f[5] = 2; // big-endian
    f[6] = 1;
    f[16..18].copy_from_slice(&1u16.to_be_bytes()); // ET_REL
    f[18..20].copy_from_slice(&43u16.to_be_bytes()); // SPARC V9
    f[20..24].copy_from_slice(&1u32.to_be_bytes());
    f[52..54].copy_from_slice(&64u16.to_be_bytes());
    f[58..60].copy_from_slice(&64u16.to_be_bytes());
    f[60..62].copy_from_slice(&3u16.to_be_bytes());
    f[62..64].copy_from_slice(&2u16.to_be_bytes());
    let text_at = f.len();
    f.extend_from_slice(&noise(100, 77));
    let strtab_at = f.len();
    let strtab = b"\0.text\0.shstrtab\0";
    f.extend_from_slice(strtab);
    while !f.len().is_multiple_of(8) {
        f.push(0);
    }
    let shoff = f.len();
    f[40..48].copy_from_slice(&(shoff as u64).to_be_bytes());
    let mut sh = |name: u32, kind: u32, off: usize, size: usize| {
        let mut e = [0u8; 64];
        e[0..4].copy_from_slice(&name.to_be_bytes());
        e[4..8].copy_from_slice(&kind.to_be_bytes());
        e[24..32].copy_from_slice(&(off as u64).to_be_bytes());
        e[32..40].copy_from_slice(&(size as u64).to_be_bytes());
        f.extend_from_slice(&e);
    };
    sh(0, 0, 0, 0);
    sh(1, 1, text_at, 100);
    sh(7, 3, strtab_at, strtab.len());
    f
}

/// A database written by python3's sqlite3 module: a table with an index, rows of
/// varied sizes, a few large blobs (overflow chains); `delete_some` leaves a freelist.
fn sqlite_db(name: &str, page_size: usize, auto_vacuum: &str, delete_some: bool) -> Vec<u8> {
    // Tests run in parallel threads: one folder per call.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("quarry-carve-media-exec-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.sqlite"));
    let script = r#"
import sqlite3, sys
path, page_size, vacuum, delete = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
con = sqlite3.connect(path)
con.execute(f"PRAGMA page_size={page_size}")
con.execute(f"PRAGMA auto_vacuum={vacuum}")
con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n REAL, data BLOB)")
con.execute("CREATE INDEX t_name ON t(name)")
for i in range(1500):
    con.execute("INSERT INTO t(name, n, data) VALUES (?, ?, ?)",
                (f"row {i} " * (i % 9 + 1), i / 7.0, bytes((i * 7 + j) % 256 for j in range(i % 60 * 9))))
for i in range(4):
    con.execute("INSERT INTO t(name, data) VALUES (?, ?)", (f"big {i}", bytes((i * 31 + j * 17) % 251 for j in range(30000))))
con.commit()
if delete:
    con.execute("DELETE FROM t WHERE id % 3 = 0")
    con.commit()
con.close()
"#;
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(page_size.to_string())
        .arg(auto_vacuum)
        .arg(if delete_some { "1" } else { "0" })
        .status()
        .expect("python3 is needed to write the test databases");
    assert!(status.success(), "python3 sqlite3 failed");
    let db = std::fs::read(&path).expect("database written");
    std::fs::remove_dir_all(&dir).expect("remove the temp folder");
    assert_eq!(db.len() % page_size, 0);
    db
}

// ---------------------------------------------------------------------------------------
// Whole files.

struct Planted {
    name: String,
    offset: usize,
    len: usize,
    kind: FileType,
    subtype: Option<&'static str>,
}

/// Every fixture with the length and subtype a carve must report. Where that length is
/// not the sample's byte length, the reason is given.
fn fixtures() -> Vec<(String, FileType, Vec<u8>, usize, &'static str)> {
    let mut v: Vec<(String, FileType, Vec<u8>, usize, &'static str)> = Vec::new();
    let mut sample = |name: &str, kind, sub| {
        let bytes = read(&format!("small/{name}"));
        let len = bytes.len();
        v.push((name.to_string(), kind, bytes, len, sub));
    };
    sample("Mpeg4.mp4", FileType::Mp4, "mp4");
    sample("mp4-with-audio.mp4", FileType::Mp4, "mp4");
    sample("heif.heif", FileType::Mp4, "heif");
    sample("elf.o", FileType::Elf, "exec");
    sample("portableexecutable.exe", FileType::Pe, "exe");
    sample("newexecutable.exe", FileType::Pe, "ne");
    sample("linearexecutable.exe", FileType::Pe, "lx");
    // A 97-byte section-less "tiny PE" that ends after the low byte of its optional
    // header's Subsystem field (the loader zero-fills the rest).
    sample("portableexecutable-xp.exe", FileType::Pe, "exe");
    // A DOS header of 1 page with no last-page count says 512 bytes; the published file
    // is its first 64 (DOS loads what is there). The carve is what the header says.
    let dos = read("small/dosexecutable.exe");
    v.push(("dosexecutable.exe".into(), FileType::Pe, dos, 512, "dos"));
    let bin_true = std::fs::read("/bin/true").expect("/bin/true");
    let len = bin_true.len();
    v.push(("/bin/true".into(), FileType::Elf, bin_true, len, "dyn"));
    let me = std::fs::read(std::env::current_exe().expect("test binary")).expect("test binary");
    let me_len = me.len();
    let me_type = match me[16] {
        2 => "exec",
        _ => "dyn",
    };
    v.push(("this test binary".into(), FileType::Elf, me, me_len, me_type));
    let elf_be = tiny_elf_be();
    let n = elf_be.len();
    v.push((
        "big-endian ELF64 object".into(),
        FileType::Elf,
        elf_be,
        n,
        "object",
    ));
    for (name, file, sub) in [
        ("mp4 built", tiny_mp4(b"isom", 200_000, false), "mp4"),
        ("mov built, 64-bit mdat", tiny_mp4(b"qt  ", 70_000, true), "mov"),
        ("3gp built", tiny_mp4(b"3gp5", 5_000, false), "3gp"),
        ("m4a built", tiny_mp4(b"M4A ", 9_000, false), "m4a"),
    ] {
        let n = file.len();
        v.push((name.into(), FileType::Mp4, file, n, sub));
    }
    let (mp3, _) = tagged_mp3(300);
    let n = mp3.len();
    v.push((
        "mp3 with ID3v2, Info and ID3v1".into(),
        FileType::Mp3,
        mp3,
        n,
        "mp3",
    ));
    let bare = bare_mp3(40, false);
    let n = bare.len();
    v.push(("mp3 frames only".into(), FileType::Mp3, bare, n, "mp3"));
    let crc = bare_mp3(12, true);
    let n = crc.len();
    v.push(("mp3 frames with CRC".into(), FileType::Mp3, crc, n, "mp3"));
    for (name, dll, signed) in [("pe32+ exe", false, false), ("pe32+ dll signed", true, true)] {
        let pe = tiny_pe(dll, signed, true);
        let n = pe.len();
        v.push((name.into(), FileType::Pe, pe, n, if dll { "dll" } else { "exe" }));
    }
    v
}

fn sqlite_fixtures() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "sqlite 4096 with freelist".into(),
            sqlite_db("free", 4096, "NONE", true),
        ),
        (
            "sqlite 512 incremental vacuum".into(),
            sqlite_db("ptrmap", 512, "INCREMENTAL", true),
        ),
        ("sqlite 65536".into(), sqlite_db("big", 65536, "NONE", false)),
    ]
}

fn planted_image() -> (Vec<u8>, Vec<Planted>) {
    let mut files = fixtures();
    for (name, db) in sqlite_fixtures() {
        let n = db.len();
        files.push((name, FileType::Sqlite, db, n, ""));
    }
    let mut image = noise(1 << 20, 17);
    let mut planted = Vec::new();
    let mut cursor = 777;
    for (i, (name, kind, bytes, len, subtype)) in files.into_iter().enumerate() {
        let offset = cursor + (i * 53) % 509 + 1;
        let need = offset + bytes.len().max(len) + 4096;
        if image.len() < need {
            let more = noise(need - image.len(), 1000 + i as u64);
            image.extend_from_slice(&more);
        }
        image[offset..offset + bytes.len()].copy_from_slice(&bytes);
        planted.push(Planted {
            name,
            offset,
            len,
            kind,
            // SQLite has no finer kinds.
            subtype: Some(subtype).filter(|s| !s.is_empty()),
        });
        cursor = offset + bytes.len().max(len) + 1500;
    }
    (image, planted)
}

#[test]
fn every_planted_file_is_found_once_whole_at_any_window_size() {
    let (image, planted) = planted_image();
    let carver = carver();
    for (window, overlap) in [
        (image.len(), 0),
        (4096, 64),
        (1 << 16, 0),
        (1000, 16),
        (1 << 20, 4096),
    ] {
        let found = scan_windowed(&carver, &image, window, overlap);
        for p in &planted {
            let hits: Vec<_> = found
                .iter()
                .filter(|f| f.0 == p.offset && f.1 == p.kind)
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "window {window}: {} found {} times",
                p.name,
                hits.len()
            );
            let f = hits[0].2;
            assert_eq!(
                (f.len, f.status, f.subtype),
                (p.len, Status::Complete, p.subtype),
                "window {window}: {}",
                p.name
            );
        }
        // Anything else of these types is nested inside a planted file (an EXIF-style
        // inner file, a frame of a tagged MP3), never in the noise between them.
        for (at, kind, f) in &found {
            if planted.iter().any(|p| p.offset == *at && p.kind == *kind) {
                continue;
            }
            let inside = planted.iter().find(|p| p.offset <= *at && *at < p.offset + p.len);
            match inside {
                Some(p) => assert!(
                    f.status != Status::Complete || at + f.len <= p.offset + p.len,
                    "window {window}: {kind:?} at {at} ({f:?}) runs out of {}",
                    p.name
                ),
                None => panic!("window {window}: {kind:?} carved from noise at {at}: {f:?}"),
            }
        }
    }
}

#[test]
fn a_file_crossing_a_window_edge_is_recovered_whole_by_its_header_window() {
    let (image, planted) = planted_image();
    let carver = carver();
    for p in planted.iter().filter(|p| p.len > 3000) {
        let window = p.offset + p.len / 2;
        let found = scan_windowed(&carver, &image, window, 0);
        let hits: Vec<_> = found
            .iter()
            .filter(|f| f.0 == p.offset && f.1 == p.kind)
            .collect();
        assert_eq!(hits.len(), 1, "{}", p.name);
        assert_eq!(
            (hits[0].2.len, hits[0].2.status),
            (p.len, Status::Complete),
            "{}",
            p.name
        );
    }
}

#[test]
fn confidence_reflects_what_confirmed_the_file() {
    let (mp3, _) = tagged_mp3(50);
    let data = in_noise(&mp3, 333, 1000, 5);
    // ID3v2 start, Info byte count that matches, ID3v1 at the end.
    assert!(carve_at(&data, FileType::Mp3, 333, true).confidence >= 90);
    // Frames only, no encoder tag: a suffix of a longer stream would look the same.
    let bare = bare_mp3(40, false);
    let data = in_noise(&bare, 101, 1000, 6);
    assert!(carve_at(&data, FileType::Mp3, 101, true).confidence <= 30);
    // A PE whose CheckSum matches.
    let pe = tiny_pe(false, false, true);
    let data = in_noise(&pe, 77, 1000, 8);
    assert_eq!(carve_at(&data, FileType::Pe, 77, true).confidence, 100);
    // A plain DOS header confirms little.
    let dos = read("small/dosexecutable.exe");
    let data = in_noise(&dos, 10, 1000, 9);
    assert!(carve_at(&data, FileType::Pe, 10, true).confidence <= 30);
    // An MP4 whose chunk offsets all land in its mdat.
    let mp4 = tiny_mp4(b"isom", 3000, false);
    let data = in_noise(&mp4, 5, 100, 10);
    assert!(carve_at(&data, FileType::Mp4, 5, true).confidence >= 90);
}

#[test]
fn sqlite_without_a_recorded_size_is_walked_page_by_page() {
    // A pre-3.7.0 header: "version-valid-for" differs from the change counter, so the
    // size at offset 28 is not to be trusted. No freelist, so every page is a b-tree or
    // overflow page and the walk ends exactly at the file's end.
    let mut db = sqlite_db("legacy", 1024, "NONE", false);
    db[92..96].copy_from_slice(&[0, 0, 0, 0]);
    db[28..32].copy_from_slice(&[0, 0, 0, 0]);
    let data = in_noise(&db, 4099, 9000, 31);
    let f = carve_at(&data, FileType::Sqlite, 4099, true);
    assert_eq!((f.len, f.status), (db.len(), Status::Complete));
    assert!(f.confidence <= 30);
}

// ---------------------------------------------------------------------------------------
// Truncated, corrupted and random copies.

/// `file[..cut]` at `at` followed by noise (`noise_after`) or by the end of the image.
fn cut_copy(file: &[u8], cut: usize, at: usize, noise_after: bool, seed: u64) -> Vec<u8> {
    let mut data = noise(at + cut + if noise_after { 5000 } else { 0 }, seed);
    data[at..at + cut].copy_from_slice(&file[..cut]);
    data
}

fn assert_truncated(name: &str, f: Found, cut: usize) {
    assert_eq!(f.status, Status::Truncated, "{name}: {f:?}");
    assert!(f.len <= cut, "{name}: {} > cut {cut}", f.len);
}

#[test]
fn cut_files_followed_by_noise_are_truncated_not_complete() {
    // (name, kind, file, cut) where the cut falls in a structure the walker checks.
    let audio = read("small/mp4-with-audio.mp4");
    let mpeg4 = read("small/Mpeg4.mp4");
    let (mp3, audio_at) = tagged_mp3(120);
    let elf = std::fs::read("/bin/true").expect("/bin/true");
    let db = sqlite_db("cut", 4096, "NONE", false);
    let cases: Vec<(&str, FileType, &[u8], usize)> = vec![
        ("mp4-with-audio in moov", FileType::Mp4, &audio, 1200),
        ("Mpeg4.mp4 in moov", FileType::Mp4, &mpeg4, 150),
        ("mp3 mid-frame", FileType::Mp3, &mp3, audio_at + 417 * 60 + 200),
        ("mp3 at a frame edge", FileType::Mp3, &mp3, audio_at + 417 * 60),
        (
            "elf in the section header table",
            FileType::Elf,
            &elf,
            elf.len() - 100,
        ),
        (
            "sqlite at a page edge",
            FileType::Sqlite,
            &db,
            db.len() / 2 / 4096 * 4096,
        ),
        (
            "sqlite mid-page",
            FileType::Sqlite,
            &db,
            db.len() / 2 / 4096 * 4096 + 1500,
        ),
    ];
    for (name, kind, file, cut) in cases {
        for seed in [1u64, 2, 3] {
            let data = cut_copy(file, cut, 211, true, seed);
            let f = carve_at(&data, kind, 211, false);
            assert_truncated(name, f, cut);
        }
    }
    // Cut at a page edge: exactly the pages before the cut, the rest counted missing.
    let cut = db.len() / 2 / 4096 * 4096;
    let f = carve_at(&cut_copy(&db, cut, 211, true, 4), FileType::Sqlite, 211, false);
    assert_eq!((f.len, f.missing), (cut, Some((db.len() - cut) as u64)));
    // The MP3's Info tag records the stream's bytes: what is missing is known.
    let cut = audio_at + 417 * 60;
    let f = carve_at(&cut_copy(&mp3, cut, 211, true, 5), FileType::Mp3, 211, false);
    let stream_end = audio_at + 121 * 417;
    assert_eq!(f.missing, Some((stream_end - f.len) as u64));
}

type EofCut<'a> = (&'a str, FileType, &'a [u8], usize, Option<usize>);

#[test]
fn files_cut_by_the_end_of_the_image_are_truncated_with_what_is_missing() {
    let audio = read("small/mp4-with-audio.mp4");
    let (mp3, audio_at) = tagged_mp3(80);
    let elf = std::fs::read("/bin/true").expect("/bin/true");
    let pe = tiny_pe(false, true, true);
    let db = sqlite_db("eof", 1024, "NONE", true);
    let lx = read("small/linearexecutable.exe");
    let ne = read("small/newexecutable.exe");
    let mp4 = tiny_mp4(b"isom", 50_000, false);
    // (name, kind, file, cut, the full length the structure records, if it does)
    let cases: Vec<EofCut> = vec![
        ("mp4 in mdat", FileType::Mp4, &mp4, 30_000, None),
        ("mp4-with-audio in mdat", FileType::Mp4, &audio, 500, None),
        (
            "mp3 mid-frame",
            FileType::Mp3,
            &mp3,
            audio_at + 417 * 30 + 9,
            Some(audio_at + 81 * 417),
        ),
        ("elf", FileType::Elf, &elf, elf.len() / 2, Some(elf.len())),
        ("pe in a section", FileType::Pe, &pe, 0x700, Some(pe.len())),
        (
            "pe in the certificate",
            FileType::Pe,
            &pe,
            pe.len() - 4,
            Some(pe.len()),
        ),
        ("sqlite", FileType::Sqlite, &db, db.len() - 3000, Some(db.len())),
        ("lx", FileType::Pe, &lx, 9000, Some(lx.len())),
        ("ne", FileType::Pe, &ne, 1300, Some(ne.len())),
    ];
    for (name, kind, file, cut, full) in cases {
        let data = cut_copy(file, cut, 129, false, 6);
        let f = carve_at(&data, kind, 129, true);
        assert_truncated(name, f, cut);
        if let Some(full) = full {
            assert_eq!(f.missing, Some((full - f.len) as u64), "{name}: {f:?}");
        }
    }
    // The mdat's recorded size tells how much of it is missing.
    let f = carve_at(&cut_copy(&mp4, 30_000, 129, false, 7), FileType::Mp4, 129, true);
    let mdat_end = 24 + 8 + 50_000;
    assert_eq!((f.len, f.missing), (30_000, Some((mdat_end - 30_000) as u64)));
}

#[test]
fn corrupted_files_are_never_complete() {
    let mut cases: Vec<(&str, FileType, Vec<u8>, Status)> = Vec::new();
    // PE: one byte of code changed under a CheckSum.
    let mut pe = tiny_pe(false, false, true);
    pe[0x345] ^= 0x01;
    cases.push(("pe code byte", FileType::Pe, pe, Status::Damaged));
    // PE: the certificate entry no longer reads as one.
    let mut pe = tiny_pe(true, true, false);
    pe[0x804] = 0x77;
    cases.push(("pe certificate", FileType::Pe, pe, Status::Truncated));
    // MP3: a side-information byte under a frame's CRC-16.
    let mut mp3 = bare_mp3(12, true);
    mp3[417 * 5 + 20] ^= 0x10;
    cases.push(("mp3 crc", FileType::Mp3, mp3, Status::Damaged));
    // MP4: a chunk offset that points past the end of the file.
    let mut mp4 = tiny_mp4(b"isom", 4000, false);
    let stco = mp4.windows(4).position(|w| w == b"stco").expect("stco") + 12;
    mp4[stco..stco + 4].copy_from_slice(&be32(1 << 20));
    cases.push(("mp4 chunk offset", FileType::Mp4, mp4, Status::Truncated));
    // MP4: a child of moov whose size no longer tiles its parent.
    let mut mp4 = tiny_mp4(b"isom", 4000, false);
    let tkhd = mp4.windows(4).position(|w| w == b"tkhd").expect("tkhd") - 4;
    mp4[tkhd + 3] = mp4[tkhd + 3].wrapping_add(5);
    cases.push(("mp4 box size", FileType::Mp4, mp4, Status::Truncated));
    // ELF: a section type that is not one.
    let mut elf = tiny_elf_be();
    let shoff = elf.len() - 3 * 64;
    elf[shoff + 64 + 4..shoff + 64 + 8].copy_from_slice(&0x55u32.to_be_bytes());
    cases.push(("elf section type", FileType::Elf, elf, Status::Damaged));
    // ELF: the null section entry overwritten, the entries after it intact.
    let mut elf = tiny_elf_be();
    let shoff = elf.len() - 3 * 64;
    elf[shoff + 5] = 0x99;
    cases.push(("elf null section", FileType::Elf, elf, Status::Damaged));
    // ELF: the section header table overwritten from its second entry on (a cut).
    let mut elf = tiny_elf_be();
    let shoff = elf.len() - 3 * 64;
    let n = elf.len();
    elf[shoff + 64..n].copy_from_slice(&noise(128, 5));
    cases.push(("elf table tail", FileType::Elf, elf, Status::Truncated));
    // SQLite: a b-tree page in the middle whose cell count is wrong.
    let mut db = sqlite_db("corrupt", 4096, "NONE", false);
    let pages = db.len() / 4096;
    let victim = (pages / 2..pages - 1)
        .find(|p| matches!(db[p * 4096], 0x0D | 0x0A | 0x05 | 0x02))
        .expect("a b-tree page");
    db[victim * 4096 + 3] = 0x7F;
    cases.push(("sqlite page header", FileType::Sqlite, db, Status::Damaged));

    for (name, kind, file, expected) in cases {
        let data = in_noise(&file, 300, 3000, 12);
        let f = carve_at(&data, kind, 300, true);
        assert_eq!(f.status, expected, "{name}: {f:?}");
    }
}

#[test]
fn new_executables_are_not_carved_as_pe() {
    // NE and LX files start with an MZ stub whose e_lfanew names "NE"/"LX": they are
    // walked as such, never as a PE or as their DOS stub's 128 bytes.
    for (name, sub) in [("newexecutable.exe", "ne"), ("linearexecutable.exe", "lx")] {
        let file = read(&format!("small/{name}"));
        let data = in_noise(&file, 1234, 5000, 44);
        let f = carve_at(&data, FileType::Pe, 1234, true);
        assert_eq!(
            (f.len, f.status, f.subtype),
            (file.len(), Status::Complete, Some(sub))
        );
    }
}

#[test]
fn sixteen_mib_of_noise_has_no_carves_of_these_types() {
    let data = noise(16 << 20, 20260101);
    let hits = carver().scan(&data, 0, data.len(), true);
    let ours: Vec<_> = hits.iter().filter(|h| KINDS.contains(&h.kind)).collect();
    assert!(ours.is_empty(), "{ours:?}");
}

#[test]
fn signatures_planted_in_noise_are_never_complete() {
    // Bare signatures, and headers that pass their first checks, followed by noise.
    let db = sqlite_db("header", 4096, "NONE", false);
    let (mp3, audio_at) = tagged_mp3(2);
    let pe = tiny_pe(false, false, true);
    let elf = std::fs::read("/bin/true").expect("/bin/true");
    let starts: Vec<(FileType, Vec<u8>)> = vec![
        (FileType::Pe, b"MZ".to_vec()),
        // Headers under a CheckSum: the noise after them does not add up.
        (FileType::Pe, pe[..0x200].to_vec()),
        (FileType::Elf, b"\x7FELF".to_vec()),
        (FileType::Elf, elf[..64].to_vec()),
        (FileType::Sqlite, b"SQLite format 3\0".to_vec()),
        (FileType::Sqlite, db[..108].to_vec()),
        (FileType::Mp4, b"\0\0\0\x18ftypisom".to_vec()),
        (FileType::Mp4, read("small/mp4-with-audio.mp4")[..36].to_vec()),
        (FileType::Mp3, b"ID3".to_vec()),
        (FileType::Mp3, mp3[..audio_at].to_vec()),
        (FileType::Mp3, b"\xFF\xFB".to_vec()),
        (FileType::Mp3, b"\xFF\xFA".to_vec()),
        (FileType::Mp3, b"\xFF\xF3".to_vec()),
        (FileType::Mp3, b"\xFF\xF2".to_vec()),
        (FileType::Mp3, mp3_frame(0, 3, false)[..40].to_vec()),
    ];
    let mut data = noise(4 << 20, 4040);
    let mut at = 1000;
    let mut planted = 0;
    while at + 600 < data.len() {
        let (_, bytes) = &starts[planted % starts.len()];
        data[at..at + bytes.len()].copy_from_slice(bytes);
        planted += 1;
        at += 997 + (planted * 7) % 300;
    }
    let hits = carver().scan(&data, 0, data.len(), true);
    let complete: Vec<_> = hits
        .iter()
        .filter(|h| h.outcome.found().is_some_and(|f| f.status == Status::Complete))
        .collect();
    assert!(complete.is_empty(), "{} planted, complete: {complete:?}", planted);
    // And carves of any status stay rare (a header that validates may be reported as the
    // truncated start it is).
    let kinds_planted: Vec<FileType> = starts.iter().map(|s| s.0).collect();
    assert!(kinds_planted.contains(&FileType::Mp3));
    assert!(
        hits.len() * 4 < planted,
        "{} carves from {planted} plants",
        hits.len()
    );
}

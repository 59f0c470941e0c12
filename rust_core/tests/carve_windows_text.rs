//! The EVTX, registry hive, LNK, mbox, EML and HTML walkers against files whose answers
//! are known without them: EVTX, hives and shell links assembled here byte by byte from
//! their published layouts (so their length is the length built), mail written out
//! here, and the HTML samples of shared/testdata/small with their own byte lengths.
//! Files are planted in pseudo-random bytes at odd offsets; cut, corrupted and random
//! copies must never come back Complete.

use _native::carve::{Carver, FileType, Found, Probe, Status};
use _native::noise::noise;

mod common;
use common::{read, scan_windowed};

const MY_TYPES: [FileType; 6] = [
    FileType::Evtx,
    FileType::Regf,
    FileType::Lnk,
    FileType::Mbox,
    FileType::Eml,
    FileType::Html,
];

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------------
// EVTX, per the libevtx format description: 4096-byte file header, 64 KiB chunks.

const EVTX_CHUNK: usize = 65536;

/// One event record: `**\0\0`, size, record id, FILETIME, payload, size again.
fn evtx_record(id: u64, payload: &[u8]) -> Vec<u8> {
    let size = 4 + 4 + 8 + 8 + payload.len() + 4;
    let mut r = vec![0u8; size];
    put_u32(&mut r, 0, 0x0000_2A2A);
    put_u32(&mut r, 4, size as u32);
    put_u64(&mut r, 8, id);
    put_u64(&mut r, 16, 0x01D9_0000_0000_0000 + id);
    r[24..24 + payload.len()].copy_from_slice(payload);
    put_u32(&mut r, size - 4, size as u32);
    r
}

/// A chunk holding `records` records with ids from `first_id`.
fn evtx_chunk(first_id: u64, records: usize) -> Vec<u8> {
    let mut c = vec![0u8; EVTX_CHUNK];
    c[..8].copy_from_slice(b"ElfChnk\0");
    let mut at = 512;
    let mut last_at = 0;
    for k in 0..records {
        let id = first_id + k as u64;
        // BinXML-looking payloads of varying lengths (the walker does not parse them).
        let payload: Vec<u8> = (0..(40 + (k * 13) % 200))
            .map(|j| (j as u8) ^ (id as u8))
            .collect();
        let r = evtx_record(id, &payload);
        c[at..at + r.len()].copy_from_slice(&r);
        last_at = at;
        at += r.len();
    }
    let last_id = first_id + records.max(1) as u64 - 1;
    put_u64(&mut c, 8, first_id);
    put_u64(&mut c, 16, last_id);
    put_u64(&mut c, 24, first_id);
    put_u64(&mut c, 32, last_id);
    put_u32(&mut c, 40, 128);
    put_u32(&mut c, 44, last_at as u32);
    put_u32(&mut c, 48, at as u32);
    let records_crc = crc32fast::hash(&c[512..at]);
    put_u32(&mut c, 52, records_crc);
    let mut h = crc32fast::Hasher::new();
    h.update(&c[..120]);
    h.update(&c[128..512]);
    let header_crc = h.finalize();
    put_u32(&mut c, 124, header_crc);
    c
}

/// A whole EVTX file with `chunks` chunks of a few records each.
fn evtx_file(chunks: usize) -> Vec<u8> {
    let mut f = vec![0u8; 4096];
    f[..8].copy_from_slice(b"ElfFile\0");
    put_u64(&mut f, 8, 0);
    put_u64(&mut f, 16, chunks as u64 - 1);
    put_u32(&mut f, 32, 128);
    put_u16(&mut f, 36, 2);
    put_u16(&mut f, 38, 3);
    put_u16(&mut f, 40, 4096);
    put_u16(&mut f, 42, chunks as u16);
    let mut next_id = 1;
    for i in 0..chunks {
        let n = 5 + i * 7;
        f.extend_from_slice(&evtx_chunk(next_id, n));
        next_id += n as u64;
    }
    put_u64(&mut f, 24, next_id);
    let crc = crc32fast::hash(&f[..120]);
    put_u32(&mut f, 124, crc);
    f
}

// ---------------------------------------------------------------------------------
// Registry hive, per the Windows registry file format specification (msuhanov/regf).

/// The base block's XOR-32 checksum of its first 508 bytes.
fn regf_checksum(base: &[u8]) -> u32 {
    let mut x = 0u32;
    for i in 0..127 {
        x ^= u32::from_le_bytes(base[i * 4..i * 4 + 4].try_into().unwrap());
    }
    match x {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        x => x,
    }
}

/// A hive bin at `offset` of `size` bytes: header, then the given cells (size, bytes;
/// negative for allocated), the last one stretched to fill the bin.
fn regf_bin(offset: usize, size: usize, cells: &[(i32, &[u8])]) -> Vec<u8> {
    let mut b = vec![0u8; size];
    b[..4].copy_from_slice(b"hbin");
    put_u32(&mut b, 4, offset as u32);
    put_u32(&mut b, 8, size as u32);
    let mut at = 32;
    for (i, (cell_size, content)) in cells.iter().enumerate() {
        let len = if i + 1 == cells.len() {
            (size - at) as i32 * cell_size.signum()
        } else {
            *cell_size
        };
        put_u32(&mut b, at, len as u32);
        b[at + 4..at + 4 + content.len()].copy_from_slice(content);
        at += len.unsigned_abs() as usize;
    }
    assert_eq!(at, size, "cells fill the bin");
    b
}

/// A root key node's cell data: `nk`, flags (HIVE_ENTRY | NO_DELETE | COMP_NAME), name.
fn nk_root() -> Vec<u8> {
    let mut nk = vec![0u8; 76 + 4];
    nk[..2].copy_from_slice(b"nk");
    put_u16(&mut nk, 2, 0x2C);
    put_u32(&mut nk, 16, 0xFFFF_FFFF);
    put_u16(&mut nk, 72, 4);
    nk[76..80].copy_from_slice(b"ROOT");
    nk
}

fn regf_base(file_type: u32, bins_size: usize, root: u32) -> Vec<u8> {
    let mut base = vec![0u8; 4096];
    base[..4].copy_from_slice(b"regf");
    put_u32(&mut base, 4, 7);
    put_u32(&mut base, 8, 7);
    put_u64(&mut base, 12, 0x01DA_1234_5678_9ABC);
    put_u32(&mut base, 20, 1);
    put_u32(&mut base, 24, 5);
    put_u32(&mut base, 28, file_type);
    put_u32(&mut base, 32, 1);
    put_u32(&mut base, 36, root);
    put_u32(&mut base, 40, bins_size as u32);
    put_u32(&mut base, 44, 1);
    for (i, c) in "\\SystemRoot\\x.dat".encode_utf16().enumerate() {
        put_u16(&mut base, 48 + 2 * i, c);
    }
    let sum = regf_checksum(&base);
    put_u32(&mut base, 508, sum);
    base
}

/// A primary hive: a 4 KiB bin with the root key and a free cell, an 8 KiB bin of
/// values and a 4 KiB bin; 20 KiB in all.
fn regf_file() -> Vec<u8> {
    let root = nk_root();
    let value = b"vk\x04\x00\x04\x00\x00\x80\x01\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00Test";
    let bins = [
        regf_bin(0, 4096, &[(-88, &root), (-32, value), (1, b"")]),
        regf_bin(4096, 8192, &[(-32, value), (-48, b"some data"), (1, b"")]),
        regf_bin(12288, 4096, &[(-4064, b"\x01\x02\x03")]),
    ];
    let size: usize = bins.iter().map(Vec::len).sum();
    let mut f = regf_base(0, size, 0x20);
    for b in &bins {
        f.extend_from_slice(b);
    }
    f
}

/// A transaction log in the old format: the base block's first sector (file type 1),
/// the dirty vector for 12 KiB of bins data (24 pages) with 5 bits set, then 5 pages.
fn regf_old_log() -> Vec<u8> {
    let mut f = regf_base(1, 3 * 4096, 0x20)[..512].to_vec();
    f.extend_from_slice(b"DIRT");
    f.extend_from_slice(&[0b0000_0111, 0b0000_0000, 0b1000_0001]);
    f.resize(1024, 0);
    for p in 0..5u8 {
        f.extend(std::iter::repeat_n(p + 1, 512));
    }
    f
}

/// A transaction log in the new format: the base block's first sector (file type 6),
/// then log entries (`HvLE`) with sequence numbers from 7, each carrying one 4 KiB dirty
/// page; `bad_third` adds a third entry whose sequence number does not follow.
fn regf_new_log(entries: u32, bad_third: bool) -> (Vec<u8>, usize) {
    let mut f = regf_base(6, 3 * 4096, 0x20)[..512].to_vec();
    let entry_len = (40 + 8 + 4096usize).div_ceil(512) * 512;
    let add = |f: &mut Vec<u8>, seq: u32| {
        let mut e = vec![0u8; entry_len];
        e[..4].copy_from_slice(b"HvLE");
        put_u32(&mut e, 4, entry_len as u32);
        put_u32(&mut e, 8, 0);
        put_u32(&mut e, 12, seq);
        put_u32(&mut e, 16, 3 * 4096);
        put_u32(&mut e, 20, 1);
        put_u32(&mut e, 40, 4096);
        put_u32(&mut e, 44, 4096);
        e[48..52].copy_from_slice(b"hbin");
        f.extend_from_slice(&e);
    };
    for k in 0..entries {
        add(&mut f, 7 + k);
    }
    let valid = f.len();
    if bad_third {
        add(&mut f, 3);
    }
    // Preallocated space after the entries.
    f.resize(f.len() + 2048, 0);
    (f, valid)
}

// ---------------------------------------------------------------------------------
// Shell link, per MS-SHLLINK.

const LNK_CLSID: [u8; 16] = [
    0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
];

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Offsets of the structures inside the built link, for cutting and corrupting.
struct LnkLayout {
    id_list: usize,
    link_info: usize,
    strings: usize,
    tracker: usize,
    property_store: usize,
    terminal: usize,
}

fn lnk_file() -> (Vec<u8>, LnkLayout) {
    let mut f = vec![0u8; 76];
    put_u32(&mut f, 0, 0x4C);
    f[4..20].copy_from_slice(&LNK_CLSID);
    // HasLinkTargetIDList | HasLinkInfo | HasRelativePath | HasWorkingDir | IsUnicode
    put_u32(&mut f, 20, 0x01 | 0x02 | 0x08 | 0x10 | 0x80);
    put_u32(&mut f, 24, 0x20);
    put_u64(&mut f, 28, 0x01D9_0000_0000_0001);
    put_u64(&mut f, 36, 0x01D9_0000_0000_0002);
    put_u64(&mut f, 44, 0x01D9_0000_0000_0003);
    put_u32(&mut f, 52, 1234);
    put_u32(&mut f, 60, 1);

    // LinkTargetIDList: two items and the TerminalID.
    let id_list = f.len();
    let items: [&[u8]; 2] = [
        b"\x1F\x50\xE0\x4F\xD0\x20\xEA\x3A\x69\x10\xA2\xD8\x08\x00\x2B\x30\x30\x9D",
        b"\x2F\x43:\\\0",
    ];
    let list_size: usize = items.iter().map(|i| i.len() + 2).sum::<usize>() + 2;
    f.extend_from_slice(&(list_size as u16).to_le_bytes());
    for item in items {
        f.extend_from_slice(&((item.len() + 2) as u16).to_le_bytes());
        f.extend_from_slice(item);
    }
    f.extend_from_slice(&[0, 0]);

    // LinkInfo: header 0x1C, VolumeID and LocalBasePath, CommonPathSuffix.
    let link_info = f.len();
    let mut volume = vec![0u8; 0x10];
    volume.extend_from_slice(b"DATA\0");
    let volume_len = volume.len() as u32;
    put_u32(&mut volume, 0, volume_len);
    put_u32(&mut volume, 4, 3); // DRIVE_FIXED
    put_u32(&mut volume, 8, 0x1234_ABCD);
    put_u32(&mut volume, 12, 0x10);
    let local = b"C:\\test\\a.txt\0";
    let mut info = vec![0u8; 0x1C];
    let volume_at = info.len();
    info.extend_from_slice(&volume);
    let local_at = info.len();
    info.extend_from_slice(local);
    let suffix_at = info.len();
    info.push(0);
    let info_len = info.len() as u32;
    put_u32(&mut info, 0, info_len);
    put_u32(&mut info, 4, 0x1C);
    put_u32(&mut info, 8, 1);
    put_u32(&mut info, 12, volume_at as u32);
    put_u32(&mut info, 16, local_at as u32);
    put_u32(&mut info, 20, 0);
    put_u32(&mut info, 24, suffix_at as u32);
    f.extend_from_slice(&info);

    // StringData: RELATIVE_PATH and WORKING_DIR in UTF-16.
    let strings = f.len();
    for s in ["..\\..\\test\\a.txt", "C:\\test"] {
        f.extend_from_slice(&(s.encode_utf16().count() as u16).to_le_bytes());
        f.extend_from_slice(&utf16(s));
    }

    // ExtraData: TrackerDataBlock, PropertyStoreDataBlock, terminal block.
    let tracker = f.len();
    let mut t = vec![0u8; 0x60];
    put_u32(&mut t, 0, 0x60);
    put_u32(&mut t, 4, 0xA000_0003);
    put_u32(&mut t, 8, 0x58);
    put_u32(&mut t, 12, 0);
    t[16..24].copy_from_slice(b"desktop1");
    for (i, b) in t[32..96].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37);
    }
    f.extend_from_slice(&t);

    let property_store = f.len();
    let mut storage = Vec::new();
    storage.extend_from_slice(&0u32.to_le_bytes()); // size, set below
    storage.extend_from_slice(&0x5350_5331u32.to_le_bytes()); // "1SPS"
    storage.extend_from_slice(&[0x11; 16]); // FormatID
                                            // One integer-named value: size, id, reserved, then a VT_UI4 typed value.
    storage.extend_from_slice(&17u32.to_le_bytes());
    storage.extend_from_slice(&4u32.to_le_bytes());
    storage.push(0);
    storage.extend_from_slice(&[0x13, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x00, 0x00]);
    storage.extend_from_slice(&0u32.to_le_bytes()); // end of values
    let storage_len = storage.len() as u32;
    put_u32(&mut storage, 0, storage_len);
    let block_len = 8 + storage.len() + 4;
    f.extend_from_slice(&(block_len as u32).to_le_bytes());
    f.extend_from_slice(&0xA000_0009u32.to_le_bytes());
    f.extend_from_slice(&storage);
    f.extend_from_slice(&0u32.to_le_bytes()); // end of storages

    let terminal = f.len();
    f.extend_from_slice(&0u32.to_le_bytes());
    let layout = LnkLayout {
        id_list,
        link_info,
        strings,
        tracker,
        property_store,
        terminal,
    };
    (f, layout)
}

// ---------------------------------------------------------------------------------
// Mail.

fn eml_message() -> Vec<u8> {
    concat!(
        "Return-Path: <alice@example.org>\r\n",
        "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n",
        "\tby mail.example.net with ESMTPS id 42\r\n",
        "\tfor <bob@example.net>; Tue, 2 Jan 2024 10:00:00 +0000\r\n",
        "Received: from [10.0.0.5] by mx.example.org; Tue, 2 Jan 2024 09:59:58 +0000\r\n",
        "From: Alice <alice@example.org>\r\n",
        "To: Bob <bob@example.net>\r\n",
        "Subject: =?UTF-8?Q?R=C3=A9union?= notes\r\n",
        "Date: Tue, 2 Jan 2024 09:59:57 +0000\r\n",
        "Message-ID: <20240102095957.1234@example.org>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative;\r\n",
        "\tboundary=\"=_b0undary_42\"\r\n",
        "\r\n",
        "This is a multi-part message in MIME format.\r\n",
        "\r\n",
        "--=_b0undary_42\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "\r\n",
        "Réunion à 10h, café ☕ offert.\r\n",
        "\r\n",
        "--=_b0undary_42\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "\r\n",
        "<p>R&eacute;union</p>\r\n",
        "\r\n",
        "--=_b0undary_42--\r\n",
    )
    .as_bytes()
    .to_vec()
}

/// Three messages in mboxo form, the last one multipart with its closing boundary.
fn mbox_file() -> Vec<u8> {
    concat!(
        "From alice@example.org Tue Jan  2 09:59:57 2024\n",
        "Return-Path: <alice@example.org>\n",
        "From: Alice <alice@example.org>\n",
        "To: bob@example.net\n",
        "Subject: first\n",
        "Date: Tue, 2 Jan 2024 09:59:57 +0000\n",
        "Message-ID: <1@example.org>\n",
        "\n",
        "Hello Bob,\n",
        ">From the notes: nothing new.\n",
        "\n",
        "From MAILER-DAEMON Wed Jan  3 11:00:00 2024\n",
        "From: Mail Delivery System <MAILER-DAEMON@example.net>\n",
        "Subject: Undelivered Mail Returned to Sender\n",
        "Date: Wed, 3 Jan 2024 11:00:00 +0000\n",
        "\n",
        "From here on the body says nothing of interest.\n",
        "\n",
        "From carol@example.com Thu Jan  4 12:30:01 2024\n",
        "From: carol@example.com\n",
        "Subject: attachment\n",
        "Date: Thu, 4 Jan 2024 12:30:01 +0000\n",
        "MIME-Version: 1.0\n",
        "Content-Type: multipart/mixed; boundary=XyZ\n",
        "\n",
        "--XyZ\n",
        "Content-Type: text/plain\n",
        "\n",
        "see attached\n",
        "--XyZ\n",
        "Content-Type: application/octet-stream\n",
        "Content-Transfer-Encoding: base64\n",
        "\n",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "--XyZ--\n",
        "\n",
    )
    .as_bytes()
    .to_vec()
}

// ---------------------------------------------------------------------------------
// Scanning helpers.

fn carver() -> Carver {
    let mut c = Carver::new();
    c.only(&MY_TYPES);
    c
}

/// (offset, kind, outcome) of every non-invalid candidate of `data` scanned whole.
fn scan_whole(data: &[u8]) -> Vec<(usize, FileType, Probe)> {
    carver()
        .scan(data, 0, data.len(), true)
        .into_iter()
        .map(|h| (h.offset as usize, h.kind, h.outcome))
        .collect()
}

fn found_at(data: &[u8], at: usize, kind: FileType) -> Option<Found> {
    scan_whole(data)
        .into_iter()
        .find(|h| h.0 == at && h.1 == kind)
        .and_then(|h| h.2.found().copied())
}

/// What a mail file is planted after: a blank line. The scanner looks back from a
/// candidate and drops one that sits inside a line of text or under another header line
/// (the 2nd..nth header line of one message); after random bytes, which may end in
/// printable characters, a start is not certain, so the fixtures begin on a fresh line.
fn lead(file: &[u8]) -> &'static [u8] {
    let text_mail = file.starts_with(b"From ") || file.starts_with(b"Return-Path:");
    if text_mail {
        b"\n\n"
    } else {
        b""
    }
}

/// Copy `file` into `image` at `offset`, its lead just before.
fn plant(image: &mut [u8], offset: usize, file: &[u8]) {
    let l = lead(file);
    image[offset - l.len()..offset].copy_from_slice(l);
    image[offset..offset + file.len()].copy_from_slice(file);
}

/// `file` at `offset` in noise, followed by more noise.
fn planted(file: &[u8], offset: usize, seed: u64) -> Vec<u8> {
    let mut image = noise(offset + file.len() + 3000, seed);
    plant(&mut image, offset, file);
    image
}

struct Plant {
    offset: usize,
    len: usize,
    kind: FileType,
    name: String,
}

/// HTML samples that close their document (`</html>`, or an XHTML root written as an
/// empty element), with the offset of the first signature in each.
fn closed_html_samples() -> Vec<(String, Vec<u8>)> {
    [
        "iso-html.html",
        "xhtml-1.0-frameset.html",
        "xhtml-1.0-strict.xhtml",
        "xhtml-1.1.xhtml",
        "xhtml-basic-1.0.xhtml",
        "xhtml-basic-1.1.xhtml",
        "xhtml5.xhtml",
    ]
    .into_iter()
    .map(|n| (n.to_string(), read(&format!("small/{n}"))))
    .collect()
}

/// Noise with every fixture planted at a growing, deliberately unaligned offset.
fn planted_image() -> (Vec<u8>, Vec<Plant>) {
    let mut files: Vec<(FileType, String, Vec<u8>)> = vec![
        (FileType::Evtx, "evtx".into(), evtx_file(3)),
        (FileType::Regf, "hive".into(), regf_file()),
        (FileType::Regf, "hive log".into(), regf_old_log()),
        (FileType::Lnk, "lnk".into(), lnk_file().0),
        (FileType::Mbox, "mbox".into(), mbox_file()),
        (FileType::Eml, "eml".into(), eml_message()),
    ];
    for (name, bytes) in closed_html_samples() {
        files.push((FileType::Html, name, bytes));
    }
    let mut image = noise(1 << 20, 21);
    let mut planted = Vec::new();
    let mut cursor = 777;
    for (i, (kind, name, bytes)) in files.into_iter().enumerate() {
        let offset = cursor + (i * 41) % 509;
        if image.len() < offset + bytes.len() + 4096 {
            image.resize(offset + bytes.len() + 4096, 0xA5);
        }
        plant(&mut image, offset, &bytes);
        planted.push(Plant {
            offset,
            len: bytes.len(),
            kind,
            name,
        });
        cursor = offset + bytes.len() + 1733;
    }
    (image, planted)
}

// ---------------------------------------------------------------------------------
// Whole files.

#[test]
fn every_planted_file_is_found_once_whole_at_any_window_size() {
    let (image, planted) = planted_image();
    let carver = carver();
    for (window, overlap) in [
        (image.len(), 0),
        (4096, 0),
        (4096, 512),
        (1000, 16),
        (1 << 16, 8),
        (1 << 18, 1 << 12),
    ] {
        let found = scan_windowed(&carver, &image, window, overlap);
        for p in &planted {
            let hits: Vec<_> = found.iter().filter(|f| f.0 == p.offset).collect();
            assert_eq!(
                hits.len(),
                1,
                "window {window}: {} at {} found {hits:?}",
                p.name,
                p.offset
            );
            let (_, kind, f) = hits[0];
            assert_eq!(
                (*kind, f.len, f.status),
                (p.kind, p.len, Status::Complete),
                "window {window}: {}",
                p.name
            );
        }
        // Anything else must lie inside a planted file (a later header line of the
        // e-mail, the `<html` tag after a DOCTYPE): nested, never in the noise.
        for (at, kind, f) in &found {
            if planted.iter().any(|p| p.offset == *at) {
                continue;
            }
            let parent = planted
                .iter()
                .find(|p| p.offset < *at && *at + f.len <= p.offset + p.len);
            assert!(parent.is_some(), "window {window}: stray {kind:?} at {at}: {f:?}");
        }
    }
}

#[test]
fn subtypes_and_confidence_follow_the_structure() {
    let log = regf_old_log();
    let f = found_at(&planted(&log, 333, 5), 333, FileType::Regf).expect("log");
    assert_eq!(
        (f.len, f.status, f.subtype),
        (log.len(), Status::Complete, Some("log"))
    );
    let hive = regf_file();
    let f = found_at(&planted(&hive, 333, 5), 333, FileType::Regf).expect("hive");
    assert_eq!((f.len, f.subtype), (hive.len(), None));
    assert!(f.confidence >= 80);
    let evtx = evtx_file(2);
    let f = found_at(&planted(&evtx, 1001, 6), 1001, FileType::Evtx).expect("evtx");
    assert_eq!((f.len, f.status), (4096 + 2 * EVTX_CHUNK, Status::Complete));
    assert!(f.confidence >= 90, "{f:?}");
    let text = found_at(&planted(&eml_message(), 99, 7), 99, FileType::Eml).expect("eml");
    assert!((40..=70).contains(&text.confidence), "{text:?}");
}

#[test]
fn new_format_hive_logs_end_after_their_run_of_entries() {
    for (entries, bad_third, seed) in [(2u32, false, 31u64), (2, true, 32), (0, false, 33)] {
        let (log, valid) = regf_new_log(entries, bad_third);
        let f = found_at(&planted(&log, 901, seed), 901, FileType::Regf).expect("log");
        assert_eq!(
            (f.len, f.status, f.subtype),
            (valid, Status::Complete, Some("log")),
            "{entries} entries"
        );
    }
}

#[test]
fn evtx_with_a_header_chunk_count_of_zero_is_the_header_block_alone() {
    let mut f = evtx_file(1);
    put_u16(&mut f, 42, 0);
    let crc = crc32fast::hash(&f[..120]);
    put_u32(&mut f, 124, crc);
    let image = planted(&f, 517, 8);
    let got = found_at(&image, 517, FileType::Evtx).expect("evtx");
    assert_eq!((got.len, got.status), (4096, Status::Complete));
}

// ---------------------------------------------------------------------------------
// Cut copies: a valid beginning, then noise.

/// Plant `file[..cut]` at an odd offset followed by noise; the carve there.
fn cut_carve(file: &[u8], cut: usize, kind: FileType, seed: u64) -> Option<Found> {
    let at = 1234;
    let mut image = noise(at + file.len() + 70_000, seed);
    plant(&mut image, at, &file[..cut]);
    found_at(&image, at, kind)
}

fn assert_truncated(f: Option<Found>, cut: usize, what: &str) -> Found {
    let f = f.unwrap_or_else(|| panic!("{what}: not carved"));
    assert_eq!(f.status, Status::Truncated, "{what}: {f:?}");
    assert!(f.len <= cut, "{what}: length {} past the cut {cut}", f.len);
    f
}

#[test]
fn evtx_cut_at_a_chunk_boundary_is_truncated_with_the_missing_bytes() {
    let evtx = evtx_file(3);
    for (chunks, seed) in [(2usize, 1u64), (1, 2), (0, 3)] {
        let cut = 4096 + chunks * EVTX_CHUNK;
        let f = assert_truncated(cut_carve(&evtx, cut, FileType::Evtx, seed), cut, "evtx");
        assert_eq!(f.len, cut);
        assert_eq!(f.missing, Some((evtx.len() - cut) as u64));
    }
}

#[test]
fn evtx_cut_inside_a_chunk_is_truncated_before_the_cut() {
    let evtx = evtx_file(3);
    let last = 4096 + 2 * EVTX_CHUNK;
    for (cut, seed) in [
        (last + 700, 4u64),
        (last + 2000, 5),
        (4096 + EVTX_CHUNK + 900, 6),
        (300, 7),
        (4096 + 100, 8),
    ] {
        let f = assert_truncated(cut_carve(&evtx, cut, FileType::Evtx, seed), cut, "evtx");
        assert!(f.missing.is_some_and(|m| m >= (evtx.len() - cut) as u64), "{f:?}");
    }
}

#[test]
fn evtx_at_the_image_end_is_truncated_to_its_whole_records() {
    let evtx = evtx_file(2);
    let cut = 4096 + EVTX_CHUNK + 1500;
    let mut image = noise(300, 9);
    image.extend_from_slice(&evtx[..cut]);
    let f = assert_truncated(found_at(&image, 300, FileType::Evtx), cut, "evtx at end");
    assert!(
        f.len > 4096 + EVTX_CHUNK + 512,
        "whole records of the cut chunk kept: {f:?}"
    );
}

#[test]
fn hive_cut_at_a_bin_boundary_is_truncated_with_the_missing_bytes() {
    let hive = regf_file();
    for (cut, seed) in [(4096 + 4096, 11u64), (4096 + 12288, 12), (4096, 13)] {
        let f = assert_truncated(cut_carve(&hive, cut, FileType::Regf, seed), cut, "hive");
        assert_eq!((f.len, f.missing), (cut, Some((hive.len() - cut) as u64)));
    }
}

#[test]
fn hive_cut_inside_a_bin_is_truncated_before_the_cut() {
    let hive = regf_file();
    // Inside a cell of the second bin, inside bin headers, inside the base block's
    // reserved area. (A cut inside the content of a bin's last cell, often one large free
    // cell whose bytes mean nothing, cannot be located: the next bin header is where it
    // shows.)
    for (cut, seed) in [
        (4096 + 4096 + 100, 14u64),
        (4096 + 12288 + 6, 15),
        (4096 + 16, 16),
        (600, 17),
    ] {
        assert_truncated(cut_carve(&hive, cut, FileType::Regf, seed), cut, "hive");
    }
}

#[test]
fn lnk_cut_inside_a_checked_structure_is_truncated_before_the_cut() {
    let (lnk, l) = lnk_file();
    let cuts = [
        l.id_list + 5,
        l.link_info + 10,
        l.link_info + 0x1C + 3,
        l.tracker + 2,
        l.tracker + 20,
        l.property_store + 9,
        l.property_store + 30,
        l.terminal + 2,
    ];
    for (i, cut) in cuts.into_iter().enumerate() {
        assert_truncated(
            cut_carve(&lnk, cut, FileType::Lnk, 20 + i as u64),
            cut,
            &format!("lnk cut {cut}"),
        );
    }
    // A cut inside the free-form strings is seen only where ExtraData breaks: the
    // carve then stops where the unchecked strings begin.
    for (i, cut) in [l.strings + 7, l.tracker - 3].into_iter().enumerate() {
        let f = assert_truncated(
            cut_carve(&lnk, cut, FileType::Lnk, 40 + i as u64),
            cut,
            "lnk strings",
        );
        assert_eq!(f.len, l.strings);
    }
}

#[test]
fn text_cut_short_is_never_complete_when_its_structure_says_so() {
    // A multipart message whose closing boundary is gone.
    let eml = eml_message();
    let close = eml
        .windows(18)
        .rposition(|w| w == b"--=_b0undary_42--\r")
        .expect("closing");
    let f = assert_truncated(cut_carve(&eml, close, FileType::Eml, 50), close, "eml");
    assert!(f.len <= close);
    let mbox = mbox_file();
    let close = mbox.windows(7).rposition(|w| w == b"--XyZ--").expect("closing");
    assert_truncated(cut_carve(&mbox, close, FileType::Mbox, 51), close, "mbox");
    // HTML without its closing tag: truncated when a body tag was seen, never complete.
    let html = read("small/iso-html.html");
    let cut = html.len() - 4;
    assert_truncated(cut_carve(&html, cut, FileType::Html, 52), cut, "html");
}

// ---------------------------------------------------------------------------------
// Corrupted copies.

fn flipped(file: &[u8], at: usize) -> Vec<u8> {
    let mut f = file.to_vec();
    f[at] ^= 0x5A;
    f
}

fn damaged_carve(file: &[u8], kind: FileType, seed: u64) -> Found {
    let at = 4321;
    let f = found_at(&planted(file, at, seed), at, kind).expect("carved");
    assert_ne!(f.status, Status::Complete, "{f:?}");
    f
}

#[test]
fn evtx_with_a_bad_crc_is_damaged_at_full_length() {
    let evtx = evtx_file(3);
    // A record payload byte in the middle chunk (records CRC), a chunk header field
    // (chunk header CRC), the file header's next record id (file header CRC).
    let record_byte = 4096 + EVTX_CHUNK + 512 + 30;
    for (at, seed) in [
        (record_byte, 61u64),
        (4096 + EVTX_CHUNK + 20, 62),
        (24, 63),
        (4096 + 2 * EVTX_CHUNK + 600, 64),
    ] {
        let f = damaged_carve(&flipped(&evtx, at), FileType::Evtx, seed);
        assert_eq!((f.status, f.len), (Status::Damaged, evtx.len()), "flip at {at}");
    }
}

#[test]
fn hive_with_a_bad_checksum_or_cells_is_damaged() {
    let hive = regf_file();
    // The last written timestamp (checksum), a cell size in the first bin.
    for (at, seed) in [(14usize, 71u64), (4096 + 32 + 88, 72)] {
        let f = damaged_carve(&flipped(&hive, at), FileType::Regf, seed);
        assert_eq!((f.status, f.len), (Status::Damaged, hive.len()), "flip at {at}");
    }
    // The root cell no longer a key node.
    let f = damaged_carve(&flipped(&hive, 4096 + 32 + 4), FileType::Regf, 73);
    assert_eq!(f.status, Status::Damaged);
}

#[test]
fn hive_whose_base_block_fails_with_no_bins_is_not_carved() {
    let hive = flipped(&regf_file(), 14);
    let mut image = noise(20_000, 74);
    image[500..500 + 4096].copy_from_slice(&hive[..4096]);
    assert_eq!(found_at(&image, 500, FileType::Regf), None);
}

#[test]
fn lnk_with_inconsistent_inner_sizes_is_damaged() {
    let (lnk, l) = lnk_file();
    // The tracker's inner length, the LinkInfo header size, an ID list item size.
    for (at, seed) in [(l.tracker + 8, 81u64), (l.link_info + 4, 82), (l.id_list + 2, 83)] {
        let f = damaged_carve(&flipped(&lnk, at), FileType::Lnk, seed);
        assert_eq!((f.status, f.len), (Status::Damaged, lnk.len()), "flip at {at}");
    }
    // Reserved header fields set: not a link.
    let image = planted(&flipped(&lnk, 70), 100, 84);
    assert_eq!(found_at(&image, 100, FileType::Lnk), None);
}

// ---------------------------------------------------------------------------------
// Text specifics.

#[test]
fn html_samples_without_a_closing_tag_are_never_complete() {
    for name in [
        "html-2.0.html",
        "html-3.2.html",
        "html-4.0-strict.html",
        "html-4.01-frameset.html",
        "html-4.01-strict.html",
        "html-4.01-transitional.html",
        "html5.html",
    ] {
        let html = read(&format!("small/{name}"));
        // Followed by noise: the end is unknown.
        for (at, kind, outcome) in scan_whole(&planted(&html, 211, 90)) {
            assert!(
                outcome.found().is_none_or(|f| f.status != Status::Complete),
                "{name}: {kind:?} at {at}"
            );
        }
        // Followed by zeroed slack: truncated exactly at the end of the text when the
        // document showed a body tag, not carved otherwise.
        let mut image = vec![0u8; 211];
        image.extend_from_slice(&html);
        image.resize(image.len() + 600, 0);
        let got = found_at(&image, 211, FileType::Html);
        let has_tag = ["<title", "<frameset", "<p"]
            .iter()
            .any(|t| html.windows(t.len()).any(|w| w == t.as_bytes()));
        match got {
            Some(f) => {
                assert!(has_tag, "{name}: {f:?}");
                assert_eq!((f.len, f.status), (html.len(), Status::Truncated), "{name}");
            }
            None => assert!(!html.windows(6).any(|w| w == b"<title"), "{name} not carved"),
        }
    }
}

#[test]
fn html_and_mail_followed_by_a_nul_keep_their_last_line() {
    let mut eml = eml_message();
    eml.extend_from_slice(b"trailing words without a newline");
    let mut image = noise(700, 91);
    image.extend_from_slice(lead(&eml));
    let at = image.len();
    image.extend_from_slice(&eml);
    image.extend_from_slice(&[0; 100]);
    let f = found_at(&image, at, FileType::Eml).expect("eml");
    assert_eq!((f.len, f.status), (eml.len(), Status::Complete));
}

#[test]
fn a_message_inside_an_mbox_is_carved_as_an_eml_ending_at_the_next_message() {
    let mbox = mbox_file();
    let image = planted(&mbox, 3001, 92);
    let hits = scan_whole(&image);
    let mbox_hit = hits
        .iter()
        .find(|h| h.0 == 3001 && h.1 == FileType::Mbox)
        .expect("mbox");
    assert_eq!(
        mbox_hit.2.found().map(|f| (f.len, f.status)),
        Some((mbox.len(), Status::Complete))
    );
    // The first message's Return-Path line starts an EML that ends where the second
    // message's From line begins.
    let find = |pat: &[u8]| mbox.windows(pat.len()).position(|w| w == pat);
    let rp = 3001 + find(b"Return-Path:").expect("Return-Path");
    let second = 3001 + find(b"From MAILER-DAEMON").expect("second");
    let eml = hits
        .iter()
        .find(|h| h.0 == rp && h.1 == FileType::Eml)
        .expect("eml in mbox");
    assert_eq!(
        eml.2.found().map(|f| (f.len, f.status)),
        Some((second - rp, Status::Complete))
    );
    // Later messages' From lines are mbox candidates nested in the first.
    for h in hits.iter().filter(|h| h.1 == FileType::Mbox) {
        let f = h.2.found().expect("found");
        assert!(h.0 + f.len <= 3001 + mbox.len());
    }
}

#[test]
fn prose_that_mentions_a_header_or_a_from_is_not_mail() {
    let texts: [&[u8]; 5] = [
        b"From the beginning, we said so.\nAnd more text follows here.\n\n",
        b"From alice@example.org yesterday\nSubject: hi\nFrom: a\n\nbody\n",
        b"Received: your parcel\nThanks for the order.\n\nBye\n",
        b"Message-ID: <x@y>\nno colon line here\n\n",
        b"MIME-Version: 1.0\nX-Other: 1\n\nno From, Date or Subject above\n",
    ];
    for t in texts {
        let image = planted(t, 64, 93);
        let hits = scan_whole(&image);
        assert!(
            hits.iter().all(|h| h.0 != 64),
            "{:?}: {hits:?}",
            String::from_utf8_lossy(t)
        );
    }
}

// ---------------------------------------------------------------------------------
// Random bytes.

#[test]
fn noise_alone_carves_none_of_these_types() {
    let data = noise(16 << 20, 0xDEAD_BEEF);
    let hits = scan_whole(&data);
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn signatures_planted_in_noise_are_never_carved_complete() {
    let mut data = noise(4 << 20, 0x5EED);
    let sigs: Vec<&[u8]> = MY_TYPES
        .iter()
        .flat_map(|t| t.signatures().map(|s| s.bytes))
        .collect();
    let mut at = 17;
    let mut planted = 0;
    for (i, s) in sigs.iter().cycle().enumerate() {
        if at + s.len() + 1000 > data.len() {
            break;
        }
        data[at..at + s.len()].copy_from_slice(s);
        planted += 1;
        at += 613 + (i * 97) % 1021;
    }
    assert!(planted > 3000);
    let carver = carver();
    for (window, overlap) in [(data.len(), 0), (1 << 16, 64)] {
        let found = scan_windowed(&carver, &data, window, overlap);
        let complete: Vec<_> = found.iter().filter(|f| f.2.status == Status::Complete).collect();
        assert!(complete.is_empty(), "{complete:?}");
        let binary: Vec<_> = found
            .iter()
            .filter(|f| matches!(f.1, FileType::Evtx | FileType::Regf | FileType::Lnk))
            .collect();
        assert!(binary.is_empty(), "{binary:?}");
        // Text candidates followed by random bytes: at most a rare truncated guess.
        assert!(found.len() * 200 < planted, "{} carves of {planted}", found.len());
    }
}

// ---------------------------------------------------------------------------------
// Robustness: windows give the same answer; no input panics.

fn fixtures() -> Vec<(FileType, Vec<u8>)> {
    let mut v = vec![
        (FileType::Evtx, evtx_file(2)),
        (FileType::Regf, regf_file()),
        (FileType::Regf, regf_old_log()),
        (FileType::Lnk, lnk_file().0),
        (FileType::Mbox, mbox_file()),
        (FileType::Eml, eml_message()),
    ];
    for (_, h) in closed_html_samples() {
        v.push((FileType::Html, h));
    }
    v
}

#[test]
fn a_shorter_window_answers_need_more_or_the_same_as_the_whole() {
    let carver = carver();
    for (i, (kind, file)) in fixtures().into_iter().enumerate() {
        let mut data = file.clone();
        data.extend_from_slice(&noise(5000, 100 + i as u64));
        let whole = carver.carve_at(&data, kind, true);
        assert!(whole
            .found()
            .is_some_and(|f| f.status == Status::Complete && f.len == file.len()));
        let step = (file.len() / 300).max(1);
        // From the first length that holds the signature (the carver checks it).
        for k in (20..data.len()).step_by(step) {
            let part = carver.carve_at(&data[..k], kind, false);
            assert!(
                part == Probe::NeedMore || part == whole,
                "{kind:?} window {k} of {}: {part:?} vs {whole:?}",
                data.len()
            );
            // At the image's end there is always an answer.
            assert_ne!(carver.carve_at(&data[..k], kind, true), Probe::NeedMore);
        }
    }
}

#[test]
fn a_cap_below_the_file_gives_up_or_truncates_without_asking_for_more() {
    for (kind, file) in fixtures() {
        for cap in [16usize, 100, 700, 5000, 70_000] {
            let mut carver = carver();
            carver.set_max_len(kind, cap);
            let mut data = file.clone();
            data.extend_from_slice(&noise(200_000, 7));
            let got = carver.carve_at(&data[..cap.min(data.len())], kind, false);
            assert_ne!(got, Probe::NeedMore, "{kind:?} cap {cap}");
            if let Some(f) = got.found() {
                assert!(f.len <= cap, "{kind:?} cap {cap}: {f:?}");
                if cap < file.len() {
                    assert_ne!(f.status, Status::Complete, "{kind:?} cap {cap}: {f:?}");
                }
            }
        }
    }
}

#[test]
fn mangled_fixtures_never_panic_and_stay_inside_the_data() {
    let carver = carver();
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (kind, file) in fixtures() {
        for round in 0..300 {
            let mut f = file.clone();
            let flips = 1 + (next() % 8) as usize;
            for _ in 0..flips {
                let at = (next() as usize) % f.len();
                f[at] = next() as u8;
            }
            if round % 3 == 0 {
                let keep = (next() as usize) % f.len();
                f.truncate(keep.max(1));
            }
            for at_eof in [true, false] {
                if let Some(found) = carver.carve_at(&f, kind, at_eof).found() {
                    assert!(found.len <= f.len(), "{kind:?}: {found:?} of {}", f.len());
                }
            }
        }
    }
}

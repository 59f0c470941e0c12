//! The archive and document walkers (ZIP, gzip, 7z, RAR, PDF, OLE2) against files whose
//! extent is known without them: the published samples in shared/testdata/small (their
//! own byte length), archives written by Python's zipfile/gzip/zlib at test time, and
//! files assembled here byte by byte per each format's specification (the expected
//! length is the length built). Each is planted at an odd offset in pseudo-random bytes
//! and must come back once, whole, at any window size; cut, overwritten and corrupted
//! copies must never come back Complete; random bytes, with or without the signatures
//! planted in them, must yield no file of these types.

use _native::carve::{Carver, FileType, Found, Status};
use _native::noise::noise;
use std::process::Command;

mod common;
use common::read;

const OURS: [FileType; 6] = [
    FileType::Zip,
    FileType::Gzip,
    FileType::SevenZip,
    FileType::Rar,
    FileType::Pdf,
    FileType::Ole,
];

/// Bytes a Python 3 script writes to stdout (the standard library only).
fn python(script: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3 runs (the tests need it)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn le16(v: usize) -> [u8; 2] {
    (v as u16).to_le_bytes()
}

fn le32(v: usize) -> [u8; 4] {
    (v as u32).to_le_bytes()
}

fn crc(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

// ---------------------------------------------------------------- scanning helpers

/// Every carve of our types in `image` scanned as one window ending at the image's end.
fn carves(image: &[u8]) -> Vec<(usize, FileType, Found)> {
    let mut carver = Carver::new();
    carver.only(&OURS);
    carver
        .scan(image, 0, image.len(), true)
        .into_iter()
        .filter_map(|h| h.outcome.found().map(|f| (h.offset as usize, h.kind, *f)))
        .collect()
}

fn carves_of(image: &[u8], kind: FileType) -> Vec<(usize, Found)> {
    carves(image)
        .into_iter()
        .filter(|c| c.1 == kind)
        .map(|c| (c.0, c.2))
        .collect()
}

struct Planted {
    name: String,
    offset: usize,
    len: usize,
    kind: FileType,
    subtype: Option<&'static str>,
}

/// Noise with every file planted at a growing, deliberately unaligned offset.
fn plant(
    files: Vec<(String, FileType, Option<&'static str>, Vec<u8>)>,
    seed: u64,
) -> (Vec<u8>, Vec<Planted>) {
    let mut image = noise(1 << 16, seed);
    let mut planted = Vec::new();
    let mut cursor = 777;
    for (i, (name, kind, subtype, bytes)) in files.into_iter().enumerate() {
        let offset = cursor + (i * 53) % 509 + 1;
        let need = offset + bytes.len() + 3000;
        if image.len() < need {
            let more = noise(need - image.len(), seed + 1000 + i as u64);
            image.extend_from_slice(&more);
        }
        image[offset..offset + bytes.len()].copy_from_slice(&bytes);
        planted.push(Planted {
            name,
            offset,
            len: bytes.len(),
            kind,
            subtype,
        });
        cursor = offset + bytes.len() + 1500;
    }
    (image, planted)
}

/// Every planted file found once, whole, Complete, with its subtype, at every window
/// size; and no other Complete carve of our types except those in `allowed_extra`.
fn assert_found_whole(image: &[u8], planted: &[Planted], allowed_extra: &[(usize, FileType)]) {
    for (window, overlap) in [(image.len(), 0), (1 << 16, 8), (4096, 0), (4096, 64), (1000, 16)] {
        let found = scan_windowed(image, window, overlap);
        for p in planted {
            let hits: Vec<_> = found
                .iter()
                .filter(|f| f.0 == p.offset && f.1 == p.kind)
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "window {window}: {} at {} found {} times",
                p.name,
                p.offset,
                hits.len()
            );
            let f = hits[0].2;
            assert_eq!(
                (f.len, f.status, f.subtype),
                (p.len, Status::Complete, p.subtype),
                "window {window}: {} at {}",
                p.name,
                p.offset
            );
        }
        let extra: Vec<_> = found
            .iter()
            .filter(|f| f.2.status == Status::Complete)
            .filter(|f| !planted.iter().any(|p| p.offset == f.0 && p.kind == f.1))
            .filter(|f| !allowed_extra.contains(&(f.0, f.1)))
            .collect();
        assert!(
            extra.is_empty(),
            "window {window}: unexpected complete carves {extra:?}"
        );
    }
}

/// `file` cut to `cut` bytes with noise after it, at offset 4321 of a 256 KiB image.
fn cut_in_noise(file: &[u8], cut: usize, seed: u64) -> (Vec<u8>, usize) {
    let at = 4321;
    let mut image = noise((at + file.len() + (256 << 10)).max(256 << 10), seed);
    image[at..at + cut].copy_from_slice(&file[..cut]);
    (image, at)
}

/// The carve at `at` of a cut copy: Truncated, no longer than the cut.
fn assert_truncated_within(image: &[u8], at: usize, kind: FileType, cut: usize, what: &str) -> Found {
    let all = carves_of(image, kind);
    let hit = all
        .iter()
        .find(|c| c.0 == at)
        .unwrap_or_else(|| panic!("{what}: nothing carved at {at}: {all:?}"));
    assert_eq!(hit.1.status, Status::Truncated, "{what}: {:?}", hit.1);
    assert!(
        hit.1.len <= cut,
        "{what}: carved {} bytes of a copy cut at {cut}",
        hit.1.len
    );
    assert!(
        all.iter().all(|c| c.1.status != Status::Complete),
        "{what}: complete carve in a cut copy: {all:?}"
    );
    hit.1
}

/// Never Complete at `at`; when something is carved there, it is Damaged or Truncated.
fn assert_not_complete(image: &[u8], at: usize, kind: FileType, what: &str) -> Option<Found> {
    let hit = carves_of(image, kind)
        .into_iter()
        .find(|c| c.0 == at)
        .map(|c| c.1);
    if let Some(f) = hit {
        assert!(
            matches!(f.status, Status::Damaged | Status::Truncated),
            "{what}: carved as {f:?}"
        );
    }
    hit
}

// ---------------------------------------------------------------- ZIP fixtures

/// Archives written by Python's zipfile; `stream` writes to an unseekable file, so
/// every member's sizes follow its data in a data descriptor.
fn py_zip(members: &[(&str, &[u8], bool)], stream: bool) -> Vec<u8> {
    let list: Vec<String> = members
        .iter()
        .map(|(name, data, stored)| {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            format!(
                "({name:?}, bytes.fromhex('{hex}'), {})",
                if *stored { "True" } else { "False" }
            )
        })
        .collect();
    python(&format!(
        r#"
import io, sys, zipfile
class Unseekable:
    def __init__(self): self.b = bytearray()
    def write(self, d): self.b += d; return len(d)
    def flush(self): pass
members = [{}]
out = Unseekable() if {} else io.BytesIO()
with zipfile.ZipFile(out, "w") as z:
    for name, data, stored in members:
        info = zipfile.ZipInfo(name, date_time=(2021, 5, 4, 3, 2, 0))
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        z.writestr(info, data)
sys.stdout.buffer.write(bytes(out.b) if isinstance(out, Unseekable) else out.getvalue())
"#,
        list.join(", "),
        if stream { "True" } else { "False" }
    ))
}

/// Text that compresses to a few blocks of dynamic Huffman codes.
fn prose(words: usize, seed: u64) -> Vec<u8> {
    python(&format!(
        r#"
import random, sys
r = random.Random({seed})
vocab = ["carve", "sector", "quarry", "evidence", "header", "stream", "block", "the", "of", "and",
         "offset", "cluster", "image", "signature", "deflate", "huffman", "window", "trailer"]
words = []
for i in range({words}):
    w = r.choice(vocab)
    if r.random() < 0.05:
        w += str(r.randrange(100000))
    words.append(w)
sys.stdout.buffer.write(" ".join(words).encode())
"#
    ))
}

fn office_like(kind: &str) -> Vec<u8> {
    let doc = prose(400, 3);
    let parts: Vec<(&str, &[u8], bool)> = match kind {
        "docx" => vec![
            ("[Content_Types].xml", b"<Types/>", false),
            ("_rels/.rels", b"<Relationships/>", false),
            ("word/document.xml", &doc, false),
        ],
        "xlsx" => vec![
            ("[Content_Types].xml", b"<Types/>", false),
            ("xl/workbook.xml", &doc, false),
            ("xl/worksheets/sheet1.xml", b"<worksheet/>", false),
        ],
        "pptx" => vec![
            ("[Content_Types].xml", b"<Types/>", false),
            ("ppt/presentation.xml", &doc, false),
        ],
        "odt" => vec![
            ("mimetype", b"application/vnd.oasis.opendocument.text", true),
            ("content.xml", &doc, false),
            ("META-INF/manifest.xml", b"<manifest/>", false),
        ],
        "ods" => vec![
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
                true,
            ),
            ("content.xml", &doc, false),
        ],
        "odp" => vec![
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.presentation",
                true,
            ),
            ("content.xml", &doc, false),
        ],
        "epub" => vec![
            ("mimetype", b"application/epub+zip", true),
            ("META-INF/container.xml", b"<container/>", false),
            ("OEBPS/chapter1.xhtml", &doc, false),
        ],
        "apk" => vec![
            ("AndroidManifest.xml", b"\x03\x00\x08\x00manifest", false),
            ("classes.dex", b"dex\n035\x00 and code", false),
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n", false),
        ],
        "jar" => vec![
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n", false),
            ("org/example/Main.class", b"\xCA\xFE\xBA\xBE class bytes", false),
        ],
        _ => vec![
            ("readme.txt", b"plain archive", false),
            ("notes/prose.txt", &doc, false),
        ],
    };
    py_zip(&parts, false)
}

/// A ZIP64 archive assembled per APPNOTE 4.3.14-4.5.3: sizes and offsets saturated in
/// the ordinary fields, the real values in ZIP64 extra fields, a ZIP64 end record and
/// its locator before an EOCD whose counts and offsets are all saturated.
fn zip64_by_hand() -> Vec<u8> {
    let members: [(&[u8], &[u8]); 3] = [
        (b"one.txt", b"first member of a zip64 archive"),
        (b"dir/two.bin", b"\x00\x01\x02PK\x05\x06 not an end record"),
        (b"three.txt", b"third"),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let local = out.len();
        out.extend_from_slice(b"PK\x03\x04\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x52");
        out.extend_from_slice(&crc(data).to_le_bytes());
        out.extend_from_slice(&[0xFF; 8]); // both sizes in the ZIP64 field
        out.extend_from_slice(&le16(name.len()));
        out.extend_from_slice(&le16(20));
        out.extend_from_slice(name);
        out.extend_from_slice(&le16(1));
        out.extend_from_slice(&le16(16));
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(b"PK\x01\x02\x2d\x03\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x52");
        central.extend_from_slice(&crc(data).to_le_bytes());
        central.extend_from_slice(&[0xFF; 8]);
        central.extend_from_slice(&le16(name.len()));
        central.extend_from_slice(&le16(28));
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&[0xFF; 4]); // local header offset in the ZIP64 field
        central.extend_from_slice(name);
        central.extend_from_slice(&le16(1));
        central.extend_from_slice(&le16(24));
        central.extend_from_slice(&(data.len() as u64).to_le_bytes());
        central.extend_from_slice(&(data.len() as u64).to_le_bytes());
        central.extend_from_slice(&(local as u64).to_le_bytes());
    }
    let cd_off = out.len();
    out.extend_from_slice(&central);
    let record = out.len();
    out.extend_from_slice(b"PK\x06\x06");
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&[0x2d, 0x03, 0x2d, 0x00]);
    out.extend_from_slice(&[0; 8]); // this disk, disk with the central directory
    out.extend_from_slice(&3u64.to_le_bytes());
    out.extend_from_slice(&3u64.to_le_bytes());
    out.extend_from_slice(&(central.len() as u64).to_le_bytes());
    out.extend_from_slice(&(cd_off as u64).to_le_bytes());
    out.extend_from_slice(b"PK\x06\x07\x00\x00\x00\x00");
    out.extend_from_slice(&(record as u64).to_le_bytes());
    out.extend_from_slice(&le32(1));
    out.extend_from_slice(
        b"PK\x05\x06\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x00\x00",
    );
    out
}

/// A stored archive of `n` members, with each member's end offset.
fn stored_zip(n: usize) -> (Vec<u8>, Vec<usize>) {
    let bodies: Vec<Vec<u8>> = (0..n).map(|i| noise(700 + 97 * i, 40 + i as u64)).collect();
    let names: Vec<String> = (0..n).map(|i| format!("part{i:02}.bin")).collect();
    let members: Vec<(&str, &[u8], bool)> = names
        .iter()
        .zip(&bodies)
        .map(|(n, b)| (n.as_str(), &b[..], true))
        .collect();
    let zip = py_zip(&members, false);
    let mut ends = Vec::new();
    let mut pos = 0;
    for (name, body) in names.iter().zip(&bodies) {
        pos += 30 + name.len() + body.len();
        ends.push(pos);
    }
    assert_eq!(
        &zip[pos..pos + 4],
        b"PK\x01\x02",
        "zipfile lays members out back to back"
    );
    (zip, ends)
}

// ---------------------------------------------------------------- ZIP tests

#[test]
fn zip_archives_are_found_whole_with_their_subtypes() {
    let mut files = Vec::new();
    for (kind, subtype) in [
        ("docx", Some("docx")),
        ("xlsx", Some("xlsx")),
        ("pptx", Some("pptx")),
        ("odt", Some("odt")),
        ("ods", Some("ods")),
        ("odp", Some("odp")),
        ("epub", Some("epub")),
        ("apk", Some("apk")),
        ("jar", Some("jar")),
        ("plain", None),
    ] {
        files.push((kind.to_string(), FileType::Zip, subtype, office_like(kind)));
    }
    files.push(("zip64".into(), FileType::Zip, None, zip64_by_hand()));
    let streamed = py_zip(
        &[
            ("a.txt", &prose(300, 9), false),
            ("b/c.txt", b"second", false),
            ("d.bin", &noise(900, 2), true),
        ],
        true,
    );
    assert_eq!(streamed[6] & 8, 8, "members written with data descriptors");
    files.push(("streamed".into(), FileType::Zip, None, streamed));
    let (image, planted) = plant(files, 21);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn a_stored_zip_inside_a_zip_is_carved_as_well_as_its_parent() {
    let inner = office_like("docx");
    let outer = py_zip(
        &[
            ("first.txt", b"before the inner archive", true),
            ("inner.docx", &inner, true),
        ],
        false,
    );
    let inner_at = outer
        .windows(inner.len())
        .position(|w| w == &inner[..])
        .expect("stored inner zip");
    let (image, planted) = plant(vec![("outer".into(), FileType::Zip, None, outer)], 5);
    let outer_at = planted[0].offset;
    let mut expected = planted;
    expected.push(Planted {
        name: "inner".into(),
        offset: outer_at + inner_at,
        len: inner.len(),
        kind: FileType::Zip,
        subtype: Some("docx"),
    });
    assert_found_whole(&image, &expected, &[]);
    // No carve of the members of either archive.
    let zips = carves_of(&image, FileType::Zip);
    assert_eq!(zips.len(), 2, "{zips:?}");
}

#[test]
fn a_zip_cut_inside_a_member_is_truncated_after_the_last_whole_member() {
    let (zip, ends) = stored_zip(6);
    for (k, seed) in [(1, 1), (3, 2), (5, 3)] {
        // Cut in the middle of member k's data: members 0..k are whole.
        let cut = ends[k] - 300;
        let (image, at) = cut_in_noise(&zip, cut, seed);
        let f = assert_truncated_within(&image, at, FileType::Zip, cut, "stored zip");
        assert_eq!(f.len, ends[k - 1], "cut in member {k}");
    }
    // A streamed archive: its members' ends come from their DEFLATE streams.
    let members: Vec<Vec<u8>> = (0..4).map(|i| prose(500, 30 + i)).collect();
    let named: Vec<(String, &[u8], bool)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("m{i}.txt"), &m[..], false))
        .collect();
    let list: Vec<(&str, &[u8], bool)> = named.iter().map(|(n, m, s)| (n.as_str(), *m, *s)).collect();
    let streamed = py_zip(&list, true);
    let starts: Vec<usize> = memchr::memmem::find_iter(&streamed, b"PK\x03\x04").collect();
    assert_eq!(starts.len(), 4, "one local header per member");
    let cut = starts[3] + 100; // inside the last member's data
    let (image, at) = cut_in_noise(&streamed, cut, 8);
    let f = assert_truncated_within(&image, at, FileType::Zip, cut, "streamed zip");
    assert_eq!(f.len, starts[3]);
}

#[test]
fn a_zip_cut_at_the_image_end_keeps_everything_to_the_end() {
    let (zip, ends) = stored_zip(4);
    let cut = ends[2] - 10;
    let mut image = noise(3000, 4);
    image.extend_from_slice(&zip[..cut]);
    let hits = carves_of(&image, FileType::Zip);
    assert_eq!(hits[0].0, 3000, "{hits:?}");
    assert_eq!((hits[0].1.len, hits[0].1.status), (cut, Status::Truncated));
    // Without an EOCD nothing tells the later members from archive starts: each is a
    // truncated suffix ending at the same byte (a look-back before the header would
    // drop them), never a complete file.
    for h in &hits[1..] {
        assert!(ends.iter().any(|&e| 3000 + e == h.0), "{hits:?}");
        assert_eq!((h.0 + h.1.len, h.1.status), (3000 + cut, Status::Truncated));
    }
}

#[test]
fn a_zip_whose_local_header_or_member_data_disagrees_is_damaged() {
    let (zip, ends) = stored_zip(3);
    // The second member's name in its local header (not in the central directory).
    let mut renamed = zip.clone();
    renamed[ends[0] + 30] = b'X';
    // The second member's compressed size in its local header.
    let mut resized = zip.clone();
    resized[ends[0] + 18] ^= 0x01;
    // A byte of the second member's stored data: its CRC-32 fails.
    let mut changed = zip.clone();
    changed[ends[1] - 100] ^= 0x04;
    // A byte inside a deflated member: the stream breaks or decodes to another CRC.
    let mut deflated = office_like("docx");
    let body = memchr::memmem::find(&deflated, b"word/document.xml").expect("member") + 17 + 200;
    deflated[body] ^= 0x10;
    for (what, bad) in [
        ("renamed", renamed),
        ("resized", resized),
        ("changed", changed),
        ("deflated", deflated),
    ] {
        let (image, planted) = plant(vec![(what.into(), FileType::Zip, None, bad)], 6);
        let hits = carves_of(&image, FileType::Zip);
        let at = planted[0].offset;
        let f = hits.iter().find(|h| h.0 == at).map(|h| h.1).expect("carved");
        assert_eq!((f.len, f.status), (planted[0].len, Status::Damaged), "{what}");
        assert!(
            hits.iter().all(|h| h.1.status != Status::Complete),
            "{what}: {hits:?}"
        );
    }
}

#[test]
fn the_empty_zip_sample_is_found() {
    let zip = read("small/zip.zip");
    let (image, planted) = plant(vec![("zip.zip".into(), FileType::Zip, None, zip)], 12);
    assert_found_whole(&image, &planted, &[]);
}

// ---------------------------------------------------------------- gzip fixtures

fn py_gzip(data_expr: &str, level: u32) -> Vec<u8> {
    python(&format!(
        "import gzip, sys, random\nr = random.Random(1)\nsys.stdout.buffer.write(gzip.compress({data_expr}, compresslevel={level}, mtime=0))"
    ))
}

/// A member with every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC), the
/// DEFLATE stream from zlib, the trailer from zlib's CRC-32.
fn gzip_with_all_header_fields() -> Vec<u8> {
    python(
        r#"
import struct, sys, zlib
data = b"header fields all present " * 300
c = zlib.compressobj(6, zlib.DEFLATED, -15)
body = c.compress(data) + c.flush()
extra = b"AP" + struct.pack("<H", 4) + b"\x01\x02\x03\x04" + b"BC" + struct.pack("<H", 2) + b"\x00\x00"
head = b"\x1f\x8b\x08" + bytes([0x02 | 0x04 | 0x08 | 0x10]) + struct.pack("<I", 1600000000) + b"\x00\x03"
head += struct.pack("<H", len(extra)) + extra + b"evidence.txt\x00" + b"a comment\non two lines\x00"
head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
sys.stdout.buffer.write(head + body + struct.pack("<II", zlib.crc32(data), len(data)))
"#,
    )
}

/// Block starts (bit offsets) are not visible from outside; a multi-block member is one
/// whose compressed size is well past zlib's block size for this text.
fn multi_block_gzip() -> Vec<u8> {
    let g = py_gzip(
        "' '.join(r.choice(['carve','sector','quarry','evidence','0x%x' % r.randrange(1<<20)]) for _ in range(150000)).encode()",
        6,
    );
    assert!(g.len() > 200_000, "{}", g.len());
    g
}

// ---------------------------------------------------------------- gzip tests

#[test]
fn gzip_members_are_found_whole() {
    let mut files = vec![
        ("gzip.gz".to_string(), FileType::Gzip, None, read("small/gzip.gz")),
        (
            "gzip-name.gz".into(),
            FileType::Gzip,
            None,
            read("small/gzip-name.gz"),
        ),
        (
            "all header fields".into(),
            FileType::Gzip,
            None,
            gzip_with_all_header_fields(),
        ),
        ("fixed codes".into(), FileType::Gzip, None, py_gzip("b'tiny'", 9)),
        (
            "stored blocks".into(),
            FileType::Gzip,
            None,
            py_gzip("bytes(r.randrange(256) for _ in range(150000))", 0),
        ),
        (
            "incompressible".into(),
            FileType::Gzip,
            None,
            py_gzip("bytes(r.randrange(256) for _ in range(70000))", 6),
        ),
        (
            "level 1".into(),
            FileType::Gzip,
            None,
            py_gzip("b'abcabcabd' * 20000", 1),
        ),
    ];
    files.push(("multi-block".into(), FileType::Gzip, None, multi_block_gzip()));
    let (image, planted) = plant(files, 31);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn a_gzip_of_a_large_run_is_walked_without_storing_its_output() {
    // 64 MiB of zeros in about 64 KiB: the ratio DEFLATE allows at most is about 1032.
    let g = py_gzip("bytes(64 << 20)", 9);
    assert!(g.len() < 100_000);
    let (image, planted) = plant(vec![("zeros".into(), FileType::Gzip, None, g)], 32);
    let hits = carves_of(&image, FileType::Gzip);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].0, hits[0].1.len, hits[0].1.status),
        (planted[0].offset, planted[0].len, Status::Complete)
    );
}

#[test]
fn a_gzip_cut_and_overwritten_is_truncated_within_the_cut() {
    let g = multi_block_gzip();
    for (i, frac) in [0.3, 0.5, 0.7, 0.9].iter().enumerate() {
        for seed in 0..3 {
            let cut = (g.len() as f64 * frac) as usize;
            let (image, at) = cut_in_noise(&g, cut, 100 + 10 * i as u64 + seed);
            assert_truncated_within(&image, at, FileType::Gzip, cut, &format!("gzip cut at {cut}"));
        }
    }
}

#[test]
fn a_gzip_cut_by_the_image_end_keeps_what_is_there() {
    let g = multi_block_gzip();
    let cut = g.len() / 2;
    let mut image = noise(5001, 7);
    image.extend_from_slice(&g[..cut]);
    let hits = carves_of(&image, FileType::Gzip);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].0, hits[0].1.len, hits[0].1.status),
        (5001, cut, Status::Truncated)
    );
}

#[test]
fn a_gzip_with_a_wrong_crc_or_size_is_damaged_and_a_corrupt_stream_is_not_complete() {
    let g = multi_block_gzip();
    let n = g.len();
    for (what, at) in [("crc", n - 7), ("isize", n - 2)] {
        let mut bad = g.clone();
        bad[at] ^= 0x40;
        let (image, planted) = plant(vec![(what.into(), FileType::Gzip, None, bad)], 8);
        let hits = carves_of(&image, FileType::Gzip);
        assert_eq!(hits.len(), 1, "{what}");
        assert_eq!(
            (hits[0].1.len, hits[0].1.status),
            (planted[0].len, Status::Damaged),
            "{what}"
        );
    }
    for frac in [0.2, 0.5, 0.8] {
        let mut bad = g.clone();
        let at = (n as f64 * frac) as usize;
        bad[at] ^= 0x10;
        let (image, planted) = plant(vec![("flipped".into(), FileType::Gzip, None, bad)], 9);
        assert_not_complete(&image, planted[0].offset, FileType::Gzip, "flipped stream byte");
    }
}

// ---------------------------------------------------------------- 7z fixtures

/// A 7z NUMBER (7zFormat.txt): the first byte's high bits count the bytes that follow.
fn sz_number(v: u64) -> Vec<u8> {
    if v < 0x80 {
        vec![v as u8]
    } else if v < 0x4000 {
        vec![0x80 | (v >> 8) as u8, v as u8]
    } else {
        assert!(v < 0x20_0000);
        vec![0xC0 | (v >> 16) as u8, v as u8, (v >> 8) as u8]
    }
}

/// A 7z archive of one file stored with the Copy coder, per 7zFormat.txt: signature
/// header, the packed stream, then a plain header (PackInfo, UnpackInfo with one folder,
/// SubStreamsInfo with the file's CRC, FilesInfo with its name).
fn sevenzip_by_hand(content: &[u8], name: &str) -> Vec<u8> {
    let n = content.len() as u64;
    let mut h = vec![0x01, 0x04, 0x06]; // kHeader, kMainStreamsInfo, kPackInfo
    h.extend(sz_number(0)); // PackPos
    h.extend(sz_number(1)); // NumPackStreams
    h.push(0x09); // kSize
    h.extend(sz_number(n));
    h.push(0x00); // kEnd
    h.extend([0x07, 0x0B]); // kUnPackInfo, kFolder
    h.extend(sz_number(1)); // NumFolders
    h.push(0x00); // External
    h.extend(sz_number(1)); // NumCoders
    h.extend([0x01, 0x00]); // one-byte id, simple coder; id 00 = Copy
    h.push(0x0C); // kCodersUnPackSize
    h.extend(sz_number(n));
    h.push(0x00); // kEnd
    h.extend([0x08, 0x0A, 0x01]); // kSubStreamsInfo, kCRC, all defined
    h.extend(crc(content).to_le_bytes());
    h.extend([0x00, 0x00]); // kEnd (substreams), kEnd (streams info)
    h.push(0x05); // kFilesInfo
    h.extend(sz_number(1));
    let utf16: Vec<u8> = name
        .encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect();
    h.push(0x11); // kName
    h.extend(sz_number(1 + utf16.len() as u64));
    h.push(0x00); // not external
    h.extend(utf16);
    h.extend([0x00, 0x00]); // kEnd (files), kEnd (header)

    let mut start = Vec::new();
    start.extend(n.to_le_bytes()); // next header offset: right after the packed stream
    start.extend((h.len() as u64).to_le_bytes());
    start.extend(crc(&h).to_le_bytes());
    let mut out = b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec();
    out.extend(crc(&start).to_le_bytes());
    out.extend(start);
    out.extend_from_slice(content);
    out.extend(h);
    out
}

#[test]
fn sevenzip_archives_are_found_whole() {
    let files = vec![
        (
            "small".to_string(),
            FileType::SevenZip,
            None,
            sevenzip_by_hand(b"hello from a 7z archive\n", "hello.txt"),
        ),
        (
            "larger".into(),
            FileType::SevenZip,
            None,
            sevenzip_by_hand(&noise(9000, 3), "data.bin"),
        ),
        // The signature again inside the stored content: a chance header, not an archive.
        (
            "nested signature".into(),
            FileType::SevenZip,
            None,
            sevenzip_by_hand(b"..7z\xBC\xAF\x27\x1C\x00\x04 and on", "s.txt"),
        ),
    ];
    let (image, planted) = plant(files, 41);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn a_sevenzip_overwritten_cut_or_corrupted_is_never_complete() {
    let z = sevenzip_by_hand(&noise(20000, 5), "data.bin");
    let full = z.len() as u64;
    // Overwritten from inside the packed stream: only the signature header is vouched for.
    let cut = 12000;
    let (image, at) = cut_in_noise(&z, cut, 11);
    let f = assert_truncated_within(&image, at, FileType::SevenZip, cut, "7z overwritten");
    assert_eq!(f.missing, Some(full - f.len as u64));
    // Cut by the image's end: what is there, and how much is missing.
    let mut image = noise(999, 12);
    image.extend_from_slice(&z[..cut]);
    let hits = carves_of(&image, FileType::SevenZip);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].1.len, hits[0].1.status, hits[0].1.missing),
        (cut, Status::Truncated, Some(full - cut as u64))
    );
    // A changed byte in the header (past its first property): its CRC fails.
    let mut bad = z.clone();
    let last = bad.len() - 3;
    bad[last] ^= 0x20;
    let (image, planted) = plant(vec![("header".into(), FileType::SevenZip, None, bad)], 13);
    let f =
        assert_not_complete(&image, planted[0].offset, FileType::SevenZip, "7z header byte").expect("carved");
    assert_eq!((f.len, f.status), (planted[0].len, Status::Damaged));
    // A changed byte in the start header: not an archive at all.
    let mut bad = z.clone();
    bad[15] ^= 0x01;
    let (image, planted) = plant(vec![("start".into(), FileType::SevenZip, None, bad)], 14);
    assert!(assert_not_complete(&image, planted[0].offset, FileType::SevenZip, "start header").is_none());
}

// ---------------------------------------------------------------- RAR fixtures

fn rar4_block(kind: u8, flags: u16, body: &[u8]) -> Vec<u8> {
    let mut h = vec![kind];
    h.extend(flags.to_le_bytes());
    h.extend(((7 + body.len()) as u16).to_le_bytes());
    h.extend_from_slice(body);
    let mut out = ((crc(&h) & 0xFFFF) as u16).to_le_bytes().to_vec();
    out.extend(h);
    out
}

/// A RAR 2.9+ archive (technote.txt of RAR 3.x): marker, archive header, stored files
/// (method 0x30, version 29), end-of-archive block. Also each member block's end.
fn rar4_by_hand(members: &[(&str, &[u8])]) -> (Vec<u8>, Vec<usize>) {
    let mut out = b"Rar!\x1A\x07\x00".to_vec();
    out.extend(rar4_block(0x73, 0, &[0; 6]));
    let mut ends = Vec::new();
    for (name, data) in members {
        let mut body = Vec::new();
        body.extend(le32(data.len())); // PACK_SIZE
        body.extend(le32(data.len())); // UNP_SIZE
        body.push(2); // HOST_OS: Win32
        body.extend(crc(data).to_le_bytes());
        body.extend(le32(0x5A21_6B43)); // FTIME
        body.push(29); // UNP_VER
        body.push(0x30); // METHOD: store
        body.extend(le16(name.len()));
        body.extend(le32(0x20)); // ATTR
        body.extend_from_slice(name.as_bytes());
        out.extend(rar4_block(0x74, 0x8000, &body));
        out.extend_from_slice(data);
        ends.push(out.len());
    }
    out.extend(rar4_block(0x7B, 0x4000, &[]));
    (out, ends)
}

fn vint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn rar5_header(fields: &[u8]) -> Vec<u8> {
    let mut covered = vint(fields.len() as u64);
    covered.extend_from_slice(fields);
    let mut out = crc(&covered).to_le_bytes().to_vec();
    out.extend(covered);
    out
}

/// A RAR 5 archive (the RAR 5.0 archive format description): signature, main header,
/// stored files with their data CRC, end-of-archive header. Also each member's end.
fn rar5_by_hand(members: &[(&str, &[u8])]) -> (Vec<u8>, Vec<usize>) {
    let mut out = b"Rar!\x1A\x07\x01\x00".to_vec();
    out.extend(rar5_header(&[1, 0, 0])); // main: type, flags, archive flags
    let mut ends = Vec::new();
    for (name, data) in members {
        let mut f = vec![2, 0x02]; // file header with a data area
        f.extend(vint(data.len() as u64));
        f.extend(vint(0x04)); // file flags: CRC present
        f.extend(vint(data.len() as u64));
        f.extend(vint(0x20)); // attributes
        f.extend(crc(data).to_le_bytes());
        f.extend(vint(0)); // compression: version 0, store
        f.extend(vint(0)); // host OS: Windows
        f.extend(vint(name.len() as u64));
        f.extend_from_slice(name.as_bytes());
        out.extend(rar5_header(&f));
        out.extend_from_slice(data);
        ends.push(out.len());
    }
    out.extend(rar5_header(&[5, 0, 0])); // end of archive
    (out, ends)
}

// ---------------------------------------------------------------- RAR tests

#[test]
fn rar_archives_are_found_whole() {
    let members: [(&str, &[u8]); 3] = [
        ("a.txt", b"first member"),
        ("dir\\b.bin", &[7u8; 3000]),
        ("c.txt", b"third"),
    ];
    let files = vec![
        (
            "rar4.rar".to_string(),
            FileType::Rar,
            None,
            read("small/rar4.rar"),
        ),
        ("rar5.rar".into(), FileType::Rar, None, read("small/rar5.rar")),
        (
            "rar4 by hand".into(),
            FileType::Rar,
            None,
            rar4_by_hand(&members).0,
        ),
        (
            "rar5 by hand".into(),
            FileType::Rar,
            None,
            rar5_by_hand(&members).0,
        ),
    ];
    let (image, planted) = plant(files, 51);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn the_rar_1_4_sample_has_another_signature_and_is_not_carved() {
    let (image, _) = plant(
        vec![("rar14".into(), FileType::Rar, None, read("small/rar14.rar"))],
        52,
    );
    assert!(carves_of(&image, FileType::Rar).is_empty());
}

#[test]
fn a_rar_cut_or_corrupted_is_never_complete() {
    let members: [(&str, &[u8]); 3] = [
        ("a.bin", &noise(2000, 1)),
        ("b.bin", &noise(3000, 2)),
        ("c.bin", &noise(1000, 3)),
    ];
    for (version, (rar, ends)) in [("rar4", rar4_by_hand(&members)), ("rar5", rar5_by_hand(&members))] {
        // Cut inside the second member's data: the first member is confirmed.
        let cut = ends[1] - 1000;
        let (image, at) = cut_in_noise(&rar, cut, 61);
        let f = assert_truncated_within(&image, at, FileType::Rar, cut, version);
        assert_eq!(f.len, ends[0], "{version}");
        // Cut by the image's end.
        let mut image = noise(777, 62);
        image.extend_from_slice(&rar[..cut]);
        let hits = carves_of(&image, FileType::Rar);
        assert_eq!(
            (hits.len(), hits[0].1.len, hits[0].1.status),
            (1, cut, Status::Truncated),
            "{version}"
        );
        // A changed byte in the second member's stored data: its CRC fails.
        let mut bad = rar.clone();
        bad[ends[1] - 5] ^= 0x80;
        let (image, planted) = plant(vec![(version.into(), FileType::Rar, None, bad)], 63);
        let f = assert_not_complete(&image, planted[0].offset, FileType::Rar, version).expect("carved");
        assert_eq!((f.len, f.status), (planted[0].len, Status::Damaged), "{version}");
        // A changed byte in the third member's header: the walk stops before it.
        let mut bad = rar.clone();
        bad[ends[1] + 9] ^= 0x01;
        let (image, planted) = plant(vec![(version.into(), FileType::Rar, None, bad)], 64);
        let f = assert_not_complete(&image, planted[0].offset, FileType::Rar, version).expect("carved");
        assert_eq!((f.len, f.status), (ends[1], Status::Truncated), "{version}");
    }
}

// ---------------------------------------------------------------- PDF fixtures

/// A PDF of one page, then two incremental updates, each with an xref section whose
/// offsets are the real ones and a trailer whose /Prev is the previous startxref; the
/// second update's cross-reference section is a stream (uncompressed, /Type /XRef).
fn pdf_with_updates() -> Vec<u8> {
    let mut pdf = b"%PDF-1.5\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for body in [
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    ] {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{body}\nendobj\n", offsets.len()).as_bytes());
    }
    let x0 = pdf.len();
    pdf.extend(b"xref\n0 4\n0000000000 65535 f \n");
    for o in &offsets {
        pdf.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend(format!("trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n{x0}\n%%EOF\n").as_bytes());
    // Update 1: a new Info object and a changed page.
    let o4 = pdf.len();
    pdf.extend(b"4 0 obj\n<</Title(first update)>>\nendobj\n");
    let o3 = pdf.len();
    pdf.extend(b"3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>\nendobj\n");
    let x1 = pdf.len();
    pdf.extend(
        format!("xref\n0 1\n0000000000 65535 f \n3 2\n{o3:010} 00000 n \n{o4:010} 00000 n \n").as_bytes(),
    );
    pdf.extend(
        format!("trailer\n<</Size 5/Root 1 0 R/Info 4 0 R/Prev {x0}>>\nstartxref\n{x1}\n%%EOF\n").as_bytes(),
    );
    // Update 2: one object and a cross-reference stream (fields 1, 4, 2 bytes wide).
    let o5 = pdf.len();
    pdf.extend(b"5 0 obj\n<</Title(second update)>>\nendobj\n");
    let x2 = pdf.len();
    let mut rows = Vec::new();
    for (kind, field, gen) in [(1u8, o5 as u32, 0u16), (1, x2 as u32, 0)] {
        rows.push(kind);
        rows.extend(field.to_be_bytes());
        rows.extend(gen.to_be_bytes());
    }
    pdf.extend(
        format!(
            "6 0 obj\n<</Type /XRef/Size 7/W[1 4 2]/Index[5 2]/Root 1 0 R/Prev {x1}/Length {}>>\nstream\n",
            rows.len()
        )
        .as_bytes(),
    );
    pdf.extend(&rows);
    pdf.extend(format!("\nendstream\nendobj\nstartxref\n{x2}\n%%EOF\n").as_bytes());
    pdf
}

/// A linearized PDF (ISO 32000-1 Annex F): the linearization dictionary's /L is the
/// file's length; a first-page cross-reference section and trailer come first and end
/// with their own %%EOF, the main section at the end. `first_startxref_zero`: whether
/// the first-page trailer's startxref says 0 (as the Annex shows) or the section's
/// offset.
fn linearized_pdf(first_startxref_zero: bool) -> Vec<u8> {
    // Offsets depend on the digits of /L and of the main section's offset: lay the file
    // out again until both are what they say.
    let (mut l, mut main) = (0usize, 0usize);
    loop {
        let mut pdf = b"%PDF-1.6\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let o1 = pdf.len();
        pdf.extend(
            format!("1 0 obj\n<</Linearized 1/L {l}/O 3/E 400/N 1/T 300/H[200 50]>>\nendobj\n").as_bytes(),
        );
        let x_first = pdf.len();
        let sx = if first_startxref_zero { 0 } else { x_first };
        let trailer = format!("trailer\n<</Size 4/Root 2 0 R/Prev {main}>>\nstartxref\n{sx}\n%%EOF\n");
        let obj2 = "2 0 obj\n<</Type/Catalog/Pages 3 0 R>>\nendobj\n";
        let obj3 = "3 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n";
        let p2 = x_first + format!("xref\n1 3\n{o1:010} 00000 n \n").len() + 40 + trailer.len();
        let p3 = p2 + obj2.len();
        pdf.extend(
            format!("xref\n1 3\n{o1:010} 00000 n \n{p2:010} 00000 n \n{p3:010} 00000 n \n").as_bytes(),
        );
        pdf.extend(trailer.as_bytes());
        assert_eq!(pdf.len(), p2);
        pdf.extend(obj2.as_bytes());
        pdf.extend(obj3.as_bytes());
        let m = pdf.len();
        pdf.extend(
            format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 4>>\nstartxref\n{x_first}\n%%EOF\n")
                .as_bytes(),
        );
        if pdf.len() == l && m == main {
            return pdf;
        }
        (l, main) = (pdf.len(), m);
    }
}

fn tiny_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let o1 = pdf.len();
    pdf.extend(b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n");
    let o2 = pdf.len();
    pdf.extend(b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n");
    let x = pdf.len();
    pdf.extend(format!("xref\n0 3\n0000000000 65535 f \n{o1:010} 00000 n \n{o2:010} 00000 n \n").as_bytes());
    pdf.extend(format!("trailer<</Size 3/Root 1 0 R>>\nstartxref\n{x}\n%%EOF\n").as_bytes());
    pdf
}

/// A PDF with a binary content stream whose /Length is direct, and one whose /Length is
/// a reference to an object after it.
fn pdf_with_streams() -> Vec<u8> {
    let content = noise(3000, 77);
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend(b"\nendobj\n");
    };
    obj(&mut pdf, b"<</Type/Catalog/Pages 2 0 R>>");
    obj(&mut pdf, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
    obj(
        &mut pdf,
        b"<</Type/Page/Parent 2 0 R/Contents 4 0 R/Resources<<>>>>",
    );
    let mut stream = format!("<</Length {}>>\nstream\n", content.len()).into_bytes();
    stream.extend(&content);
    stream.extend(b"\nendstream");
    obj(&mut pdf, &stream);
    let mut stream = b"<</Length 6 0 R>>\nstream\n".to_vec();
    stream.extend(&content[..500]);
    stream.extend(b"\nendstream");
    obj(&mut pdf, &stream);
    obj(&mut pdf, b"500");
    let x = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in &offsets {
        pdf.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{x}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

// ---------------------------------------------------------------- PDF tests

#[test]
fn a_pdf_is_decided_inside_its_window_when_the_bytes_after_it_say_enough() {
    let carver = Carver::new();
    // Followed by zeroed space: complete, without asking for the rest of the image.
    let pdf = pdf_with_streams();
    let mut window = pdf.clone();
    window.resize(pdf.len() + 100_000, 0);
    let hits = carver.scan(&window, 0, 1, false);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].outcome.found().map(|f| (f.len, f.status)),
        Some((pdf.len(), Status::Complete))
    );
    // Cut inside a stream whose direct /Length points into the noise after the cut: the
    // walk stops there instead of searching the rest of the image for "endstream".
    let stream_at = memchr::memmem::find(&pdf, b"4 0 obj").expect("stream object");
    let cut = stream_at + 1000;
    let mut window = pdf[..cut].to_vec();
    window.extend(noise(100_000, 78));
    let hits = carver.scan(&window, 0, 1, false);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].outcome.found().map(|f| (f.len, f.status)),
        Some((stream_at, Status::Truncated))
    );
}

#[test]
fn pdfs_are_found_whole_with_every_incremental_update() {
    let files = vec![
        ("pdf.pdf".to_string(), FileType::Pdf, None, read("small/pdf.pdf")),
        ("tiny".into(), FileType::Pdf, None, tiny_pdf()),
        ("two updates".into(), FileType::Pdf, None, pdf_with_updates()),
        ("streams".into(), FileType::Pdf, None, pdf_with_streams()),
        (
            "linearized, startxref 0".into(),
            FileType::Pdf,
            None,
            linearized_pdf(true),
        ),
        (
            "linearized, startxref set".into(),
            FileType::Pdf,
            None,
            linearized_pdf(false),
        ),
    ];
    let (image, planted) = plant(files, 71);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn a_pdf_directly_followed_by_another_is_two_files() {
    let (a, b) = (pdf_with_updates(), tiny_pdf());
    let mut both = a.clone();
    both.extend_from_slice(&b);
    let (image, planted) = plant(vec![("both".into(), FileType::Pdf, None, both)], 72);
    let at = planted[0].offset;
    let expected = vec![
        Planted {
            name: "first".into(),
            offset: at,
            len: a.len(),
            kind: FileType::Pdf,
            subtype: None,
        },
        Planted {
            name: "second".into(),
            offset: at + a.len(),
            len: b.len(),
            kind: FileType::Pdf,
            subtype: None,
        },
    ];
    assert_found_whole(&image, &expected, &[]);
}

#[test]
fn an_update_that_does_not_point_back_is_not_part_of_the_file() {
    let pdf = pdf_with_updates();
    let first_end = memchr::memmem::find(&pdf, b"%%EOF\n").expect("eof") + 6;
    // Break the first update's /Prev: the carve ends with the first revision.
    let mut bad = pdf.clone();
    let prev = memchr::memmem::find(&bad, b"/Prev ").expect("prev") + 6;
    bad[prev] = if bad[prev] == b'9' { b'8' } else { b'9' };
    let (image, planted) = plant(vec![("bad prev".into(), FileType::Pdf, None, bad)], 73);
    let hits = carves_of(&image, FileType::Pdf);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].0, hits[0].1.len, hits[0].1.status),
        (planted[0].offset, first_end, Status::Complete)
    );
}

#[test]
fn a_pdf_cut_or_corrupted_is_never_complete() {
    let pdf = pdf_with_updates();
    let first_end = memchr::memmem::find(&pdf, b"%%EOF\n").expect("eof") + 6;
    // Cut inside the first update: the first revision is what is vouched for.
    let cut = first_end + 20;
    let (image, at) = cut_in_noise(&pdf, cut, 81);
    let f = assert_truncated_within(&image, at, FileType::Pdf, cut, "cut in an update");
    assert_eq!(f.len, first_end);
    // Cut inside the first revision's objects: up to the last whole object.
    let third = memchr::memmem::find(&pdf, b"3 0 obj").expect("obj 3");
    let cut = third + 10;
    let (image, at) = cut_in_noise(&pdf, cut, 82);
    let f = assert_truncated_within(&image, at, FileType::Pdf, cut, "cut in an object");
    assert_eq!(f.len, third);
    // A startxref that points nowhere: the structure ends, its check fails.
    let mut bad = tiny_pdf();
    let sx = memchr::memmem::find(&bad, b"startxref\n").expect("startxref") + 10;
    bad[sx] = b'1';
    bad[sx + 1] = b'1';
    let (image, planted) = plant(vec![("bad startxref".into(), FileType::Pdf, None, bad)], 83);
    let f = assert_not_complete(&image, planted[0].offset, FileType::Pdf, "bad startxref").expect("carved");
    assert_eq!((f.len, f.status), (planted[0].len, Status::Damaged));
}

// ---------------------------------------------------------------- OLE2 fixtures

const FREESECT: u32 = 0xFFFF_FFFF;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FATSECT: u32 = 0xFFFF_FFFD;
const NOSTREAM: u32 = 0xFFFF_FFFF;

/// One directory entry to lay out: `kind` 1 storage, 2 stream, 5 root.
struct Entry {
    name: Vec<u16>,
    kind: u8,
    left: u32,
    right: u32,
    child: u32,
    data: Vec<u8>,
}

fn entry(name: &str, kind: u8, (left, right, child): (u32, u32, u32), data: Vec<u8>) -> Entry {
    Entry {
        name: name.encode_utf16().collect(),
        kind,
        left,
        right,
        child,
        data,
    }
}

/// A compound file per [MS-CFB]: header, then (with `data_first`) every stream's sectors,
/// then the FAT sector and the directory sectors (or FAT and directory first). Streams
/// are at least 4096 bytes so they live in regular sectors. Returns the file.
fn cfb(shift: u32, entries: &[Entry], root_clsid: [u8; 16], data_first: bool) -> Vec<u8> {
    let ss = 1usize << shift;
    let per_dir = ss / 128;
    let dir_sectors = entries.len().div_ceil(per_dir);
    let stream_sectors: Vec<usize> = entries.iter().map(|e| e.data.len().div_ceil(ss)).collect();
    let data_total: usize = stream_sectors.iter().sum();
    // Sector numbers: FAT, directory, streams (or streams first).
    let (fat_at, dir_at, mut next_data) = if data_first {
        (data_total, data_total + 1, 0)
    } else {
        (0, 1, 1 + dir_sectors)
    };
    let total = 1 + dir_sectors + data_total;
    assert!(total <= ss / 4, "one FAT sector");
    let mut fat = vec![FREESECT; ss / 4];
    fat[fat_at] = FATSECT;
    for i in 0..dir_sectors {
        fat[dir_at + i] = if i + 1 == dir_sectors {
            ENDOFCHAIN
        } else {
            (dir_at + i + 1) as u32
        };
    }
    let mut starts = Vec::new();
    for &n in &stream_sectors {
        starts.push(if n == 0 { ENDOFCHAIN } else { next_data as u32 });
        for i in 0..n {
            fat[next_data + i] = if i + 1 == n {
                ENDOFCHAIN
            } else {
                (next_data + i + 1) as u32
            };
        }
        next_data += n;
    }
    let mut file = vec![0u8; ss * (1 + total)];
    // Header.
    let h = &mut file[..512];
    h[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    h[24..26].copy_from_slice(&le16(0x3E));
    h[26..28].copy_from_slice(&le16(if shift == 9 { 3 } else { 4 }));
    h[28..30].copy_from_slice(&le16(0xFFFE));
    h[30..32].copy_from_slice(&le16(shift as usize));
    h[32..34].copy_from_slice(&le16(6));
    if shift == 12 {
        h[40..44].copy_from_slice(&le32(dir_sectors));
    }
    h[44..48].copy_from_slice(&le32(1));
    h[48..52].copy_from_slice(&le32(dir_at));
    h[56..60].copy_from_slice(&le32(4096));
    h[60..64].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
    h[68..72].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
    h[76..80].copy_from_slice(&le32(fat_at));
    for i in 1..109 {
        h[76 + 4 * i..80 + 4 * i].copy_from_slice(&FREESECT.to_le_bytes());
    }
    let sector = |n: usize| ss * (1 + n);
    for (i, v) in fat.iter().enumerate() {
        let at = sector(fat_at) + 4 * i;
        file[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    // Directory: the entries, then unused ones to fill the last sector.
    for slot in 0..dir_sectors * per_dir {
        let at = sector(dir_at + slot / per_dir) + 128 * (slot % per_dir);
        let e = &mut file[at..at + 128];
        e[68..80].copy_from_slice(&[0xFF; 12]); // no siblings, no child
        let Some((en, start)) = entries.get(slot).zip(starts.get(slot)) else {
            continue;
        };
        for (k, u) in en.name.iter().chain([&0]).enumerate() {
            e[2 * k..2 * k + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&le16(2 * (en.name.len() + 1)));
        e[66] = en.kind;
        e[67] = if slot <= 1 { 1 } else { 0 }; // root and the tree's top black, leaves red
        e[68..72].copy_from_slice(&en.left.to_le_bytes());
        e[72..76].copy_from_slice(&en.right.to_le_bytes());
        e[76..80].copy_from_slice(&en.child.to_le_bytes());
        if slot == 0 {
            e[80..96].copy_from_slice(&root_clsid);
        }
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..128].copy_from_slice(&(en.data.len() as u64).to_le_bytes());
    }
    for (i, en) in entries.iter().enumerate() {
        if !en.data.is_empty() {
            let at = sector(starts[i] as usize);
            file[at..at + en.data.len()].copy_from_slice(&en.data);
        }
    }
    // The file ends with its last sector in use (the FAT's highest non-free entry).
    let highest = fat.iter().rposition(|&v| v != FREESECT).expect("in use");
    file.truncate(ss * (highest + 2));
    file
}

/// A root with one stream (the tree's top).
fn one_stream(shift: u32, name: &str, clsid: [u8; 16], data_first: bool) -> Vec<u8> {
    cfb(
        shift,
        &[
            entry("Root Entry", 5, (NOSTREAM, NOSTREAM, 1), Vec::new()),
            entry(name, 2, (NOSTREAM, NOSTREAM, NOSTREAM), noise(5000, 90)),
        ],
        clsid,
        data_first,
    )
}

fn msi_clsid() -> [u8; 16] {
    // {000C1084-0000-0000-C000-000000000046} as stored: Data1..3 little-endian.
    [0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]
}

/// An xls whose embedded Word document sits in a storage under the root: only the
/// root's own streams count.
fn xls_with_embedded_doc() -> Vec<u8> {
    cfb(
        9,
        &[
            entry("Root Entry", 5, (NOSTREAM, NOSTREAM, 1), Vec::new()),
            entry("ObjectPool", 1, (2, NOSTREAM, 3), Vec::new()),
            entry("Workbook", 2, (NOSTREAM, NOSTREAM, NOSTREAM), noise(4600, 91)),
            entry("WordDocument", 2, (NOSTREAM, NOSTREAM, NOSTREAM), noise(4100, 92)),
        ],
        [0; 16],
        true,
    )
}

fn msi_by_names() -> Vec<u8> {
    let mut table = entry("", 2, (NOSTREAM, NOSTREAM, NOSTREAM), noise(4500, 93));
    table.name = vec![0x4840, 0x3F3F, 0x4577, 0x446C, 0x3B6A, 0x45E4, 0x4824];
    cfb(
        9,
        &[entry("Root Entry", 5, (NOSTREAM, NOSTREAM, 1), Vec::new()), table],
        [0; 16],
        false,
    )
}

// ---------------------------------------------------------------- OLE2 tests

#[test]
fn compound_files_are_found_whole_with_their_subtypes() {
    let files = vec![
        (
            "doc".to_string(),
            FileType::Ole,
            Some("doc"),
            one_stream(9, "WordDocument", [0; 16], true),
        ),
        (
            "xls".into(),
            FileType::Ole,
            Some("xls"),
            one_stream(9, "Workbook", [0; 16], false),
        ),
        (
            "xls (Book)".into(),
            FileType::Ole,
            Some("xls"),
            one_stream(9, "Book", [0; 16], true),
        ),
        (
            "ppt".into(),
            FileType::Ole,
            Some("ppt"),
            one_stream(9, "PowerPoint Document", [0; 16], true),
        ),
        (
            "msi".into(),
            FileType::Ole,
            Some("msi"),
            one_stream(9, "SummaryInfo", msi_clsid(), true),
        ),
        ("msi by names".into(), FileType::Ole, Some("msi"), msi_by_names()),
        (
            "xls with an embedded doc".into(),
            FileType::Ole,
            Some("xls"),
            xls_with_embedded_doc(),
        ),
        (
            "plain".into(),
            FileType::Ole,
            None,
            one_stream(9, "Contents", [0; 16], true),
        ),
        (
            "version 4".into(),
            FileType::Ole,
            Some("doc"),
            one_stream(12, "WordDocument", [0; 16], true),
        ),
    ];
    let (image, planted) = plant(files, 101);
    assert_found_whole(&image, &planted, &[]);
}

#[test]
fn a_compound_file_cut_or_corrupted_is_never_complete() {
    // FAT and directory at the end: an overwritten tail takes them.
    let f = one_stream(9, "WordDocument", [0; 16], true);
    let full = f.len();
    let cut = full - 700; // inside the FAT sector (the directory follows it)
    let (image, at) = cut_in_noise(&f, cut, 111);
    let t = assert_truncated_within(&image, at, FileType::Ole, cut, "overwritten FAT");
    assert_eq!(t.len, full - 1024, "ends before the FAT sector");
    let cut = full - 300; // inside the directory sector
    let (image, at) = cut_in_noise(&f, cut, 112);
    let t = assert_truncated_within(&image, at, FileType::Ole, cut, "overwritten directory");
    assert_eq!((t.len, t.missing), (full - 512, Some(512)));
    // FAT and directory first, cut by the image's end: the FAT says how much is missing.
    let f = one_stream(9, "Workbook", [0; 16], false);
    let cut = f.len() - 1500;
    let mut image = noise(2001, 113);
    image.extend_from_slice(&f[..cut]);
    let hits = carves_of(&image, FileType::Ole);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].1.len, hits[0].1.status, hits[0].1.missing),
        (cut, Status::Truncated, Some(1500))
    );
    // The FAT sector no longer marked as one: the FAT disagrees with itself.
    let mut bad = f.clone();
    bad[512..516].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
    let (image, planted) = plant(vec![("unmarked FAT".into(), FileType::Ole, None, bad)], 114);
    let f = assert_not_complete(&image, planted[0].offset, FileType::Ole, "unmarked FAT").expect("carved");
    assert_eq!((f.len, f.status), (planted[0].len, Status::Damaged));
}

// ---------------------------------------------------------------- random data

#[test]
fn sixteen_mebibytes_of_noise_hold_no_archive_or_document() {
    let image = noise(16 << 20, 2024);
    let found = carves(&image);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn signatures_planted_in_noise_make_no_complete_carves() {
    let signatures: [&[u8]; 9] = [
        b"PK\x03\x04",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"\x1F\x8B\x08",
        b"\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03",
        b"7z\xBC\xAF\x27\x1C\x00\x04",
        b"Rar!\x1A\x07\x00",
        b"Rar!\x1A\x07\x01\x00",
        b"%PDF-1.4\n",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
    ];
    let mut image = noise(4 << 20, 77);
    let step = 1531; // odd, so the signatures sit at every alignment
    let mut planted = 0;
    let mut at = 100;
    while at + 64 < image.len() {
        let s = signatures[planted % signatures.len()];
        image[at..at + s.len()].copy_from_slice(s);
        planted += 1;
        at += step;
    }
    let found = carves(&image);
    let complete: Vec<_> = found.iter().filter(|f| f.2.status == Status::Complete).collect();
    assert!(complete.is_empty(), "{complete:?}");
    // Any carve at all from these is a false one; the target is under 0.5%.
    assert!(
        found.len() * 200 < planted,
        "{} false carves of {planted}: {found:?}",
        found.len()
    );
    // And so when the image is scanned in windows (the re-read path).
    let windowed = scan_windowed(&image, 1 << 16, 0);
    assert!(windowed.iter().all(|f| f.2.status != Status::Complete));
}

/// Our types' carves, scanned window by window (see `common::scan_windowed`).
fn scan_windowed(image: &[u8], window: usize, overlap: usize) -> Vec<(usize, FileType, Found)> {
    let mut carver = Carver::new();
    carver.only(&OURS);
    common::scan_windowed(&carver, image, window, overlap)
}

//! The image and RIFF walkers (JPEG, PNG, GIF, BMP, TIFF, RIFF) against published sample
//! files (shared/testdata/small, PngSuite) and files assembled here field by field from
//! the format specifications, planted at odd offsets in pseudo-random bytes. Expected
//! lengths are the files' own sizes (or the sizes built here), never the walkers'.
//! Also: cut copies, corrupted copies, and chance signatures in random data.

use _native::carve::{Carver, FileType, Probe, Status};
use _native::noise::noise;

mod common;
use common::read;

const OURS: [FileType; 6] = [
    FileType::Jpeg,
    FileType::Png,
    FileType::Gif,
    FileType::Bmp,
    FileType::Tiff,
    FileType::Riff,
];

// ---------------------------------------------------------------------------------------
// Files built by hand from the specifications.

fn le16(v: usize) -> [u8; 2] {
    (v as u16).to_le_bytes()
}

fn le32(v: usize) -> [u8; 4] {
    (v as u32).to_le_bytes()
}

/// GIF LZW codes packed least significant bit first, `width` bits each.
fn pack_codes(codes: &[usize], width: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in codes {
        acc |= (c as u32) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
    out
}

/// LZW data for 2-bit pixels (minimum code size 2: clear 4, end 5) that never grows the
/// code width past 3 bits: a clear code before every pair of literal pixels, so the
/// dictionary never reaches 8 entries.
fn lzw_literal(pixels: &[u8]) -> Vec<usize> {
    let mut codes = Vec::new();
    for pair in pixels.chunks(2) {
        codes.push(4);
        codes.extend(pair.iter().map(|&p| p as usize));
    }
    codes.push(5);
    codes
}

/// Image data as sub-blocks of at most `block` bytes, then the terminator.
fn sub_blocks(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(block) {
        out.push(piece.len() as u8);
        out.extend_from_slice(piece);
    }
    out.push(0);
    out
}

/// A GIF89a of `frames` images of `w` x `h` pixels with a 4-colour global table, a
/// looping application extension, a comment, and a graphic control block per frame.
fn gif_with(w: usize, h: usize, frames: usize, codes: impl Fn(usize) -> Vec<usize>, block: usize) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&le16(w));
    g.extend_from_slice(&le16(h));
    g.extend_from_slice(&[0x91, 0, 0]); // global table of 2^(1+1) colours; bg 0; no aspect
    g.extend_from_slice(&[0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    g.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
    g.extend_from_slice(b"\x21\xFE\x07quarry!\x00");
    for f in 0..frames {
        g.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]);
        g.push(0x2C);
        g.extend_from_slice(&[0, 0, 0, 0]);
        g.extend_from_slice(&le16(w));
        g.extend_from_slice(&le16(h));
        g.push(0); // no local table, not interlaced
        g.push(2); // LZW minimum code size
        g.extend_from_slice(&sub_blocks(&pack_codes(&codes(f), 3), block));
    }
    g.push(0x3B);
    g
}

fn gif_pixels(w: usize, h: usize, frame: usize) -> Vec<u8> {
    (0..w * h).map(|i| ((i * 7 + frame) % 4) as u8).collect()
}

/// A 3-frame 40x30 GIF whose data is split in sub-blocks of 200 bytes.
fn hand_gif() -> Vec<u8> {
    gif_with(40, 30, 3, |f| lzw_literal(&gif_pixels(40, 30, f)), 200)
}

/// A BMP file header and BITMAPINFOHEADER (40 bytes) for `pixels` bytes after `extra`
/// bytes of palette or masks.
fn bmp_headers(
    w: i32,
    h: i32,
    bpp: usize,
    compression: usize,
    extra: usize,
    pixels: usize,
    colours: usize,
) -> Vec<u8> {
    let offset = 14 + 40 + extra;
    let mut b = b"BM".to_vec();
    b.extend_from_slice(&le32(offset + pixels));
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&le32(offset));
    b.extend_from_slice(&le32(40));
    b.extend_from_slice(&w.to_le_bytes());
    b.extend_from_slice(&h.to_le_bytes());
    b.extend_from_slice(&le16(1));
    b.extend_from_slice(&le16(bpp));
    b.extend_from_slice(&le32(compression));
    b.extend_from_slice(&le32(pixels));
    b.extend_from_slice(&le32(2835));
    b.extend_from_slice(&le32(2835));
    b.extend_from_slice(&le32(colours));
    b.extend_from_slice(&le32(0));
    b
}

/// 24-bit, 50x30, bottom-up: rows of 150 bytes padded to 152.
fn bmp_24() -> Vec<u8> {
    let (w, h) = (50usize, 30usize);
    let row = (w * 3).div_ceil(4) * 4;
    let mut b = bmp_headers(w as i32, h as i32, 24, 0, 0, row * h, 0);
    b.extend((0..row * h).map(|i| (i % 251) as u8));
    b
}

/// 4-bit, 5x3, top-down, 16-colour palette: rows of 20 bits padded to 4 bytes.
fn bmp_4() -> Vec<u8> {
    let mut b = bmp_headers(5, -3, 4, 0, 64, 12, 0);
    b.extend((0..64).map(|i| i as u8));
    b.extend_from_slice(&[0x01, 0x23, 0x40, 0, 0x56, 0x78, 0x90, 0, 0xAB, 0xCD, 0xE0, 0]);
    b
}

/// RLE8, 4x2, two palette entries: a run, end of line, an absolute run, end of bitmap.
fn bmp_rle8() -> Vec<u8> {
    let codes = [4, 1, 0, 0, 0, 4, 1, 0, 0, 1, 0, 1];
    let mut b = bmp_headers(4, 2, 8, 1, 8, codes.len(), 2);
    b.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
    b.extend_from_slice(&codes);
    b
}

/// A little-endian TIFF laid out as libtiff writes it: pixels first, then the arrays
/// and values the IFD points at, the IFD last. 4x2 grey, one strip per row.
fn tiff_le() -> Vec<u8> {
    let mut t = b"II*\x00".to_vec();
    t.extend_from_slice(&le32(0)); // IFD offset, set below
    let strips = [t.len(), t.len() + 4];
    t.extend_from_slice(&[10, 20, 30, 40, 50, 60, 70, 80]);
    let offsets_at = t.len();
    t.extend_from_slice(&le32(strips[0]));
    t.extend_from_slice(&le32(strips[1]));
    let counts_at = t.len();
    t.extend_from_slice(&le32(4));
    t.extend_from_slice(&le32(4));
    let res_at = t.len();
    t.extend_from_slice(&le32(72));
    t.extend_from_slice(&le32(1));
    let ifd = t.len();
    t[4..8].copy_from_slice(&le32(ifd));
    let entries: [(u16, u16, usize, usize); 9] = [
        (256, 3, 1, 4),
        (257, 3, 1, 2),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 2, offsets_at),
        (278, 3, 1, 1),
        (279, 4, 2, counts_at),
        (282, 5, 1, res_at),
    ];
    t.extend_from_slice(&le16(entries.len()));
    for (tag, kind, count, value) in entries {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&le32(count));
        t.extend_from_slice(&le32(value));
    }
    t.extend_from_slice(&le32(0));
    t
}

fn be_entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
    t.extend_from_slice(&tag.to_be_bytes());
    t.extend_from_slice(&kind.to_be_bytes());
    t.extend_from_slice(&count.to_be_bytes());
    if kind == 3 && count == 1 {
        t.extend_from_slice(&(value as u16).to_be_bytes());
        t.extend_from_slice(&[0, 0]);
    } else {
        t.extend_from_slice(&value.to_be_bytes());
    }
}

/// A big-endian TIFF with IFDs first: page 1 (with an EXIF IFD), page 2, then the
/// pixels of both pages, the second page's last: the file ends with its strip.
fn tiff_be() -> Vec<u8> {
    let ifd0 = 8u32;
    let exif = ifd0 + 2 + 12 * 6 + 4;
    let ifd1 = exif + 2 + 12 + 4;
    let strip0 = ifd1 + 2 + 12 * 5 + 4;
    let strip1 = strip0 + 6;
    let mut t = b"MM\x00*".to_vec();
    t.extend_from_slice(&ifd0.to_be_bytes());
    t.extend_from_slice(&6u16.to_be_bytes());
    be_entry(&mut t, 256, 3, 1, 3);
    be_entry(&mut t, 257, 3, 1, 2);
    be_entry(&mut t, 258, 3, 1, 8);
    be_entry(&mut t, 273, 4, 1, strip0);
    be_entry(&mut t, 279, 4, 1, 6);
    be_entry(&mut t, 34665, 4, 1, exif);
    t.extend_from_slice(&ifd1.to_be_bytes());
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x9000u16.to_be_bytes()); // ExifVersion, UNDEFINED x4, inline
    t.extend_from_slice(&7u16.to_be_bytes());
    t.extend_from_slice(&4u32.to_be_bytes());
    t.extend_from_slice(b"0230");
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&5u16.to_be_bytes());
    be_entry(&mut t, 256, 3, 1, 2);
    be_entry(&mut t, 257, 3, 1, 2);
    be_entry(&mut t, 258, 3, 1, 8);
    be_entry(&mut t, 273, 4, 1, strip1);
    be_entry(&mut t, 279, 4, 1, 4);
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), strip0 as usize);
    t.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t
}

/// A RIFF chunk: id, size, data, and a pad byte when the size is odd.
fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&le32(body.len()));
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn riff(form: &[u8; 4], chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut r = b"RIFF".to_vec();
    r.extend_from_slice(&le32(4 + body.len()));
    r.extend_from_slice(form);
    r.extend_from_slice(&body);
    r
}

/// 16-bit stereo PCM at 8 kHz: block 4 bytes, 32000 bytes a second.
fn pcm_fmt() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&le16(1));
    f.extend_from_slice(&le16(2));
    f.extend_from_slice(&le32(8000));
    f.extend_from_slice(&le32(32000));
    f.extend_from_slice(&le16(4));
    f.extend_from_slice(&le16(16));
    f
}

/// A WAV with an INFO list (an odd-sized, padded entry), "fmt " and "data".
fn hand_wav() -> Vec<u8> {
    let info = [
        b"INFO".to_vec(),
        chunk(b"INAM", b"qrry\0"),
        chunk(b"ISFT", b"by hand\0"),
    ]
    .concat();
    let samples: Vec<u8> = (0..4000).map(|i| (i * 13 % 256) as u8).collect();
    riff(
        b"WAVE",
        &[
            chunk(b"LIST", &info),
            chunk(b"fmt ", &pcm_fmt()),
            chunk(b"data", &samples),
        ],
    )
}

/// A RIFF of a form no walker knows, two chunks.
fn hand_riff_other() -> Vec<u8> {
    riff(
        b"QRRY",
        &[chunk(b"head", b"quarry test"), chunk(b"body", &[7; 301])],
    )
}

fn hand_rmid() -> Vec<u8> {
    riff(
        b"RMID",
        &[chunk(b"data", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60")],
    )
}

/// PngSuite's exif2c08.png carries an EXIF block whose IFD1 gives a JPEG thumbnail at
/// TIFF offset 0x13A (byte 355 of the PNG) of 0x297 = 663 bytes (JPEGInterchangeFormat
/// and JPEGInterchangeFormatLength): a baseline, Huffman-coded JPEG.
fn pngsuite_thumbnail() -> Vec<u8> {
    let png = read("pngsuite/png/exif2c08.png");
    let thumb = png[355..355 + 663].to_vec();
    assert_eq!(
        (&thumb[..2], &thumb[661..]),
        (&[0xFF, 0xD8][..], &[0xFF, 0xD9][..])
    );
    thumb
}

/// A JPEG with an APP1 EXIF segment whose IFD1 holds a JPEG thumbnail, followed by the
/// frame of small/jpeg.jpg. Returns the file and where the thumbnail starts.
fn jpeg_with_thumbnail(thumb: &[u8]) -> (Vec<u8>, usize) {
    let mut tiff = b"MM\x00*".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    be_entry(&mut tiff, 0x0112, 3, 1, 1); // orientation
    let ifd1 = 8 + 2 + 12 + 4;
    tiff.extend_from_slice(&(ifd1 as u32).to_be_bytes());
    let thumb_at = ifd1 + 2 + 24 + 4;
    tiff.extend_from_slice(&2u16.to_be_bytes());
    be_entry(&mut tiff, 0x0201, 4, 1, thumb_at as u32);
    be_entry(&mut tiff, 0x0202, 4, 1, thumb.len() as u32);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), thumb_at);
    tiff.extend_from_slice(thumb);
    let payload = [b"Exif\x00\x00".to_vec(), tiff].concat();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    let start = jpeg.len() + 6 + thumb_at;
    jpeg.extend_from_slice(&payload);
    jpeg.extend_from_slice(&read("small/jpeg.jpg")[2..]);
    (jpeg, start)
}

// ---------------------------------------------------------------------------------------
// Scanning.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Carve {
    offset: usize,
    kind: FileType,
    len: usize,
    status: Status,
    subtype: Option<&'static str>,
}

/// Every carve of our types in `image`, scanned window by window (see
/// `common::scan_windowed`).
fn scan_windowed(carver: &Carver, image: &[u8], window: usize, overlap: usize) -> Vec<Carve> {
    common::scan_windowed(carver, image, window, overlap)
        .into_iter()
        .filter(|(_, kind, _)| OURS.contains(kind))
        .map(|(offset, kind, f)| Carve {
            offset,
            kind,
            len: f.len,
            status: f.status,
            subtype: f.subtype,
        })
        .collect()
}

fn scan_all(image: &[u8]) -> Vec<Carve> {
    scan_windowed(&Carver::new(), image, image.len(), 0)
}

/// Our carves at `offset` in `data`, scanned whole.
fn carves_at(data: &[u8], offset: usize, at_eof: bool) -> Vec<Carve> {
    let carver = Carver::new();
    carver
        .scan(data, 0, data.len(), at_eof)
        .into_iter()
        .filter(|h| h.offset as usize == offset && OURS.contains(&h.kind))
        .filter_map(|h| match h.outcome {
            Probe::Found(f) => Some(Carve {
                offset,
                kind: h.kind,
                len: f.len,
                status: f.status,
                subtype: f.subtype,
            }),
            _ => None,
        })
        .collect()
}

struct Planted {
    name: &'static str,
    offset: usize,
    len: usize,
    kind: FileType,
    subtype: Option<&'static str>,
}

/// Every whole file of our types: published samples and files built here.
fn fixtures() -> Vec<(&'static str, FileType, Option<&'static str>, Vec<u8>)> {
    let thumb = pngsuite_thumbnail();
    let (exif_jpeg, _) = jpeg_with_thumbnail(&thumb);
    let mut tiff_fixed = read("small/tiff.tif");
    tiff_fixed.extend_from_slice(&[0; 4]); // the next-IFD pointer the sample leaves out
    vec![
        ("gif.gif", FileType::Gif, None, read("small/gif.gif")),
        (
            "gif-transparent.gif",
            FileType::Gif,
            None,
            read("small/gif-transparent.gif"),
        ),
        ("hand gif", FileType::Gif, None, hand_gif()),
        ("bmp.bmp", FileType::Bmp, None, read("small/bmp.bmp")),
        ("bmp 24-bit", FileType::Bmp, None, bmp_24()),
        ("bmp 4-bit", FileType::Bmp, None, bmp_4()),
        ("bmp rle8", FileType::Bmp, None, bmp_rle8()),
        ("tiff.tif + pointer", FileType::Tiff, None, tiff_fixed),
        ("tiff le", FileType::Tiff, None, tiff_le()),
        ("tiff be", FileType::Tiff, None, tiff_be()),
        ("webp.webp", FileType::Riff, Some("webp"), read("small/webp.webp")),
        ("wav.wav", FileType::Riff, Some("wav"), read("small/wav.wav")),
        (
            "avi",
            FileType::Riff,
            Some("avi"),
            read("small/AudioVideoInterleave.avi"),
        ),
        ("hand wav", FileType::Riff, Some("wav"), hand_wav()),
        ("hand rmid", FileType::Riff, Some("rmid"), hand_rmid()),
        ("hand riff", FileType::Riff, None, hand_riff_other()),
        ("jpeg.jpg", FileType::Jpeg, None, read("small/jpeg.jpg")),
        ("pngsuite thumbnail", FileType::Jpeg, None, thumb),
        ("jpeg with exif", FileType::Jpeg, None, exif_jpeg),
        (
            "png-transparent.png",
            FileType::Png,
            None,
            read("small/png-transparent.png"),
        ),
        (
            "basn2c08.png",
            FileType::Png,
            None,
            read("pngsuite/png/basn2c08.png"),
        ),
        (
            "basi3p04.png",
            FileType::Png,
            None,
            read("pngsuite/png/basi3p04.png"),
        ),
    ]
}

/// Noise with every fixture planted at odd offsets, many of them across a 4 KiB edge.
fn planted_image() -> (Vec<u8>, Vec<Planted>) {
    let mut image = noise(1 << 20, 21);
    let mut planted = Vec::new();
    let mut cursor = 777;
    for (i, (name, kind, subtype, bytes)) in fixtures().into_iter().enumerate() {
        // Every other file straddles the next 4 KiB boundary.
        let offset = if i % 2 == 0 {
            let edge = (cursor / 4096 + 1) * 4096;
            edge - (bytes.len() / 2).max(1) - (i % 3)
        } else {
            cursor + (i * 53) % 389
        };
        let offset = offset.max(cursor) | 1;
        image[offset..offset + bytes.len()].copy_from_slice(&bytes);
        planted.push(Planted {
            name,
            offset,
            len: bytes.len(),
            kind,
            subtype,
        });
        cursor = offset + bytes.len() + 1000;
    }
    assert!(cursor < image.len());
    (image, planted)
}

// ---------------------------------------------------------------------------------------
// Whole files.

#[test]
fn every_planted_file_is_found_once_whole_at_any_window_size() {
    let (image, planted) = planted_image();
    let carver = Carver::new();
    for (window, overlap) in [(image.len(), 0), (4096, 0), (4096, 64), (1000, 16), (1 << 16, 8)] {
        let found = scan_windowed(&carver, &image, window, overlap);
        for p in &planted {
            let hits: Vec<_> = found.iter().filter(|c| c.offset == p.offset).collect();
            assert_eq!(
                hits.len(),
                1,
                "window {window}: {} at {} found {hits:?}",
                p.name,
                p.offset
            );
            assert_eq!(
                (hits[0].kind, hits[0].len, hits[0].status, hits[0].subtype),
                (p.kind, p.len, Status::Complete, p.subtype),
                "window {window}: {}",
                p.name
            );
        }
        // Nothing else whole but the thumbnail inside the EXIF JPEG (and nothing of ours
        // at all outside the planted files).
        for c in &found {
            if planted.iter().any(|p| p.offset == c.offset) {
                continue;
            }
            let parent = planted
                .iter()
                .find(|p| p.offset < c.offset && c.offset < p.offset + p.len)
                .unwrap_or_else(|| panic!("window {window}: carve in the noise {c:?}"));
            assert_eq!(
                (parent.name, c.kind, c.len, c.status),
                ("jpeg with exif", FileType::Jpeg, 663, Status::Complete)
            );
        }
    }
}

#[test]
fn exif_thumbnail_is_carved_on_its_own_and_the_outer_jpeg_whole() {
    let thumb = pngsuite_thumbnail();
    let (jpeg, thumb_at) = jpeg_with_thumbnail(&thumb);
    let mut image = noise(jpeg.len() + 3000, 5);
    let at = 1001;
    image[at..at + jpeg.len()].copy_from_slice(&jpeg);
    let found = scan_all(&image);
    let expect = |offset: usize, len: usize| Carve {
        offset,
        kind: FileType::Jpeg,
        len,
        status: Status::Complete,
        subtype: None,
    };
    // The EXIF block is TIFF-shaped but holds no image data: not a TIFF.
    assert_eq!(
        found,
        vec![expect(at, jpeg.len()), expect(at + thumb_at, thumb.len())]
    );
}

#[test]
fn small_tiff_sample_lacks_its_next_ifd_pointer_and_is_truncated_at_its_length() {
    // small/tiff.tif is 46 bytes: header, one IFD of three entries, and no 4-byte
    // pointer to the next IFD that every IFD ends with.
    let tiff = read("small/tiff.tif");
    assert_eq!(tiff.len(), 8 + 2 + 3 * 12);
    let mut image = noise(4000, 8);
    image[333..333 + tiff.len()].copy_from_slice(&tiff);
    let found = carves_at(&image, 333, true);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].len, found[0].status), (46, Status::Truncated));
    let alone = carves_at(&tiff, 0, true);
    assert_eq!((alone[0].len, alone[0].status), (46, Status::Truncated));
}

// ---------------------------------------------------------------------------------------
// Cut and corrupted files.

/// Where a JPEG's last scan's entropy-coded data starts, and where its EOI is.
fn last_scan(jpeg: &[u8]) -> (usize, usize) {
    let sos = jpeg.windows(2).rposition(|w| w == [0xFF, 0xDA]).expect("SOS");
    let len = u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]) as usize;
    (sos + 2 + len, jpeg.len() - 2)
}

/// A cut copy followed by random bytes: never whole unless the random bytes happen to
/// rebuild the file; when cut, no longer than the cut. A JPEG cut inside entropy-coded
/// data keeps its partial scan, which runs on to the first byte pair in the noise that
/// is a marker (0xFF then neither 0x00 nor a restart): no further.
fn assert_cut_not_complete(name: &str, file: &[u8], kind: FileType, cut: usize, seed: u64) {
    let at = 513;
    let mut image = noise(at + file.len() + 4096, seed);
    image[at..at + cut].copy_from_slice(&file[..cut]);
    let mut bound = cut;
    if kind == FileType::Jpeg {
        let (start, eoi) = last_scan(file);
        if (start..=eoi + 1).contains(&cut) {
            // From the last byte kept: an 0xFF there pairs with the first random byte.
            let tail = &image[at + cut - 1..];
            bound = cut - 1
                + tail
                    .windows(2)
                    .position(|w| w[0] == 0xFF && !matches!(w[1], 0x00 | 0xD0..=0xD7))
                    .expect("a marker in the noise");
        }
    }
    for c in carves_at(&image, at, true).into_iter().filter(|c| c.kind == kind) {
        match c.status {
            Status::Complete => assert_eq!(
                &image[at..at + c.len],
                file,
                "{name} cut at {cut} (seed {seed}) carved complete: {c:?}"
            ),
            Status::Truncated => assert!(c.len <= bound, "{name} cut at {cut} (seed {seed}): {c:?}"),
            Status::Damaged => {}
        }
    }
}

#[test]
fn files_with_an_end_marker_or_checksums_cut_and_followed_by_noise_are_never_complete() {
    let thumb = pngsuite_thumbnail();
    let files: Vec<(&str, FileType, Vec<u8>)> = vec![
        (
            "gif-transparent",
            FileType::Gif,
            read("small/gif-transparent.gif"),
        ),
        ("hand gif", FileType::Gif, hand_gif()),
        ("jpeg.jpg", FileType::Jpeg, read("small/jpeg.jpg")),
        ("thumbnail", FileType::Jpeg, thumb.clone()),
        ("jpeg with exif", FileType::Jpeg, jpeg_with_thumbnail(&thumb).0),
        (
            "png-transparent",
            FileType::Png,
            read("small/png-transparent.png"),
        ),
        ("basn2c08", FileType::Png, read("pngsuite/png/basn2c08.png")),
        ("basi3p04", FileType::Png, read("pngsuite/png/basi3p04.png")),
    ];
    for (name, kind, file) in &files {
        let step = (file.len() / 97).max(1);
        for cut in (6..file.len())
            .step_by(step)
            .chain([file.len() - 1, file.len() - 2])
        {
            for seed in [1, 2, 3] {
                assert_cut_not_complete(name, file, *kind, cut, seed);
            }
        }
    }
}

#[test]
fn files_cut_by_the_end_of_the_image_are_truncated_with_what_is_missing() {
    // (name, file, kind, bytes of header needed to know it at all, whether the
    // structure records the whole size, so the walker can say how much is missing)
    let files: Vec<(&str, Vec<u8>, FileType, usize, bool)> = vec![
        ("bmp 24-bit", bmp_24(), FileType::Bmp, 54, true),
        ("bmp.bmp", read("small/bmp.bmp"), FileType::Bmp, 26, true),
        ("hand wav", hand_wav(), FileType::Riff, 12, true),
        (
            "avi",
            read("small/AudioVideoInterleave.avi"),
            FileType::Riff,
            12,
            true,
        ),
        ("tiff be", tiff_be(), FileType::Tiff, 86, false),
        ("hand gif", hand_gif(), FileType::Gif, 30, false),
        (
            "basn2c08",
            read("pngsuite/png/basn2c08.png"),
            FileType::Png,
            33,
            false,
        ),
        ("thumbnail", pngsuite_thumbnail(), FileType::Jpeg, 300, false),
    ];
    for (name, file, kind, header, records_size) in files {
        for cut in [file.len() - 1, file.len() - 3, file.len() * 3 / 4, file.len() / 2] {
            if cut < header {
                continue;
            }
            let mut image = noise(700, 4);
            image.extend_from_slice(&file[..cut]);
            let found = carves_at(&image, 700, true);
            let c = found
                .iter()
                .find(|c| c.kind == kind)
                .unwrap_or_else(|| panic!("{name} cut at {cut}: nothing carved"));
            assert_eq!(c.status, Status::Truncated, "{name} cut at {cut}: {c:?}");
            assert!(c.len <= cut, "{name} cut at {cut}: {c:?}");
            if records_size {
                let hit = Carver::new().carve_at(&file[..cut], kind, true);
                assert_eq!(
                    hit.found().map(|f| (f.len, f.missing)),
                    Some((cut, Some((file.len() - cut) as u64))),
                    "{name} cut at {cut}"
                );
            }
        }
    }
    // A TIFF laid out with its directory last: cut inside the directory, nothing is
    // left to know it by; cut in the pointer to a next directory, the file ends before it.
    let tiff = tiff_le();
    assert_eq!(carve_alone(&tiff[..tiff.len() - 20], FileType::Tiff), None);
    assert_eq!(
        carve_alone(&tiff[..tiff.len() - 1], FileType::Tiff),
        Some((Status::Truncated, tiff.len() - 4))
    );
    // One whose directories come first says how much of its last strip is missing.
    let tiff = tiff_be();
    let f = Carver::new().carve_at(&tiff[..tiff.len() - 3], FileType::Tiff, true);
    assert_eq!(
        f.found().map(|f| (f.status, f.len, f.missing)),
        Some((Status::Truncated, tiff.len() - 3, Some(3)))
    );
}

/// Carve `file` alone (at the end of the image) and return its status and length.
fn carve_alone(file: &[u8], kind: FileType) -> Option<(Status, usize)> {
    Carver::new()
        .carve_at(file, kind, true)
        .found()
        .map(|f| (f.status, f.len))
}

#[test]
fn a_png_chunk_with_a_bad_crc_inside_a_whole_file_is_damaged_at_full_length() {
    let png = read("pngsuite/png/basn2c08.png");
    // Flip a byte well inside the first IDAT's data (its length and type come first).
    let idat = png.windows(4).position(|w| w == b"IDAT").expect("IDAT") - 4;
    let mut bad = png.clone();
    bad[idat + 8 + 20] ^= 0x40;
    assert_eq!(
        carve_alone(&bad, FileType::Png),
        Some((Status::Damaged, png.len()))
    );
    // The same followed by noise: still the full length, still damaged.
    let mut image = noise(png.len() + 2000, 9);
    image[101..101 + png.len()].copy_from_slice(&bad);
    let c = carves_at(&image, 101, true);
    assert_eq!((c[0].status, c[0].len), (Status::Damaged, png.len()));
}

#[test]
fn corrupt_pngsuite_files_get_the_status_their_damage_calls_for() {
    // PngSuite documents each x* file's defect.
    let expected: [(&str, Option<Status>); 14] = [
        ("xs1n0g01", None),                  // signature byte 1 MSBit reset: no PNG
        ("xs2n0g01", None),                  // signature byte 2 is a 'Q'
        ("xs4n0g01", None),                  // signature byte 4 lowercase
        ("xs7n0g01", None),                  // 7th byte a space instead of control-Z
        ("xcrn0g04", None),                  // added cr bytes (signature altered)
        ("xlfn0g04", None),                  // added lf bytes (signature altered)
        ("xhdn0g08", Some(Status::Damaged)), // incorrect IHDR checksum
        ("xc1n0g08", Some(Status::Damaged)), // colour type 1
        ("xc9n2c08", Some(Status::Damaged)), // colour type 9
        ("xd0n2c08", Some(Status::Damaged)), // bit-depth 0
        ("xd3n2c08", Some(Status::Damaged)), // bit-depth 3
        ("xd9n2c08", Some(Status::Damaged)), // bit-depth 99
        ("xdtn0g01", Some(Status::Damaged)), // missing IDAT chunk
        ("xcsn0g01", Some(Status::Damaged)), // incorrect IDAT checksum
    ];
    for (name, status) in expected {
        let data = read(&format!("pngsuite/png/{name}.png"));
        let found = carves_at(&data, 0, true);
        let got = found.iter().find(|c| c.kind == FileType::Png);
        assert_eq!(got.map(|c| c.status), status, "{name}");
        if let Some(c) = got {
            assert_eq!(c.len, data.len(), "{name}: the structure reaches IEND");
        }
    }
}

#[test]
fn a_gif_whose_codes_do_not_make_its_pixels_is_damaged() {
    let (w, h) = (40, 30);
    // One pixel short of width x height.
    let short = gif_with(w, h, 1, |f| lzw_literal(&gif_pixels(w, h, f)[1..]), 255);
    assert_eq!(
        carve_alone(&short, FileType::Gif),
        Some((Status::Damaged, short.len()))
    );
    // A code naming no dictionary entry: right after a clear code only literals (0..3)
    // may come; 6 is the first entry the decoder has not made yet.
    let unknown = gif_with(w, h, 1, |_| vec![4, 6, 5], 255);
    assert_eq!(
        carve_alone(&unknown, FileType::Gif),
        Some((Status::Damaged, unknown.len()))
    );
    // And the same GIF whole.
    let whole = gif_with(w, h, 1, |f| lzw_literal(&gif_pixels(w, h, f)), 255);
    assert_eq!(
        carve_alone(&whole, FileType::Gif),
        Some((Status::Complete, whole.len()))
    );
}

#[test]
fn a_jpeg_whose_scan_does_not_decode_or_whose_tables_do_not_fill_their_segment_is_damaged() {
    let thumb = pngsuite_thumbnail();
    assert_eq!(
        carve_alone(&thumb, FileType::Jpeg),
        Some((Status::Complete, thumb.len()))
    );
    // Entropy-coded data after the SOS header (FF DA at 0x263 of the thumbnail's PNG
    // offset 0x3C4 - 355 = 609, length 12): replace a stretch with zero bytes, which
    // are valid entropy-coded bytes but not this scan's blocks.
    let sos = 0x3C4 - 355;
    assert_eq!(&thumb[sos..sos + 2], &[0xFF, 0xDA]);
    let mut zeros = thumb.clone();
    zeros[sos + 14..sos + 30].fill(0);
    assert_eq!(
        carve_alone(&zeros, FileType::Jpeg),
        Some((Status::Damaged, thumb.len()))
    );
    // First DQT (at 0x177 - 355 = 20, length 0x43 = one 8-bit table): claim 16-bit
    // entries, so the table no longer fits the segment.
    let dqt = 0x177 - 355;
    assert_eq!(&thumb[dqt..dqt + 5], &[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    let mut table = thumb.clone();
    table[dqt + 4] = 0x10;
    assert_eq!(
        carve_alone(&table, FileType::Jpeg),
        Some((Status::Damaged, thumb.len()))
    );
}

#[test]
fn riff_damage_and_form_checks() {
    // A chunk that claims more bytes than its list holds: the sizes disagree.
    let info = [b"INFO".to_vec(), chunk(b"INAM", b"qrry\0")].concat();
    let mut wav = riff(
        b"WAVE",
        &[
            chunk(b"LIST", &info),
            chunk(b"fmt ", &pcm_fmt()),
            chunk(b"data", &[1; 64]),
        ],
    );
    // RIFF header (12), LIST header (8), "INFO" (4), then INAM's id and size.
    assert_eq!(&wav[24..28], b"INAM");
    wav[28..32].copy_from_slice(&le32(40));
    let len = wav.len();
    assert_eq!(carve_alone(&wav, FileType::Riff), Some((Status::Damaged, len)));
    // A WAVE with no "fmt " chunk.
    let no_fmt = riff(b"WAVE", &[chunk(b"data", &[1; 64])]);
    assert_eq!(
        carve_alone(&no_fmt, FileType::Riff),
        Some((Status::Damaged, no_fmt.len()))
    );
    // A WEBP that starts with no image chunk is no WebP.
    let not_webp = riff(b"WEBP", &[chunk(b"EXIF", &[1; 20])]);
    assert_eq!(carve_alone(&not_webp, FileType::Riff), None);
    // A lossless WebP whose signature byte is wrong.
    let mut webp = read("small/webp.webp");
    assert_eq!(&webp[12..16], b"VP8L");
    webp[20] = 0x2E;
    assert_eq!(
        carve_alone(&webp, FileType::Riff),
        Some((Status::Damaged, webp.len()))
    );
    // A chunk id that is not text where a chunk must start: cut there.
    let mut cut = hand_wav();
    let data_at = cut.windows(4).position(|w| w == b"data").expect("data chunk");
    cut[data_at] = 0x01;
    let declared = cut.len();
    let c = Carver::new().carve_at(&cut, FileType::Riff, true);
    let f = c.found().expect("found");
    assert_eq!(
        (f.status, f.len, f.missing),
        (Status::Truncated, data_at, Some((declared - data_at) as u64))
    );
}

#[test]
fn an_avi_takes_in_the_avix_riffs_after_it_and_they_are_never_carved_alone() {
    let avi = read("small/AudioVideoInterleave.avi");
    let movi = [b"movi".to_vec(), chunk(b"00dc", &[9; 33])].concat();
    let avix = riff(b"AVIX", &[chunk(b"LIST", &movi)]);
    let whole = [avi.clone(), avix.clone()].concat();
    let mut image = noise(whole.len() + 5000, 12);
    image[2047..2047 + whole.len()].copy_from_slice(&whole);
    for window in [image.len(), 4096, 1000] {
        let found = scan_windowed(&Carver::new(), &image, window, 0);
        assert_eq!(
            found,
            vec![Carve {
                offset: 2047,
                kind: FileType::Riff,
                len: whole.len(),
                status: Status::Complete,
                subtype: Some("avi")
            }],
            "window {window}"
        );
    }
}

#[test]
fn tiff_loops_and_disagreeing_strip_counts_are_damaged() {
    // The big-endian TIFF's second page points back at the first.
    let mut looped = tiff_be();
    let ifd1_next = 8 + 2 + 12 * 6 + 4 + 2 + 12 + 4 + 2 + 12 * 5;
    assert_eq!(&looped[ifd1_next..ifd1_next + 4], &[0, 0, 0, 0]);
    looped[ifd1_next..ifd1_next + 4].copy_from_slice(&8u32.to_be_bytes());
    assert_eq!(
        carve_alone(&looped, FileType::Tiff).map(|c| c.0),
        Some(Status::Damaged)
    );
    // Two strip offsets but three byte counts.
    let mut counts = tiff_le();
    let ifd = u32::from_le_bytes(counts[4..8].try_into().unwrap()) as usize;
    let entry = ifd + 2 + 12 * 7; // StripByteCounts
    assert_eq!(&counts[entry..entry + 2], &279u16.to_le_bytes());
    counts[entry + 4..entry + 8].copy_from_slice(&le32(3));
    assert_eq!(
        carve_alone(&counts, FileType::Tiff).map(|c| c.0),
        Some(Status::Damaged)
    );
}

#[test]
fn a_run_length_bmp_without_its_end_of_bitmap_code_is_damaged() {
    let good = bmp_rle8();
    assert_eq!(
        carve_alone(&good, FileType::Bmp),
        Some((Status::Complete, good.len()))
    );
    let mut bad = good.clone();
    let n = bad.len();
    assert_eq!(&bad[n - 2..], &[0, 1]); // end of bitmap
    bad[n - 1] = 0; // an end of line instead
    assert_eq!(carve_alone(&bad, FileType::Bmp), Some((Status::Damaged, n)));
}

#[test]
fn bmp_headers_that_disagree_are_rejected() {
    let good = bmp_24();
    assert_eq!(
        carve_alone(&good, FileType::Bmp),
        Some((Status::Complete, good.len()))
    );
    let mut reserved = good.clone();
    reserved[7] = 1;
    let mut small = good.clone();
    small[2..6].copy_from_slice(&le32(good.len() - 10)); // pixels no longer fit
    let mut planes = good.clone();
    planes[26] = 2;
    let mut depth = good.clone();
    depth[28] = 23;
    let mut rle_depth = good.clone();
    rle_depth[30] = 1; // RLE8 with 24 bits a pixel
    let mut offset = good.clone();
    offset[10] = 20; // pixels inside the headers
    for (what, bad) in [
        ("reserved", reserved),
        ("size", small),
        ("planes", planes),
        ("depth", depth),
        ("rle depth", rle_depth),
        ("offset", offset),
    ] {
        assert_eq!(carve_alone(&bad, FileType::Bmp), None, "{what}");
    }
}

// ---------------------------------------------------------------------------------------
// Random data.

#[test]
fn sixteen_mib_of_noise_hold_no_image() {
    let image = noise(16 << 20, 0x5EED);
    let found = scan_windowed(&Carver::new(), &image, 1 << 20, 64);
    assert_eq!(found, vec![], "carves in pure noise");
}

#[test]
fn signatures_planted_in_noise_never_make_a_whole_file() {
    let signatures: [&[u8]; 9] = [
        b"\xFF\xD8\xFF",
        b"\x89PNG\r\n\x1a\n",
        b"GIF87a",
        b"GIF89a",
        b"BM",
        b"II*\x00",
        b"MM\x00*",
        b"RIFF",
        // A WAV header with a fmt chunk of random size: a damaged WAV at best.
        b"RIFF\x00\x10\x00\x00WAVEfmt ",
    ];
    let mut image = noise(4 << 20, 77);
    let mut at = 100;
    let mut planted = Vec::new();
    while at + 64 < image.len() {
        let sig = signatures[planted.len() % signatures.len()];
        image[at..at + sig.len()].copy_from_slice(sig);
        planted.push((at, sig.len()));
        at += 1000 + planted.len() % 37;
    }
    for window in [image.len(), 4096] {
        let found = scan_windowed(&Carver::new(), &image, window, 32);
        let complete: Vec<_> = found.iter().filter(|c| c.status == Status::Complete).collect();
        assert_eq!(complete, Vec::<&Carve>::new(), "window {window}");
        // Bare signatures followed by random bytes are nearly all rejected outright.
        let bare = found
            .iter()
            .filter(|c| planted.iter().any(|&(at, len)| at == c.offset && len < 16))
            .count();
        assert!(
            bare * 200 < planted.len(),
            "window {window}: {bare} carves of {} signatures",
            planted.len()
        );
    }
}

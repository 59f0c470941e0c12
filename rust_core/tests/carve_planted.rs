//! The carver against files planted at known offsets in pseudo-random bytes: published
//! PNGs (PngSuite) and a JPEG (shared/testdata/small), plus a PDF and a ZIP assembled
//! here byte by byte. Every intact file must come back once, with its exact length,
//! whatever the window size the image is scanned in.

use _native::carve::{Carver, FileType, Probe, Status};
use _native::noise::noise;

mod common;
use common::{read, testdata};

/// A one-page PDF whose startxref is the real offset of its xref table.
fn tiny_pdf() -> Vec<u8> {
    let body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n";
    let mut pdf = body.to_vec();
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n");
    pdf.extend_from_slice(format!("trailer<</Size 3/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    pdf
}

/// A stored (uncompressed) two-member ZIP, laid out per APPNOTE.
fn tiny_zip() -> Vec<u8> {
    let members: [(&[u8], &[u8]); 2] = [(b"a.txt", b"hello quarry"), (b"b.txt", b"PK\x03\x04 inside data")];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let crc = crc32fast::hash(data);
        let local = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&local.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x02\x00\x02\x00");
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

struct Planted {
    offset: usize,
    len: usize,
    kind: FileType,
}

/// Noise with every fixture planted at a growing, deliberately unaligned offset.
fn planted_image() -> (Vec<u8>, Vec<Planted>) {
    let mut files: Vec<(FileType, Vec<u8>)> = vec![
        (FileType::Jpeg, read("small/jpeg.jpg")),
        (FileType::Pdf, tiny_pdf()),
        (FileType::Zip, tiny_zip()),
    ];
    let mut pngs: Vec<_> = std::fs::read_dir(testdata("pngsuite/png"))
        .expect("pngsuite folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().to_string();
            name.ends_with(".png") && !name.starts_with('x')
        })
        .collect();
    pngs.sort();
    for p in pngs {
        files.push((FileType::Png, std::fs::read(p).expect("png")));
    }
    let mut image = noise(1 << 20, 7);
    let mut planted = Vec::new();
    let mut cursor = 1000;
    for (i, (kind, bytes)) in files.into_iter().enumerate() {
        let offset = cursor + (i * 37) % 511;
        if image.len() < offset + bytes.len() + 4096 {
            image.resize(offset + bytes.len() + 4096, 0x5A);
        }
        image[offset..offset + bytes.len()].copy_from_slice(&bytes);
        planted.push(Planted {
            offset,
            len: bytes.len(),
            kind,
        });
        cursor = offset + bytes.len() + 1500;
    }
    (image, planted)
}

/// (offset, length, type, status) of each carve, scanned window by window.
fn scan_windowed(
    carver: &Carver,
    image: &[u8],
    window: usize,
    overlap: usize,
) -> Vec<(usize, usize, FileType, Status)> {
    common::scan_windowed(carver, image, window, overlap)
        .into_iter()
        .map(|(at, kind, f)| (at, f.len, kind, f.status))
        .collect()
}

#[test]
fn every_planted_file_is_found_once_at_any_window_size() {
    let (image, planted) = planted_image();
    let carver = Carver::new();
    for (window, overlap) in [
        (image.len(), 0),
        (1 << 16, 8),
        (4096, 0),
        (1000, 16),
        (1 << 18, 1 << 12),
    ] {
        let found = scan_windowed(&carver, &image, window, overlap);
        for p in &planted {
            let hits: Vec<_> = found.iter().filter(|f| f.0 == p.offset).collect();
            assert_eq!(
                hits.len(),
                1,
                "window {window}: {:?} at {} found {} times",
                p.kind,
                p.offset,
                hits.len()
            );
            assert_eq!(
                (hits[0].1, hits[0].2, hits[0].3),
                (p.len, p.kind, Status::Complete),
                "window {window} at {}",
                p.offset
            );
        }
        let extra: Vec<_> = found
            .iter()
            .filter(|f| f.3 == Status::Complete && !planted.iter().any(|p| p.offset == f.0))
            .collect();
        // PngSuite's exif2c08.png carries a JPEG thumbnail in its eXIf chunk (at byte 355):
        // the only complete carve allowed besides the planted files, nested in its parent.
        let exif = planted
            .iter()
            .find(|p| p.len == 1788 && p.kind == FileType::Png)
            .expect("exif2c08");
        assert_eq!(extra.len(), 1, "window {window}: unexpected carves {extra:?}");
        assert_eq!((extra[0].0, extra[0].2), (exif.offset + 355, FileType::Jpeg));
    }
}

#[test]
fn a_file_crossing_a_window_edge_is_recovered_whole_by_its_header_window() {
    let (image, planted) = planted_image();
    let carver = Carver::new();
    let big = planted.iter().max_by_key(|p| p.len).expect("fixtures");
    let window = big.offset + big.len / 2; // the edge falls inside the largest file
    let found = scan_windowed(&carver, &image, window, 0);
    let hits: Vec<_> = found.iter().filter(|f| f.0 == big.offset).collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].1, big.len);
}

#[test]
fn truncated_png_is_reported_truncated_not_complete() {
    let png = read("pngsuite/png/basn2c08.png");
    let mut image = noise(8192, 3);
    let cut = png.len() - 40;
    image[100..100 + cut].copy_from_slice(&png[..cut]);
    let hits = Carver::new().scan(&image, 0, image.len(), true);
    let png_hits: Vec<_> = hits.iter().filter(|h| h.kind == FileType::Png).collect();
    assert_eq!(png_hits.len(), 1);
    assert!(matches!(png_hits[0].outcome, Probe::Found(f) if f.status == Status::Truncated && f.len <= cut));
}

#[test]
fn corrupt_pngsuite_files_are_never_complete() {
    // PngSuite's x* files: bad signatures and bad CRCs must not pass as whole PNGs.
    for name in [
        "xs1n0g01", "xs2n0g01", "xs4n0g01", "xs7n0g01", "xcrn0g04", "xlfn0g04", "xhdn0g08", "xcsn0g01",
    ] {
        let data = read(&format!("pngsuite/png/{name}.png"));
        let hits = Carver::new().scan(&data, 0, data.len(), true);
        assert!(
            hits.iter()
                .all(|h| h.outcome.found().map(|f| f.status) != Some(Status::Complete)),
            "{name} carved as a complete PNG"
        );
    }
}

#[test]
fn header_at_end_of_data_asks_for_more_then_is_dropped_at_the_cap() {
    let jpeg = read("small/jpeg.jpg");
    let carver = Carver::new();
    let hits = carver.scan(&jpeg[..40], 0, 40, false);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].outcome, Probe::NeedMore);
    assert_eq!(
        carver
            .carve_at(&jpeg, FileType::Jpeg, false)
            .found()
            .map(|f| (f.len, f.status)),
        Some((jpeg.len(), Status::Complete))
    );
}

#[test]
fn inner_zip_members_are_neither_carved_nor_sent_for_rereads() {
    let zip = tiny_zip();
    let mut data = noise(4096, 11);
    data[300..300 + zip.len()].copy_from_slice(&zip);
    // Not at the image's end: a member header that wanted more data would come back NeedMore.
    let hits = Carver::new().scan(&data, 0, data.len(), false);
    let zips: Vec<_> = hits.iter().filter(|h| h.kind == FileType::Zip).collect();
    assert_eq!(zips.len(), 1, "{zips:?}");
    assert_eq!(zips[0].offset, 300);
    assert_eq!(
        zips[0].outcome.found().map(|f| (f.len, f.status)),
        Some((zip.len(), Status::Complete))
    );
}

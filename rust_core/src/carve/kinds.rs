//! The file types the carver knows: names, signatures, size caps, and which walker
//! validates each one.

use super::{
    bmp, elf, evtx, gif, gzip, html, jpeg, lnk, mail, mp3, mp4, ole, pdf, pe, png, rar, regf, riff, sevenzip,
    sqlite, tiff, zip, Probe,
};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// File types the carver recognises. The discriminant indexes per-type tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileType {
    Jpeg,
    Png,
    Gif,
    Bmp,
    Tiff,
    Riff,
    Pdf,
    Zip,
    Gzip,
    SevenZip,
    Rar,
    Sqlite,
    Mp4,
    Mp3,
    Elf,
    Pe,
    Ole,
    Evtx,
    Regf,
    Lnk,
    Mbox,
    Eml,
    Html,
}

impl FileType {
    pub const ALL: [FileType; 23] = [
        FileType::Jpeg,
        FileType::Png,
        FileType::Gif,
        FileType::Bmp,
        FileType::Tiff,
        FileType::Riff,
        FileType::Pdf,
        FileType::Zip,
        FileType::Gzip,
        FileType::SevenZip,
        FileType::Rar,
        FileType::Sqlite,
        FileType::Mp4,
        FileType::Mp3,
        FileType::Elf,
        FileType::Pe,
        FileType::Ole,
        FileType::Evtx,
        FileType::Regf,
        FileType::Lnk,
        FileType::Mbox,
        FileType::Eml,
        FileType::Html,
    ];

    pub const COUNT: usize = FileType::ALL.len();

    pub fn name(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Gif => "gif",
            FileType::Bmp => "bmp",
            FileType::Tiff => "tiff",
            FileType::Riff => "riff",
            FileType::Pdf => "pdf",
            FileType::Zip => "zip",
            FileType::Gzip => "gzip",
            FileType::SevenZip => "7z",
            FileType::Rar => "rar",
            FileType::Sqlite => "sqlite",
            FileType::Mp4 => "mp4",
            FileType::Mp3 => "mp3",
            FileType::Elf => "elf",
            FileType::Pe => "pe",
            FileType::Ole => "ole",
            FileType::Evtx => "evtx",
            FileType::Regf => "regf",
            FileType::Lnk => "lnk",
            FileType::Mbox => "mbox",
            FileType::Eml => "eml",
            FileType::Html => "html",
        }
    }

    pub fn from_name(name: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Default largest file carved of this type: bounds memory per carve.
    pub fn default_max_len(self) -> usize {
        match self {
            FileType::Jpeg | FileType::Png | FileType::Gif => 32 * MIB,
            FileType::Bmp | FileType::Tiff => 64 * MIB,
            FileType::Riff | FileType::Mp4 => 256 * MIB,
            FileType::Pdf | FileType::Gzip | FileType::Sqlite => 128 * MIB,
            FileType::Zip | FileType::SevenZip | FileType::Rar => 256 * MIB,
            FileType::Mp3 => 32 * MIB,
            FileType::Elf | FileType::Pe | FileType::Ole => 128 * MIB,
            FileType::Evtx | FileType::Regf => 256 * MIB,
            FileType::Lnk => 64 * KIB,
            FileType::Mbox => 256 * MIB,
            FileType::Eml => 64 * MIB,
            FileType::Html => 16 * MIB,
        }
    }

    /// Walk the structure of a file of this type whose first byte is `data[0]`.
    pub(crate) fn probe(self, data: &[u8], at_eof: bool, max_len: usize) -> Probe {
        let walk = match self {
            FileType::Jpeg => jpeg::probe,
            FileType::Png => png::probe,
            FileType::Gif => gif::probe,
            FileType::Bmp => bmp::probe,
            FileType::Tiff => tiff::probe,
            FileType::Riff => riff::probe,
            FileType::Pdf => pdf::probe,
            FileType::Zip => zip::probe,
            FileType::Gzip => gzip::probe,
            FileType::SevenZip => sevenzip::probe,
            FileType::Rar => rar::probe,
            FileType::Sqlite => sqlite::probe,
            FileType::Mp4 => mp4::probe,
            FileType::Mp3 => mp3::probe,
            FileType::Elf => elf::probe,
            FileType::Pe => pe::probe,
            FileType::Ole => ole::probe,
            FileType::Evtx => evtx::probe,
            FileType::Regf => regf::probe,
            FileType::Lnk => lnk::probe,
            FileType::Mbox => mail::probe_mbox,
            FileType::Eml => mail::probe_eml,
            FileType::Html => html::probe,
        };
        walk(data, at_eof, max_len)
    }

    /// The signatures that announce a file of this type.
    pub fn signatures(self) -> impl Iterator<Item = &'static Signature> {
        SIGNATURES.iter().filter(move |s| s.kind == self)
    }
}

/// Bytes found `at` bytes into every file of `kind` (0 for a leading magic number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub kind: FileType,
    pub bytes: &'static [u8],
    pub at: usize,
}

const fn sig(kind: FileType, bytes: &'static [u8]) -> Signature {
    Signature { kind, bytes, at: 0 }
}

/// Every signature the scanner looks for. Each is at least two bytes long; short ones
/// ("MZ", "BM", an MP3 frame sync) are common in random data and the walker rejects
/// chance hits cheaply.
pub static SIGNATURES: &[Signature] = &[
    sig(FileType::Jpeg, b"\xFF\xD8\xFF"),
    sig(FileType::Png, b"\x89PNG\r\n\x1a\n"),
    sig(FileType::Gif, b"GIF87a"),
    sig(FileType::Gif, b"GIF89a"),
    sig(FileType::Bmp, b"BM"),
    sig(FileType::Tiff, b"II*\x00"),
    sig(FileType::Tiff, b"MM\x00*"),
    sig(FileType::Riff, b"RIFF"),
    sig(FileType::Pdf, b"%PDF-"),
    sig(FileType::Zip, b"PK\x03\x04"),
    // An empty archive is only its end record, with every count, size and offset zero.
    sig(
        FileType::Zip,
        b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    ),
    sig(FileType::Gzip, b"\x1F\x8B\x08"),
    sig(FileType::SevenZip, b"7z\xBC\xAF\x27\x1C"),
    sig(FileType::Rar, b"Rar!\x1A\x07"),
    sig(FileType::Sqlite, b"SQLite format 3\x00"),
    Signature {
        kind: FileType::Mp4,
        bytes: b"ftyp",
        at: 4,
    },
    sig(FileType::Mp3, b"ID3"),
    sig(FileType::Mp3, b"\xFF\xFB"),
    sig(FileType::Mp3, b"\xFF\xFA"),
    sig(FileType::Mp3, b"\xFF\xF3"),
    sig(FileType::Mp3, b"\xFF\xF2"),
    sig(FileType::Mp3, b"\xFF\xE3"), // MPEG-2.5 Layer III
    sig(FileType::Mp3, b"\xFF\xE2"),
    sig(FileType::Elf, b"\x7FELF"),
    sig(FileType::Pe, b"MZ"),
    sig(FileType::Ole, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
    sig(FileType::Evtx, b"ElfFile\x00"),
    sig(FileType::Regf, b"regf"),
    sig(
        FileType::Lnk,
        b"\x4C\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46",
    ),
    sig(FileType::Mbox, b"From "),
    sig(FileType::Eml, b"Return-Path: "),
    sig(FileType::Eml, b"Received: "),
    sig(FileType::Eml, b"Delivered-To: "),
    sig(FileType::Eml, b"Message-ID: "),
    sig(FileType::Eml, b"MIME-Version: "),
    sig(FileType::Html, b"<!DOCTYPE html"),
    sig(FileType::Html, b"<!DOCTYPE HTML"),
    sig(FileType::Html, b"<!doctype html"),
    sig(FileType::Html, b"<html"),
    sig(FileType::Html, b"<HTML"),
];

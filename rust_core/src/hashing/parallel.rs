//! Digests of one stream spread over threads: each lane thread runs its share of the
//! digests over the same shared buffers, while the caller goes on reading the next ones.

use super::lane::{Lane, LaneReport, Task, WindowDigest};
use super::{Algorithm, Digests, HashError};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{channel, sync_channel, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes per buffer handed to the lanes.
pub const CHUNK: usize = 4 << 20;
/// Buffers queued per lane before the caller waits: bounds memory to about
/// (DEPTH + 2) * CHUNK whatever the stream's length.
const DEPTH: usize = 3;

/// What to compute: whole-stream digests, and optionally digests of fixed windows.
#[derive(Debug, Clone)]
pub struct Spec {
    pub algorithms: Vec<Algorithm>,
    /// 0: no windows.
    pub window_size: u64,
    pub window_algorithms: Vec<Algorithm>,
    /// Most threads to use; 0: one per available core.
    pub threads: usize,
}

impl Spec {
    pub fn validate(&self) -> Result<(), HashError> {
        if self.algorithms.is_empty() && (self.window_size == 0 || self.window_algorithms.is_empty()) {
            return Err(HashError("no digest asked for".into()));
        }
        if self.window_size > 0 && self.window_algorithms.is_empty() {
            return Err(HashError("windows asked for without a window digest".into()));
        }
        Ok(())
    }

    /// The digests spread over lanes, heaviest first onto the least loaded lane.
    fn lanes(&self) -> Vec<Lane> {
        let mut tasks: Vec<Task> = dedup(&self.algorithms).into_iter().map(Task::whole).collect();
        if self.window_size > 0 {
            for a in dedup(&self.window_algorithms) {
                tasks.push(Task::windows(a, self.window_size));
            }
        }
        tasks.sort_by(|a, b| b.cost().total_cmp(&a.cost()));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if self.threads == 0 { cores } else { self.threads };
        let mut lanes: Vec<Lane> = (0..threads.min(tasks.len()).max(1))
            .map(|_| Lane::default())
            .collect();
        for task in tasks {
            let lightest = lanes
                .iter_mut()
                .min_by(|a, b| a.load().total_cmp(&b.load()))
                .expect("at least one lane");
            lightest.push(task);
        }
        lanes
    }
}

fn dedup(algorithms: &[Algorithm]) -> Vec<Algorithm> {
    let mut out = algorithms.to_vec();
    out.sort();
    out.dedup();
    out
}

enum Msg {
    Data(Arc<Vec<u8>>),
    Report { last: bool, reply: Sender<LaneReport> },
}

struct LaneThread {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<()>>,
}

/// Whole-stream and window digests of one stream, computed by lane threads.
pub struct ParallelHasher {
    lanes: Vec<LaneThread>,
    algorithms: Vec<Algorithm>,
    pool: VecDeque<Arc<Vec<u8>>>,
    length: u64,
    finished: bool,
}

impl ParallelHasher {
    pub fn new(spec: &Spec) -> Result<Self, HashError> {
        spec.validate()?;
        let lanes = spec
            .lanes()
            .into_iter()
            .enumerate()
            .map(|(i, mut lane)| {
                let (tx, rx) = sync_channel::<Msg>(DEPTH);
                let handle = std::thread::Builder::new()
                    .name(format!("quarry-hash-{i}"))
                    .spawn(move || {
                        for msg in rx {
                            match msg {
                                Msg::Data(buf) => lane.update(&buf),
                                Msg::Report { last, reply } => {
                                    let _ = reply.send(lane.report(last));
                                }
                            }
                        }
                    })
                    .map_err(|e| HashError(format!("cannot start a hashing thread: {e}")))?;
                Ok(LaneThread {
                    tx: Some(tx),
                    handle: Some(handle),
                })
            })
            .collect::<Result<Vec<_>, HashError>>()?;
        Ok(ParallelHasher {
            lanes,
            algorithms: dedup(&spec.algorithms),
            pool: VecDeque::new(),
            length: 0,
            finished: false,
        })
    }

    /// Threads the digests run on.
    pub fn threads(&self) -> usize {
        self.lanes.len()
    }

    pub fn length(&self) -> u64 {
        self.length
    }

    /// A buffer for the next chunk: one no lane holds any more, or a new one. Lanes
    /// hold at most DEPTH + 1 distinct buffers, so the pool never exceeds DEPTH + 2.
    fn buffer(&mut self) -> Vec<u8> {
        if let Some(i) = self.pool.iter().position(|b| Arc::strong_count(b) == 1) {
            let arc = self.pool.swap_remove_back(i).expect("index in range");
            // Only this side can add holders, so the count stays 1 and this succeeds.
            if let Ok(v) = Arc::try_unwrap(arc) {
                return v;
            }
        }
        Vec::with_capacity(CHUNK)
    }

    fn dispatch(&mut self, buf: Vec<u8>) -> Result<(), HashError> {
        if self.finished {
            return Err(HashError("the hasher was finished; start a new one".into()));
        }
        self.length += buf.len() as u64;
        let shared = Arc::new(buf);
        for lane in &self.lanes {
            let tx = lane.tx.as_ref().expect("lane open until drop");
            tx.send(Msg::Data(Arc::clone(&shared)))
                .map_err(|_| HashError("a hashing thread stopped".into()))?;
        }
        self.pool.push_back(shared);
        Ok(())
    }

    /// Feed bytes (copied into the hasher's buffers, so the caller may reuse its own).
    pub fn update(&mut self, mut data: &[u8]) -> Result<(), HashError> {
        while !data.is_empty() {
            let mut buf = self.buffer();
            let n = data.len().min(CHUNK);
            buf.clear();
            buf.extend_from_slice(&data[..n]);
            self.dispatch(buf)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Feed `length` bytes of `file` from `offset`, read straight into the hasher's
    /// buffers; returns the bytes fed (fewer only at end of file).
    pub fn update_from_file(&mut self, file: &File, offset: u64, length: u64) -> std::io::Result<u64> {
        let mut done = 0u64;
        while done < length {
            let mut buf = self.buffer();
            let want = (length - done).min(CHUNK as u64) as usize;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let mut got = 0usize;
            while got < want {
                match file.read_at(&mut buf[got..want], offset + done + got as u64) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(got);
            if got > 0 {
                self.dispatch(buf).map_err(std::io::Error::other)?;
            }
            done += got as u64;
            if got < want {
                break;
            }
        }
        Ok(done)
    }

    fn collect(&mut self, last: bool) -> Result<(Digests, Vec<WindowDigest>), HashError> {
        let mut replies = Vec::new();
        for lane in &self.lanes {
            let (reply, rx) = channel();
            let tx = lane.tx.as_ref().expect("lane open until drop");
            tx.send(Msg::Report { last, reply })
                .map_err(|_| HashError("a hashing thread stopped".into()))?;
            replies.push(rx);
        }
        let mut whole = Vec::new();
        let mut windows = Vec::new();
        for rx in replies {
            let report = rx
                .recv()
                .map_err(|_| HashError("a hashing thread stopped".into()))?;
            whole.extend(report.whole);
            windows.extend(report.windows);
        }
        whole.sort_by_key(|(a, _)| *a);
        windows.sort_by_key(|w| (w.index, w.algorithm));
        Ok((Digests::from_raw(self.length, whole), windows))
    }

    /// Whole-stream digests so far and the windows closed since the last call; the
    /// stream may go on afterwards.
    pub fn snapshot(&mut self) -> Result<(Digests, Vec<WindowDigest>), HashError> {
        self.collect(false)
    }

    /// Final digests and the remaining windows, the last partial one included.
    pub fn finish(&mut self) -> Result<(Digests, Vec<WindowDigest>), HashError> {
        let out = self.collect(true)?;
        self.finished = true;
        Ok(out)
    }

    /// The whole-stream digests asked for.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }
}

impl Drop for ParallelHasher {
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            lane.tx.take();
        }
        for lane in &mut self.lanes {
            if let Some(h) = lane.handle.take() {
                let _ = h.join();
            }
        }
    }
}

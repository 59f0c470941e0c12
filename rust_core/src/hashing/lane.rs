//! A lane: the digests one thread computes over the stream, whole and per window.

use super::algorithm::{Algorithm, State};

/// Bytes handed to each digest of a lane in turn (small enough to stay in L2 cache,
/// so memory is read once per lane whatever the number of digests in it).
const BLOCK: usize = 64 * 1024;

/// The digest of one fixed window of the stream (the last window may be shorter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowDigest {
    pub index: u64,
    pub length: u64,
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

pub(crate) enum Task {
    Whole(Algorithm, State),
    Windows(WindowTask),
}

/// One digest restarted at every window boundary (windows start at multiples of `size`).
pub(crate) struct WindowTask {
    algorithm: Algorithm,
    state: State,
    size: u64,
    filled: u64,
    index: u64,
    done: Vec<WindowDigest>,
}

impl Task {
    pub fn whole(algorithm: Algorithm) -> Self {
        Task::Whole(algorithm, State::new(algorithm))
    }

    pub fn windows(algorithm: Algorithm, size: u64) -> Self {
        Task::Windows(WindowTask {
            algorithm,
            state: State::new(algorithm),
            size,
            filled: 0,
            index: 0,
            done: Vec::new(),
        })
    }

    pub fn cost(&self) -> f64 {
        match self {
            Task::Whole(a, _) => a.cost(),
            Task::Windows(w) => w.algorithm.cost(),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Task::Whole(_, state) => state.update(data),
            Task::Windows(w) => w.update(data),
        }
    }
}

impl WindowTask {
    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (self.size - self.filled).min(data.len() as u64) as usize;
            self.state.update(&data[..room]);
            self.filled += room as u64;
            data = &data[room..];
            if self.filled == self.size {
                self.close();
            }
        }
    }

    fn close(&mut self) {
        self.done.push(WindowDigest {
            index: self.index,
            length: self.filled,
            algorithm: self.algorithm,
            digest: self.state.value(),
        });
        self.state = State::new(self.algorithm);
        self.filled = 0;
        self.index += 1;
    }
}

/// What a lane reports: its whole-stream digests so far and the windows closed since
/// the last report (with `last`, the final partial window too).
#[derive(Default)]
pub(crate) struct LaneReport {
    pub whole: Vec<(Algorithm, Vec<u8>)>,
    pub windows: Vec<WindowDigest>,
}

#[derive(Default)]
pub(crate) struct Lane {
    tasks: Vec<Task>,
}

impl Lane {
    pub fn push(&mut self, task: Task) {
        self.tasks.push(task);
    }

    pub fn load(&self) -> f64 {
        self.tasks.iter().map(Task::cost).sum()
    }

    pub fn update(&mut self, data: &[u8]) {
        for block in data.chunks(BLOCK) {
            for task in &mut self.tasks {
                task.update(block);
            }
        }
    }

    pub fn report(&mut self, last: bool) -> LaneReport {
        let mut report = LaneReport::default();
        for task in &mut self.tasks {
            match task {
                Task::Whole(algorithm, state) => report.whole.push((*algorithm, state.value())),
                Task::Windows(w) => {
                    if last && w.filled > 0 {
                        w.close();
                    }
                    report.windows.append(&mut w.done);
                }
            }
        }
        report
    }
}

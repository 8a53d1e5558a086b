//! Checkpoints of long fits, and resuming from them.
//!
//! A fit configured with [`crate::CurveFit::checkpoint`] saves the solver's complete state
//! ([`crate::solve::state::SolverState`]) every `K` iterations or `T` seconds: the solver
//! clones its state (`O(P²)`) into a checkpoint sink, which hands it to a background
//! writer thread and returns at once. [`crate::CurveFit::resume_from`] continues from
//! such a file to the same result, bit for bit on a deterministic backend, as the fit that
//! was never interrupted. A file of another model, method, options or data, an unknown format
//! version or a damaged file is refused with a [`CheckpointError`].
//!
//! ```
//! use nlsq_runtime::checkpoint::Every;
//! use nlsq_runtime::{CurveFit, ExprModel};
//! use std::ops::ControlFlow;
//! let x: Vec<f64> = (0..40).map(|i| i as f64 * 0.1).collect();
//! let y: Vec<f64> = x.iter().map(|x| 2.0 * (-0.7 * x).exp() + 0.3).collect();
//! let path = std::env::temp_dir().join(format!("nlsq-doc-{}.ckpt", std::process::id()));
//! let model = ExprModel::parse("a * exp(-b * x) + c").unwrap();
//! // A fit interrupted after its third iteration (a crash would do the same).
//! let cut = CurveFit::new(&model)
//!     .checkpoint(&path, Every::Iterations(1))
//!     .callback(|i| if i.iteration == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
//!     .fit(&x, &y)
//!     .unwrap();
//! assert_eq!(cut.checkpoint.unwrap().last_iteration, Some(2));
//! // Resumed, it reaches what the uninterrupted fit reaches.
//! let resumed = CurveFit::new(&model).resume_from(&path).fit(&x, &y).unwrap();
//! let full = CurveFit::new(&model).fit(&x, &y).unwrap();
//! assert_eq!((resumed.popt, resumed.nfev), (full.popt, full.nfev));
//! # std::fs::remove_file(&path).ok();
//! ```

mod bytes;

pub(crate) mod fingerprint;
mod format;
mod writer;

pub use crate::error::CheckpointError;
pub use format::{Checkpoint, FORMAT_VERSION, FitIdentity, MAGIC};
pub use writer::CheckpointReport;
pub(crate) use writer::CheckpointWriter;

use crate::solve::state::{SolverState, StateSink};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a checkpoint is taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Every {
    /// After every `k`-th iteration (`k ≥ 1`).
    Iterations(usize),
    /// After the first iteration that ends at least this many seconds after the last
    /// checkpoint (or the start of the fit).
    Seconds(f64),
}

impl Every {
    /// Checks that `k ≥ 1` or that the seconds are finite and not negative.
    pub fn check(self) -> Result<(), crate::FitError> {
        let ok = match self {
            Every::Iterations(k) => k >= 1,
            Every::Seconds(t) => t.is_finite() && t >= 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(crate::FitError::InvalidOption {
                option: "checkpoint".into(),
                reason: format!("{self:?}: needs at least 1 iteration or finite seconds ≥ 0"),
            })
        }
    }
}

/// Reads and checks (signature, version, checksum) a checkpoint file.
pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CheckpointError::Missing { path: name.clone() },
        _ => CheckpointError::Io {
            path: name.clone(),
            message: e.to_string(),
        },
    })?;
    Checkpoint::decode(&bytes, &name)
}

/// Refuses a checkpoint path that holds a file which is not a checkpoint (so that a mistyped
/// path cannot overwrite a user's data). A missing file is fine.
pub(crate) fn check_writable(path: &Path) -> Result<(), CheckpointError> {
    let name = path.display().to_string();
    let mut head = [0u8; MAGIC.len()];
    match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CheckpointError::Io {
            path: name,
            message: e.to_string(),
        }),
        Ok(mut f) => match f.read_exact(&mut head) {
            Ok(()) if head == MAGIC => Ok(()),
            _ if f.metadata().is_ok_and(|m| m.len() == 0) => Ok(()),
            _ => Err(CheckpointError::NotACheckpoint { path: name }),
        },
    }
}

/// The [`StateSink`] of a checkpointed fit: decides when a snapshot is due and hands it,
/// stamped with the fit's identity and the data cursor, to a [`CheckpointWriter`].
pub(crate) struct CheckpointSink {
    writer: CheckpointWriter,
    every: Every,
    identity: FitIdentity,
    last: Instant,
    cursor: Arc<AtomicU64>,
}

impl CheckpointSink {
    /// A sink writing through `writer` every `every`, for the fit `identity`.
    pub fn new(writer: CheckpointWriter, every: Every, identity: FitIdentity) -> Self {
        CheckpointSink {
            writer,
            every,
            identity,
            last: Instant::now(),
            cursor: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Stamps checkpoints with the cursor behind `handle` (one a driver already holds)
    /// instead of a fresh one.
    pub fn with_cursor(mut self, handle: Arc<AtomicU64>) -> Self {
        self.cursor = handle;
        self
    }

    /// The data cursor stamped on every checkpoint: where a streaming driver is in its data
    /// (the index of its next chunk, say; 0 for in-memory fits). A driver keeps the handle
    /// and stores into it while the solver runs; each snapshot reads it when it is taken.
    #[cfg(test)]
    pub fn data_cursor(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.cursor)
    }

    /// Stops the writer and reports; see [`CheckpointWriter::finish`] for `flush`.
    pub fn finish(self, flush: bool) -> CheckpointReport {
        self.writer.finish(flush)
    }
}

impl StateSink for CheckpointSink {
    fn due(&mut self, iteration: usize) -> bool {
        match self.every {
            Every::Iterations(k) => iteration.is_multiple_of(k.max(1)),
            Every::Seconds(t) => self.last.elapsed() >= Duration::from_secs_f64(t.max(0.0)),
        }
    }

    fn put(&mut self, state: SolverState) {
        self.last = Instant::now();
        self.writer.submit(Checkpoint {
            identity: self.identity.clone(),
            data_cursor: self.cursor.load(Ordering::Acquire),
            state,
        });
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

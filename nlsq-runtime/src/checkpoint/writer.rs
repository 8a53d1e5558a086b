//! The background checkpoint writer: the solver hands over snapshots and never waits on disk.
//!
//! A snapshot goes into a one-place slot (latest wins: a snapshot not yet written when a newer
//! one arrives is dropped, and counted); a writer thread encodes it and writes it atomically
//! (temporary file in the same directory, write, fsync, rename, fsync of the directory). A
//! failed write is logged with `tracing`, counted and reported; the fit goes on.
//!
//! Each write costs what `fsync` costs on the file system (about 5 ms on the development
//! machine's disk); the solver never waits for it, but the end of a fit waits for the write in
//! progress. Checkpoints are meant for long fits: for fits of many short iterations prefer
//! [`super::Every::Seconds`].

use super::format::Checkpoint;
use crate::profile;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

/// What the checkpoint writer did during a fit.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointReport {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Checkpoints written.
    pub written: u64,
    /// Writes that failed.
    pub failed: u64,
    /// Snapshots not written: replaced by a newer one before the writer got to them, or
    /// still pending when a fit that needs no resuming ended (the writer flushes only a state a resume could use).
    pub skipped: u64,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// The iteration of the last checkpoint written.
    pub last_iteration: Option<usize>,
    /// Seconds spent writing, in total.
    pub write_time_s: f64,
}

#[derive(Default)]
struct Slot {
    pending: Option<Checkpoint>,
    closed: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
    report: Mutex<CheckpointReport>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on the writer thread cannot leave the data half-updated in a way that matters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes checkpoints to one path from a background thread.
pub struct CheckpointWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl CheckpointWriter {
    /// Starts the writer thread for `path`.
    pub fn spawn(path: PathBuf) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot::default()),
            wake: Condvar::new(),
            report: Mutex::new(CheckpointReport {
                path: path.clone(),
                ..CheckpointReport::default()
            }),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("nlsq-checkpoint".into())
            .spawn(move || run(&worker, &path))?;
        Ok(CheckpointWriter {
            shared,
            thread: Some(thread),
        })
    }

    /// Hands a checkpoint to the writer; returns at once (a pending older one is dropped).
    pub fn submit(&self, checkpoint: Checkpoint) {
        let replaced = lock(&self.shared.slot)
            .pending
            .replace(checkpoint)
            .is_some();
        if replaced {
            lock(&self.shared.report).skipped += 1;
        }
        self.shared.wake.notify_one();
    }

    /// Waits for the write in progress, writes the pending checkpoint too when `flush` (a fit
    /// that may be resumed: stopped by its callback, or failed) or drops it (a fit that ended
    /// on its own), stops the thread and reports.
    pub fn finish(mut self, flush: bool) -> CheckpointReport {
        if !flush && lock(&self.shared.slot).pending.take().is_some() {
            lock(&self.shared.report).skipped += 1;
        }
        self.close();
        lock(&self.shared.report).clone()
    }

    fn close(&mut self) {
        lock(&self.shared.slot).closed = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            let mut r = lock(&self.shared.report);
            r.failed += 1;
            r.last_error = Some("the checkpoint writer thread panicked".into());
        }
    }
}

impl Drop for CheckpointWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn run(shared: &Shared, path: &Path) {
    loop {
        let next = {
            let mut slot = lock(&shared.slot);
            loop {
                if let Some(c) = slot.pending.take() {
                    break Some(c);
                }
                if slot.closed {
                    break None;
                }
                slot = shared.wake.wait(slot).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Some(checkpoint) = next else { return };
        let start = Instant::now();
        let result = crate::atomic_file::write_atomically(path, &checkpoint.encode());
        let elapsed = start.elapsed();
        profile::record_checkpoint_write(elapsed, result.is_ok());
        let mut r = lock(&shared.report);
        r.write_time_s += elapsed.as_secs_f64();
        match result {
            Ok(()) => {
                r.written += 1;
                r.last_iteration = Some(checkpoint.state.iteration());
                tracing::debug!(
                    path = %path.display(),
                    iteration = checkpoint.state.iteration(),
                    seconds = elapsed.as_secs_f64(),
                    "checkpoint written"
                );
            }
            Err(e) => {
                r.failed += 1;
                let message = format!("could not write checkpoint {}: {e}", path.display());
                tracing::warn!("{message}; the fit goes on");
                r.last_error = Some(message);
            }
        }
    }
}

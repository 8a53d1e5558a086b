//! Profiling: process-wide counters of kernel builds, kernel-cache hits, bytes moved between
//! host and device, passes and checkpoint writes, and a per-fit [`ProfileReport`].
//!
//! The counters are atomics, always on (a few relaxed additions per pass). Backends and
//! drivers report through the `record_*` functions; [`counters`] reads the totals. A fit with
//! [`crate::CurveFit::profile`] (or with the environment variable `NLSQ_PROFILE=1`, read once)
//! gets a [`ProfileReport`] in [`crate::FitResult::profile`]; with `NLSQ_PROFILE=1` the report
//! is also printed to stderr and logged with `tracing` at the end of the fit.
//!
//! In a report, passes and checkpoint writes are the fit's own; kernel builds, cache hits and
//! bytes are the change of the process-wide counters during the fit, so they include the work
//! of fits running at the same time in other threads.
//!
//! ```
//! use nlsq_runtime::{CurveFit, ExprModel};
//! let x: Vec<f64> = (0..30).map(f64::from).collect();
//! let y: Vec<f64> = x.iter().map(|x| 1.5 * x + 2.0).collect();
//! let fit = CurveFit::new(ExprModel::parse("a * x + b").unwrap())
//!     .profile(true)
//!     .fit(&x, &y)
//!     .unwrap();
//! let report = fit.profile.unwrap();
//! assert_eq!(report.passes as usize, fit.nfev);
//! println!("{report}");
//! ```

use crate::error::FitError;
use crate::solve::{Objective, Pass};
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

static KERNEL_BUILDS: AtomicU64 = AtomicU64::new(0);
static KERNEL_BUILD_NS: AtomicU64 = AtomicU64::new(0);
static MEMORY_HITS: AtomicU64 = AtomicU64::new(0);
static DISK_HITS: AtomicU64 = AtomicU64::new(0);
static BYTES_H2D: AtomicU64 = AtomicU64::new(0);
static BYTES_D2H: AtomicU64 = AtomicU64::new(0);
static PASSES: AtomicU64 = AtomicU64::new(0);
static PASS_NS: AtomicU64 = AtomicU64::new(0);
static CHECKPOINT_WRITES: AtomicU64 = AtomicU64::new(0);
static CHECKPOINT_FAILURES: AtomicU64 = AtomicU64::new(0);
static CHECKPOINT_NS: AtomicU64 = AtomicU64::new(0);

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Where a kernel module was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheHit {
    /// In the in-process cache.
    Memory,
    /// In the on-disk cache.
    Disk,
}

/// Counts one kernel build (a compilation) that took `took`.
pub fn record_kernel_build(took: Duration) {
    KERNEL_BUILDS.fetch_add(1, Relaxed);
    KERNEL_BUILD_NS.fetch_add(nanos(took), Relaxed);
}

/// Counts one kernel-cache hit.
pub fn record_cache_hit(hit: CacheHit) {
    match hit {
        CacheHit::Memory => MEMORY_HITS.fetch_add(1, Relaxed),
        CacheHit::Disk => DISK_HITS.fetch_add(1, Relaxed),
    };
}

/// Counts bytes copied from the host to a device.
pub fn record_h2d(bytes: u64) {
    BYTES_H2D.fetch_add(bytes, Relaxed);
}

/// Counts bytes copied from a device to the host.
pub fn record_d2h(bytes: u64) {
    BYTES_D2H.fetch_add(bytes, Relaxed);
}

/// Counts one pass over the data that took `took`.
pub fn record_pass(took: Duration) {
    PASSES.fetch_add(1, Relaxed);
    PASS_NS.fetch_add(nanos(took), Relaxed);
}

/// Counts one checkpoint write (or failed write) that took `took`.
pub fn record_checkpoint_write(took: Duration, ok: bool) {
    if ok {
        CHECKPOINT_WRITES.fetch_add(1, Relaxed);
    } else {
        CHECKPOINT_FAILURES.fetch_add(1, Relaxed);
    }
    CHECKPOINT_NS.fetch_add(nanos(took), Relaxed);
}

/// When a fit began, and the process-wide counters then: a fit's profile counts from here, its
/// uploads and kernel builds included.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Began {
    /// The fit's start.
    pub(crate) at: Instant,
    /// The counters at its start.
    pub(crate) counters: Counters,
}

impl Began {
    /// Now.
    pub(crate) fn now() -> Self {
        Began {
            at: Instant::now(),
            counters: counters(),
        }
    }
}

/// The process-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Kernel builds.
    pub kernel_builds: u64,
    /// Nanoseconds spent building kernels.
    pub kernel_build_ns: u64,
    /// In-memory kernel-cache hits.
    pub memory_hits: u64,
    /// On-disk kernel-cache hits.
    pub disk_hits: u64,
    /// Bytes copied host → device.
    pub bytes_h2d: u64,
    /// Bytes copied device → host.
    pub bytes_d2h: u64,
    /// Passes.
    pub passes: u64,
    /// Nanoseconds spent in passes.
    pub pass_ns: u64,
    /// Checkpoints written.
    pub checkpoint_writes: u64,
    /// Checkpoint writes that failed.
    pub checkpoint_failures: u64,
    /// Nanoseconds spent writing checkpoints.
    pub checkpoint_ns: u64,
}

/// The process-wide counters now.
pub fn counters() -> Counters {
    Counters {
        kernel_builds: KERNEL_BUILDS.load(Relaxed),
        kernel_build_ns: KERNEL_BUILD_NS.load(Relaxed),
        memory_hits: MEMORY_HITS.load(Relaxed),
        disk_hits: DISK_HITS.load(Relaxed),
        bytes_h2d: BYTES_H2D.load(Relaxed),
        bytes_d2h: BYTES_D2H.load(Relaxed),
        passes: PASSES.load(Relaxed),
        pass_ns: PASS_NS.load(Relaxed),
        checkpoint_writes: CHECKPOINT_WRITES.load(Relaxed),
        checkpoint_failures: CHECKPOINT_FAILURES.load(Relaxed),
        checkpoint_ns: CHECKPOINT_NS.load(Relaxed),
    }
}

/// Whether `NLSQ_PROFILE` is set to something other than `0` or empty (read once).
pub fn enabled_by_env() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("NLSQ_PROFILE").is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// What one fit did, for [`crate::FitResult::profile`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileReport {
    /// Passes over the data.
    pub passes: u64,
    /// Seconds in passes, in total.
    pub pass_time_s: f64,
    /// The longest pass, in seconds.
    pub pass_time_max_s: f64,
    /// Kernel builds.
    pub kernel_builds: u64,
    /// Seconds spent building kernels.
    pub kernel_build_time_s: f64,
    /// In-memory kernel-cache hits.
    pub memory_cache_hits: u64,
    /// On-disk kernel-cache hits.
    pub disk_cache_hits: u64,
    /// Bytes copied host → device.
    pub bytes_h2d: u64,
    /// Bytes copied device → host.
    pub bytes_d2h: u64,
    /// Checkpoints written.
    pub checkpoint_writes: u64,
    /// Checkpoint writes that failed.
    pub checkpoint_failures: u64,
    /// Seconds spent writing checkpoints (on the writer thread).
    pub checkpoint_write_time_s: f64,
    /// Seconds of the whole fit.
    pub wall_time_s: f64,
}

impl ProfileReport {
    /// Share of kernel lookups served from memory (NaN when there were none).
    pub fn memory_hit_rate(&self) -> f64 {
        let total = self.memory_cache_hits + self.disk_cache_hits + self.kernel_builds;
        self.memory_cache_hits as f64 / total as f64
    }

    /// Share of kernel lookups served from disk (NaN when there were none).
    pub fn disk_hit_rate(&self) -> f64 {
        let total = self.memory_cache_hits + self.disk_cache_hits + self.kernel_builds;
        self.disk_cache_hits as f64 / total as f64
    }
}

impl fmt::Display for ProfileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mean_ms = if self.passes > 0 {
            1e3 * self.pass_time_s / self.passes as f64
        } else {
            0.0
        };
        writeln!(f, "nlsq profile ({:.3} s)", self.wall_time_s)?;
        writeln!(
            f,
            "  passes            {} in {:.3} s (mean {:.3} ms, max {:.3} ms)",
            self.passes,
            self.pass_time_s,
            mean_ms,
            1e3 * self.pass_time_max_s
        )?;
        let lookups = self.kernel_builds + self.memory_cache_hits + self.disk_cache_hits;
        let pct = |r: f64| if lookups > 0 { 100.0 * r } else { 0.0 };
        writeln!(
            f,
            "  kernels           {} built in {:.3} s; cache hits: {} memory ({:.0}%), {} disk ({:.0}%)",
            self.kernel_builds,
            self.kernel_build_time_s,
            self.memory_cache_hits,
            pct(self.memory_hit_rate()),
            self.disk_cache_hits,
            pct(self.disk_hit_rate())
        )?;
        writeln!(
            f,
            "  bytes             {} host→device, {} device→host",
            self.bytes_h2d, self.bytes_d2h
        )?;
        write!(
            f,
            "  checkpoints       {} written, {} failed, {:.3} s writing",
            self.checkpoint_writes, self.checkpoint_failures, self.checkpoint_write_time_s
        )
    }
}

/// The passes of one fit, timed: for the fit's own report and the process-wide counters.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PassTimer {
    passes: u64,
    time: Duration,
    max: Duration,
}

impl PassTimer {
    /// One pass of `obj` at `p`, timed.
    pub(crate) fn pass(&mut self, obj: &mut dyn Objective, p: &[f64]) -> Result<Pass, FitError> {
        let start = Instant::now();
        let pass = obj.pass(p);
        let took = start.elapsed();
        record_pass(took);
        self.passes += 1;
        self.time += took;
        self.max = self.max.max(took);
        pass
    }

    /// The report of a fit that started at `start` with the process-wide counters at `before`.
    pub(crate) fn report(&self, before: &Counters, start: Instant) -> ProfileReport {
        let now = counters();
        let s = |ns: u64| ns as f64 * 1e-9;
        ProfileReport {
            passes: self.passes,
            pass_time_s: self.time.as_secs_f64(),
            pass_time_max_s: self.max.as_secs_f64(),
            kernel_builds: now.kernel_builds - before.kernel_builds,
            kernel_build_time_s: s(now.kernel_build_ns - before.kernel_build_ns),
            memory_cache_hits: now.memory_hits - before.memory_hits,
            disk_cache_hits: now.disk_hits - before.disk_hits,
            bytes_h2d: now.bytes_h2d - before.bytes_h2d,
            bytes_d2h: now.bytes_d2h - before.bytes_d2h,
            checkpoint_writes: 0,
            checkpoint_failures: 0,
            checkpoint_write_time_s: 0.0,
            wall_time_s: start.elapsed().as_secs_f64(),
        }
    }
}

/// An objective whose passes a [`PassTimer`] times.
pub(crate) struct Timed<'o, 't> {
    inner: &'o mut dyn Objective,
    timer: &'t mut PassTimer,
}

impl<'o, 't> Timed<'o, 't> {
    pub(crate) fn new(inner: &'o mut dyn Objective, timer: &'t mut PassTimer) -> Self {
        Timed { inner, timer }
    }
}

impl Objective for Timed<'_, '_> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        self.timer.pass(self.inner, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_the_printed_report() {
        let r = ProfileReport {
            passes: 4,
            pass_time_s: 0.002,
            pass_time_max_s: 0.001,
            kernel_builds: 1,
            memory_cache_hits: 2,
            disk_cache_hits: 1,
            bytes_h2d: 1000,
            bytes_d2h: 80,
            ..ProfileReport::default()
        };
        assert_eq!((r.memory_hit_rate(), r.disk_hit_rate()), (0.5, 0.25));
        assert!(ProfileReport::default().memory_hit_rate().is_nan());
        let text = r.to_string();
        assert!(text.contains("passes            4 in 0.002 s (mean 0.500 ms, max 1.000 ms)"));
        assert!(text.contains("2 memory (50%), 1 disk (25%)"), "{text}");
        assert!(text.contains("1000 host→device, 80 device→host"));
        assert!(
            ProfileReport::default()
                .to_string()
                .contains("0 memory (0%)")
        );
    }

    #[test]
    fn counters_only_grow() {
        let before = counters();
        record_h2d(24);
        record_d2h(8);
        record_kernel_build(Duration::from_millis(3));
        record_cache_hit(CacheHit::Disk);
        record_checkpoint_write(Duration::from_millis(1), false);
        let now = counters();
        assert!(now.bytes_h2d >= before.bytes_h2d + 24 && now.bytes_d2h >= before.bytes_d2h + 8);
        assert!(now.kernel_builds > before.kernel_builds && now.disk_hits > before.disk_hits);
        assert!(now.kernel_build_ns >= before.kernel_build_ns + 3_000_000);
        assert!(now.checkpoint_failures > before.checkpoint_failures);
    }
}

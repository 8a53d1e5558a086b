//! Running a compilation the way a pathological input must be survivable: on a thread with the
//! default 2 MiB stack, within a time and a memory budget.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The stack of a thread spawned with default settings.
pub const STACK: usize = 2 << 20;

/// Serializes the measured runs so that their memory is measured one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `f` on a fresh 2 MiB-stack thread and checks that it returned (no panic, no stack
/// overflow, which would abort the process), in under `time`, with the peak resident memory
/// growing by less than `mem_mib` MiB (where Linux lets the peak be reset).
pub fn run_bounded<T: Send + 'static>(
    name: &str,
    time: Duration,
    mem_mib: u64,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Resetting the peak (VmHWM) to the current size makes it this run's peak.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:");
    let start = Instant::now();
    let out = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .unwrap_or_else(|_| panic!("{name}: panicked"));
    let elapsed = start.elapsed();
    assert!(elapsed < time, "{name}: took {elapsed:?} (limit {time:?})");
    if reset && let (Some(b), Some(peak)) = (before, status_kib("VmHWM:")) {
        let grew = peak.saturating_sub(b) / 1024;
        assert!(grew < mem_mib, "{name}: peak memory grew by {grew} MiB");
    }
    out
}

/// [`run_bounded`] with the budgets of the pathological tests: 1 s and 100 MiB.
pub fn bounded<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    run_bounded(name, Duration::from_secs(1), 100, f)
}

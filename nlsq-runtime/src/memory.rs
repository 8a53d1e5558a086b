//! The memory manager: how much host (and device) memory a fit may use, and whether its data
//! is fitted in memory, in chunks through fixed-capacity buffers, or streamed from a source.
//!
//! Host memory comes from `sysinfo` (memory only, refreshed at most every
//! [`HOST_MEMORY_TTL`], so asking in a loop costs nothing); device memory from the backend.
//! The user may cap both ([`MemoryLimits`], set with `CurveFit::max_host_bytes` and
//! `CurveFit::max_device_bytes`). The decision and the numbers behind it are reported in
//! `FitResult::data_plan`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reading of the host's memory is reused.
pub const HOST_MEMORY_TTL: Duration = Duration::from_millis(500);

/// Share of the host's available memory a fit uses when no limit is set.
pub const DEFAULT_HOST_SHARE: f64 = 0.5;

/// Share of the device's free memory a chunked fit uses when no limit is set.
pub const DEFAULT_DEVICE_SHARE: f64 = 0.8;

/// Chunk buffers take at most this fraction of the host budget (the rest is headroom for the
/// source's own staging: mapped pages, parsed CSV records, the weights of a chunk).
pub const CHUNK_SHARE_OF_BUDGET: u64 = 4;

/// The host's memory in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostMemory {
    /// Installed memory (or the cgroup limit, when lower).
    pub total: u64,
    /// Memory available to new allocations (or what the cgroup still allows, when lower).
    pub available: u64,
}

/// The host's memory now, from a reading at most [`HOST_MEMORY_TTL`] old.
pub fn host_memory() -> HostMemory {
    static CACHE: Mutex<Option<(Instant, sysinfo::System, HostMemory)>> = Mutex::new(None);
    let mut guard = match CACHE.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((at, _, mem)) = guard.as_ref()
        && at.elapsed() < HOST_MEMORY_TTL
    {
        return *mem;
    }
    let mut sys = match guard.take() {
        Some((_, sys, _)) => sys,
        None => sysinfo::System::new(),
    };
    sys.refresh_memory();
    let mut mem = HostMemory {
        total: sys.total_memory(),
        available: sys.available_memory(),
    };
    if let Some(cg) = sys.cgroup_limits() {
        mem.total = mem.total.min(cg.total_memory);
        mem.available = mem.available.min(cg.free_memory);
    }
    *guard = Some((Instant::now(), sys, mem));
    mem
}

/// User caps on the memory a fit uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Host bytes for data and chunk buffers; `None`: [`DEFAULT_HOST_SHARE`] of what is
    /// available.
    pub max_host_bytes: Option<u64>,
    /// Device bytes for data buffers; `None`: [`DEFAULT_DEVICE_SHARE`] of the free memory.
    pub max_device_bytes: Option<u64>,
}

impl MemoryLimits {
    /// The host budget in bytes, and the available memory it was derived from.
    pub fn host_budget(&self) -> (u64, u64) {
        let available = host_memory().available;
        let budget = self
            .max_host_bytes
            .unwrap_or((available as f64 * DEFAULT_HOST_SHARE) as u64);
        (budget, available)
    }

    /// The device budget for a device with `free` bytes free.
    pub fn device_budget(&self, free: u64) -> u64 {
        self.max_device_bytes
            .unwrap_or((free as f64 * DEFAULT_DEVICE_SHARE) as u64)
    }
}

/// Where a fit's data lives during the fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DataMode {
    /// All of it in memory (host, or device-resident on a GPU): every pass reads it in place.
    InMemory,
    /// In memory on the host, passed through fixed-capacity chunk buffers (on a GPU: device
    /// buffers larger data would not fit; on the CPU: data beyond the host budget).
    Chunked,
    /// Read from a re-iterable source once per pass, a chunk at a time: exact.
    Streaming,
    /// Read once from a one-pass source, updating the fit chunk by chunk: approximate.
    Online,
}

impl std::fmt::Display for DataMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataMode::InMemory => "in-memory",
            DataMode::Chunked => "chunked",
            DataMode::Streaming => "streaming",
            DataMode::Online => "online",
        })
    }
}

/// The memory decision of one fit and the numbers behind it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataPlan {
    /// In memory, chunked, streaming or online.
    pub mode: DataMode,
    /// Whether the result only approximates the least-squares fit of all the data (online
    /// mode); every other mode is exact.
    pub approximate: bool,
    /// Bytes of the data as passes read it (`N (K + 1 [+ 1 for sigma])` elements), when `N`
    /// is known in advance.
    pub data_bytes: Option<u64>,
    /// Host bytes the fit may use.
    pub host_budget_bytes: u64,
    /// Host memory available when the fit was planned.
    pub host_available_bytes: u64,
    /// Device bytes the fit may use (GPU fits).
    pub device_budget_bytes: Option<u64>,
    /// Points per chunk buffer (all of them for in-memory fits).
    pub chunk_points: usize,
    /// Chunks per pass.
    pub chunks_per_pass: u64,
    /// Why this mode.
    pub reason: String,
}

impl Default for DataPlan {
    /// An in-memory fit of unknown size (what results from before data plans read as).
    fn default() -> Self {
        DataPlan {
            mode: DataMode::InMemory,
            approximate: false,
            data_bytes: None,
            host_budget_bytes: 0,
            host_available_bytes: 0,
            device_budget_bytes: None,
            chunk_points: 0,
            chunks_per_pass: 1,
            reason: String::new(),
        }
    }
}

impl std::fmt::Display for DataPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "data {}{}: {} chunk(s) of up to {} points per pass; {}",
            self.mode,
            if self.approximate {
                " (approximate)"
            } else {
                ""
            },
            self.chunks_per_pass,
            self.chunk_points,
            self.reason
        )
    }
}

/// Points per host chunk buffer for `bytes_per_point` within `host_budget` bytes: a multiple
/// of the CPU backend's chunk (so chunked passes add exactly as in-memory ones do), at least
/// one such chunk, at most `cap`.
pub fn host_chunk_points(host_budget: u64, bytes_per_point: u64, cap: Option<u64>) -> usize {
    let unit = crate::backend::cpu::CHUNK as u64;
    let fit = host_budget / CHUNK_SHARE_OF_BUDGET / bytes_per_point.max(1);
    let mut points = (fit / unit).max(1) * unit;
    if let Some(c) = cap {
        points = points.min(c.div_ceil(unit).max(1) * unit);
    }
    points as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_memory_is_read_and_cached() {
        let a = host_memory();
        assert!(a.total > 0 && a.available > 0 && a.available <= a.total);
        // Within the TTL the same reading comes back.
        assert_eq!(host_memory(), a);
    }

    #[test]
    fn limits_and_chunk_sizes() {
        let l = MemoryLimits {
            max_host_bytes: Some(256 << 20),
            max_device_bytes: Some(1 << 30),
        };
        assert_eq!(l.host_budget().0, 256 << 20);
        assert_eq!(l.device_budget(80 << 30), 1 << 30);
        // 256 MiB / 4 / 16 bytes = 4 Mi points, a multiple of the CPU chunk.
        assert_eq!(host_chunk_points(256 << 20, 16, None), 4 << 20);
        assert_eq!(host_chunk_points(1, 16, None), crate::backend::cpu::CHUNK);
        assert_eq!(host_chunk_points(256 << 20, 16, Some(5000)), 8192);
    }
}

//! The memory tier every GPU backend's kernel cache shares: compiled modules by key, least
//! recently used first out, with one set of counters. CUDA puts an on-disk cubin cache behind
//! it (`backend::cuda::KernelCache`), wgpu builds pipelines on a miss
//! (`backend::wgpu::PipelineCache`).

use crate::error::FitError;
use crate::profile::{self, CacheHit};
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// Entries each memory tier keeps.
pub(crate) const MEMORY_ENTRIES: usize = 64;

/// Counters of a kernel cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Kernel modules compiled (NVRTC, or shader and pipeline creation).
    pub builds: u64,
    /// Modules served from memory.
    pub memory_hits: u64,
    /// Modules served from disk (CUDA cubins).
    pub disk_hits: u64,
    /// Disk entries found corrupt and rebuilt.
    pub disk_rejected: u64,
    /// Disk writes that failed (the fit goes on without the disk cache).
    pub disk_write_failures: u64,
    /// Time spent compiling.
    pub build_time: Duration,
}

impl CacheStats {
    /// Runs `compile`, counted and timed as one build (here and in the process's profile).
    pub(crate) fn build<T>(
        &mut self,
        compile: impl FnOnce() -> Result<T, FitError>,
    ) -> Result<T, FitError> {
        let start = Instant::now();
        let built = compile()?;
        let took = start.elapsed();
        self.builds += 1;
        self.build_time += took;
        profile::record_kernel_build(took);
        Ok(built)
    }
}

/// Compiled modules of type `V` by key `K`.
pub(crate) struct Memo<K: Hash + Eq, V: Clone> {
    entries: lru::LruCache<K, V>,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// An empty memory tier of [`MEMORY_ENTRIES`] entries.
    pub(crate) fn new() -> Self {
        let capacity = NonZeroUsize::new(MEMORY_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        Memo {
            entries: lru::LruCache::new(capacity),
        }
    }

    /// The entry of `key`, counted in `stats` as a memory hit; or, on a miss, what `make`
    /// returns, kept for the next time.
    pub(crate) fn get_or_make(
        &mut self,
        stats: &mut CacheStats,
        key: K,
        make: impl FnOnce(&mut CacheStats) -> Result<V, FitError>,
    ) -> Result<V, FitError> {
        if let Some(v) = self.entries.get(&key) {
            stats.memory_hits += 1;
            profile::record_cache_hit(CacheHit::Memory);
            return Ok(v.clone());
        }
        let v = make(stats)?;
        self.entries.put(key, v.clone());
        Ok(v)
    }
}

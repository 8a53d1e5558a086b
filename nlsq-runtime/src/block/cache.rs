//! Block tapes by model hash, so that a model given at run time twice (the same string, or a
//! program building the same model again) is compiled to its fast form once per process.

use super::BlockTape;
use kernels_gen::{ModelHash, ModelIr};
use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A model's block tapes: the value alone, and the value followed by the gradient.
#[derive(Clone, Debug)]
pub struct ModelTapes {
    /// Output 0: the value.
    pub value: BlockTape,
    /// Output 0: the value; output `1 + j`: `∂f/∂p_j`.
    pub with_gradient: BlockTape,
}

impl ModelTapes {
    /// Compiles both tapes of `ir`.
    pub fn new(ir: &ModelIr) -> Self {
        let k = ir.n_inputs();
        ModelTapes {
            value: BlockTape::new(&ir.graph, &[ir.value], k),
            with_gradient: BlockTape::new(&ir.graph, &ir.outputs(), k),
        }
    }
}

/// Models the cache keeps, least recently used first out.
pub const TAPE_CACHE_ENTRIES: usize = 256;

/// Counters of the process's tape cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapeCacheStats {
    /// Models compiled to tapes.
    pub builds: u64,
    /// Models found already compiled.
    pub hits: u64,
}

struct Cache {
    entries: lru::LruCache<ModelHash, Arc<ModelTapes>>,
    stats: TapeCacheStats,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| {
    Mutex::new(Cache {
        entries: lru::LruCache::new(
            NonZeroUsize::new(TAPE_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
        ),
        stats: TapeCacheStats::default(),
    })
});

/// The tapes of the model with content hash `hash`, compiled from `ir` on the first call and
/// shared afterwards. `hash` must be `ir`'s (`kernels_gen::Compiled::hash`).
///
/// ```
/// use nlsq_runtime::block::{tape_cache_stats, tapes_for};
/// let c = kernels_gen::Compiled::new(
///     kernels_gen::parse::model_from_expr("a * exp(-b * x)", None).unwrap(),
/// );
/// let before = tape_cache_stats();
/// let t1 = tapes_for(c.hash, &c.ir);
/// let t2 = tapes_for(c.hash, &c.ir);
/// assert!(std::sync::Arc::ptr_eq(&t1, &t2));
/// assert!(tape_cache_stats().hits > before.hits);
/// ```
pub fn tapes_for(hash: ModelHash, ir: &ModelIr) -> Arc<ModelTapes> {
    {
        let mut c = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = c.entries.get(&hash).cloned() {
            c.stats.hits += 1;
            return t;
        }
    }
    // Compiled outside the lock; two threads racing on a new model both compile it, the same.
    let t = Arc::new(ModelTapes::new(ir));
    let mut c = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    c.stats.builds += 1;
    c.entries.put(hash, Arc::clone(&t));
    t
}

/// The process's tape cache counters.
pub fn tape_cache_stats() -> TapeCacheStats {
    CACHE.lock().unwrap_or_else(PoisonError::into_inner).stats
}

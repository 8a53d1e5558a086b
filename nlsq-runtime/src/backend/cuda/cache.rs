//! Compiled kernels: an in-memory LRU of loaded modules keyed by (model hash, precision,
//! architecture, module kind: fit or batch), over an on-disk cache of cubins keyed by the same
//! plus the NVRTC version.
//!
//! Disk entries are written atomically (temporary file, fsync, rename) and carry a magic tag and
//! a BLAKE3 checksum of the cubin; an entry that is truncated, corrupt or of another format is
//! rebuilt and replaced, never trusted.

use super::{Gpu, driver_error};
pub use crate::backend::kernel_cache::CacheStats;
use crate::backend::kernel_cache::Memo;
use crate::error::FitError;
use crate::model::Model;
use cudarc::driver::{CudaContext, CudaModule};
use cudarc::nvrtc::Ptx;
use kernels_gen::{ModelHash, Precision};
use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard};

const MAGIC: &[u8; 8] = b"NLSQCUB1";

impl Gpu {
    /// Locks the device's kernel cache (a poisoned lock is a backend error).
    pub(crate) fn lock_cache(&self) -> Result<MutexGuard<'_, KernelCache>, FitError> {
        self.cache.lock().map_err(|_| FitError::Backend {
            backend: "cuda".into(),
            message: "kernel cache lock poisoned".into(),
        })
    }
}

type Key = (ModelHash, Precision, String, ModuleKind);

/// Which of a model's CUDA modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    /// The fit module (`Model::cuda_source`).
    Fit,
    /// The batch-fit module (`Model::cuda_batch_source`).
    Batch,
}

/// In-memory LRU of loaded modules over an on-disk cubin cache.
pub struct KernelCache {
    memory: Memo<Key, Arc<CudaModule>>,
    dir: Option<PathBuf>,
    stats: CacheStats,
}

/// `NLSQ_CACHE_DIR`, else the user's cache directory (`~/.cache/nlsq/kernels`); `None` if
/// neither exists (then only the memory cache is used).
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("NLSQ_CACHE_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => dirs::cache_dir().map(|d| d.join("nlsq").join("kernels")),
    }
}

fn nvrtc_version() -> String {
    kernels_gen::nvrtc::version()
        .map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_else(|_| "none".into())
}

impl KernelCache {
    /// A cache writing cubins under `dir` (none: memory only).
    pub fn new(dir: Option<PathBuf>) -> Self {
        KernelCache {
            memory: Memo::new(),
            dir,
            stats: CacheStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The disk cache directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn file(&self, key: &Key) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| {
            let kind = match key.3 {
                ModuleKind::Fit => "",
                ModuleKind::Batch => "-batch",
            };
            d.join(format!(
                "{}-{}-{}{kind}-nvrtc{}.cubin",
                key.0.to_hex(),
                key.1,
                key.2,
                nvrtc_version()
            ))
        })
    }

    /// The loaded module of `model` for `precision` on `ctx` (architecture `arch`).
    pub fn module<M: Model + ?Sized>(
        &mut self,
        ctx: &Arc<CudaContext>,
        arch: &str,
        model: &M,
        precision: Precision,
    ) -> Result<Arc<CudaModule>, FitError> {
        self.load(ctx, arch, model, precision, ModuleKind::Fit)
    }

    /// The loaded batch-fit module of `model` (an error when the model has none).
    pub fn batch_module<M: Model + ?Sized>(
        &mut self,
        ctx: &Arc<CudaContext>,
        arch: &str,
        model: &M,
        precision: Precision,
    ) -> Result<Arc<CudaModule>, FitError> {
        self.load(ctx, arch, model, precision, ModuleKind::Batch)
    }

    fn load<M: Model + ?Sized>(
        &mut self,
        ctx: &Arc<CudaContext>,
        arch: &str,
        model: &M,
        precision: Precision,
        kind: ModuleKind,
    ) -> Result<Arc<CudaModule>, FitError> {
        let source = match kind {
            ModuleKind::Fit => model.cuda_source(precision),
            ModuleKind::Batch => model.cuda_batch_source(precision).ok_or_else(|| {
                FitError::Backend {
                    backend: "cuda".into(),
                    message: format!(
                        "model `{}` has no CUDA batch module ({} parameters; the batch kernels take at most {})",
                        model.name(),
                        model.n_params(),
                        kernels_gen::kernels::abi::BATCH_MAX_P
                    ),
                }
            })?,
        };
        let key: Key = (model.hash(), precision, arch.to_string(), kind);
        let path = self.file(&key);
        self.memory.get_or_make(&mut self.stats, key, |stats| {
            let cubin = cubin(stats, path.as_deref(), source, arch, model, kind)?;
            ctx.load_module(Ptx::from_binary(cubin))
                .map_err(|e| driver_error("loading the kernels", e))
        })
    }
}

/// The cubin of `source`: from the disk cache at `path` when a verified entry is there, else
/// compiled by NVRTC and written there.
fn cubin<M: Model + ?Sized>(
    stats: &mut CacheStats,
    path: Option<&Path>,
    source: &str,
    arch: &str,
    model: &M,
    kind: ModuleKind,
) -> Result<Vec<u8>, FitError> {
    if let Some(c) = path.and_then(|p| read(stats, p)) {
        stats.disk_hits += 1;
        crate::profile::record_cache_hit(crate::profile::CacheHit::Disk);
        return Ok(c);
    }
    let c = stats.build(|| {
        kernels_gen::nvrtc::compile_cubin(source, arch, model.name()).map_err(|e| {
            FitError::Backend {
                backend: "cuda".into(),
                message: e.to_string(),
            }
        })
    })?;
    tracing::debug!(model = model.name(), arch, ?kind, "built CUDA kernels");
    if let Some(p) = path
        && let Err(e) = write_atomically(p, &c)
    {
        stats.disk_write_failures += 1;
        tracing::warn!("kernel cache: could not write {}: {e}", p.display());
    }
    Ok(c)
}

/// A verified cubin from disk, or `None` (missing or rejected).
fn read(stats: &mut CacheStats, path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    match verify(&bytes) {
        Some(c) => Some(c.to_vec()),
        None => {
            stats.disk_rejected += 1;
            tracing::warn!("kernel cache: {} is corrupt; rebuilding", path.display());
            None
        }
    }
}

/// The cubin of a cache entry if its tag and checksum hold.
pub fn verify(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 40 || &bytes[..8] != MAGIC {
        return None;
    }
    let (sum, payload) = bytes[8..].split_at(32);
    (blake3::hash(payload).as_bytes() == sum && !payload.is_empty()).then_some(payload)
}

/// The bytes of a cache entry for `cubin`.
pub fn encode(cubin: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(cubin.len() + 40);
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(blake3::hash(cubin).as_bytes());
    v.extend_from_slice(cubin);
    v
}

/// Writes `cubin` to `path` atomically (temporary file, fsync, rename), creating its directory.
pub fn write_atomically(path: &Path, cubin: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    crate::atomic_file::write_atomically(path, &encode(cubin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_verify_and_corruption_is_rejected() {
        let cubin = b"\x7fELF pretend cubin bytes".to_vec();
        let e = encode(&cubin);
        assert_eq!(verify(&e), Some(&cubin[..]));
        let mut flipped = e.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(verify(&flipped), None);
        assert_eq!(verify(&e[..e.len() - 3]), None);
        assert_eq!(verify(b"garbage"), None);
        let dir = std::env::temp_dir().join(format!("nlsq-cache-test-{}", std::process::id()));
        let path = dir.join("entry.cubin");
        write_atomically(&path, &cubin).unwrap();
        assert_eq!(verify(&std::fs::read(&path).unwrap()), Some(&cubin[..]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

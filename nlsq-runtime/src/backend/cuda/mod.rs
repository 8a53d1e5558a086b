//! The CUDA backend (feature `cuda`): the model's fused-pass kernel, compiled with NVRTC for
//! the device's architecture on first use and cached in memory and on disk, over data resident
//! on the device.
//!
//! cudarc loads the driver and NVRTC dynamically: building needs no CUDA toolkit, and a machine
//! without a GPU gets [`FitError::Backend`] (and `Backend::Auto` falls back to the CPU).

pub mod cache;
pub mod chunked;
pub mod data;
pub mod multi;
pub mod objective;
pub mod staging;

use crate::error::FitError;
use cudarc::driver::{CudaContext, CudaStream, DriverError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use cache::{CacheStats, KernelCache};
pub use chunked::{ChunkedConfig, ChunkedCudaObjective};
pub use data::DeviceData;
pub use multi::{MultiCudaObjective, MultiDeviceData};
pub use objective::CudaObjective;

/// One CUDA device, its stream and its kernel cache.
pub struct Gpu {
    /// The driver context.
    pub ctx: Arc<CudaContext>,
    /// The stream every launch and copy goes through (in order).
    pub stream: Arc<CudaStream>,
    /// The device's name.
    pub name: String,
    /// Its real architecture, e.g. `sm_90`.
    pub arch: String,
    /// Streaming multiprocessors.
    pub sm_count: u32,
    /// Global memory in bytes.
    pub total_memory: usize,
    /// Compiled kernels.
    pub cache: Mutex<KernelCache>,
    /// Pinned buffers and copy streams for uploads of host data, made on first use.
    pub staging: Mutex<staging::StagingBuffers>,
}

pub(crate) fn driver_error(what: &str, e: DriverError) -> FitError {
    let message = if format!("{e:?}").contains("OUT_OF_MEMORY") {
        format!(
            "{what}: the device is out of memory ({e:?}); fit data this large through the chunked driver, or in f32"
        )
    } else {
        format!("{what}: {e:?}")
    };
    FitError::Backend {
        backend: "cuda".into(),
        message,
    }
}

impl Gpu {
    /// Opens device `ordinal`, or says why not (no driver, no device).
    pub fn open(ordinal: usize) -> Result<Arc<Gpu>, FitError> {
        // SAFETY: only probes whether the driver library can be loaded.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(FitError::Backend {
                backend: "cuda".into(),
                message: "no CUDA driver (libcuda.so) on this machine".into(),
            });
        }
        let ctx = std::panic::catch_unwind(|| CudaContext::new(ordinal))
            .map_err(|_| FitError::Backend {
                backend: "cuda".into(),
                message: "the CUDA driver could not be initialised".into(),
            })?
            .map_err(|e| driver_error("opening the device", e))?;
        use cudarc::driver::sys::CUdevice_attribute as A;
        let attr = |a| {
            ctx.attribute(a)
                .map_err(|e| driver_error("reading device attributes", e))
        };
        let major = attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
        let minor = attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
        let sm_count = attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)? as u32;
        let name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
        let total_memory = ctx.total_mem().unwrap_or(0);
        Ok(Arc::new(Gpu {
            stream: ctx.default_stream(),
            ctx,
            name,
            arch: format!("sm_{major}{minor}"),
            sm_count,
            total_memory,
            cache: Mutex::new(KernelCache::new(cache::default_dir())),
            staging: Mutex::new(staging::StagingBuffers::default()),
        }))
    }

    /// The process-wide handle on device 0, opened once.
    pub fn shared() -> Result<Arc<Gpu>, FitError> {
        static GPU: OnceLock<Result<Arc<Gpu>, FitError>> = OnceLock::new();
        GPU.get_or_init(|| Gpu::open(0)).clone()
    }

    /// The process-wide handle on device `ordinal`, opened once ([`Gpu::shared`] for 0).
    /// A failure to open is not remembered: a later call tries again.
    pub fn shared_on(ordinal: usize) -> Result<Arc<Gpu>, FitError> {
        if ordinal == 0 {
            return Gpu::shared();
        }
        static GPUS: OnceLock<Mutex<HashMap<usize, Arc<Gpu>>>> = OnceLock::new();
        let gpus = GPUS.get_or_init(Default::default);
        let lock = || {
            gpus.lock().map_err(|_| FitError::Backend {
                backend: "cuda".into(),
                message: "the table of open devices was poisoned by a panic".into(),
            })
        };
        if let Some(gpu) = lock()?.get(&ordinal) {
            return Ok(gpu.clone());
        }
        let gpu = Gpu::open(ordinal)?;
        Ok(lock()?.entry(ordinal).or_insert(gpu).clone())
    }

    /// How many devices the driver lists (after `CUDA_VISIBLE_DEVICES`), or why none can be
    /// counted.
    pub fn count() -> Result<usize, FitError> {
        // Opening device 0 loads and initialises the driver, with its errors.
        Gpu::shared()?;
        let n = CudaContext::device_count().map_err(|e| driver_error("counting the devices", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Blocks of a pass launch for `n` points: enough to fill the device, never more than the
    /// points need. Fixed for a given `n`, so re-runs reduce in the same order.
    pub fn pass_grid(&self, n: usize, block: u32) -> u32 {
        let needed = n.div_ceil(block as usize).max(1);
        needed.min(self.sm_count as usize * 8) as u32
    }
}

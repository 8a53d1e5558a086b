//! The wgpu backend (feature `wgpu`): the model's WGSL module run as compute pipelines on any
//! GPU wgpu reaches (Vulkan, Metal, DX12), over data resident on the device.
//!
//! f64 kernels run where the adapter has `SHADER_F64` (f64 transcendentals are in software);
//! elsewhere the f32 kernels keep accuracy with Kahan-compensated lanes, tree reductions in each
//! workgroup, and the per-workgroup rows summed on the host in f64, in workgroup order, so a
//! re-run gives bit-identical sums.
//!
//! Without an adapter, [`Gpu::shared`] is a [`FitError::Backend`] and `Backend::Auto` falls back
//! to the CPU. The backends wgpu considers follow its `WGPU_BACKEND` variable (e.g.
//! `WGPU_BACKEND=vulkan`).

pub mod cache;
pub mod data;
pub mod objective;

use crate::error::FitError;
use kernels_gen::Precision;
use std::sync::{Arc, Mutex, OnceLock};

/// The `wgpu` crate this backend is built on (for [`Gpu::open`]'s `Backends` and the like).
pub use ::wgpu;
pub use cache::{BatchPipeline, PipelineCache, Pipelines};
pub use data::DeviceData;
pub use objective::WgpuObjective;

/// Backends searched for an adapter by default (no OpenGL: no f64 and no compute on old GL).
pub const DEFAULT_BACKENDS: wgpu::Backends = wgpu::Backends::VULKAN
    .union(wgpu::Backends::METAL)
    .union(wgpu::Backends::DX12);

/// One wgpu device, its queue and its pipeline cache.
pub struct Gpu {
    /// The logical device.
    pub device: wgpu::Device,
    /// The queue every dispatch and copy goes through (in order).
    pub queue: wgpu::Queue,
    /// What the adapter says about itself.
    pub info: wgpu::AdapterInfo,
    /// Whether the device runs f64 shaders (`SHADER_F64`).
    pub has_f64: bool,
    /// The limits the device was opened with (the adapter's own for buffer sizes).
    pub limits: wgpu::Limits,
    /// Compiled pipelines.
    pub cache: Mutex<PipelineCache>,
}

pub(crate) fn backend_error(message: impl Into<String>) -> FitError {
    FitError::Backend {
        backend: "wgpu".into(),
        message: message.into(),
    }
}

impl Gpu {
    /// Opens the highest-performance adapter among `backends` and a device on it, with
    /// `SHADER_F64` when the adapter has it and the adapter's buffer-size limits; or says why
    /// not (no adapter, device request refused).
    pub fn open(backends: wgpu::Backends) -> Result<Arc<Gpu>, FitError> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| backend_error(format!("no wgpu adapter ({backends:?}): {e}")))?;
        let info = adapter.get_info();
        let has_f64 = adapter.features().contains(wgpu::Features::SHADER_F64);
        // The adapter's own limits: large buffers and bindings where the hardware allows them.
        let limits = adapter.limits();
        let features = if has_f64 {
            wgpu::Features::SHADER_F64
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("nlsq"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| backend_error(format!("opening a device on {}: {e}", info.name)))?;
        // Errors outside an error scope are logged, never turned into panics.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            tracing::error!("wgpu: uncaptured error: {e}");
        }));
        tracing::debug!(adapter = %info.name, backend = ?info.backend, has_f64, "opened wgpu device");
        Ok(Arc::new(Gpu {
            device,
            queue,
            info,
            has_f64,
            limits,
            cache: Mutex::new(PipelineCache::new()),
        }))
    }

    /// The process-wide device on the backends of `WGPU_BACKEND` (default
    /// [`DEFAULT_BACKENDS`]), opened once.
    pub fn shared() -> Result<Arc<Gpu>, FitError> {
        static GPU: OnceLock<Result<Arc<Gpu>, FitError>> = OnceLock::new();
        GPU.get_or_init(|| Gpu::open(wgpu::Backends::from_env().unwrap_or(DEFAULT_BACKENDS)))
            .clone()
    }

    /// Whether the adapter is a software implementation on the CPU (e.g. Mesa's lavapipe):
    /// correct, but slower than the CPU backend, which uses all cores without the shader
    /// round trips.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// `name (backend)`, e.g. `llvmpipe (LLVM 19.1.7, 256 bits) (Vulkan)`.
    pub fn describe(&self) -> String {
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    /// The identity of the adapter in cache keys.
    pub fn adapter_key(&self) -> String {
        format!(
            "{:?}:{:x}:{:x}:{}:{}",
            self.info.backend,
            self.info.vendor,
            self.info.device,
            self.info.name,
            self.info.driver_info
        )
    }

    /// An error unless the device can evaluate in `precision`.
    pub fn check_precision(&self, precision: Precision) -> Result<(), FitError> {
        if precision == Precision::F64 && !self.has_f64 {
            return Err(backend_error(format!(
                "adapter {} has no SHADER_F64: f64 kernels cannot run there; use precision(Precision::F32) (compensated sums, partials summed in f64) or the CPU",
                self.describe()
            )));
        }
        Ok(())
    }

    /// Blocks until the queue is idle.
    pub fn wait(&self) -> Result<(), FitError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| backend_error(format!("waiting for the device: {e}")))
    }

    /// Bytes of one element of `precision`.
    pub fn elem_bytes(precision: Precision) -> u64 {
        match precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }
}

/// Little-endian bytes of `v` in `precision`.
pub(crate) fn to_bytes(v: &[f64], precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F64 => v.iter().flat_map(|a| a.to_le_bytes()).collect(),
        Precision::F32 => v.iter().flat_map(|&a| (a as f32).to_le_bytes()).collect(),
    }
}

/// Values of little-endian `bytes` in `precision`, widened to f64.
pub(crate) fn from_bytes(bytes: &[u8], precision: Precision) -> Vec<f64> {
    match precision {
        Precision::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        Precision::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64)
            .collect(),
    }
}

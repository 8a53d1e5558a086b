//! Backends: where passes over the data run, and the one selector that chooses among them.

pub(crate) mod chunked;
pub(crate) mod cpu;
mod cpu_block;
pub(crate) mod cpu_chunks;
#[cfg(feature = "cuda")]
pub mod cuda;
mod resident;
pub(crate) mod select;
#[cfg(feature = "wgpu")]
pub mod wgpu;
pub(crate) mod whitened;

pub use cpu::{CHUNK, CpuBackend, FAST_MAX_P, SERIAL_BELOW_CHUNKS, Simd, accumulate_point};
pub use resident::ResidentData;

/// Where a fit's passes run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Backend {
    /// The GPU when one is present and the problem is large enough to win
    /// ([`AUTO_GPU_MIN_POINTS`]), else the CPU; the result says which and why. CUDA is tried
    /// first, then a hardware wgpu adapter (never a software one such as lavapipe, which is
    /// slower than the CPU backend).
    #[default]
    Auto,
    /// The CPU, always.
    Cpu,
    /// CUDA (feature `cuda`); an error when no device can be used.
    Cuda,
    /// wgpu (feature `wgpu`): Vulkan, Metal or DX12, software adapters included; an error when
    /// no adapter can be used, or for f64 on an adapter without `SHADER_F64`.
    Wgpu,
}

/// Points from which `Backend::Auto` takes a GPU: below, launch and transfer latencies and the
/// first kernel build outweigh the faster passes.
pub const AUTO_GPU_MIN_POINTS: usize = 200_000;

/// Fits from which `Backend::Auto` takes a GPU for a batch (with the `cuda` or `wgpu` feature
/// and a hardware device): below, the kernel build and launch latency outweigh the CPU's time.
pub const AUTO_GPU_MIN_FITS: usize = 20_000;

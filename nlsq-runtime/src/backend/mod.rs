//! Backends: where passes over the data run.

pub(crate) mod choose;
pub mod cpu;
mod cpu_block;
#[cfg(feature = "cuda")]
pub mod cuda;
#[cfg(feature = "wgpu")]
pub mod wgpu;
pub mod whitened;

pub use cpu::CpuBackend;

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

//! Backends: where passes over the data run, and the one selector that chooses among them.

/// Implements [`Objective`](crate::solve::Objective) for a backend objective whose inherent
/// `row(&mut self, p)` returns the reduction row of one pass (kernel ABI layout);
/// `$np` reads its parameter count from `self`. With `rows: $rows`, the inherent
/// `$rows(&mut self, ps)` returns the rows of several vectors' passes (a K-vector pass, each row
/// that of `row` bit for bit), and `passes` and `costs` take them: there is no cost-only
/// kernel, so screening a vector costs a full pass.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
macro_rules! objective_from_row {
    ($ty:ty, |$s:ident| $np:expr) => {
        objective_from_row!($ty, |$s| $np, {});
    };
    ($ty:ty, |$s:ident| $np:expr, rows: $rows:ident) => {
        objective_from_row!($ty, |$s| $np, {
            fn passes(
                &mut self,
                ps: &[&[f64]],
            ) -> Result<Vec<$crate::solve::Pass>, $crate::error::FitError> {
                let rows = self.$rows(ps)?;
                Ok(ps
                    .iter()
                    .zip(rows)
                    .map(|(p, row)| $crate::backend::cpu::pass_from_row(p.len(), &row))
                    .collect())
            }

            fn costs(&mut self, ps: &[&[f64]]) -> Result<Vec<f64>, $crate::error::FitError> {
                Ok(self.passes(ps)?.into_iter().map(|p| p.cost).collect())
            }
        });
    };
    ($ty:ty, |$s:ident| $np:expr, { $($more:item)* }) => {
        impl $crate::solve::Objective for $ty {
            fn n_params(&self) -> usize {
                let $s = self;
                $np
            }

            fn pass(&mut self, p: &[f64]) -> Result<$crate::solve::Pass, $crate::error::FitError> {
                Ok($crate::backend::cpu::pass_from_row(p.len(), &self.row(p)?))
            }

            $($more)*
        }
    };
}

#[macro_use]
mod resident;
pub(crate) mod blocks;
pub(crate) mod chunked;
pub(crate) mod cpu;
mod cpu_block;
pub(crate) mod cpu_chunks;
#[cfg(feature = "cuda")]
pub mod cuda;
mod devices;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
mod kernel_cache;
pub(crate) mod select;
#[cfg(feature = "wgpu")]
pub mod wgpu;
pub(crate) mod whitened;

pub use cpu::{
    CHUNK, CpuBackend, FAST_MAX_P, SERIAL_BELOW_CHUNKS, Simd, WINDOW_ITEMS, accumulate_point,
};
pub use devices::{CudaDevices, MAX_CUDA_DEVICES};
pub use resident::{DataShape, ResidentData};

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

//! Which backend runs a fit's passes, and the reason the result reports.

use super::{AUTO_GPU_MIN_POINTS, Backend};
use crate::error::FitError;
use kernels_gen::Precision;

/// Where the passes of one fit run, and why.
pub(crate) enum Chosen {
    Cpu(String),
    #[cfg(feature = "cuda")]
    Cuda(std::sync::Arc<super::cuda::Gpu>, String),
    #[cfg(feature = "wgpu")]
    Wgpu(std::sync::Arc<super::wgpu::Gpu>, String),
}

/// Chooses for `backend` and `precision` a backend for `n` points (`dense`: a covariance
/// sigma, CPU only).
pub(crate) fn choose(
    backend: Backend,
    precision: Precision,
    n: usize,
    dense: bool,
) -> Result<Chosen, FitError> {
    let cpu = |why: String| Ok(Chosen::Cpu(why));
    match backend {
        Backend::Cpu => cpu("cpu (chosen)".into()),
        Backend::Cuda | Backend::Wgpu if dense => Err(FitError::InvalidOption {
            option: "backend".into(),
            reason: "a covariance sigma is fitted on the CPU only".into(),
        }),
        Backend::Cuda => {
            #[cfg(feature = "cuda")]
            {
                let gpu = super::cuda::Gpu::shared()?;
                let why = format!("cuda {} ({}), {precision} (chosen)", gpu.name, gpu.arch);
                Ok(Chosen::Cuda(gpu, why))
            }
            #[cfg(not(feature = "cuda"))]
            Err(FitError::Backend {
                backend: "cuda".into(),
                message: "this build has no CUDA support: enable the `cuda` feature".into(),
            })
        }
        Backend::Wgpu => {
            #[cfg(feature = "wgpu")]
            {
                let gpu = super::wgpu::Gpu::shared()?;
                gpu.check_precision(precision)?;
                let why = format!("wgpu {}, {precision} (chosen)", gpu.describe());
                Ok(Chosen::Wgpu(gpu, why))
            }
            #[cfg(not(feature = "wgpu"))]
            Err(FitError::Backend {
                backend: "wgpu".into(),
                message: "this build has no wgpu support: enable the `wgpu` feature".into(),
            })
        }
        Backend::Auto if dense => cpu("cpu (auto: a covariance sigma is fitted on the CPU)".into()),
        Backend::Auto if n < AUTO_GPU_MIN_POINTS => cpu(format!(
            "cpu (auto: {n} points, below the {AUTO_GPU_MIN_POINTS} where a GPU wins)"
        )),
        Backend::Auto => auto(precision, n),
    }
}

/// `Backend::Auto` for a large problem: CUDA, then a hardware wgpu adapter, then the CPU.
#[cfg_attr(
    not(any(feature = "cuda", feature = "wgpu")),
    allow(unused_variables, unused_mut)
)]
fn auto(precision: Precision, n: usize) -> Result<Chosen, FitError> {
    let mut why_not: Vec<String> = Vec::new();
    #[cfg(feature = "cuda")]
    match super::cuda::Gpu::shared() {
        Ok(gpu) => {
            let why = format!(
                "cuda {} ({}), {precision} (auto: {n} points)",
                gpu.name, gpu.arch
            );
            return Ok(Chosen::Cuda(gpu, why));
        }
        Err(e) => why_not.push(e.to_string()),
    }
    #[cfg(feature = "wgpu")]
    match super::wgpu::Gpu::shared() {
        // A software adapter (lavapipe, WARP) runs the same kernels on the CPU through a shader
        // compiler and a driver: slower than the CPU backend, which is parallel already.
        Ok(gpu) if gpu.is_software() => why_not.push(format!(
            "wgpu adapter {} is a software implementation on the CPU, slower than the CPU backend",
            gpu.describe()
        )),
        Ok(gpu) if gpu.check_precision(precision).is_err() => why_not.push(format!(
            "wgpu adapter {} has no SHADER_F64 for an f64 fit",
            gpu.describe()
        )),
        Ok(gpu) => {
            let why = format!("wgpu {}, {precision} (auto: {n} points)", gpu.describe());
            return Ok(Chosen::Wgpu(gpu, why));
        }
        Err(e) => why_not.push(e.to_string()),
    }
    if why_not.is_empty() {
        Ok(Chosen::Cpu("cpu (auto: built without GPU backends)".into()))
    } else {
        Ok(Chosen::Cpu(format!(
            "cpu (auto: no usable GPU: {})",
            why_not.join("; ")
        )))
    }
}

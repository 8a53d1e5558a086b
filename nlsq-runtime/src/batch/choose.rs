//! Where a batch runs: the backend asked for, or for `Backend::Auto` CUDA, then a hardware wgpu
//! adapter (never a software one such as lavapipe: the CPU backend is faster than the same
//! kernels through a shader compiler on the same cores), then the CPU.

use super::problem::Problem;
use super::{AUTO_GPU_MIN_FITS, BatchFit, Outputs, cpu, lm};
use crate::backend::Backend;
use crate::error::FitError;
use crate::model::Model;
use kernels_gen::Precision;

impl<M: Model> BatchFit<'_, M> {
    /// Chooses the backend and runs every fit there.
    pub(super) fn run(
        &self,
        problem: &Problem<'_>,
        settings: lm::LmSettings,
        out: &mut Outputs,
    ) -> Result<(Backend, Precision, String), FitError> {
        let n = problem.n_fits;
        let cpu = |why: String, out: &mut Outputs| {
            tracing::debug!(fits = n, %why, "batch fit on the CPU");
            cpu::run(&self.model, problem, settings, out);
            Ok((Backend::Cpu, Precision::F64, why))
        };
        match self.backend {
            Backend::Cpu => cpu("cpu (chosen), f64".into(), out),
            Backend::Cuda => {
                #[cfg(feature = "cuda")]
                {
                    let gpu = crate::backend::cuda::Gpu::shared()?;
                    super::cuda::run(
                        &gpu,
                        &self.model,
                        problem,
                        settings,
                        self.precision,
                        self.device_chunk,
                        out,
                    )?;
                    let why = format!(
                        "cuda {} ({}), {} (chosen)",
                        gpu.name, gpu.arch, self.precision
                    );
                    Ok((Backend::Cuda, self.precision, why))
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
                    let gpu = crate::backend::wgpu::Gpu::shared()?;
                    super::wgpu::run(
                        &gpu,
                        &self.model,
                        problem,
                        settings,
                        self.precision,
                        self.device_chunk,
                        out,
                    )?;
                    let why = format!("wgpu {}, {} (chosen)", gpu.describe(), self.precision);
                    Ok((Backend::Wgpu, self.precision, why))
                }
                #[cfg(not(feature = "wgpu"))]
                Err(FitError::Backend {
                    backend: "wgpu".into(),
                    message: "this build has no wgpu support: enable the `wgpu` feature".into(),
                })
            }
            Backend::Auto if n < AUTO_GPU_MIN_FITS => cpu(
                format!(
                    "cpu (auto: {n} fits, below the {AUTO_GPU_MIN_FITS} where a GPU wins), f64"
                ),
                out,
            ),
            Backend::Auto => self.auto(problem, settings, out),
        }
    }

    /// `Backend::Auto` for a large batch: CUDA, then a hardware wgpu adapter, then the CPU,
    /// saying why each GPU was passed over.
    #[cfg_attr(
        not(any(feature = "cuda", feature = "wgpu")),
        allow(unused_variables, unused_mut)
    )]
    fn auto(
        &self,
        problem: &Problem<'_>,
        settings: lm::LmSettings,
        out: &mut Outputs,
    ) -> Result<(Backend, Precision, String), FitError> {
        let n = problem.n_fits;
        let precision = self.precision;
        let mut why_not: Vec<String> = Vec::new();
        #[cfg(feature = "cuda")]
        if self.model.cuda_batch_source(precision).is_none() {
            why_not.push(format!(
                "model `{}` has no CUDA batch kernels",
                self.model.name()
            ));
        } else {
            match crate::backend::cuda::Gpu::shared() {
                Ok(gpu) => {
                    super::cuda::run(
                        &gpu,
                        &self.model,
                        problem,
                        settings,
                        precision,
                        self.device_chunk,
                        out,
                    )?;
                    let why = format!(
                        "cuda {} ({}), {precision} (auto: {n} fits)",
                        gpu.name, gpu.arch
                    );
                    return Ok((Backend::Cuda, precision, why));
                }
                Err(e) => why_not.push(e.to_string()),
            }
        }
        #[cfg(feature = "wgpu")]
        if self.model.wgsl_batch_source(precision).is_none() {
            why_not.push(format!(
                "model `{}` has no WGSL batch kernels",
                self.model.name()
            ));
        } else {
            match crate::backend::wgpu::Gpu::shared() {
                Ok(gpu) if gpu.is_software() => why_not.push(format!(
                    "wgpu adapter {} is a software implementation on the CPU, slower than the CPU backend",
                    gpu.describe()
                )),
                Ok(gpu) if gpu.check_precision(precision).is_err() => why_not.push(format!(
                    "wgpu adapter {} has no SHADER_F64 for f64 fits",
                    gpu.describe()
                )),
                Ok(gpu) => {
                    super::wgpu::run(
                        &gpu,
                        &self.model,
                        problem,
                        settings,
                        precision,
                        self.device_chunk,
                        out,
                    )?;
                    let why = format!("wgpu {}, {precision} (auto: {n} fits)", gpu.describe());
                    return Ok((Backend::Wgpu, precision, why));
                }
                Err(e) => why_not.push(e.to_string()),
            }
        }
        let cpu_run = |why: String, out: &mut Outputs| {
            tracing::debug!(fits = n, %why, "batch fit on the CPU");
            cpu::run(&self.model, problem, settings, out);
            Ok((Backend::Cpu, Precision::F64, why))
        };
        if why_not.is_empty() {
            cpu_run("cpu (auto: built without GPU backends), f64".into(), out)
        } else {
            cpu_run(
                format!("cpu (auto: no usable GPU: {}), f64", why_not.join("; ")),
                out,
            )
        }
    }
}

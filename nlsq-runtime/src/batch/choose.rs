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
        let cpu = |why: String, out: &mut Outputs| self.on_cpu(problem, settings, out, why);
        match self.backend {
            Backend::Cpu => cpu("cpu (chosen), f64".into(), out),
            Backend::Cuda => {
                #[cfg(feature = "cuda")]
                {
                    let gpu = crate::backend::cuda::Gpu::shared()?;
                    self.on_cuda(&gpu, problem, settings, out, "chosen")
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
                    self.on_wgpu(&gpu, problem, settings, out, "chosen")
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
                    let how = format!("auto: {n} fits");
                    return self.on_cuda(&gpu, problem, settings, out, &how);
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
                    let how = format!("auto: {n} fits");
                    return self.on_wgpu(&gpu, problem, settings, out, &how);
                }
                Err(e) => why_not.push(e.to_string()),
            }
        }
        let why = if why_not.is_empty() {
            "cpu (auto: built without GPU backends), f64".to_string()
        } else {
            format!("cpu (auto: no usable GPU: {}), f64", why_not.join("; "))
        };
        self.on_cpu(problem, settings, out, why)
    }

    /// Runs every fit on the CPU; `why` is the reason reported.
    fn on_cpu(
        &self,
        problem: &Problem<'_>,
        settings: lm::LmSettings,
        out: &mut Outputs,
        why: String,
    ) -> Result<(Backend, Precision, String), FitError> {
        tracing::debug!(fits = problem.n_fits, %why, "batch fit on the CPU");
        cpu::run(&self.model, problem, settings, out);
        Ok((Backend::Cpu, Precision::F64, why))
    }

    /// Runs every fit on `gpu` through CUDA; `how` says how the backend was chosen.
    #[cfg(feature = "cuda")]
    fn on_cuda(
        &self,
        gpu: &std::sync::Arc<crate::backend::cuda::Gpu>,
        problem: &Problem<'_>,
        settings: lm::LmSettings,
        out: &mut Outputs,
        how: &str,
    ) -> Result<(Backend, Precision, String), FitError> {
        let p = self.precision;
        super::cuda::run(
            gpu,
            &self.model,
            problem,
            settings,
            p,
            self.device_chunk,
            out,
        )?;
        let why = format!("cuda {} ({}), {p} ({how})", gpu.name, gpu.arch);
        Ok((Backend::Cuda, p, why))
    }

    /// Runs every fit on `gpu` through wgpu; `how` says how the backend was chosen.
    #[cfg(feature = "wgpu")]
    fn on_wgpu(
        &self,
        gpu: &std::sync::Arc<crate::backend::wgpu::Gpu>,
        problem: &Problem<'_>,
        settings: lm::LmSettings,
        out: &mut Outputs,
        how: &str,
    ) -> Result<(Backend, Precision, String), FitError> {
        let p = self.precision;
        super::wgpu::run(
            gpu,
            &self.model,
            problem,
            settings,
            p,
            self.device_chunk,
            out,
        )?;
        let why = format!("wgpu {}, {p} ({how})", gpu.describe());
        Ok((Backend::Wgpu, p, why))
    }
}

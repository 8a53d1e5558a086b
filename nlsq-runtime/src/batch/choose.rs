//! Where a batch runs: the one backend selector ([`crate::backend::select`]) chooses, and the
//! batch runs there.

use super::problem::Problem;
use super::{BatchFit, Outputs, cpu, lm};
use crate::backend::Backend;
use crate::backend::select::{Device, Work, select};
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
        let work = Work::Batch {
            fits: problem.n_fits,
            cuda_kernels: self.model.cuda_batch_source(self.precision).is_some(),
            wgsl_kernels: self.model.wgsl_batch_source(self.precision).is_some(),
        };
        let selected = select(self.backend, self.precision, &work)?;
        #[cfg_attr(not(any(feature = "cuda", feature = "wgpu")), allow(unused_variables))]
        let (p, chunk) = (self.precision, self.device_chunk);
        let backend = match selected.device {
            Device::Cpu => Backend::Cpu,
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => {
                super::cuda::run(&gpu, &self.model, problem, settings, p, chunk, out)?;
                Backend::Cuda
            }
            // Batch fits take the default devices, never a split.
            #[cfg(feature = "cuda")]
            Device::CudaMulti(gpus) => {
                super::cuda::run(&gpus[0], &self.model, problem, settings, p, chunk, out)?;
                Backend::Cuda
            }
            #[cfg(feature = "wgpu")]
            Device::Wgpu(gpu) => {
                super::wgpu::run(&gpu, &self.model, problem, settings, p, chunk, out)?;
                Backend::Wgpu
            }
        };
        if backend != Backend::Cpu {
            return Ok((backend, p, selected.why));
        }
        tracing::debug!(fits = problem.n_fits, why = %selected.why, "batch fit on the CPU");
        cpu::run(&self.model, problem, settings, out);
        Ok((
            Backend::Cpu,
            Precision::F64,
            format!("{}, f64", selected.why),
        ))
    }
}

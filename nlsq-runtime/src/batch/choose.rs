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
        let why = selected.why;
        match selected.device {
            Device::Cpu => {
                tracing::debug!(fits = problem.n_fits, %why, "batch fit on the CPU");
                cpu::run(&self.model, problem, settings, out);
                Ok((Backend::Cpu, Precision::F64, format!("{why}, f64")))
            }
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => {
                let p = self.precision;
                super::cuda::run(
                    &gpu,
                    &self.model,
                    problem,
                    settings,
                    p,
                    self.device_chunk,
                    out,
                )?;
                Ok((Backend::Cuda, p, why))
            }
            #[cfg(feature = "wgpu")]
            Device::Wgpu(gpu) => {
                let p = self.precision;
                super::wgpu::run(
                    &gpu,
                    &self.model,
                    problem,
                    settings,
                    p,
                    self.device_chunk,
                    out,
                )?;
                Ok((Backend::Wgpu, p, why))
            }
        }
    }
}

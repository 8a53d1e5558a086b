//! The chunked and streamed route: a re-iterable source (in-memory data cut into chunks, or a
//! [`DataSource`] beyond the host budget) read once per pass, on the CPU or through CUDA's
//! device buffers. Exact: the result equals the in-memory fit.

use super::builder::BoxedCallback;
use super::finish::{Route, finish};
use super::spec::Spec;
use crate::backend::chunked::{ChunkedObjective, ChunkedSpec};
use crate::backend::cpu_chunks;
use crate::backend::select::{Device, Work, on_devices, select};
use crate::backend::{AUTO_GPU_MIN_POINTS, Backend};
use crate::checkpoint::fingerprint::DataFingerprint;
use crate::data::DataSummary;
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::model::Model;
use crate::profile::Began;
use crate::result::FitResult;
use crate::solve::{Objective, Pass, SolverOutput};
use crate::stream::{Chunk, DataSource};

/// Fits `source` chunk by chunk, one read per pass, with the chunk size of `plan`
/// (`Chunked` or `Streaming` mode).
pub(crate) fn fit_streamed<M: Model>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    source: &mut dyn DataSource,
    mut plan: DataPlan,
    start: Began,
) -> Result<FitResult, FitError> {
    let mut route = streamed_route(spec, source, &mut plan)?;
    finish(spec, callback, &mut route, plan, start)
}

/// The streamed route over `source`, read in the chunks of `plan` (which the device may
/// adjust).
pub(crate) fn streamed_route<'r, M: Model>(
    spec: &'r Spec<M>,
    source: &'r mut dyn DataSource,
    plan: &mut DataPlan,
) -> Result<Streamed<'r, M>, FitError> {
    let (device, why) = choose(spec, source.len_hint(), plan)?;
    let weighted = source.has_sigma();
    let chunked = ChunkedSpec {
        loss: spec.loss,
        f_scale: spec.f_scale,
        precision: spec.precision,
        limits: spec.memory.limits,
    };
    let objective =
        device.chunked_objective(&spec.model, source, spec.nan_policy, chunked, plan)?;
    Ok(Streamed {
        model: &spec.model,
        objective,
        weighted,
        backend: why,
    })
}

/// The device of a chunked fit, and why: a GPU only for data known to be large enough (or
/// beyond a device budget, or asked for); the CPU reason names the data mode.
fn choose<M: Model>(
    spec: &Spec<M>,
    n_hint: Option<u64>,
    plan: &DataPlan,
) -> Result<(Device, String), FitError> {
    let n = n_hint.unwrap_or(0) as usize;
    let points = if plan.device_budget_bytes.is_some() {
        n.max(AUTO_GPU_MIN_POINTS)
    } else {
        n
    };
    let work = Work::Fit {
        points,
        dense: false,
        streamed: true,
    };
    let selected = on_devices(
        select(spec.backend, spec.precision, &work)?,
        &spec.cuda_devices,
        false,
    )?;
    Ok(match selected.device {
        Device::Cpu if spec.backend == Backend::Cpu => {
            (Device::Cpu, format!("cpu ({} data)", plan.mode))
        }
        Device::Cpu => (Device::Cpu, format!("{}, {} data", selected.why, plan.mode)),
        #[cfg(any(feature = "cuda", feature = "wgpu"))]
        gpu => (gpu, format!("{}, chunked", selected.why)),
    })
}

/// The chunked or streamed route: one objective that reads its source once per pass.
pub(crate) struct Streamed<'r, M: Model> {
    model: &'r M,
    objective: Box<dyn ChunkedObjective<'r> + 'r>,
    weighted: bool,
    backend: String,
}

impl<M: Model> Route for Streamed<'_, M> {
    fn objective(&mut self) -> &mut dyn Objective {
        &mut *self.objective
    }

    fn identified_by_first_pass(&self) -> bool {
        true
    }

    /// Streamed data is identified by its size and its first pass (a function of every
    /// point), computed anyway.
    fn fingerprint(&self, first: Option<&Pass>) -> (usize, [u8; 32]) {
        let Some(first) = first else {
            return (0, [0; 32]);
        };
        let mut fp = DataFingerprint::default();
        fp.column(&[first.n_points as f64, first.n_nonfinite as f64, first.cost]);
        fp.column(first.gradient.as_slice());
        (first.n_points as usize, fp.finish())
    }

    /// Found by one more pass on the CPU.
    fn first_nonfinite(&mut self, p: &[f64]) -> Result<usize, FitError> {
        let found = cpu_chunks::first_nonfinite_in(self.model, self.objective.reader_mut(), p)?;
        Ok(found.unwrap_or(0) as usize)
    }

    fn unweighted_ssr(&mut self, out: &SolverOutput, linear: bool) -> Result<f64, FitError> {
        if linear && !self.weighted {
            return Ok(2.0 * out.pass.cost);
        }
        cpu_chunks::unweighted_ssr(self.model, self.objective.reader_mut(), &out.x)
    }

    fn weighted_ssr(&mut self, p: &[f64]) -> Result<f64, FitError> {
        cpu_chunks::weighted_ssr(self.model, self.objective.reader_mut(), p)
    }

    fn summary(&mut self, plan: &mut DataPlan) -> DataSummary {
        let stats = self
            .objective
            .reader_mut()
            .stats()
            .copied()
            .unwrap_or_default();
        let bytes_per_point = Chunk::bytes_per_point(self.model.n_inputs(), self.weighted);
        plan.chunks_per_pass = stats.chunks;
        plan.data_bytes = Some((stats.n + stats.omitted) * bytes_per_point);
        stats.summary()
    }

    fn backend(&self) -> String {
        self.backend.clone()
    }
}

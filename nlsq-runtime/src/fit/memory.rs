//! The in-memory route: validated host data, fitted where the selector puts it (the CPU, a
//! GPU after one upload, or the CPU's dense path for a covariance sigma).

use super::builder::BoxedCallback;
use super::finish::{Route, finish};
use super::run::data_fingerprint;
use super::spec::Spec;
use crate::backend::CpuBackend;
use crate::backend::cpu::first_nonfinite;
use crate::backend::select::{Device, Uploaded, Work, on_devices, select};
use crate::backend::whitened::{self, WhitenedObjective};
use crate::data::{DataSummary, FitData, NanPolicy};
use crate::error::FitError;
use crate::loss::Loss;
use crate::memory::DataPlan;
use crate::model::Model;
use crate::profile::Began;
use crate::result::FitResult;
use crate::solve::{Objective, Pass, SolverOutput};
use kernels_gen::Precision;
use nalgebra::DMatrix;

/// Host data: predictor columns, observations and their 1-D sigma.
pub(crate) struct Columns<'c> {
    pub(crate) x: Vec<&'c [f64]>,
    pub(crate) y: &'c [f64],
    pub(crate) sigma: Option<&'c [f64]>,
}

/// Fits in-memory data on one device; the result's data plan is `plan`, or the in-memory plan
/// of the validated data.
pub(crate) fn fit_in_memory<M: Model>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    columns: Columns<'_>,
    plan: Option<DataPlan>,
    start: Began,
) -> Result<FitResult, FitError> {
    // A rank's shard of a distributed fit may hold fewer points than parameters: the first
    // pass counts the points of every rank.
    #[cfg(feature = "mpi")]
    let min_points = if spec.dist.is_some() {
        0
    } else {
        spec.p0.len()
    };
    #[cfg(not(feature = "mpi"))]
    let min_points = spec.p0.len();
    let placed = place(spec, columns, plan, min_points)?;
    // A CPU fit of enough points runs on the thread pool, where its passes split over the
    // threads cheaply (`crate::pool`). Not with a callback (it need not be `Send`), nor with
    // the feature `mpi` (a distributed fit's processes are not shared between threads).
    #[cfg(not(feature = "mpi"))]
    if callback.is_none()
        && matches!(placed.device, Device::Cpu)
        && crate::pool::worth_entering(placed.data.len())
    {
        // On a worker thread of the pool, inside the caller's `tracing` span; this thread
        // waits.
        let span = tracing::Span::current();
        return rayon::scope(|_| span.in_scope(|| fit_placed(spec, None, &placed, start)));
    }
    fit_placed(spec, callback, &placed, start)
}

/// Fits data already placed on its device.
fn fit_placed<M: Model>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    placed: &Placed<'_>,
    start: Began,
) -> Result<FitResult, FitError> {
    let uploaded = placed.upload(spec)?;
    let mut route = in_memory_route(spec, placed, uploaded.as_ref())?;
    let plan = placed.plan.clone();
    finish(spec, callback, &mut route, plan, start)
}

/// In-memory data, validated and given a device: what an [`InMemory`] route borrows.
pub(crate) struct Placed<'c> {
    pub(crate) data: FitData<'c>,
    device: Device,
    why: String,
    /// The device checks the data's finiteness after the upload (instead of a host scan).
    on_device: bool,
    /// The data plan the result reports.
    pub(crate) plan: DataPlan,
}

/// Validates `columns` by the spec's nan policy (at least `min_points` points) and chooses
/// the device that fits them; the data plan is `plan`, or the in-memory plan of the data.
pub(crate) fn place<'c, M: Model>(
    spec: &Spec<M>,
    columns: Columns<'c>,
    plan: Option<DataPlan>,
    min_points: usize,
) -> Result<Placed<'c>, FitError> {
    let k = spec.model.n_inputs();
    let cov = spec.covariance();
    // Data that is refused on a non-finite point may be checked on the device after its upload
    // (CUDA in f64: `nlsq_data_check`) instead of by a host scan first; the error is the same.
    let deferrable =
        spec.nan_policy == NanPolicy::Raise && cov.is_none() && spec.precision == Precision::F64;
    let data = FitData::unscanned(columns.x, columns.y, columns.sigma, k)?;
    let data = if deferrable {
        data
    } else {
        data.scan(spec.nan_policy)?
    };
    if data.len() < min_points {
        if deferrable {
            raise_nonfinite(&data)?;
        }
        return Err(FitError::TooFewPoints {
            points: data.len(),
            params: min_points,
        });
    }
    if cov.is_some() && spec.nan_policy == NanPolicy::Omit && data.omitted > 0 {
        return Err(FitError::InvalidOption {
            option: "nan_policy".into(),
            reason: "omitting points is not supported with a covariance sigma".into(),
        });
    }
    let work = Work::Fit {
        points: data.len(),
        dense: cov.is_some(),
        streamed: false,
    };
    let selected = match select(spec.backend, spec.precision, &work)
        .and_then(|s| on_devices(s, &spec.cuda_devices, true))
    {
        Ok(s) => s,
        Err(e) => {
            // The data's own error first, as when the host checked before selecting.
            if deferrable {
                raise_nonfinite(&data)?;
            }
            return Err(e);
        }
    };
    let on_device = deferrable && selected.device.checks_data(spec.precision);
    if deferrable && !on_device {
        raise_nonfinite(&data)?;
    }
    let plan = plan.unwrap_or_else(|| {
        let weighted = data.weights.is_some();
        spec.memory.in_memory(data.len(), data.n_inputs(), weighted)
    });
    Ok(Placed {
        data,
        device: selected.device,
        why: selected.why,
        on_device,
        plan,
    })
}

impl Placed<'_> {
    /// The data on its device (`None` with a covariance sigma, fitted on the CPU's dense path).
    pub(crate) fn upload<M>(&self, spec: &Spec<M>) -> Result<Option<Uploaded>, FitError> {
        if spec.covariance().is_some() {
            return Ok(None);
        }
        self.device.upload(&self.data, spec.precision).map(Some)
    }
}

/// The in-memory route over `placed` data, `uploaded` to its device.
pub(crate) fn in_memory_route<'r, M: Model>(
    spec: &'r Spec<M>,
    placed: &'r Placed<'r>,
    uploaded: Option<&'r Uploaded>,
) -> Result<InMemory<'r, M>, FitError> {
    let (model, loss, f_scale, data) = (&spec.model, spec.loss, spec.f_scale, &placed.data);
    let (objective, backend): (Box<dyn Objective + 'r>, String) =
        match (spec.covariance(), uploaded) {
            (Some(c), _) => (
                Box::new(WhitenedObjective::new(model, data, c, loss, f_scale)?),
                "cpu (dense, covariance sigma)".to_string(),
            ),
            (None, Some(uploaded)) => (
                uploaded.checked_objective(model, data, loss, f_scale, placed.on_device)?,
                placed.why.clone(),
            ),
            (None, None) => {
                return Err(FitError::InvalidOption {
                    option: "data".into(),
                    reason: "in-memory data was not uploaded to its device".into(),
                });
            }
        };
    Ok(InMemory {
        model,
        data,
        cov: spec.covariance().cloned(),
        loss,
        f_scale,
        objective,
        backend,
    })
}

/// The in-memory route: one objective over validated host data.
pub(crate) struct InMemory<'r, M: Model> {
    model: &'r M,
    data: &'r FitData<'r>,
    cov: Option<DMatrix<f64>>,
    loss: Loss,
    f_scale: f64,
    objective: Box<dyn Objective + 'r>,
    backend: String,
}

impl<M: Model> Route for InMemory<'_, M> {
    fn objective(&mut self) -> &mut dyn Objective {
        &mut *self.objective
    }

    fn fingerprint(&self, _: Option<&Pass>) -> (usize, [u8; 32]) {
        (
            self.data.len(),
            data_fingerprint(self.data, self.cov.as_ref()),
        )
    }

    fn first_nonfinite(&mut self, p: &[f64]) -> Result<usize, FitError> {
        Ok(first_nonfinite(self.model, self.data, p).unwrap_or(0))
    }

    /// Unweighted plain least squares has it in the solver's last pass; otherwise one CPU
    /// evaluation at the solution, whatever backend fitted.
    fn unweighted_ssr(&mut self, out: &SolverOutput, linear: bool) -> Result<f64, FitError> {
        Ok(if self.cov.is_some() {
            whitened::unweighted_ssr(self.model, self.data, &out.x)
        } else if linear && self.data.weights.is_none() {
            2.0 * out.pass.cost
        } else {
            CpuBackend::new(self.model, self.data, self.loss, self.f_scale).unweighted_ssr(&out.x)
        })
    }

    fn weighted_ssr(&mut self, p: &[f64]) -> Result<f64, FitError> {
        Ok(match &self.cov {
            Some(c) => {
                let linear = WhitenedObjective::new(self.model, self.data, c, Loss::Linear, 1.0)?;
                whitened_ssr(linear, p)?
            }
            None => CpuBackend::new(self.model, self.data, Loss::Linear, 1.0)
                .residuals(p)
                .iter()
                .map(|r| r * r)
                .sum(),
        })
    }

    fn summary(&mut self, _: &mut DataPlan) -> DataSummary {
        self.data.summary()
    }

    fn backend(&self) -> String {
        self.backend.clone()
    }

    fn input_ranges(&self) -> Option<Vec<(f64, f64)>> {
        let range = |column: &[f64]| {
            column
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                })
        };
        Some(self.data.x.iter().map(|c| range(c)).collect())
    }
}

/// [`NanPolicy::Raise`]'s error for the first non-finite point of `data`, if it has one.
fn raise_nonfinite(data: &FitData<'_>) -> Result<(), FitError> {
    match data.first_nonfinite() {
        Some(i) => Err(data.nonfinite_error(i)),
        None => Ok(()),
    }
}

/// `Σ (L⁻¹ r)²` at `p`: twice the cost of the linear-loss whitened objective.
fn whitened_ssr<M: Model>(
    mut objective: WhitenedObjective<'_, M>,
    p: &[f64],
) -> Result<f64, FitError> {
    Ok(2.0 * objective.pass(p)?.cost)
}

//! The online route, for one-pass sources larger than the host budget: incremental
//! Gauss–Newton.
//!
//! Chunk `c` is fitted with the solver the fit asked for, on the cost
//!
//! ```text
//! ½ (p − p_{c−1})ᵀ A_{c−1} (p − p_{c−1}) + ½ Σ_{i ∈ c} ρ(r_i(p)²)
//! ```
//!
//! where `p_{c−1}` is the estimate after the previous chunks and `A_{c−1}` their accumulated
//! Gauss–Newton matrix (the information they carry). The solution is `p_c`, and `A_c` is the
//! Gauss–Newton matrix of that cost at `p_c` (the prior's `A_{c−1}` plus the chunk's `JᵀJ`).
//! For a model linear in its parameters this is recursive least squares, and the result is the
//! exact fit; for a nonlinear model the earlier chunks enter through their quadratic expansion
//! around the estimate of their time, so the result is **approximate** and labelled so
//! (`DataPlan::approximate`).
//!
//! **Convergence rule:** the fit is reported converged when the last chunk moved every
//! parameter by at most `online_tol` (default [`DEFAULT_ONLINE_TOL`]) of its standard error
//! at the end, i.e. more data of the same kind would no longer change the estimate by a
//! meaningful fraction of its uncertainty. The covariance comes from `A` and the summed chunk
//! costs at each chunk's estimate.

use super::spec::Spec;
use crate::backend::cpu::{CpuBackend, pass_from_row};
use crate::data::FitData;
use crate::error::FitError;
use crate::loss::Loss;
use crate::memory::{DataMode, DataPlan};
use crate::model::Model;
use crate::profile::Began;
use crate::result::FitResult;
use crate::solve::Method;
use crate::solve::{self, Objective, Pass, SolverOptions, SolverOutput};
use crate::stream::{Chunk, ChunkReader, DataSource, StreamStats};
use crate::summary::assemble;
use nalgebra::{DMatrix, DVector};

/// Default of `CurveFit::online_tol`: the largest move of a parameter in the last chunk, in
/// standard errors, for an online fit to count as converged.
pub const DEFAULT_ONLINE_TOL: f64 = 0.5;

/// The state of an online fit after some chunks: everything the chunks read so far
/// contribute, which with the source's position
/// ([`DataSource::cursor`](crate::stream::DataSource::cursor)) is what a checkpoint of an online fit
/// records in order to continue it with the rest of the source.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OnlineState {
    /// The current estimate.
    pub p: Vec<f64>,
    /// The accumulated Gauss–Newton matrix `A` (none before the first chunk).
    pub information: Option<DMatrix<f64>>,
    /// Half the summed chunk costs, each at its chunk's estimate.
    pub cost: f64,
    /// Summed unweighted squared residuals, each chunk at its estimate.
    pub ssr: f64,
    /// Summed weighted squared residuals `Σ (w r)²`, each chunk at its estimate (robust
    /// losses only; 0 for the linear loss, whose χ² is twice the cost).
    pub wssr: f64,
    /// Chunks fitted.
    pub chunks: u64,
    /// Points fitted.
    pub points: u64,
}

/// The outcome of an online fit.
#[derive(Clone, Debug)]
pub(crate) struct OnlineOutput {
    /// The final estimate, with the accumulated matrix `A` as `pass.jtj` and half the summed
    /// chunk costs as `pass.cost` (as a solver's output, for the result statistics).
    pub out: SolverOutput,
    /// `Σ (y − f)²` over all chunks, each at its own estimate.
    pub ssr: f64,
    /// `Σ (w r)²` over all chunks, each at its own estimate (robust losses only).
    pub wssr: f64,
    /// The largest move of a parameter in the last chunk, in standard errors.
    pub last_step_in_se: f64,
    /// Chunks read.
    pub chunks: u64,
}

/// One chunk's cost plus the quadratic prior of the chunks before it.
struct PriorObjective<'d, M: Model> {
    cpu: CpuBackend<'d, M>,
    prior: Option<(DVector<f64>, DMatrix<f64>)>,
}

impl<M: Model> Objective for PriorObjective<'_, M> {
    fn n_params(&self) -> usize {
        self.cpu.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let mut pass = pass_from_row(p.len(), &self.cpu.row(p));
        if let Some((p_prev, a)) = &self.prior {
            let d = DVector::from_column_slice(p) - p_prev;
            let ad = a * &d;
            pass.cost += 0.5 * d.dot(&ad);
            pass.jtj += a;
            pass.gradient += ad;
        }
        Ok(pass)
    }
}

impl OnlineState {
    /// Takes a chunk of `points` points fitted to `out`, where its own cost is `cost`.
    fn absorb(&mut self, out: &SolverOutput, cost: f64, points: usize) {
        self.cost += cost;
        self.p.clone_from(&out.x);
        self.information = Some(out.pass.jtj.clone());
        self.chunks += 1;
        self.points += points as u64;
    }
}

/// Fits the chunks of `reader` once each, in order.
fn solve_online<M: Model>(
    model: &M,
    reader: &mut ChunkReader<'_>,
    p0: &[f64],
    options: &SolverOptions,
    method: Method,
    loss: Loss,
    f_scale: f64,
) -> Result<OnlineOutput, FitError> {
    let np = p0.len();
    let mut st = OnlineState {
        p: p0.to_vec(),
        information: None,
        cost: 0.0,
        ssr: 0.0,
        wssr: 0.0,
        chunks: 0,
        points: 0,
    };
    let (mut nfev, mut njev, mut nit) = (0, 0, 0);
    let mut last: Option<SolverOutput> = None;
    let mut last_step = DVector::zeros(np);
    reader.pass(|data: &FitData<'_>, start| {
        let mut obj = PriorObjective {
            cpu: CpuBackend::new(model, data, loss, f_scale),
            prior: st
                .information
                .as_ref()
                .map(|a| (DVector::from_column_slice(&st.p), a.clone())),
        };
        let out = solve::solve_with(method, &mut obj, &st.p, options, Default::default())?;
        let own = pass_from_row(np, &obj.cpu.row(&out.x));
        st.ssr += obj.cpu.unweighted_ssr(&out.x);
        if loss != Loss::Linear {
            st.wssr += obj.cpu.residuals(&out.x).iter().map(|r| r * r).sum::<f64>();
        }
        last_step = DVector::from_column_slice(&out.x) - DVector::from_column_slice(&st.p);
        tracing::debug!(
            chunk = st.chunks,
            start,
            points = data.len(),
            cost = own.cost,
            "online chunk fitted"
        );
        st.absorb(&out, own.cost, data.len());
        nfev += out.nfev;
        njev += out.njev;
        nit += out.nit;
        last = Some(out);
        Ok(())
    })?;
    let OnlineState {
        information: a,
        cost,
        ssr,
        wssr,
        chunks,
        ..
    } = st;
    let (Some(mut out), Some(a)) = (last, a) else {
        return Err(FitError::EmptyData);
    };
    let n = reader.stats().map_or(0, |s| s.n);
    let last_step_in_se = step_in_standard_errors(&last_step, &a, cost, n);
    out.pass.cost = cost;
    out.pass.jtj = a;
    out.pass.n_points = n;
    out.nfev = nfev;
    out.njev = njev;
    out.nit = nit;
    Ok(OnlineOutput {
        out,
        ssr,
        wssr,
        last_step_in_se,
        chunks,
    })
}

/// The largest move of a parameter in `step`, in standard errors from the information `a` and
/// the residual variance of `n` points with summed cost `cost`.
fn step_in_standard_errors(step: &DVector<f64>, a: &DMatrix<f64>, cost: f64, n: u64) -> f64 {
    let np = step.len();
    let n = n as f64;
    let s2 = if n > np as f64 {
        2.0 * cost / (n - np as f64)
    } else {
        f64::NAN
    };
    let inv = crate::covariance::pseudo_inverse(a, n as usize);
    // A parameter the data do not determine has an infinite standard error: any step is 0 of it.
    (0..np)
        .filter(|j| !inv.undetermined.contains(j))
        .map(|j| step[j].abs() / (inv.matrix[(j, j)] * s2).sqrt())
        .fold(0.0, f64::max)
}

/// Fits a one-pass `source` online, chunk by chunk, with the chunk size of `plan`.
pub(crate) fn fit_online<M: Model>(
    spec: &Spec<M>,
    source: &mut dyn DataSource,
    mut plan: DataPlan,
    start: Began,
) -> Result<FitResult, FitError> {
    #[cfg(feature = "mpi")]
    if spec.dist.is_some() {
        return Err(FitError::InvalidOption {
            option: "communicator".into(),
            reason: "a one-pass source larger than the host budget is fitted online, which is \
                     not distributed; give a re-iterable source or a larger host budget"
                .into(),
        });
    }
    if spec.multistart.is_some() {
        return Err(FitError::InvalidOption {
            option: "multistart".into(),
            reason: "a multi-start search reads the data many times; a one-pass source can \
                     only be fitted online: give a re-iterable source or a larger host budget"
                .into(),
        });
    }
    if spec.long.needs_identity() {
        return Err(FitError::InvalidOption {
            option: "checkpoint".into(),
            reason: "checkpoints of online (one-pass) fits are not supported yet; give a \
                     re-iterable source or a larger host budget"
                .into(),
        });
    }
    let np = spec.p0.len();
    let has_sigma = source.has_sigma();
    let mut reader = ChunkReader::new(source, spec.nan_policy, plan.chunk_points).unaligned();
    let (model, loss, f_scale) = (&spec.model, spec.loss, spec.f_scale);
    let online = solve_online(
        model,
        &mut reader,
        &spec.p0,
        &spec.options,
        spec.method,
        loss,
        f_scale,
    )
    .map_err(|e| match e {
        FitError::SumsOverflow { points, .. } => FitError::SumsOverflow {
            model: model.name().to_string(),
            points,
            loss,
            f_scale,
        },
        e => e,
    })?;
    let stats: StreamStats = reader.stats().copied().unwrap_or_default();
    if (stats.n as usize) < np {
        return Err(FitError::TooFewPoints {
            points: stats.n as usize,
            params: np,
        });
    }
    plan.mode = DataMode::Online;
    plan.approximate = true;
    plan.chunks_per_pass = online.chunks;
    plan.data_bytes =
        Some((stats.n + stats.omitted) * Chunk::bytes_per_point(model.n_inputs(), has_sigma));
    plan.reason = format!(
        "a one-pass source larger than the host budget of {} bytes: fitted online by incremental Gauss–Newton (approximate)",
        plan.host_budget_bytes
    );
    let mut r = assemble(
        model,
        &stats.summary(),
        online.out,
        online.ssr,
        online.wssr,
        spec.method,
        loss,
        f_scale,
        spec.absolute_sigma,
        "cpu (online)".into(),
        start.at,
    );
    // One chunk: the fit of that chunk, converged or not by the solver's own rules.
    if online.chunks > 1 {
        r.success = online.last_step_in_se <= spec.memory.online_tol;
    }
    r.message = format!(
        "online fit of {} chunks: the last chunk moved the parameters by at most {:.3} standard errors ({} the online_tol of {})",
        online.chunks,
        online.last_step_in_se,
        if r.success { "within" } else { "NOT within" },
        spec.memory.online_tol
    );
    r.data_plan = plan;
    Ok(r)
}

//! The one iteration loop behind every method.
//!
//! A method is its state ([`super::state`]) with a [`Solver`] implementation: how it checks its
//! options and starts, the gradient test before an iteration ([`Solver::ready`]) and one
//! iteration ([`Solver::iterate`]: trial points until one is accepted or a stopping rule
//! holds). [`run`] owns everything around that: starting or resuming, the `max_nfev` test
//! before an iteration, the trace and the callback after it, the checkpoint offer, the end of
//! the solve and the [`SolverOutput`].

use super::Method;
use super::state::{Hooks, Point, SolverState};
use super::trust_region::{Prepared, prepare};
use super::{IterationInfo, Objective, SolverOptions, SolverOutput, Status};
use crate::error::FitError;
use std::ops::ControlFlow;

/// How one iteration ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Iteration {
    /// Norm of the accepted step; 0 when none was accepted.
    pub step_norm: f64,
    /// The stopping rule that held, if one did.
    pub stop: Option<Status>,
    /// The method's own numbers for the trace.
    pub detail: Detail,
}

/// A method's own numbers in the trace of an iteration; those it does not have are left out.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Detail {
    /// The trust-region radius.
    pub delta: f64,
    /// The Levenberg–Marquardt parameter (lm).
    pub lambda: Option<f64>,
    /// The ratio of actual to predicted reduction of the last trial point (lm).
    pub ratio: Option<f64>,
    /// The reduction of the cost by the iteration (trf, dogbox).
    pub actual_reduction: Option<f64>,
}

/// A method: its state, with the steps [`run`] takes.
pub(crate) trait Solver: Point + Clone + Into<SolverState> + TryFrom<SolverState> {
    /// The method, for resumes and the trace.
    const METHOD: Method;
    /// Whether a stop found by an iteration yields to the gradient test at the point it
    /// stopped at (scipy's trf and dogbox test `gtol` first at the top of their loop), or ends
    /// the solve at once (MINPACK's lm).
    const GTOL_FIRST: bool;
    /// What the gradient test computes and the iteration after it goes on with.
    type Ready;

    /// Checks `x0` and the options (scipy's `least_squares` checks unless a method has its
    /// own).
    fn setup(obj: &dyn Objective, x0: &[f64], opts: &SolverOptions) -> Result<Prepared, FitError> {
        prepare(obj, x0, opts)
    }
    /// The state before the first iteration (one pass at the start).
    fn start(obj: &mut dyn Objective, x0: &[f64], setup: &Prepared) -> Result<Self, FitError>;
    /// The gradient test before an iteration: `Break(Gtol)` when it holds.
    fn ready(&mut self, setup: &Prepared, opts: &SolverOptions)
    -> ControlFlow<Status, Self::Ready>;
    /// One iteration: trial points until one is accepted or a stopping rule holds.
    fn iterate(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        ready: Self::Ready,
    ) -> Result<Iteration, FitError>;
    /// First-order optimality at the current point (as the method's scipy counterpart has it).
    fn optimality(&self, setup: &Prepared) -> f64;
    /// Per parameter: -1 at the lower bound, 1 at the upper bound, 0 free.
    fn active_mask(&self, setup: &Prepared, opts: &SolverOptions) -> Vec<i8>;
}

/// Runs a method from `x0`, or from the state in `hooks`, to the end.
pub(crate) fn run<S: Solver>(
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    mut hooks: Hooks<'_>,
) -> Result<SolverOutput, FitError> {
    let setup = S::setup(obj, x0, opts)?;
    let resumed = hooks.take_resume(S::METHOD, x0.len())?;
    let mut solver = match resumed.and_then(|state| S::try_from(state).ok()) {
        Some(s) => s,
        None => S::start(obj, x0, &setup)?,
    };
    let status = iterations(&mut solver, obj, &setup, opts, &mut hooks)?;
    let optimality = solver.optimality(&setup);
    let active_mask = solver.active_mask(&setup, opts);
    let (nfev, njev, nit) = solver.counts();
    let (x, pass) = solver.into_point();
    Ok(SolverOutput {
        x,
        pass,
        nfev,
        njev,
        nit,
        status,
        optimality,
        active_mask,
    })
}

/// Iterates until a stopping rule holds; returns it.
fn iterations<S: Solver>(
    solver: &mut S,
    obj: &mut dyn Objective,
    setup: &Prepared,
    opts: &SolverOptions,
    hooks: &mut Hooks<'_>,
) -> Result<Status, FitError> {
    let max_nfev = setup.max_nfev;
    // A stop of the last iteration that waits for the gradient test (`Solver::GTOL_FIRST`).
    let mut pending = None;
    loop {
        let ready = match solver.ready(setup, opts) {
            ControlFlow::Break(status) => return Ok(status),
            ControlFlow::Continue(ready) => ready,
        };
        if let Some(status) = pending {
            return Ok(status);
        }
        if solver.counts().0 >= max_nfev {
            return Ok(Status::MaxNfev);
        }
        let it = solver.iterate(obj, setup, opts, ready)?;
        if report(solver, setup, &it, hooks).is_break() {
            return Ok(Status::Stopped);
        }
        let (nfev, _, nit) = solver.counts();
        if it.stop.is_none() && nfev < max_nfev {
            hooks.offer(nit, || solver.clone().into());
        }
        match it.stop {
            Some(status) if !S::GTOL_FIRST => return Ok(status),
            stop => pending = stop,
        }
    }
}

/// Traces an iteration and hands it to the callback.
fn report<S: Solver>(
    solver: &S,
    setup: &Prepared,
    it: &Iteration,
    hooks: &mut Hooks<'_>,
) -> ControlFlow<()> {
    let (nfev, _, iteration) = solver.counts();
    let optimality = solver.optimality(setup);
    let cost = solver.pass().cost;
    let Detail {
        delta,
        lambda,
        ratio,
        actual_reduction,
    } = it.detail;
    tracing::debug!(
        iteration,
        nfev,
        cost,
        actual_reduction,
        step_norm = it.step_norm,
        optimality,
        delta,
        lambda,
        ratio,
        "{} iteration",
        S::METHOD
    );
    match hooks.callback.as_mut() {
        Some(cb) => cb(&IterationInfo {
            iteration,
            nfev,
            cost,
            x: solver.x(),
            step_norm: it.step_norm,
            optimality,
        }),
        None => ControlFlow::Continue(()),
    }
}

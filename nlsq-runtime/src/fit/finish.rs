//! The finishing step every data route ends in: the first pass and its checks, the solver run
//! (with checkpoints, profile and progress), and the assembly of the [`FitResult`].

use super::builder::BoxedCallback;
pub(crate) use super::route::Route;
use super::run::{Job, identity};
use super::spec::Spec;
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::model::ParamSpace;
use crate::profile::Began;
use crate::profile::PassTimer;
use crate::result::FitResult;
use crate::solve::{IterationInfo, Pass};
use crate::summary::assemble;
use std::ops::ControlFlow;

/// Solves `spec` on `route`'s objective, calling `callback` after each iteration, and
/// assembles the result, whose data plan is `plan`; the fit started at `start`.
pub(crate) fn finish<M: ParamSpace>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    route: &mut dyn Route,
    plan: DataPlan,
    start: Began,
) -> Result<FitResult, FitError> {
    #[cfg(feature = "mpi")]
    if let Some(dist) = spec.dist.clone() {
        let mut route = super::distributed::DistRoute {
            inner: route,
            dist: &dist,
            n_params: spec.p0.len(),
            first_local: None,
        };
        let result = finish_here(spec, callback, &mut route, plan, start);
        // An exchange that failed (a rank failed or did not answer) is the fit's error, even
        // where it surfaced as another one (an answer of the route without a `Result`).
        return match (result, dist.check()) {
            (_, Err(e)) => Err(e),
            (result, Ok(())) => result,
        };
    }
    finish_here(spec, callback, route, plan, start)
}

/// [`finish`] on this process's route (a distributed fit's route reduces over the ranks).
fn finish_here<M: ParamSpace>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    route: &mut dyn Route,
    mut plan: DataPlan,
    start: Began,
) -> Result<FitResult, FitError> {
    let session = spec.long.begin(start);
    let mut timer = PassTimer::default();
    let resuming = spec.long.resuming();
    let first = if !resuming || route.identified_by_first_pass() {
        let pass = timer.pass(route.objective(), &spec.p0)?;
        check_first_pass(spec, route, &pass, resuming)?;
        Some(pass)
    } else {
        None
    };
    let identity = spec.long.needs_identity().then(|| {
        let (n_points, fingerprint) = route.fingerprint(first.as_ref());
        let (model, method, options) = (&spec.model, spec.method, &spec.options);
        identity(
            model,
            method,
            options,
            spec.loss,
            spec.f_scale,
            n_points,
            fingerprint,
        )
    });
    // A search ends at its best minimum, from which the fit below runs as any other.
    let (p0, first, search) = match &spec.multistart {
        Some(ms) => {
            let hints = crate::search::Hints {
                roles: spec.model.space_roles(),
                inputs: route.input_ranges(),
            };
            let report = crate::search::search(
                route.objective(),
                spec.method,
                &spec.options,
                &spec.p0,
                ms,
                &hints,
            )?;
            let best = report.minima.first().map(|m| m.params.clone());
            (best.unwrap_or_else(|| spec.p0.clone()), None, Some(report))
        }
        None => (spec.p0.clone(), first, None),
    };
    let job = Job {
        p0: &p0,
        options: &spec.options,
        method: spec.method,
        first,
        identity,
    };
    let mut callback = callback;
    let cb = callback
        .as_mut()
        .map(|f| &mut **f as &mut dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()>);
    let (out, extras) = spec.long.run(&session, route.objective(), timer, job, cb)?;
    let linear = spec.loss == crate::loss::Loss::Linear;
    let ssr = route.unweighted_ssr(&out, linear)?;
    let weighted_ssr = if linear {
        f64::NAN
    } else {
        route.weighted_ssr(&out.x)?
    };
    let summary = route.summary(&mut plan);
    let mut result = extras.apply(assemble(
        &spec.model,
        &summary,
        out,
        ssr,
        weighted_ssr,
        spec.method,
        spec.loss,
        spec.f_scale,
        spec.absolute_sigma,
        route.backend(),
        start.at,
    ));
    result.data_plan = plan;
    result.search = search;
    Ok(result)
}

/// The pass at p0 counts the data (enough points for the parameters?) and, unless the fit
/// resumes from a checkpoint, must be finite (scipy: "Residuals are not finite in the initial
/// point"). A non-finite pass is blamed on what caused it: the model, when it is not finite at
/// some points (the error names the first); the loss scale, when the model is finite
/// everywhere and the weighted residuals' squares sum to a finite value but a robust loss's
/// `(r / f_scale)²` did not; else the data's scale (the sums overflowed).
fn check_first_pass<M: ParamSpace>(
    spec: &Spec<M>,
    route: &mut dyn Route,
    pass: &Pass,
    resuming: bool,
) -> Result<(), FitError> {
    let points = (pass.n_points + pass.n_nonfinite) as usize;
    let np = spec.p0.len();
    if points < np {
        return Err(FitError::TooFewPoints { points, params: np });
    }
    if !resuming && !pass.is_finite() {
        let model = spec.model.space_name().to_string();
        if pass.n_nonfinite > 0 {
            return Err(FitError::NonFiniteModelAtP0 {
                model,
                count: pass.n_nonfinite as usize,
                points,
                first: route.first_nonfinite(&spec.p0)?,
            });
        }
        let robust = spec.loss != crate::loss::Loss::Linear;
        if robust {
            let ssr = route.weighted_ssr(&spec.p0)?;
            if ssr.is_finite() {
                return Err(FitError::InvalidOption {
                    option: "f_scale".into(),
                    reason: format!(
                        "{} is too small for these data: (r / f_scale)² overflows at p0 although \
                         Σ (w r)² = {ssr:e} is finite; choose f_scale near the size of the \
                         inliers' residuals",
                        spec.f_scale
                    ),
                });
            }
        }
        return Err(FitError::SumsOverflow {
            model,
            points,
            loss: spec.loss,
            f_scale: spec.f_scale,
        });
    }
    let (model, method) = (spec.model.space_name(), spec.method);
    tracing::debug!(model, %method, cost = pass.cost, "starting fit");
    Ok(())
}

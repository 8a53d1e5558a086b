//! Trust Region Reflective (Branch, Coleman & Li), scipy's `least_squares(method='trf')` with
//! the exact (`tr_solver='exact'`) subproblem solver, on the normal equations.
//!
//! The algorithm is scipy's `_lsq/trf.py` step by step: without finite bounds it is a
//! MINPACK-like trust-region Gauss–Newton method (`trf_no_bounds`); with bounds, the variables
//! are scaled by the Coleman–Li vector `v` (`D = diag(v^½)`), the trust-region problem gets the
//! extra diagonal term `diag(g ∘ dv)`, iterates stay strictly feasible, and each iteration picks
//! the best of the trust-region step truncated at the bounds (`θ`), its reflection and the
//! constrained Cauchy step by the quadratic model. Where scipy takes the SVD of the scaled
//! Jacobian `J_h = J D` (augmented by `diag(diag_h)^½`), this takes the eigen-decomposition of
//! `J_hᵀJ_h (+ diag_h)` built from the pass's `JᵀJ` (see [`super::trust_region`]); the model
//! value of a step `p` is `g_hᵀp + ½ pᵀ(J_hᵀJ_h + diag_h)p`.

use super::Method;
use super::bounds::{
    cl_scaling_vector, find_active_constraints, in_bounds, intersect_trust_region,
    make_strictly_feasible, norm, norm_inf, step_size_to_bound,
};
use super::state::{Hooks, SolverState, TrfState};
use super::trust_region::{
    Subproblem, check_termination, jac_scale, minimize_quadratic_1d, prepare, update_tr_radius,
};
use super::{Callback, IterationInfo, Objective, Pass, SolverOptions, SolverOutput, Status};
use crate::error::FitError;
use nalgebra::DMatrix;
use std::ops::ControlFlow;

/// Minimizes the objective from `x0` (which must lie within the bounds) by the trust region
/// reflective method, with scipy's stopping rules and status codes.
///
/// One pass is one function evaluation (`nfev`); the first is at `x0`, made strictly feasible
/// as scipy does (`make_strictly_feasible` with `rstep = 1e-10`). The callback runs after every
/// iteration; `ControlFlow::Break` ends the solve with [`Status::Stopped`].
pub fn solve(
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    callback: Option<Callback<'_>>,
) -> Result<SolverOutput, FitError> {
    solve_with(obj, x0, opts, Hooks::callback(callback))
}

/// [`solve`] with [`Hooks`]: a callback, a state to resume from (then `x0` is only checked)
/// and a sink for checkpoint snapshots.
pub fn solve_with(
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    mut hooks: Hooks<'_>,
) -> Result<SolverOutput, FitError> {
    let prep = prepare(obj, x0, opts)?;
    let n = x0.len();
    let (lb, ub) = (prep.lb, prep.ub);
    let bounded = lb.iter().any(|v| v.is_finite()) || ub.iter().any(|v| v.is_finite());
    let max_nfev = prep.max_nfev;
    let jac = prep.fixed_scale.is_none();

    let resumed = hooks.take_resume(Method::Trf, n)?;
    let TrfState {
        mut x,
        mut pass,
        mut nfev,
        mut njev,
        nit: mut iteration,
        mut scale,
        mut scale_inv,
        mut delta,
        mut alpha,
    } = match resumed {
        Some(SolverState::Trf(s)) => s,
        _ => super::start::trf(obj, x0, prep.fixed_scale, &lb, &ub, bounded)?,
    };
    let mut status: Option<Status> = None;

    loop {
        let g = pass.gradient.as_slice().to_vec();
        let (mut v, dv) = if bounded {
            cl_scaling_vector(&x, &g, &lb, &ub)
        } else {
            (vec![1.0; n], vec![0.0; n])
        };
        let g_norm = norm_inf(&(0..n).map(|j| g[j] * v[j]).collect::<Vec<_>>());
        if g_norm < opts.gtol {
            status = Some(Status::Gtol);
        }
        if status.is_some() || nfev >= max_nfev {
            break;
        }

        for j in 0..n {
            if dv[j] != 0.0 {
                v[j] *= scale_inv[j];
            }
        }
        let d: Vec<f64> = (0..n).map(|j| v[j].sqrt() * scale[j]).collect();
        let diag_h: Vec<f64> = (0..n).map(|j| g[j] * dv[j] * scale[j]).collect();
        let g_h: Vec<f64> = (0..n).map(|j| d[j] * g[j]).collect();
        let b = DMatrix::from_fn(n, n, |i, j| {
            let h = d[i] * pass.jtj[(i, j)] * d[j];
            if i == j { h + diag_h[i] } else { h }
        });
        let sub = Subproblem::new(&b, &g_h, pass.n_points as usize);
        let theta = 0.995f64.max(1.0 - g_norm);

        let mut actual_reduction = -1.0;
        let mut step_norm = 0.0;
        let mut trial: Option<(Vec<f64>, Pass)> = None;
        while actual_reduction <= 0.0 && nfev < max_nfev {
            let (p_h, new_alpha) = sub.solve(delta, alpha);
            alpha = new_alpha;
            let (step, step_h, predicted_reduction) = if bounded {
                let p: Vec<f64> = (0..n).map(|j| d[j] * p_h[j]).collect();
                select_step(&x, &sub, &g_h, p, p_h, &d, delta, &lb, &ub, theta)
            } else {
                let predicted = -sub.evaluate(&p_h);
                ((0..n).map(|j| d[j] * p_h[j]).collect(), p_h, predicted)
            };
            let x_sum: Vec<f64> = (0..n).map(|j| x[j] + step[j]).collect();
            let x_new = if bounded {
                make_strictly_feasible(&x_sum, &lb, &ub, 0.0)
            } else {
                x_sum
            };
            let pass_new = obj.pass(&x_new)?;
            nfev += 1;
            let step_h_norm = norm(&step_h);
            if !pass_new.is_finite() {
                delta = 0.25 * step_h_norm;
                continue;
            }
            actual_reduction = pass.cost - pass_new.cost;
            let (delta_new, ratio) = update_tr_radius(
                delta,
                actual_reduction,
                predicted_reduction,
                step_h_norm,
                step_h_norm > 0.95 * delta,
            );
            step_norm = norm(&step);
            status = check_termination(
                actual_reduction,
                pass.cost,
                step_norm,
                norm(&x),
                ratio,
                opts.ftol,
                opts.xtol,
            );
            trial = Some((x_new, pass_new));
            if status.is_some() {
                break;
            }
            alpha *= delta / delta_new;
            delta = delta_new;
        }

        if actual_reduction > 0.0 {
            let (x_new, pass_new) = trial.expect("an accepted step has a pass");
            x = x_new;
            pass = pass_new;
            njev += 1;
            if jac {
                (scale, scale_inv) = jac_scale(&pass.jtj, Some(&scale_inv));
            }
        } else {
            step_norm = 0.0;
            actual_reduction = 0.0;
        }
        iteration += 1;

        let optimality = optimality(&x, pass.gradient.as_slice(), &lb, &ub, bounded);
        tracing::debug!(
            iteration,
            nfev,
            cost = pass.cost,
            actual_reduction,
            step_norm,
            optimality,
            delta,
            "trf iteration"
        );
        if let Some(cb) = hooks.callback.as_mut() {
            let info = IterationInfo {
                iteration,
                nfev,
                cost: pass.cost,
                x: &x,
                step_norm,
                optimality,
            };
            if let ControlFlow::Break(()) = cb(&info) {
                status = Some(Status::Stopped);
                break;
            }
        }
        if status.is_none() && nfev < max_nfev {
            hooks.offer(iteration, || {
                SolverState::Trf(TrfState {
                    x: x.clone(),
                    pass: pass.clone(),
                    nfev,
                    njev,
                    nit: iteration,
                    scale: scale.clone(),
                    scale_inv: scale_inv.clone(),
                    delta,
                    alpha,
                })
            });
        }
    }

    let optimality = optimality(&x, pass.gradient.as_slice(), &lb, &ub, bounded);
    let active_mask = if bounded {
        find_active_constraints(&x, &lb, &ub, opts.xtol)
    } else {
        vec![0; n]
    };
    Ok(SolverOutput {
        x,
        pass,
        nfev,
        njev,
        nit: iteration,
        status: status.unwrap_or(Status::MaxNfev),
        optimality,
        active_mask,
    })
}

/// scipy's TRF `optimality`: `‖g ∘ v‖∞` with the Coleman–Li vector `v` (`‖g‖∞` unbounded).
fn optimality(x: &[f64], g: &[f64], lb: &[f64], ub: &[f64], bounded: bool) -> f64 {
    if bounded {
        let (v, _) = cl_scaling_vector(x, g, lb, ub);
        norm_inf(&g.iter().zip(&v).map(|(g, v)| g * v).collect::<Vec<_>>())
    } else {
        norm_inf(g)
    }
}

/// scipy's `select_step`: among the trust-region step `p` (truncated at the bounds and pulled
/// back by `θ`), its reflection off the first bound hit and the constrained Cauchy step, the one
/// with the lowest model value. Returns the step, its hat-space version and the predicted
/// reduction.
#[allow(clippy::too_many_arguments)]
fn select_step(
    x: &[f64],
    sub: &Subproblem,
    g_h: &[f64],
    mut p: Vec<f64>,
    mut p_h: Vec<f64>,
    d: &[f64],
    delta: f64,
    lb: &[f64],
    ub: &[f64],
    theta: f64,
) -> (Vec<f64>, Vec<f64>, f64) {
    let n = x.len();
    let x_p: Vec<f64> = (0..n).map(|j| x[j] + p[j]).collect();
    if in_bounds(&x_p, lb, ub) {
        let p_value = sub.evaluate(&p_h);
        return (p, p_h, -p_value);
    }

    let (p_stride, hits) = step_size_to_bound(x, &p, lb, ub);

    // The reflected direction, from the point where p meets the first bound.
    let mut r_h = p_h.clone();
    for j in 0..n {
        if hits[j] != 0 {
            r_h[j] = -r_h[j];
        }
    }
    let mut r: Vec<f64> = (0..n).map(|j| d[j] * r_h[j]).collect();

    p.iter_mut().for_each(|v| *v *= p_stride);
    p_h.iter_mut().for_each(|v| *v *= p_stride);
    let x_on_bound: Vec<f64> = (0..n).map(|j| x[j] + p[j]).collect();

    let (_, to_tr) = intersect_trust_region(&p_h, &r_h, delta);
    let (to_bound, _) = step_size_to_bound(&x_on_bound, &r, lb, ub);

    // Between the bound and the trust-region boundary (or theta of the way to the next bound),
    // but not so near the first bound that the total step is back within (1 - theta).
    let r_stride = to_bound.min(to_tr);
    let (r_stride_l, r_stride_u) = if r_stride > 0.0 {
        let l = (1.0 - theta) * p_stride / r_stride;
        let u = if r_stride == to_bound {
            theta * to_bound
        } else {
            to_tr
        };
        (l, u)
    } else {
        (0.0, -1.0)
    };

    let r_value = if r_stride_l <= r_stride_u {
        let (a, b, c) = sub.quadratic_1d(&r_h, Some(&p_h));
        let (t, value) = minimize_quadratic_1d(a, b, r_stride_l, r_stride_u, c);
        for j in 0..n {
            r_h[j] = r_h[j] * t + p_h[j];
            r[j] = r_h[j] * d[j];
        }
        value
    } else {
        f64::INFINITY
    };

    // The truncated trust-region step, pulled back into the interior.
    p.iter_mut().for_each(|v| *v *= theta);
    p_h.iter_mut().for_each(|v| *v *= theta);
    let p_value = sub.evaluate(&p_h);

    // The constrained Cauchy step along the scaled anti-gradient.
    let mut ag_h: Vec<f64> = g_h.iter().map(|v| -v).collect();
    let mut ag: Vec<f64> = (0..n).map(|j| d[j] * ag_h[j]).collect();
    let to_tr = delta / norm(&ag_h);
    let (to_bound, _) = step_size_to_bound(x, &ag, lb, ub);
    let ag_stride = if to_bound < to_tr {
        theta * to_bound
    } else {
        to_tr
    };
    let (a, b, _) = sub.quadratic_1d(&ag_h, None);
    let (ag_stride, ag_value) = minimize_quadratic_1d(a, b, 0.0, ag_stride, 0.0);
    ag_h.iter_mut().for_each(|v| *v *= ag_stride);
    ag.iter_mut().for_each(|v| *v *= ag_stride);

    if p_value < r_value && p_value < ag_value {
        (p, p_h, -p_value)
    } else if r_value < p_value && r_value < ag_value {
        (r, r_h, -r_value)
    } else {
        (ag, ag_h, -ag_value)
    }
}

#[cfg(test)]
#[path = "trf_tests.rs"]
mod tests;

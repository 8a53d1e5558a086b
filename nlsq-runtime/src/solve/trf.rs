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
//! `J_hᵀJ_h (+ diag_h)` built from the pass's `JᵀJ` (see `trust_region.rs`); the model
//! value of a step `p` is `g_hᵀp + ½ pᵀ(J_hᵀJ_h + diag_h)p`.

use super::Method;
use super::bounds::{
    cl_scaling_vector, find_active_constraints, in_bounds, intersect_trust_region,
    make_strictly_feasible, norm, norm_inf, step_size_to_bound,
};
use super::driver::{Detail, Iteration, Solver};
use super::state::{Hooks, TrfState};
use super::trust_region::{
    Prepared, Subproblem, check_termination, jac_scale, minimize_quadratic_1d, scales,
    update_tr_radius,
};
use super::{Callback, Objective, Pass, SolverOptions, SolverOutput, Status, initial_pass};
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
    super::solve_with(Method::Trf, obj, x0, opts, Hooks::callback(callback))
}

/// The gradient at the current point and its Coleman–Li scaling (all ones without bounds).
pub(crate) struct Gradient {
    g: Vec<f64>,
    v: Vec<f64>,
    dv: Vec<f64>,
    /// `‖g ∘ v‖∞`.
    g_norm: f64,
}

/// The trust-region problem of one iteration, in the scaled ("hat") variables `p = d ∘ p_h`.
struct Local {
    /// The scaling `d = v^½ ∘ scale`.
    d: Vec<f64>,
    /// The scaled gradient.
    g_h: Vec<f64>,
    /// The quadratic model.
    sub: Subproblem,
    /// How far towards a bound a step may go.
    theta: f64,
}

impl Solver for TrfState {
    const METHOD: Method = Method::Trf;
    const GTOL_FIRST: bool = true;
    type Ready = Gradient;

    /// `x0` made strictly feasible as scipy does (`rstep = 1e-10`), the pass there, the
    /// scaling and scipy's initial radius: the norm of the scaled `x0` (with the Coleman–Li
    /// vector when bounded), 1 when that is zero.
    fn start(obj: &mut dyn Objective, x0: &[f64], setup: &Prepared) -> Result<Self, FitError> {
        let n = x0.len();
        let (lb, ub) = (&setup.lb, &setup.ub);
        let x = make_strictly_feasible(x0, lb, ub, 1e-10);
        let pass = initial_pass(obj, &x)?;
        let (scale, scale_inv) = scales(setup.fixed_scale.as_deref(), &pass.jtj);
        let delta = if setup.bounded {
            let (mut v, dv) = cl_scaling_vector(&x, pass.gradient.as_slice(), lb, ub);
            for j in 0..n {
                if dv[j] != 0.0 {
                    v[j] *= scale_inv[j];
                }
            }
            norm(
                &(0..n)
                    .map(|j| x[j] * scale_inv[j] / v[j].sqrt())
                    .collect::<Vec<_>>(),
            )
        } else {
            norm(&(0..n).map(|j| x[j] * scale_inv[j]).collect::<Vec<_>>())
        };
        Ok(TrfState {
            x,
            pass,
            nfev: 1,
            njev: 1,
            nit: 0,
            scale,
            scale_inv,
            delta: if delta == 0.0 { 1.0 } else { delta },
            alpha: 0.0,
        })
    }

    fn ready(&mut self, setup: &Prepared, opts: &SolverOptions) -> ControlFlow<Status, Gradient> {
        let n = self.x.len();
        let g = self.pass.gradient.as_slice().to_vec();
        let (v, dv) = if setup.bounded {
            cl_scaling_vector(&self.x, &g, &setup.lb, &setup.ub)
        } else {
            (vec![1.0; n], vec![0.0; n])
        };
        let g_norm = norm_inf(&(0..n).map(|j| g[j] * v[j]).collect::<Vec<_>>());
        if g_norm < opts.gtol {
            return ControlFlow::Break(Status::Gtol);
        }
        ControlFlow::Continue(Gradient { g, v, dv, g_norm })
    }

    fn iterate(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        ready: Gradient,
    ) -> Result<Iteration, FitError> {
        let local = self.local(ready);
        let mut actual_reduction = -1.0;
        let mut step_norm = 0.0;
        let mut status = None;
        let mut trial: Option<(Vec<f64>, Pass)> = None;
        while actual_reduction <= 0.0 && self.nfev < setup.max_nfev {
            let (p_h, new_alpha) = local.sub.solve(self.delta, self.alpha);
            self.alpha = new_alpha;
            let (step, step_h, predicted_reduction) = local.step(&self.x, p_h, self.delta, setup);
            let x_sum: Vec<f64> = (0..self.x.len()).map(|j| self.x[j] + step[j]).collect();
            let x_new = if setup.bounded {
                make_strictly_feasible(&x_sum, &setup.lb, &setup.ub, 0.0)
            } else {
                x_sum
            };
            let pass_new = obj.pass(&x_new)?;
            self.nfev += 1;
            let step_h_norm = norm(&step_h);
            if !pass_new.is_finite() {
                self.delta = 0.25 * step_h_norm;
                continue;
            }
            actual_reduction = self.pass.cost - pass_new.cost;
            let (delta_new, ratio) = update_tr_radius(
                self.delta,
                actual_reduction,
                predicted_reduction,
                step_h_norm,
                step_h_norm > 0.95 * self.delta,
            );
            step_norm = norm(&step);
            status = check_termination(
                actual_reduction,
                self.pass.cost,
                step_norm,
                norm(&self.x),
                ratio,
                opts.ftol,
                opts.xtol,
            );
            trial = Some((x_new, pass_new));
            if status.is_some() {
                break;
            }
            self.alpha *= self.delta / delta_new;
            self.delta = delta_new;
        }

        if actual_reduction > 0.0 {
            let (x_new, pass_new) = trial.expect("an accepted step has a pass");
            self.accept(x_new, pass_new, setup);
        } else {
            step_norm = 0.0;
            actual_reduction = 0.0;
        }
        self.nit += 1;
        Ok(Iteration {
            step_norm,
            stop: status,
            detail: Detail {
                delta: self.delta,
                actual_reduction: Some(actual_reduction),
                ..Detail::default()
            },
        })
    }

    fn optimality(&self, setup: &Prepared) -> f64 {
        optimality(&self.x, self.pass.gradient.as_slice(), setup)
    }

    fn active_mask(&self, setup: &Prepared, opts: &SolverOptions) -> Vec<i8> {
        if setup.bounded {
            find_active_constraints(&self.x, &setup.lb, &setup.ub, opts.xtol)
        } else {
            vec![0; self.x.len()]
        }
    }
}

impl TrfState {
    /// The trust-region problem at the current point.
    fn local(&self, ready: Gradient) -> Local {
        let n = self.x.len();
        let Gradient {
            g,
            mut v,
            dv,
            g_norm,
        } = ready;
        for j in 0..n {
            if dv[j] != 0.0 {
                v[j] *= self.scale_inv[j];
            }
        }
        let d: Vec<f64> = (0..n).map(|j| v[j].sqrt() * self.scale[j]).collect();
        let diag_h: Vec<f64> = (0..n).map(|j| g[j] * dv[j] * self.scale[j]).collect();
        let g_h: Vec<f64> = (0..n).map(|j| d[j] * g[j]).collect();
        let b = DMatrix::from_fn(n, n, |i, j| {
            let h = d[i] * self.pass.jtj[(i, j)] * d[j];
            if i == j { h + diag_h[i] } else { h }
        });
        let sub = Subproblem::new(&b, &g_h, self.pass.n_points as usize);
        let theta = 0.995f64.max(1.0 - g_norm);
        Local { d, g_h, sub, theta }
    }

    /// Moves to an accepted point (and updates `'jac'` scaling).
    fn accept(&mut self, x: Vec<f64>, pass: Pass, setup: &Prepared) {
        self.x = x;
        self.pass = pass;
        self.njev += 1;
        if setup.fixed_scale.is_none() {
            (self.scale, self.scale_inv) = jac_scale(&self.pass.jtj, Some(&self.scale_inv));
        }
    }
}

impl Local {
    /// The step for the subproblem's solution `p_h`: as it is without bounds, else
    /// [`Self::select_step`]'s. Returns the step, its hat-space version and the predicted reduction.
    fn step(
        &self,
        x: &[f64],
        p_h: Vec<f64>,
        delta: f64,
        setup: &Prepared,
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let d = &self.d;
        let p: Vec<f64> = (0..x.len()).map(|j| d[j] * p_h[j]).collect();
        if setup.bounded {
            let (lb, ub) = (&setup.lb, &setup.ub);
            self.select_step(x, p, p_h, delta, lb, ub)
        } else {
            let predicted = -self.sub.evaluate(&p_h);
            (p, p_h, predicted)
        }
    }

    /// scipy's `select_step`: among the trust-region step `p` (truncated at the bounds and
    /// pulled back by `θ`), its reflection off the first bound hit and the constrained Cauchy
    /// step, the one with the lowest model value. Returns the step, its hat-space version and
    /// the predicted reduction.
    fn select_step(
        &self,
        x: &[f64],
        mut p: Vec<f64>,
        mut p_h: Vec<f64>,
        delta: f64,
        lb: &[f64],
        ub: &[f64],
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let n = x.len();
        let x_p: Vec<f64> = (0..n).map(|j| x[j] + p[j]).collect();
        if in_bounds(&x_p, lb, ub) {
            let p_value = self.sub.evaluate(&p_h);
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
        let mut r: Vec<f64> = (0..n).map(|j| self.d[j] * r_h[j]).collect();

        p.iter_mut().for_each(|v| *v *= p_stride);
        p_h.iter_mut().for_each(|v| *v *= p_stride);
        let x_on_bound: Vec<f64> = (0..n).map(|j| x[j] + p[j]).collect();

        let (_, to_tr) = intersect_trust_region(&p_h, &r_h, delta);
        let (to_bound, _) = step_size_to_bound(&x_on_bound, &r, lb, ub);

        // Between the bound and the trust-region boundary (or theta of the way to the next
        // bound), but not so near the first bound that the total step is back within
        // (1 - theta).
        let r_stride = to_bound.min(to_tr);
        let (r_stride_l, r_stride_u) = if r_stride > 0.0 {
            let l = (1.0 - self.theta) * p_stride / r_stride;
            let u = if r_stride == to_bound {
                self.theta * to_bound
            } else {
                to_tr
            };
            (l, u)
        } else {
            (0.0, -1.0)
        };

        let r_value = if r_stride_l <= r_stride_u {
            let (a, b, c) = self.sub.quadratic_1d(&r_h, Some(&p_h));
            let (t, value) = minimize_quadratic_1d(a, b, r_stride_l, r_stride_u, c);
            for j in 0..n {
                r_h[j] = r_h[j] * t + p_h[j];
                r[j] = r_h[j] * self.d[j];
            }
            value
        } else {
            f64::INFINITY
        };

        // The truncated trust-region step, pulled back into the interior.
        p.iter_mut().for_each(|v| *v *= self.theta);
        p_h.iter_mut().for_each(|v| *v *= self.theta);
        let p_value = self.sub.evaluate(&p_h);

        let (ag, ag_h, ag_value) = self.cauchy_step(x, delta, lb, ub);

        if p_value < r_value && p_value < ag_value {
            (p, p_h, -p_value)
        } else if r_value < p_value && r_value < ag_value {
            (r, r_h, -r_value)
        } else {
            (ag, ag_h, -ag_value)
        }
    }

    /// The constrained Cauchy step along the scaled anti-gradient: the step, its hat-space
    /// version and its model value.
    fn cauchy_step(
        &self,
        x: &[f64],
        delta: f64,
        lb: &[f64],
        ub: &[f64],
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let n = x.len();
        let mut ag_h: Vec<f64> = self.g_h.iter().map(|v| -v).collect();
        let mut ag: Vec<f64> = (0..n).map(|j| self.d[j] * ag_h[j]).collect();
        let to_tr = delta / norm(&ag_h);
        let (to_bound, _) = step_size_to_bound(x, &ag, lb, ub);
        let ag_stride = if to_bound < to_tr {
            self.theta * to_bound
        } else {
            to_tr
        };
        let (a, b, _) = self.sub.quadratic_1d(&ag_h, None);
        let (ag_stride, ag_value) = minimize_quadratic_1d(a, b, 0.0, ag_stride, 0.0);
        ag_h.iter_mut().for_each(|v| *v *= ag_stride);
        ag.iter_mut().for_each(|v| *v *= ag_stride);
        (ag, ag_h, ag_value)
    }
}

/// scipy's TRF `optimality`: `‖g ∘ v‖∞` with the Coleman–Li vector `v` (`‖g‖∞` unbounded).
fn optimality(x: &[f64], g: &[f64], setup: &Prepared) -> f64 {
    if setup.bounded {
        let (v, _) = cl_scaling_vector(x, g, &setup.lb, &setup.ub);
        norm_inf(&g.iter().zip(&v).map(|(g, v)| g * v).collect::<Vec<_>>())
    } else {
        norm_inf(g)
    }
}

#[cfg(test)]
#[path = "trf_tests.rs"]
mod tests;

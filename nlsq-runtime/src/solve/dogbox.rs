//! Dogleg in a rectangular trust region (Voglis & Lagaris), scipy's
//! `least_squares(method='dogbox')` with the exact (`tr_solver='exact'`) Gauss–Newton step, on
//! the normal equations.
//!
//! As in scipy's `_lsq/dogbox.py`: the trust region is the box `|step_j| ≤ Δ x_scale_j`,
//! intersected with the bounds; variables on a bound whose anti-gradient points out of the
//! feasible region are held there (the active set) and the dogleg path (Cauchy point, then
//! towards the Gauss–Newton step) runs in the remaining free variables until it leaves the
//! box. scipy's Gauss–Newton step is `lstsq(J_free, -f)`; here it solves
//! `(JᵀJ)_free s = −g_free` with the columns scaled to unit norm, by Cholesky, falling back to
//! the eigen-decomposition pseudo-inverse when `JᵀJ` is numerically singular.

use super::Method;
use super::bounds::{in_bounds, norm, norm_inf, step_size_to_bound};
use super::driver::{Detail, Iteration, Solver};
use super::state::{DogboxState, Hooks};
use super::trust_region::{
    Prepared, check_termination, jac_scale, minimize_quadratic_1d, noise_level, scales, sym_eigen,
    update_tr_radius,
};
use super::{Callback, Objective, Pass, SolverOptions, SolverOutput, Status, initial_pass};
use crate::error::FitError;
use nalgebra::{DMatrix, DVector};
use std::ops::ControlFlow;

/// Minimizes the objective from `x0` (which must lie within the bounds; it may lie on them) by
/// the dogbox method, with scipy's stopping rules and status codes.
///
/// One pass is one function evaluation (`nfev`). The callback runs after every iteration;
/// `ControlFlow::Break` ends the solve with [`Status::Stopped`].
pub fn solve(
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    callback: Option<Callback<'_>>,
) -> Result<SolverOutput, FitError> {
    super::solve_with(Method::Dogbox, obj, x0, opts, Hooks::callback(callback))
}

/// The gradient at the current point and the variables not held at a bound.
pub(crate) struct Gradient {
    g: Vec<f64>,
    free: Vec<usize>,
}

/// The problem of one iteration in the free variables.
struct Free {
    /// The free variables.
    free: Vec<usize>,
    x: Vec<f64>,
    lb: Vec<f64>,
    ub: Vec<f64>,
    scale: Vec<f64>,
    g: Vec<f64>,
    /// `JᵀJ` on the free variables.
    h: DMatrix<f64>,
    newton_step: Vec<f64>,
    /// The model along the anti-gradient: `½ gᵀHg` and `-gᵀg`.
    a: f64,
    b: f64,
}

/// A trial point of dogbox.
struct Trial {
    /// The step in all variables.
    step: Vec<f64>,
    /// The point, in the bounds.
    x: Vec<f64>,
    predicted_reduction: f64,
    /// Which bounds the step takes the free variables to.
    on_bound_free: Vec<i8>,
    /// Whether the step ends on the trust-region boundary.
    tr_hit: bool,
}

impl Solver for DogboxState {
    const METHOD: Method = Method::Dogbox;
    const GTOL_FIRST: bool = true;
    type Ready = Gradient;

    /// The pass at `x0`, the scaling, scipy's initial radius (`‖x0 / scale‖∞`, 1 when zero)
    /// and the variables `x0` puts on a bound.
    fn start(obj: &mut dyn Objective, x0: &[f64], setup: &Prepared) -> Result<Self, FitError> {
        let n = x0.len();
        let pass = initial_pass(obj, x0)?;
        let (scale, scale_inv) = scales(setup.fixed_scale.as_deref(), &pass.jtj);
        let delta = norm_inf(&(0..n).map(|j| x0[j] * scale_inv[j]).collect::<Vec<_>>());
        let on_bound = (0..n)
            .map(|j| {
                if x0[j] == setup.lb[j] {
                    -1
                } else if x0[j] == setup.ub[j] {
                    1
                } else {
                    0
                }
            })
            .collect();
        Ok(DogboxState {
            x: x0.to_vec(),
            pass,
            nfev: 1,
            njev: 1,
            nit: 0,
            scale,
            scale_inv,
            delta: if delta == 0.0 { 1.0 } else { delta },
            on_bound,
        })
    }

    /// `gtol` on the gradient of the variables not held at a bound (met when all are held).
    fn ready(&mut self, _: &Prepared, opts: &SolverOptions) -> ControlFlow<Status, Gradient> {
        let n = self.x.len();
        let g = self.pass.gradient.as_slice().to_vec();
        let free: Vec<usize> = (0..n)
            .filter(|&j| !is_held(self.on_bound[j], g[j]))
            .collect();
        let g_norm = projected_gradient_norm(&g, &self.on_bound);
        if g_norm < opts.gtol || free.is_empty() {
            return ControlFlow::Break(Status::Gtol);
        }
        ControlFlow::Continue(Gradient { g, free })
    }

    fn iterate(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        ready: Gradient,
    ) -> Result<Iteration, FitError> {
        let free = self.free(ready, setup);
        let mut actual_reduction = -1.0;
        let mut step_norm = 0.0;
        let mut status = None;
        let mut trial: Option<(Vec<f64>, Pass, Vec<i8>)> = None;
        while actual_reduction <= 0.0 && self.nfev < setup.max_nfev {
            let t = free.trial(&self.x, self.delta, setup);
            let pass_new = obj.pass(&t.x)?;
            self.nfev += 1;

            let step_h_norm = norm_inf(
                &(0..self.x.len())
                    .map(|j| t.step[j] * self.scale_inv[j])
                    .collect::<Vec<_>>(),
            );
            if !pass_new.is_finite() {
                self.delta = 0.25 * step_h_norm;
                continue;
            }
            actual_reduction = self.pass.cost - pass_new.cost;
            let (delta_new, ratio) = update_tr_radius(
                self.delta,
                actual_reduction,
                t.predicted_reduction,
                step_h_norm,
                t.tr_hit,
            );
            self.delta = delta_new;
            step_norm = norm(&t.step);
            status = check_termination(
                actual_reduction,
                self.pass.cost,
                step_norm,
                norm(&self.x),
                ratio,
                opts.ftol,
                opts.xtol,
            );
            trial = Some((t.x, pass_new, t.on_bound_free));
            if status.is_some() {
                break;
            }
        }

        if actual_reduction > 0.0 {
            let (x_new, pass_new, on_bound_free) = trial.expect("an accepted step has a pass");
            for (k, &j) in free.free.iter().enumerate() {
                self.on_bound[j] = on_bound_free[k];
            }
            self.x = x_new;
            self.pass = pass_new;
            self.njev += 1;
            if setup.fixed_scale.is_none() {
                (self.scale, self.scale_inv) = jac_scale(&self.pass.jtj, Some(&self.scale_inv));
            }
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

    fn optimality(&self, _: &Prepared) -> f64 {
        projected_gradient_norm(self.pass.gradient.as_slice(), &self.on_bound)
    }

    fn active_mask(&self, _: &Prepared, _: &SolverOptions) -> Vec<i8> {
        self.on_bound.clone()
    }
}

impl DogboxState {
    /// The problem of an iteration in the free variables, with its Gauss–Newton step.
    fn free(&self, ready: Gradient, setup: &Prepared) -> Free {
        let Gradient { g, free } = ready;
        let n = self.x.len();
        let nf = free.len();
        let pick = |v: &[f64]| -> Vec<f64> { free.iter().map(|&j| v[j]).collect() };
        let (x, lb, ub) = (pick(&self.x), pick(&setup.lb), pick(&setup.ub));
        let (scale, g) = (pick(&self.scale), pick(&g));
        let h = DMatrix::from_fn(nf, nf, |a, b| self.pass.jtj[(free[a], free[b])]);
        let eta = noise_level(self.pass.n_points as usize, n);
        let newton_step = gauss_newton_step(&h, &g, eta);
        let mut free = Free {
            free,
            x,
            lb,
            ub,
            scale,
            g,
            h,
            newton_step,
            a: 0.0,
            b: 0.0,
        };
        free.a = 0.5 * free.quad(&free.g);
        free.b = -free.g.iter().map(|v| v * v).sum::<f64>();
        free
    }
}

impl Free {
    /// `sᵀHs`.
    fn quad(&self, s: &[f64]) -> f64 {
        let s = DVector::from_column_slice(s);
        s.dot(&(&self.h * &s))
    }

    /// The dogleg step for radius `delta` from `x` and the point it leads to.
    fn trial(&self, x: &[f64], delta: f64, setup: &Prepared) -> Trial {
        let n = x.len();
        let tr_bounds: Vec<f64> = self.scale.iter().map(|s| delta * s).collect();
        let (step_free, on_bound_free, tr_hit) = dogleg_step(
            &self.x,
            &self.newton_step,
            &self.g,
            self.a,
            self.b,
            &tr_bounds,
            &self.lb,
            &self.ub,
        );
        let mut step = vec![0.0; n];
        for (k, &j) in self.free.iter().enumerate() {
            step[j] = step_free[k];
        }
        let predicted_reduction = -(0.5 * self.quad(&step_free)
            + self
                .g
                .iter()
                .zip(&step_free)
                .map(|(g, s)| g * s)
                .sum::<f64>());

        // Clip into the bounds and put the variables the step took to a bound exactly on it
        // (scipy does the latter after accepting the step; doing it first keeps the pass
        // at exactly the accepted point).
        let (lb, ub) = (&setup.lb, &setup.ub);
        let mut x_new: Vec<f64> = (0..n)
            .map(|j| (x[j] + step[j]).max(lb[j]).min(ub[j]))
            .collect();
        for (k, &j) in self.free.iter().enumerate() {
            match on_bound_free[k] {
                -1 => x_new[j] = lb[j],
                1 => x_new[j] = ub[j],
                _ => {}
            }
        }
        Trial {
            step,
            x: x_new,
            predicted_reduction,
            on_bound_free,
            tr_hit,
        }
    }
}

/// Whether a variable on a bound (`on_bound = ±1`) stays there: its anti-gradient points out of
/// the feasible region (scipy's `active_set = on_bound * g < 0`).
fn is_held(on_bound: i8, g: f64) -> bool {
    f64::from(on_bound) * g < 0.0
}

/// dogbox's `optimality`: `‖g‖∞` over the variables not held at a bound.
fn projected_gradient_norm(g: &[f64], on_bound: &[i8]) -> f64 {
    norm_inf(
        &g.iter()
            .zip(on_bound)
            .map(|(&g, &b)| if is_held(b, g) { 0.0 } else { g })
            .collect::<Vec<_>>(),
    )
}

/// The Gauss–Newton step `s` with `H s = −g` (`H = J_freeᵀJ_free`, `g = J_freeᵀf`), i.e. the
/// least-squares solution of `J_free s ≈ −f`.
///
/// The columns are scaled to unit norm (`A = C⁻¹HC⁻¹`, `C = diag(√H_jj)`) so that badly scaled
/// parameters cost no accuracy; `A` is factored by Cholesky, or, when that fails or `A` is
/// numerically singular (a pivot below `η`), solved by the pseudo-inverse of its
/// eigen-decomposition with eigenvalues below `η λ_max` dropped. Variables with a zero column
/// get a zero step, as `lstsq`'s minimum-norm solution gives them.
fn gauss_newton_step(h: &DMatrix<f64>, g: &[f64], eta: f64) -> Vec<f64> {
    let n = g.len();
    let live: Vec<usize> = (0..n)
        .filter(|&j| h[(j, j)] > 0.0 && h[(j, j)].is_finite())
        .collect();
    let mut step = vec![0.0; n];
    if live.is_empty() {
        return step;
    }
    let c: Vec<f64> = live.iter().map(|&j| h[(j, j)].sqrt()).collect();
    let k = live.len();
    let a = DMatrix::from_fn(k, k, |r, s| h[(live[r], live[s])] / (c[r] * c[s]));
    let rhs = DVector::from_fn(k, |r, _| -g[live[r]] / c[r]);

    let cholesky = nalgebra::Cholesky::new(a.clone()).filter(|ch| {
        let l = ch.l_dirty();
        (0..k).all(|i| l[(i, i)] * l[(i, i)] > eta)
    });
    let y = match cholesky {
        Some(ch) => ch.solve(&rhs),
        None => {
            let eig = sym_eigen(&a);
            let cutoff = eta * eig.values[0];
            let mut y = DVector::zeros(k);
            for (i, &lambda) in eig.values.iter().enumerate() {
                if lambda > cutoff && lambda > 0.0 {
                    let v = eig.vectors.column(i);
                    y += v * (v.dot(&rhs) / lambda);
                }
            }
            y
        }
    };
    for (r, &j) in live.iter().enumerate() {
        step[j] = y[r] / c[r];
    }
    step
}

/// scipy's `find_intersection` and `dogleg_step`: the dogleg step in the box
/// `[lb − x, ub − x] ∩ [−tr_bounds, tr_bounds]`, which bounds of the original problem it takes
/// variables to (`-1`/`1`), and whether it ends on the trust-region boundary.
#[allow(clippy::too_many_arguments)]
fn dogleg_step(
    x: &[f64],
    newton_step: &[f64],
    g: &[f64],
    a: f64,
    b: f64,
    tr_bounds: &[f64],
    lb: &[f64],
    ub: &[f64],
) -> (Vec<f64>, Vec<i8>, bool) {
    let n = x.len();
    let lb_centered: Vec<f64> = (0..n).map(|j| lb[j] - x[j]).collect();
    let ub_centered: Vec<f64> = (0..n).map(|j| ub[j] - x[j]).collect();
    let lb_total: Vec<f64> = (0..n).map(|j| lb_centered[j].max(-tr_bounds[j])).collect();
    let ub_total: Vec<f64> = (0..n).map(|j| ub_centered[j].min(tr_bounds[j])).collect();
    let mut bound_hits = vec![0i8; n];

    if in_bounds(newton_step, &lb_total, &ub_total) {
        return (newton_step.to_vec(), bound_hits, false);
    }

    let zero = vec![0.0; n];
    let minus_g: Vec<f64> = g.iter().map(|v| -v).collect();
    let (to_bounds, _) = step_size_to_bound(&zero, &minus_g, &lb_total, &ub_total);
    // The minimum along the anti-gradient within the box (a, b: the model along -g).
    let (t, _) = minimize_quadratic_1d(a, b, 0.0, to_bounds, 0.0);
    let cauchy_step: Vec<f64> = g.iter().map(|v| -t * v).collect();

    let step_diff: Vec<f64> = (0..n).map(|j| newton_step[j] - cauchy_step[j]).collect();
    let (step_size, hits) = step_size_to_bound(&cauchy_step, &step_diff, &lb_total, &ub_total);
    let mut tr_hit = false;
    for j in 0..n {
        let orig_l = lb_total[j] == lb_centered[j];
        let orig_u = ub_total[j] == ub_centered[j];
        let tr_l = lb_total[j] == -tr_bounds[j];
        let tr_u = ub_total[j] == tr_bounds[j];
        if hits[j] < 0 && orig_l {
            bound_hits[j] = -1;
        }
        if hits[j] > 0 && orig_u {
            bound_hits[j] = 1;
        }
        if (hits[j] < 0 && tr_l) || (hits[j] > 0 && tr_u) {
            tr_hit = true;
        }
    }
    let step = (0..n)
        .map(|j| cauchy_step[j] + step_size * step_diff[j])
        .collect();
    (step, bound_hits, tr_hit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::IterationInfo;
    use crate::solve::dense::DenseObjective;
    use crate::solve::test_problems::{
        Reference, assert_close, check_rank_deficient, check_references, expdecay, load_nist, lre,
        nist_model, nist_objective, rosenbrock, tight,
    };

    const INF: f64 = f64::INFINITY;

    #[test]
    fn rosenbrock_unbounded() {
        let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &tight(None), None).unwrap();
        assert!(out.status.converged(), "{:?}", out.status);
        assert_close(&out.x, &[1.0, 1.0], 1e-12);
        assert_eq!(out.active_mask, [0, 0]);
    }

    #[test]
    fn rosenbrock_solution_on_a_bound() {
        let opts = SolverOptions {
            upper: vec![0.8, INF],
            ..tight(None)
        };
        let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &opts, None).unwrap();
        assert!(out.status.converged(), "{:?}", out.status);
        assert_eq!(
            out.x[0], 0.8,
            "dogbox puts variables exactly on their bounds"
        );
        assert_close(&out.x, &[0.8, 0.64], 1e-12);
        assert_eq!(out.active_mask, [1, 0]);
    }

    #[test]
    fn bounded_exponential_fit_has_an_active_bound() {
        let opts = SolverOptions {
            lower: vec![0.0, 0.0, -INF],
            upper: vec![INF, INF, 0.3],
            ..tight(None)
        };
        // From the interior, and from a start on the bound (allowed for dogbox).
        for x0 in [[1.0, 0.1, 0.0], [1.0, 0.1, 0.3]] {
            let out = solve(&mut expdecay(), &x0, &opts, None).unwrap();
            assert!(out.status.converged(), "{:?}", out.status);
            assert_eq!(out.active_mask, [0, 0, 1]);
            assert_eq!(out.x[2], 0.3);
            let g = out.pass.gradient.as_slice();
            assert!(g[0].abs() < 1e-7 && g[1].abs() < 1e-7, "{g:?}");
            assert!(g[2] < -1.0, "{g:?}");
            assert!(out.optimality < 1e-7);
        }
    }

    /// Printed by `nlsq-runtime/tests/scipy/trf_reference.py` (scipy 1.17.1, method='dogbox').
    const SCIPY_DOGBOX: &[Reference] = &[
        Reference {
            case: "rosenbrock",
            popt: &[1.0, 1.0],
            status: 1,
            nfev: 19,
            active_mask: &[0, 0],
        },
        Reference {
            case: "rosenbrock_bounded",
            popt: &[0.8, 0.6400000000000001],
            status: 1,
            nfev: 16,
            active_mask: &[1, 0],
        },
        Reference {
            case: "rosenbrock_scipy_doc",
            popt: &[1.2243707487446318, 1.5],
            status: 1,
            nfev: 6,
            active_mask: &[0, -1],
        },
        Reference {
            case: "expdecay_bounded",
            popt: &[2.5640596219577496, 0.22215526393704615, 0.3],
            status: 2,
            nfev: 10,
            active_mask: &[0, 0, 1],
        },
        Reference {
            case: "expdecay_bounded_jac",
            popt: &[2.564059510265939, 0.22215523954319719, 0.3],
            status: 2,
            nfev: 10,
            active_mask: &[0, 0, 1],
        },
        Reference {
            case: "misra1a_start1",
            popt: &[238.94212921034577, 0.0005501564317212868],
            status: 2,
            nfev: 15,
            active_mask: &[0, 0],
        },
        Reference {
            case: "misra1a_start1_jac",
            popt: &[238.94212924304446, 0.0005501564316333989],
            status: 2,
            nfev: 27,
            active_mask: &[0, 0],
        },
    ];

    #[test]
    fn agrees_with_scipy() {
        for (case, nfev, scipy_nfev) in check_references(solve, SCIPY_DOGBOX) {
            assert!(
                nfev.abs_diff(scipy_nfev) <= 2,
                "{case}: nfev {nfev}, scipy {scipy_nfev}"
            );
        }
    }

    #[test]
    fn nist_problems_to_six_digits() {
        for name in [
            "Misra1a", "Eckerle4", "BoxBOD", "Thurber", "MGH10", "Bennett5",
        ] {
            let nist = load_nist(name);
            let p = nist.certified.len();
            for (k, start) in nist.starts.iter().enumerate() {
                let mut obj = nist_objective(nist.clone(), nist_model(name));
                let out = solve(&mut obj, start, &tight(Some(1000 * p)), None).unwrap();
                let l = lre(&out.x, &nist.certified);
                println!(
                    "{name} start {}: LRE {l:.1} status {} nfev {}",
                    k + 1,
                    out.status.code(),
                    out.nfev
                );
                assert!(l >= 6.0, "{name} start {}: LRE {l}", k + 1);
            }
        }
    }

    #[test]
    fn callback_can_stop() {
        let mut calls = 0;
        let mut cb = |info: &IterationInfo<'_>| {
            calls += 1;
            assert_eq!(info.iteration, calls);
            if info.iteration == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &tight(None), Some(&mut cb)).unwrap();
        assert_eq!(out.status, Status::Stopped);
        assert_eq!(out.nit, 2);
        assert_eq!(calls, 2);
    }

    #[test]
    fn stops_at_max_nfev() {
        for max_nfev in [1, 3] {
            let out = solve(
                &mut rosenbrock(),
                &[-1.2, 1.0],
                &tight(Some(max_nfev)),
                None,
            )
            .unwrap();
            assert_eq!(out.status, Status::MaxNfev);
            assert_eq!(out.nfev, max_nfev);
        }
    }

    #[test]
    fn non_finite_trial_point_shrinks_the_radius() {
        let mut nonfinite = 0;
        let obj_fn = |p: &[f64]| {
            let r = DVector::from_element(3, p[0].ln() - 0.1f64.ln());
            let j = DMatrix::from_element(3, 1, 1.0 / p[0]);
            if !r[0].is_finite() || !j[(0, 0)].is_finite() {
                nonfinite += 1;
            }
            (r, j)
        };
        // The first dogleg step from 10 (radius 10) lands on 0.
        let out = solve(
            &mut DenseObjective::new(1, obj_fn),
            &[10.0],
            &tight(None),
            None,
        )
        .unwrap();
        assert!(nonfinite >= 1);
        assert!(out.status.converged(), "{:?}", out.status);
        assert_close(&out.x, &[0.1], 1e-12);
    }

    #[test]
    fn rank_deficient_problem_does_not_panic() {
        check_rank_deficient(solve);
    }

    #[test]
    fn gauss_newton_step_is_accurate_for_badly_scaled_columns() {
        // J with column norms 1e6 and 1e-6 (cond(JᵀJ) ~ 1e26): the scaled solve is exact.
        let j = DMatrix::from_row_slice(3, 2, &[1e6, 1e-6, 2e6, 0.0, 0.0, 3e-6]);
        let f = DVector::from_vec(vec![1.0, 2.0, 3.0]);
        let h = j.transpose() * &j;
        let g = j.transpose() * &f;
        let s = gauss_newton_step(&h, g.as_slice(), 1e-14);
        let expected = j.clone().svd(true, true).solve(&(-&f), 0.0).unwrap();
        assert_close(&s, expected.as_slice(), 1e-12);
        // A zero column gets a zero step; collinear columns fall back to the pseudo-inverse.
        let h = DMatrix::from_row_slice(3, 3, &[1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        let s = gauss_newton_step(&h, &[2.0, 2.0, 0.0], 1e-14);
        assert!(
            (s[0] + 1.0).abs() < 1e-12 && (s[1] + 1.0).abs() < 1e-12,
            "{s:?}"
        );
        assert_eq!(s[2], 0.0);
    }
}

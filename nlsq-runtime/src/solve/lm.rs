//! Levenberg–Marquardt: MINPACK's `lmder` (Moré 1978), the solver behind scipy's
//! `least_squares(method='lm')`, on the normal equations.
//!
//! MINPACK works with a QR factorization of `J`; here only `JᵀJ` and `g = Jᵀr` exist, so every
//! linear system is solved with a Cholesky factorization of the scaled matrix
//! `D⁻¹ JᵀJ D⁻¹ + λ I` (scaled by the trust-region diagonal `D` before factoring). Near
//! convergence the accuracy is set by the gradient `Jᵀr`, which comes from `J` and `r` directly;
//! the steps only need to be good enough for the iteration to contract.
//!
//! Singular `JᵀJ` at `λ = 0` is handled the way MINPACK's pivoted QR handles it: columns of `J`
//! that are exactly zero get a zero step (their gradient is zero too), and when the rest is
//! numerically singular (Cholesky fails, or a pivot is below `P ε` of the largest diagonal entry)
//! the Gauss–Newton step is treated as unboundedly long, so the step is always a Levenberg–
//! Marquardt step with `λ > 0` (MINPACK's QR has a negligible pivot there and a Gauss–Newton step
//! far outside the trust region). Such a step is what lets the iteration crawl along the narrow
//! valleys of problems like NIST's MGH17, whose direction is below the rounding of `JᵀJ`; a
//! truncated pseudo-inverse step would drop exactly that direction. Should Cholesky of
//! `Ã + λ I` fail (λ below the rounding noise of a singular `Ã`), an eigen-decomposition of the
//! equilibrated matrix takes over.
//!
//! Everything else follows `lmder`/`lmpar` step for step, so in exact arithmetic the iterates,
//! `nfev` and the status are scipy's:
//! - the scaling `D`: with [`XScale::Jac`] (MINPACK mode 1) `D_j` is the largest column norm
//!   `sqrt((JᵀJ)_jj)` seen so far (1 where it is zero); with [`XScale::Fixed`] (mode 2)
//!   `D_j = 1 / x_scale_j`;
//! - the initial radius `Δ = 100 ‖D x0‖` (100 if that is zero), cut to the first step's length;
//! - `lmpar`'s safeguarded Newton iteration on `λ` for `‖D p(λ)‖ ≈ Δ` (at most 10 solves),
//!   taking the Gauss–Newton step (`λ = 0`) when it is shorter than `1.1 Δ`;
//! - Moré's update of `Δ` and `λ` from the ratio of actual to predicted reduction, with steps
//!   accepted when the ratio is at least `1e-4`. The predicted reduction comes from the
//!   quadratic model, `-(gᵀp + ½ pᵀJᵀJ p)`. A trial point whose pass is not finite counts as a
//!   huge increase of the cost (as in MINPACK when `‖r‖` grows tenfold): it is rejected,
//!   `Δ` becomes `min(Δ / 10, ‖D p‖)` and `λ` grows tenfold;
//! - the stopping rules, tested after every trial point: `ftol` (actual and predicted relative
//!   reductions both at most `ftol`, ratio at most 2), `xtol` (`Δ ≤ xtol ‖D x‖`), then
//!   `max_nfev`; and before each new step `gtol` on MINPACK's `max_j |g_j| / (‖J_j‖ ‖r‖)`.
//!
//! Each pass is one `nfev`; `njev` counts the passes whose `JᵀJ` is used (the starting point and
//! every accepted point). An iteration is one round of trial points ending in an accepted step
//! or a stop; the callback and a `tracing` debug event follow each one.
//!
//! Differences from scipy: the default `max_nfev` is `100 (P + 1)` (MINPACK's `lmder1`; scipy
//! 1.17 uses `100 P`); scipy ignores callbacks for `lm`, here they work as for `trf`; scipy's
//! `njev` is MINPACK's count of Jacobian evaluations, which does not include the final point
//! when a stop follows an accepted step.

use super::Method;
use super::driver::{Detail, Iteration, Solver};
use super::state::{Hooks, LmState};
use super::trust_region::Prepared;
use super::{Callback, Objective, Pass, SolverOptions, SolverOutput, Status, XScale, initial_pass};
use crate::error::FitError;
use nalgebra::{Cholesky, DMatrix, DVector, SymmetricEigen};
use std::ops::ControlFlow;

/// MINPACK's `factor`: the initial radius is `FACTOR ‖D x0‖`, or `FACTOR` when that is zero.
const FACTOR: f64 = 100.0;
/// Steps whose ratio of actual to predicted reduction is below this are rejected.
const ACCEPT_RATIO: f64 = 1e-4;
/// At most this many solves per `lmpar` call (MINPACK's limit).
const LMPAR_MAX_ITER: usize = 10;

/// Minimizes `½‖r(x)‖²` from `x0` by Levenberg–Marquardt (see the module docs).
///
/// Errors: `InvalidOption` for bounds (not supported by `lm`, as in scipy), tolerances below
/// machine epsilon (scipy refuses them for `lm`), `max_nfev = 0` or a bad `x_scale`;
/// `LengthMismatch` when `x0` is not `P` long; `NonFiniteP0` for a non-finite `x0`;
/// `NonFiniteModelAtP0` when the first pass is not finite; `TooFewPoints` when the first pass
/// has fewer points than parameters; any error of [`Objective::pass`].
pub fn solve(
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    callback: Option<Callback<'_>>,
) -> Result<SolverOutput, FitError> {
    super::solve_with(Method::Lm, obj, x0, opts, Hooks::callback(callback))
}

impl Solver for LmState {
    const METHOD: Method = Method::Lm;
    const GTOL_FIRST: bool = false;
    type Ready = ();

    /// scipy's checks for `method='lm'`; no bounds, `max_nfev` `100 (P + 1)` by default, and
    /// no fixed scales for `'jac'` scaling (MINPACK mode 1).
    fn setup(obj: &dyn Objective, x0: &[f64], opts: &SolverOptions) -> Result<Prepared, FitError> {
        let n = obj.n_params();
        check_options(n, x0, opts)?;
        let jac_scale = matches!(opts.x_scale, XScale::Jac);
        Ok(Prepared {
            lb: vec![f64::NEG_INFINITY; n],
            ub: vec![f64::INFINITY; n],
            fixed_scale: (!jac_scale).then(|| (0..n).map(|j| opts.fixed_scale(j)).collect()),
            max_nfev: opts.max_nfev.unwrap_or(100 * (n + 1)),
            bounded: false,
        })
    }

    /// The pass at `x0` (with at least `P` points); `D`, `Δ` and `‖D x‖` are set by the first
    /// iteration.
    fn start(obj: &mut dyn Objective, x0: &[f64], _: &Prepared) -> Result<Self, FitError> {
        let n = x0.len();
        let pass = initial_pass(obj, x0)?;
        check_pass(&pass, n)?;
        if (pass.n_points as usize) < n {
            return Err(FitError::TooFewPoints {
                points: pass.n_points as usize,
                params: n,
            });
        }
        Ok(LmState {
            x: x0.to_vec(),
            pass,
            nfev: 1,
            njev: 1,
            nit: 0,
            diag: vec![1.0; n],
            delta: 0.0,
            xnorm: 0.0,
            par: 0.0,
            first: true,
        })
    }

    /// Sets `D`, `Δ` and `‖D x‖` before the first step, tests `gtol` on MINPACK's scaled
    /// gradient, and grows `D` to the column norms for `'jac'` scaling.
    fn ready(&mut self, setup: &Prepared, opts: &SolverOptions) -> ControlFlow<Status> {
        let n = self.x.len();
        // The column norms of J.
        let acnorm = DVector::from_fn(n, |j, _| self.pass.jtj[(j, j)].max(0.0).sqrt());
        if self.first {
            for j in 0..n {
                self.diag[j] = if setup.fixed_scale.is_none() {
                    if acnorm[j] == 0.0 { 1.0 } else { acnorm[j] }
                } else {
                    1.0 / opts.fixed_scale(j)
                };
            }
            self.xnorm = scaled_norm(&self.diag, &self.x);
            self.delta = if self.xnorm == 0.0 {
                FACTOR
            } else {
                FACTOR * self.xnorm
            };
        }

        if scaled_gradient_norm(&self.pass, &acnorm) <= opts.gtol {
            return ControlFlow::Break(Status::Gtol);
        }
        if setup.fixed_scale.is_none() {
            for j in 0..n {
                self.diag[j] = self.diag[j].max(acnorm[j]);
            }
        }
        // The driver's max_nfev test that follows is only reachable with max_nfev = 1 (MINPACK
        // would still evaluate one trial point).
        ControlFlow::Continue(())
    }

    fn iterate(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        (): (),
    ) -> Result<Iteration, FitError> {
        self.nit += 1;
        // x and D as vectors for the step's algebra, moved out of the state and back (no copy
        // per iteration); the trial steps use neither field of the state.
        let mut x = DVector::from_vec(std::mem::take(&mut self.x));
        let diag = DVector::from_vec(std::mem::take(&mut self.diag));
        let iteration = self.trial_steps(obj, setup, opts, &mut x, &diag);
        self.x = x.data.into();
        self.diag = diag.data.into();
        iteration
    }

    fn optimality(&self, _: &Prepared) -> f64 {
        self.pass.gradient.amax()
    }

    fn active_mask(&self, _: &Prepared, _: &SolverOptions) -> Vec<i8> {
        vec![0; self.x.len()]
    }
}

impl LmState {
    /// Trial steps from `x` (scaled by `diag`) until one is accepted (then `x` is the new
    /// point) or a stopping rule holds.
    fn trial_steps(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        x: &mut DVector<f64>,
        diag: &DVector<f64>,
    ) -> Result<Iteration, FitError> {
        let n = x.len();
        let system = ScaledSystem::new(&self.pass.jtj, &self.pass.gradient, diag);
        loop {
            let (new_par, s) = lmpar(&system, self.delta, self.par);
            self.par = new_par;
            let p = s.component_div(diag);
            let x_new = &*x + &p;
            let pnorm = s.norm();
            if self.first {
                self.delta = self.delta.min(pnorm);
            }

            let trial = obj.pass(x_new.as_slice())?;
            self.nfev += 1;
            check_pass(&trial, n)?;
            let cost_new = if trial.is_finite() {
                trial.cost
            } else {
                f64::INFINITY
            };
            let rating = self.rate(&system, &s, pnorm, cost_new);

            let accepted = rating.ratio >= ACCEPT_RATIO;
            if accepted {
                self.xnorm = diag.component_mul(&x_new).norm();
                *x = x_new;
                self.pass = trial;
                self.njev += 1;
                self.first = false;
            }
            let stop = self.stop_rule(&rating, setup, opts);
            if accepted || stop.is_some() {
                return Ok(Iteration {
                    step_norm: if accepted { p.norm() } else { 0.0 },
                    stop,
                    detail: Detail {
                        delta: self.delta,
                        lambda: Some(self.par),
                        ratio: Some(rating.ratio),
                        actual_reduction: None,
                    },
                });
            }
        }
    }
}

/// MINPACK's scaled reductions of a trial point, relative to `‖r‖² = 2 cost`.
struct Rating {
    /// Actual relative reduction (-1 when the cost grew tenfold or more).
    actred: f64,
    /// Predicted relative reduction.
    prered: f64,
    /// `actred / prered` (0 when nothing was predicted).
    ratio: f64,
}

impl LmState {
    /// Rates the trial step `s` (of norm `pnorm`) to a point of cost `cost_new` and updates
    /// `Δ` and `λ` by Moré's rule.
    fn rate(
        &mut self,
        system: &ScaledSystem,
        s: &DVector<f64>,
        pnorm: f64,
        cost_new: f64,
    ) -> Rating {
        let cost = self.pass.cost;
        // cost > 0 here, else the gtol test would have stopped.
        let actred = if cost_new < 100.0 * cost {
            1.0 - cost_new / cost
        } else {
            -1.0
        };
        let gs = system.g.dot(s);
        let sas = s.dot(&(&system.a * s));
        let prered = (-(gs + 0.5 * sas)).max(0.0) / cost;
        let dirder = gs / (2.0 * cost);
        let ratio = if prered != 0.0 { actred / prered } else { 0.0 };

        // Moré's update of the radius and of λ.
        if ratio <= 0.25 {
            let mut temp = if actred >= 0.0 {
                0.5
            } else {
                0.5 * dirder / (dirder + 0.5 * actred)
            };
            if cost_new >= 100.0 * cost || temp.is_nan() || temp < 0.1 {
                temp = 0.1;
            }
            self.delta = temp * self.delta.min(pnorm / 0.1);
            self.par /= temp;
        } else if self.par == 0.0 || ratio >= 0.75 {
            self.delta = pnorm / 0.5;
            self.par *= 0.5;
        }
        Rating {
            actred,
            prered,
            ratio,
        }
    }

    /// The stopping rules after a trial point: `ftol`, `xtol`, then `max_nfev`.
    fn stop_rule(&self, rating: &Rating, setup: &Prepared, opts: &SolverOptions) -> Option<Status> {
        let Rating {
            actred,
            prered,
            ratio,
        } = *rating;
        let ftol_met = actred.abs() <= opts.ftol && prered <= opts.ftol && 0.5 * ratio <= 1.0;
        let xtol_met = self.delta <= opts.xtol * self.xnorm;
        match (ftol_met, xtol_met) {
            (true, true) => Some(Status::FtolXtol),
            (true, false) => Some(Status::Ftol),
            (false, true) => Some(Status::Xtol),
            (false, false) if self.nfev >= setup.max_nfev => Some(Status::MaxNfev),
            (false, false) => None,
        }
    }
}

/// `‖D x‖`.
fn scaled_norm(diag: &[f64], x: &[f64]) -> f64 {
    DVector::from_column_slice(diag)
        .component_mul(&DVector::from_column_slice(x))
        .norm()
}

/// Checks what `lm` accepts (scipy's checks for `method='lm'`).
fn check_options(n: usize, x0: &[f64], opts: &SolverOptions) -> Result<(), FitError> {
    let invalid = |option: &str, reason: String| FitError::InvalidOption {
        option: option.to_string(),
        reason,
    };
    if n == 0 {
        return Err(invalid("x0", "there are no parameters to fit".into()));
    }
    if x0.len() != n {
        return Err(FitError::LengthMismatch {
            what: "x0".to_string(),
            got: x0.len(),
            expected: n,
        });
    }
    if let Some((j, &value)) = x0.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(FitError::NonFiniteP0 {
            name: format!("x0[{j}]"),
            value,
        });
    }
    if opts.has_bounds() {
        return Err(invalid(
            "bounds",
            "method 'lm' does not support bounds; use 'trf'".into(),
        ));
    }
    for (name, tol) in [
        ("ftol", opts.ftol),
        ("xtol", opts.xtol),
        ("gtol", opts.gtol),
    ] {
        if tol.is_nan() || tol < f64::EPSILON || tol.is_infinite() {
            return Err(invalid(
                name,
                format!(
                    "is {tol:e}; method 'lm' needs every tolerance finite and at least machine epsilon ({:e})",
                    f64::EPSILON
                ),
            ));
        }
    }
    if opts.max_nfev == Some(0) {
        return Err(invalid("max_nfev", "must be positive".into()));
    }
    if let XScale::Fixed(scale) = &opts.x_scale {
        if !scale.is_empty() && scale.len() != n {
            return Err(invalid(
                "x_scale",
                format!("has {} entries for {n} parameters", scale.len()),
            ));
        }
        if let Some(s) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(invalid(
                "x_scale",
                format!("entries must be positive and finite, got {s}"),
            ));
        }
    }
    Ok(())
}

/// A pass must have a `P × P` matrix and a `P`-vector.
fn check_pass(pass: &Pass, n: usize) -> Result<(), FitError> {
    if pass.jtj.shape() != (n, n) || pass.gradient.len() != n {
        return Err(FitError::Backend {
            backend: "objective".to_string(),
            message: format!(
                "a pass returned JᵀJ of shape {:?} and a gradient of length {} for {n} parameters",
                pass.jtj.shape(),
                pass.gradient.len()
            ),
        });
    }
    Ok(())
}

/// MINPACK's `gnorm`: the largest cosine between `r` and a column of `J`,
/// `max_j |g_j| / (‖J_j‖ ‖r‖)`, over columns that are not zero; 0 when `r = 0`.
fn scaled_gradient_norm(pass: &Pass, acnorm: &DVector<f64>) -> f64 {
    let fnorm = (2.0 * pass.cost).sqrt();
    if fnorm == 0.0 {
        return 0.0;
    }
    let mut gnorm: f64 = 0.0;
    for (j, &c) in acnorm.iter().enumerate() {
        if c != 0.0 {
            gnorm = gnorm.max((pass.gradient[j] / c / fnorm).abs());
        }
    }
    gnorm
}

/// The trust-region system in the scaled variables `s = D p`: `Ã = D⁻¹ JᵀJ D⁻¹`, `g̃ = D⁻¹ g`.
struct ScaledSystem {
    a: DMatrix<f64>,
    g: DVector<f64>,
}

/// The Gauss–Newton step, `Ã s = -g̃`.
enum GaussNewton {
    /// `Ã` is numerically nonsingular on the columns of `J` that are not zero: the step (zero
    /// for zero columns, whose gradient is zero too), and `zᵀ Ã⁻¹ z` for `z = s / ‖s‖` when no
    /// column is zero (MINPACK's full-rank case, where it gives a lower bound for λ).
    Step {
        s: DVector<f64>,
        inv_quad: Option<f64>,
    },
    /// `Ã` is numerically singular on columns that are not zero. MINPACK's QR then has a
    /// negligible pivot and a Gauss–Newton step far outside any trust region; here the step is
    /// not formed at all and `lmpar` goes straight to λ > 0.
    Singular,
}

/// The solution of `(Ã + λ I) s = -g̃` for λ > 0.
struct Shifted {
    s: DVector<f64>,
    /// `zᵀ (Ã + λ I)⁻¹ z` for `z = s / ‖s‖`: minus the derivative of `‖s(λ)‖` divided by
    /// `‖s‖`, which drives `lmpar`'s Newton iteration.
    inv_quad: f64,
}

impl ScaledSystem {
    fn new(jtj: &DMatrix<f64>, gradient: &DVector<f64>, diag: &DVector<f64>) -> Self {
        let n = diag.len();
        // Symmetric by construction: the upper triangle of JᵀJ, mirrored.
        let a = DMatrix::from_fn(n, n, |i, j| {
            let (r, c) = if i <= j { (i, j) } else { (j, i) };
            jtj[(r, c)] / (diag[r] * diag[c])
        });
        let g = gradient.component_div(diag);
        ScaledSystem { a, g }
    }

    /// The Gauss–Newton step by Cholesky on the nonzero columns; [`GaussNewton::Singular`]
    /// when that fails or a pivot is below `P ε` of the largest diagonal entry (in the squared
    /// scale of `JᵀJ`, i.e. `J` singular to about `sqrt(P ε)`).
    fn gauss_newton(&self) -> GaussNewton {
        let n = self.g.len();
        let active: Vec<usize> = (0..n).filter(|&j| self.a[(j, j)] > 0.0).collect();
        let mut s = DVector::zeros(n);
        if active.is_empty() {
            return GaussNewton::Step { s, inv_quad: None };
        }
        // Every column active (the usual case): the system itself, without copies by index.
        let (m, g) = if active.len() == n {
            (self.a.clone(), self.g.clone())
        } else {
            (
                self.a.select_rows(&active).select_columns(&active),
                self.g.select_rows(&active),
            )
        };
        let max_diag = m.diagonal().max();
        let Some(chol) = Cholesky::new(m) else {
            return GaussNewton::Singular;
        };
        let l = chol.l_dirty();
        let min_pivot = l.diagonal().min();
        if min_pivot * min_pivot <= n as f64 * f64::EPSILON * max_diag {
            return GaussNewton::Singular;
        }
        let sa = -chol.solve(&g);
        if sa.iter().any(|v| !v.is_finite()) {
            return GaussNewton::Singular;
        }
        let snorm = sa.norm();
        let inv_quad = if active.len() == n && snorm > 0.0 {
            l.solve_lower_triangular(&(&sa / snorm))
                .map(|w| w.norm_squared())
        } else {
            None
        };
        for (k, &j) in active.iter().enumerate() {
            s[j] = sa[k];
        }
        GaussNewton::Step { s, inv_quad }
    }

    /// Solves `(Ã + λ I) s = -g̃` for λ > 0 by Cholesky; if that fails (λ below the rounding
    /// noise of a singular `Ã`), by an eigen-decomposition of the equilibrated matrix with its
    /// eigenvalues kept at or above their exact lower bound.
    fn shifted(&self, lambda: f64) -> Shifted {
        let n = self.g.len();
        let shifted_matrix = || {
            let mut m = self.a.clone();
            for i in 0..n {
                m[(i, i)] += lambda;
            }
            m
        };
        if let Some(chol) = Cholesky::new(shifted_matrix()) {
            let s = -chol.solve(&self.g);
            let snorm = s.norm();
            if snorm.is_finite() {
                let inv_quad = if snorm > 0.0 {
                    chol.l_dirty()
                        .solve_lower_triangular(&(&s / snorm))
                        .map_or(f64::NAN, |w| w.norm_squared())
                } else {
                    0.0
                };
                return Shifted { s, inv_quad };
            }
        }
        // M = Ã + λ I = E⁻¹ B E⁻¹ with B = E M E, E = diag(M_ii)^(-1/2); B = V diag(μ) Vᵀ with
        // μ ≥ λ min E² in exact arithmetic, as Ã is positive semidefinite.
        let m = shifted_matrix();
        let e = DVector::from_fn(n, |i, _| 1.0 / m[(i, i)].max(lambda).sqrt());
        let b = DMatrix::from_fn(n, n, |i, j| e[i] * m[(i, j)] * e[j]);
        // Defensive: accepted passes have finite entries, so the decomposition exists; without
        // one the step is zero and the radius shrinks until `xtol` stops the fit.
        let eig = b
            .iter()
            .chain(self.g.iter())
            .all(|v| v.is_finite())
            .then(|| SymmetricEigen::try_new(b.clone(), f64::EPSILON, 1000))
            .flatten();
        let Some(eig) = eig else {
            return Shifted {
                s: DVector::zeros(n),
                inv_quad: f64::NAN,
            };
        };
        let floor = lambda * e.min().powi(2);
        let mu = eig.eigenvalues.map(|v| v.max(floor));
        let c = eig.eigenvectors.transpose() * self.g.component_mul(&e);
        let y = DVector::from_fn(n, |i, _| -c[i] / mu[i]);
        let s = (&eig.eigenvectors * &y).component_mul(&e);
        let snorm = s.norm();
        let inv_quad = if snorm > 0.0 {
            let cz = eig.eigenvectors.transpose() * (&s / snorm).component_mul(&e);
            (0..n).map(|i| cz[i] * cz[i] / mu[i]).sum()
        } else {
            0.0
        };
        Shifted { s, inv_quad }
    }
}

/// MINPACK's `lmpar`: the λ ≥ 0 for which the step `s(λ)` has `‖s‖` within 10% of `delta`
/// (or λ = 0 when the Gauss–Newton step is already shorter than `1.1 delta`), found by a
/// safeguarded Newton iteration started from `par`. Returns λ and the scaled step `s = D p`.
fn lmpar(sys: &ScaledSystem, delta: f64, par: f64) -> (f64, DVector<f64>) {
    // The Gauss–Newton step, taken when it is short enough; otherwise a lower bound for λ
    // from it (only when `Ã` is nonsingular, as in MINPACK).
    let (mut dxnorm, mut fp, mut parl, mut best) = match sys.gauss_newton() {
        GaussNewton::Step { s, inv_quad } => {
            let dxnorm = s.norm();
            let fp = dxnorm - delta;
            if fp <= 0.1 * delta {
                return (0.0, s);
            }
            let parl = inv_quad.map_or(0.0, |q| (fp / delta) / q);
            (dxnorm, fp, if parl.is_finite() { parl } else { 0.0 }, s)
        }
        GaussNewton::Singular => {
            let n = sys.g.len();
            (f64::INFINITY, f64::INFINITY, 0.0, DVector::zeros(n))
        }
    };
    // An upper bound: ‖g̃‖ / Δ.
    let gnorm = sys.g.norm();
    let mut paru = gnorm / delta;
    if paru == 0.0 {
        paru = f64::MIN_POSITIVE / delta.min(0.1);
    }

    let mut par = par.max(parl).min(paru);
    if par == 0.0 {
        par = gnorm / dxnorm;
    }
    for iter in 1..=LMPAR_MAX_ITER {
        if par == 0.0 {
            par = f64::MIN_POSITIVE.max(0.001 * paru);
        }
        let shifted = sys.shifted(par);
        dxnorm = shifted.s.norm();
        if !dxnorm.is_finite() {
            // Cannot happen for a finite system; fall back to the last step cut to length Δ.
            let norm = best.norm();
            if norm > delta {
                best *= delta / norm;
            }
            break;
        }
        best = shifted.s;
        let previous = fp;
        fp = dxnorm - delta;
        if fp.abs() <= 0.1 * delta
            || (parl == 0.0 && fp <= previous && previous < 0.0)
            || iter == LMPAR_MAX_ITER
        {
            break;
        }
        // The Newton correction.
        let parc = (fp / delta) / shifted.inv_quad;
        if !parc.is_finite() {
            break;
        }
        if fp > 0.0 {
            parl = parl.max(par);
        } else if fp < 0.0 {
            paru = paru.min(par);
        }
        par = parl.max(par + parc);
    }
    (par, best)
}

#[cfg(test)]
#[path = "lm_tests.rs"]
mod tests;

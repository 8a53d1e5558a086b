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
use super::lmpar::{FIXED_MAX, ScaledSystem, lmpar};
use super::state::{Hooks, LmState};
use super::trust_region::Prepared;
use super::{Callback, Objective, Pass, SolverOptions, SolverOutput, Status, XScale, initial_pass};
use crate::error::FitError;
use nalgebra::allocator::Allocator;
use nalgebra::{Const, DVector, DefaultAllocator, Dim, Dyn, OVector, U1};
use std::ops::ControlFlow;

/// MINPACK's `factor`: the initial radius is `FACTOR ‖D x0‖`, or `FACTOR` when that is zero.
const FACTOR: f64 = 100.0;
/// Steps whose ratio of actual to predicted reduction is below this are rejected.
const ACCEPT_RATIO: f64 = 1e-4;

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
        // The step's algebra at a size known to the compiler for few parameters.
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.x.len() {
                    $($n => self.steps_at(obj, setup, opts, Const::<$n>),)*
                    n => self.steps_at(obj, setup, opts, Dyn(n)),
                }
            };
        }
        const _: () = assert!(FIXED_MAX == 8);
        fixed!(1 2 3 4 5 6 7 8)
    }

    fn optimality(&self, _: &Prepared) -> f64 {
        self.pass.gradient.amax()
    }

    fn active_mask(&self, _: &Prepared, _: &SolverOptions) -> Vec<i8> {
        vec![0; self.x.len()]
    }
}

impl LmState {
    /// [`Self::trial_steps`] with `x` and `D` as vectors of `d` entries (the state keeps
    /// them as `Vec`s), `x` written back.
    fn steps_at<N: Dim>(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        d: N,
    ) -> Result<Iteration, FitError>
    where
        DefaultAllocator: Allocator<N, N> + Allocator<N>,
    {
        let mut x = OVector::from_column_slice_generic(d, U1, &self.x);
        let diag = OVector::from_column_slice_generic(d, U1, &self.diag);
        let iteration = self.trial_steps(obj, setup, opts, &mut x, &diag);
        self.x.copy_from_slice(x.as_slice());
        iteration
    }

    /// Trial steps from `x` (scaled by `diag`) until one is accepted (then `x` is the new
    /// point) or a stopping rule holds.
    fn trial_steps<N: Dim>(
        &mut self,
        obj: &mut dyn Objective,
        setup: &Prepared,
        opts: &SolverOptions,
        x: &mut OVector<f64, N>,
        diag: &OVector<f64, N>,
    ) -> Result<Iteration, FitError>
    where
        DefaultAllocator: Allocator<N, N> + Allocator<N>,
    {
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
    fn rate<N: Dim>(
        &mut self,
        system: &ScaledSystem<N>,
        s: &OVector<f64, N>,
        pnorm: f64,
        cost_new: f64,
    ) -> Rating
    where
        DefaultAllocator: Allocator<N, N> + Allocator<N>,
    {
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

#[cfg(test)]
#[path = "lm_tests.rs"]
mod tests;

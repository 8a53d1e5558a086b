//! The compact per-fit Levenberg–Marquardt of batch fitting, shared in algorithm (not in code)
//! with the device kernels of `kernels_gen::kernels::{cuda_batch, wgsl_batch}`: the same
//! per-point terms, damping schedule, bound handling and convergence rule, so that every
//! backend takes the same steps.
//!
//! One iteration, with `p` the current parameters, `χ²(p)`, the gradient `g` of `χ²/2` and its
//! Gauss–Newton Hessian `H`, both restricted to the free parameters:
//!
//! 1. `A = H` with its diagonal multiplied by `1 + λ` (Marquardt's scaling); `λ` starts at
//!    [`LAMBDA0`].
//! 2. Cholesky of `A`; a pivot `<= 0` or not finite stops the fit as
//!    [`FitState::Singular`].
//! 3. `p' = clamp(p - A⁻¹ g, lower, upper)` (fixed parameters do not move).
//! 4. `χ²(p')`; the iteration counts. The step is accepted when `χ²(p')` is finite and
//!    `<= χ²(p)`: `p = p'`, `λ /= 10`; otherwise `λ *= 10`.
//! 5. Converged when the step was accepted, `χ²(p) - χ²(p') < tolerance · max(1, χ²(p'))`
//!    (Gpufit's relative rule, tested on accepted steps only: a step rejected for a large `λ`
//!    says nothing about the minimum), and, when a step tolerance `xtol` is set, every free
//!    parameter moved by at most `xtol · (|p_j| + xtol)` (the χ² rule alone cannot locate
//!    poorly determined parameters better than about `sqrt(tolerance)`: χ² is flat there).
//!    At a minimum where rounding makes every step look uphill, `λ` grows until a step no
//!    longer changes χ², which is accepted (`<=`) and converges.
//!
//! The loop ends converged, singular, or after `max_iterations` iterations
//! ([`FitState::MaxIterations`]); the result is always the last accepted `p`.

use super::Estimator;
use super::result::FitState;

/// Initial damping (the device kernels' too).
pub const LAMBDA0: f64 = kernels_gen::kernels::abi::BATCH_LAMBDA0;
/// Damping factor on rejection (and its inverse on acceptance).
pub const LAMBDA_FACTOR: f64 = kernels_gen::kernels::abi::BATCH_LAMBDA_FACTOR;

/// One point's contributions: `(χ² term, gradient weight, Hessian weight)`, so that
/// `χ² += c`, `g += gw · ∇f`, `H += hw · ∇f ∇fᵀ`. `None` when the point is not finite (for
/// Poisson MLE also when `f <= 0`).
///
/// * Least squares, weight `w`: `c = w (f - y)²`, `gw = w (f - y)`, `hw = w`.
/// * Poisson MLE (Gpufit's): `c = 2 (f - y) - 2 y ln(f / y)` (the last term 0 for `y = 0`),
///   `gw = 1 - y / f`, `hw = y / f²`.
#[inline(always)]
pub fn point_terms(estimator: Estimator, f: f64, y: f64, w: f64) -> Option<(f64, f64, f64)> {
    let t = match estimator {
        Estimator::Lse => {
            let r = f - y;
            (w * r * r, w * r, w)
        }
        Estimator::PoissonMle => {
            if f.is_nan() || f <= 0.0 {
                return None;
            }
            let log_term = if y > 0.0 { y * (f / y).ln() } else { 0.0 };
            let q = y / f;
            (2.0 * (f - y) - 2.0 * log_term, 1.0 - q, q / f)
        }
    };
    (t.0.is_finite() && t.1.is_finite() && t.2.is_finite()).then_some(t)
}

/// What the LM needs from one fit: `χ²`, `g` and the full `P x P` `H` (row-major, both
/// triangles) at `p`. Returns `χ²`, not finite when a point was not.
pub trait FitObjective {
    /// Accumulates at `p` into `g` (`P`) and `h` (`P * P`), overwriting them.
    fn evaluate(&mut self, p: &[f64], g: &mut [f64], h: &mut [f64]) -> f64;
}

/// Settings of the per-fit solver.
#[derive(Clone, Copy, Debug)]
pub struct LmSettings {
    /// Relative χ² change for convergence.
    pub tolerance: f64,
    /// Iteration budget.
    pub max_iterations: u32,
    /// Relative step for convergence (`f64::INFINITY`: the χ² rule alone).
    pub step_tolerance: f64,
}

/// Reusable per-thread scratch, sized for `P` parameters.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    g: Vec<f64>,
    h: Vec<f64>,
    g_trial: Vec<f64>,
    h_trial: Vec<f64>,
    trial: Vec<f64>,
    a: Vec<f64>,
    step: Vec<f64>,
    free: Vec<usize>,
}

impl Workspace {
    fn resize(&mut self, p: usize) {
        for v in [
            &mut self.g,
            &mut self.g_trial,
            &mut self.trial,
            &mut self.step,
        ] {
            v.resize(p, 0.0);
        }
        for v in [&mut self.h, &mut self.h_trial, &mut self.a] {
            v.resize(p * p, 0.0);
        }
    }

    /// `H` at the last parameters `solve` ended with (full `P x P`).
    pub fn hessian(&self) -> &[f64] {
        &self.h
    }

    /// Indices of the free parameters of the last fit.
    pub fn free(&self) -> &[usize] {
        &self.free
    }
}

/// Outcome of one fit (parameters are updated in place).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LmOutcome {
    /// How it ended.
    pub state: FitState,
    /// χ² at the final parameters.
    pub chi2: f64,
    /// Iterations taken.
    pub iterations: u32,
}

/// In-place Cholesky `A = L Lᵀ` of the leading `n x n` block (row-major, stride `n`); `false`
/// on a pivot `<= 0` or not finite.
pub fn cholesky(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    true
}

/// Solves `L Lᵀ x = b` in place for a factor from [`cholesky`].
pub fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Inverse of the free block of `h` (full `P x P`), written to `out` (`P x P`, zero for fixed
/// rows and columns), scaled by `scale`; `false` when the block is not positive definite.
pub fn inverse_free(h: &[f64], p: usize, free: &[usize], scale: f64, out: &mut [f64]) -> bool {
    let m = free.len();
    let mut a = vec![0.0; m * m];
    for (r, &i) in free.iter().enumerate() {
        for (c, &j) in free.iter().enumerate() {
            a[r * m + c] = h[i * p + j];
        }
    }
    out.iter_mut().for_each(|v| *v = 0.0);
    if !cholesky(&mut a, m) {
        return false;
    }
    let mut e = vec![0.0; m];
    for c in 0..m {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[c] = 1.0;
        cholesky_solve(&a, m, &mut e);
        for (r, &i) in free.iter().enumerate() {
            out[i * p + free[c]] = e[r] * scale;
        }
    }
    true
}

/// Runs the LM above on one fit. `params` holds p0 on entry (inside the bounds) and the result
/// on exit; `fixed[j]` holds parameter `j`.
#[allow(clippy::too_many_arguments)]
pub fn solve<O: FitObjective>(
    objective: &mut O,
    params: &mut [f64],
    lower: &[f64],
    upper: &[f64],
    fixed: &[bool],
    settings: LmSettings,
    ws: &mut Workspace,
) -> LmOutcome {
    let p = params.len();
    ws.resize(p);
    ws.free.clear();
    ws.free.extend((0..p).filter(|&j| !fixed[j]));
    let m = ws.free.len();
    let mut chi2 = objective.evaluate(params, &mut ws.g, &mut ws.h);
    if !chi2.is_finite() {
        return LmOutcome {
            state: FitState::NonFinite,
            chi2,
            iterations: 0,
        };
    }
    let mut lambda = LAMBDA0;
    let mut iterations = 0;
    let mut state = FitState::MaxIterations;
    while iterations < settings.max_iterations {
        iterations += 1;
        for r in 0..m {
            let i = ws.free[r];
            for c in 0..m {
                ws.a[r * m + c] = ws.h[i * p + ws.free[c]];
            }
            ws.a[r * m + r] *= 1.0 + lambda;
            ws.step[r] = -ws.g[i];
        }
        if !cholesky(&mut ws.a, m) {
            state = FitState::Singular;
            break;
        }
        cholesky_solve(&ws.a, m, &mut ws.step[..m]);
        ws.trial.copy_from_slice(params);
        let xtol = settings.step_tolerance;
        let mut small_step = true;
        for r in 0..m {
            let j = ws.free[r];
            ws.trial[j] = (params[j] + ws.step[r]).clamp(lower[j], upper[j]);
            small_step &= (ws.trial[j] - params[j]).abs() <= xtol * (params[j].abs() + xtol);
        }
        let chi2_trial = objective.evaluate(&ws.trial, &mut ws.g_trial, &mut ws.h_trial);
        let finite = chi2_trial.is_finite();
        let accepted = finite && chi2_trial <= chi2;
        let converged =
            accepted && small_step && chi2 - chi2_trial < settings.tolerance * chi2_trial.max(1.0);
        if accepted {
            params.copy_from_slice(&ws.trial);
            std::mem::swap(&mut ws.g, &mut ws.g_trial);
            std::mem::swap(&mut ws.h, &mut ws.h_trial);
            chi2 = chi2_trial;
            lambda /= LAMBDA_FACTOR;
        } else {
            lambda *= LAMBDA_FACTOR;
        }
        if converged {
            state = FitState::Converged;
            break;
        }
    }
    LmOutcome {
        state,
        chi2,
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear model `f = a + b t` on four points: LM must reach the normal-equation solution.
    struct Line {
        t: Vec<f64>,
        y: Vec<f64>,
    }

    impl FitObjective for Line {
        fn evaluate(&mut self, p: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
            g.iter_mut().for_each(|v| *v = 0.0);
            h.iter_mut().for_each(|v| *v = 0.0);
            let mut chi2 = 0.0;
            for (&t, &y) in self.t.iter().zip(&self.y) {
                let grad = [1.0, t];
                let (c, gw, hw) = point_terms(Estimator::Lse, p[0] + p[1] * t, y, 1.0).unwrap();
                chi2 += c;
                for j in 0..2 {
                    g[j] += gw * grad[j];
                    for k in 0..2 {
                        h[j * 2 + k] += hw * grad[j] * grad[k];
                    }
                }
            }
            chi2
        }
    }

    #[test]
    fn linear_least_squares_and_fixed_and_bounds() {
        let t = vec![0.0, 1.0, 2.0, 3.0];
        let y = vec![1.1, 2.9, 5.2, 6.8];
        // Closed form of the straight-line fit.
        let n = 4.0;
        let (st, sy) = (t.iter().sum::<f64>(), y.iter().sum::<f64>());
        let stt: f64 = t.iter().map(|v| v * v).sum();
        let sty: f64 = t.iter().zip(&y).map(|(a, b)| a * b).sum();
        let b = (n * sty - st * sy) / (n * stt - st * st);
        let a = (sy - b * st) / n;
        let mut obj = Line { t, y };
        let settings = LmSettings {
            tolerance: 1e-14,
            max_iterations: 100,
            step_tolerance: f64::INFINITY,
        };
        let mut ws = Workspace::default();
        let inf = [f64::NEG_INFINITY, f64::INFINITY];
        let mut p = [0.0, 0.0];
        let out = solve(
            &mut obj,
            &mut p,
            &[inf[0]; 2],
            &[inf[1]; 2],
            &[false; 2],
            settings,
            &mut ws,
        );
        assert_eq!(out.state, FitState::Converged);
        assert!((p[0] - a).abs() < 1e-8 && (p[1] - b).abs() < 1e-8, "{p:?}");
        // Intercept fixed at 1: slope = Σ t (y - 1) / Σ t².
        let mut p = [1.0, 0.0];
        solve(
            &mut obj,
            &mut p,
            &[inf[0]; 2],
            &[inf[1]; 2],
            &[true, false],
            settings,
            &mut ws,
        );
        let want: f64 = obj
            .t
            .iter()
            .zip(&obj.y)
            .map(|(t, y)| t * (y - 1.0))
            .sum::<f64>()
            / stt;
        assert_eq!(p[0], 1.0);
        assert!((p[1] - want).abs() < 1e-8);
        // An upper bound below the free optimum: the slope ends on it.
        let mut p = [0.0, 0.0];
        solve(
            &mut obj,
            &mut p,
            &[inf[0]; 2],
            &[inf[1], 1.0],
            &[false; 2],
            settings,
            &mut ws,
        );
        assert_eq!(p[1], 1.0, "{p:?}");
    }

    #[test]
    fn parameter_without_influence_is_singular() {
        struct Flat;
        impl FitObjective for Flat {
            fn evaluate(&mut self, p: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
                // f = p0 on one point y = 1; p1 has no influence.
                g.copy_from_slice(&[p[0] - 1.0, 0.0]);
                h.copy_from_slice(&[1.0, 0.0, 0.0, 0.0]);
                (p[0] - 1.0).powi(2)
            }
        }
        let out = solve(
            &mut Flat,
            &mut [0.0, 0.0],
            &[f64::NEG_INFINITY; 2],
            &[f64::INFINITY; 2],
            &[false; 2],
            LmSettings {
                tolerance: 1e-10,
                max_iterations: 10,
                step_tolerance: f64::INFINITY,
            },
            &mut Workspace::default(),
        );
        assert_eq!(out.state, FitState::Singular);
    }

    #[test]
    fn cholesky_inverse_matches_nalgebra() {
        let h = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let mut out = [0.0; 9];
        assert!(inverse_free(&h, 3, &[0, 1, 2], 2.0, &mut out));
        let inv = nalgebra::Matrix3::from_row_slice(&h).try_inverse().unwrap() * 2.0;
        for (a, b) in out.iter().zip(inv.transpose().iter()) {
            assert!((a - b).abs() < 1e-14);
        }
        // Parameter 1 fixed: the inverse of the {0, 2} block, zeros elsewhere.
        assert!(inverse_free(&h, 3, &[0, 2], 1.0, &mut out));
        let det = 4.0 * 2.0 - 0.25;
        assert!((out[0] - 2.0 / det).abs() < 1e-15 && out[1] == 0.0 && out[4] == 0.0);
    }
}

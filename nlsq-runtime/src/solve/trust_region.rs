//! Trust-region machinery shared by `trf` and `dogbox`, after scipy's
//! `scipy/optimize/_lsq/common.py`, rewritten for the normal equations: the solvers only have
//! `JᵀJ` and `g = Jᵀf`, never `J` or `f`.
//!
//! scipy's exact trust-region solver works on the SVD `J_h = U S Vᵀ` with `uf = Uᵀ f`. Here the
//! same `V` and `S` come from the eigen-decomposition `J_hᵀJ_h = V S² Vᵀ`, and scipy only ever
//! uses `uf` through `s ∘ uf = Vᵀ J_hᵀ f = Vᵀ g_h` (and `uf / s = (Vᵀ g_h) / s²` for the
//! Gauss–Newton step), so nothing else is needed. The eigen-decomposition is by cyclic Jacobi
//! rotations, which find the small eigenvalues of a graded positive semi-definite matrix to high
//! relative accuracy (Demmel & Veselić): badly scaled parameters cost no digits, only the
//! conditioning of `JᵀJ` with its columns normalised does.

use super::bounds::dot;
use super::{Objective, SolverOptions, XScale};
use crate::error::FitError;
use nalgebra::DMatrix;

pub(crate) const EPS: f64 = f64::EPSILON;

/// The eigen-decomposition `A = V diag(values) Vᵀ` of a symmetric matrix, eigenvalues in
/// descending order, eigenvectors in the columns of `vectors`.
#[derive(Clone, Debug)]
pub struct SymEigen {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors, column `i` for `values[i]`.
    pub vectors: DMatrix<f64>,
}

/// Eigen-decomposition of the symmetric matrix `a` (only its upper triangle is read) by cyclic
/// Jacobi rotations, with the relative off-diagonal test `|a_pq| ≤ ε √|a_pp a_qq|`.
pub fn sym_eigen(a: &DMatrix<f64>) -> SymEigen {
    let n = a.nrows();
    let mut m = DMatrix::from_fn(n, n, |i, j| if i <= j { a[(i, j)] } else { a[(j, i)] });
    let mut v = DMatrix::<f64>::identity(n, n);
    for _sweep in 0..100 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[(p, q)];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (m[(p, p)], m[(q, q)]);
                if apq.abs() <= EPS * (app * aqq).abs().sqrt() {
                    continue;
                }
                if !apq.is_finite() || !app.is_finite() || !aqq.is_finite() {
                    continue;
                }
                rotated = true;
                let tau = (aqq - app) / (2.0 * apq);
                let t = if tau.abs() > 1e150 {
                    0.5 / tau
                } else {
                    let t = 1.0 / (tau.abs() + (1.0 + tau * tau).sqrt());
                    if tau < 0.0 { -t } else { t }
                };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    if k == p || k == q {
                        continue;
                    }
                    let (akp, akq) = (m[(k, p)], m[(k, q)]);
                    let new_p = c * akp - s * akq;
                    let new_q = s * akp + c * akq;
                    m[(k, p)] = new_p;
                    m[(p, k)] = new_p;
                    m[(k, q)] = new_q;
                    m[(q, k)] = new_q;
                }
                m[(p, p)] = app - t * apq;
                m[(q, q)] = aqq + t * apq;
                m[(p, q)] = 0.0;
                m[(q, p)] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[(k, p)], v[(k, q)]);
                    v[(k, p)] = c * vkp - s * vkq;
                    v[(k, q)] = s * vkp + c * vkq;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[(j, j)].total_cmp(&m[(i, i)]));
    SymEigen {
        values: order.iter().map(|&i| m[(i, i)]).collect(),
        vectors: DMatrix::from_fn(n, n, |r, c| v[(r, order[c])]),
    }
}

/// The relative rounding error `η` of the entries of `JᵀJ` (`m` rows, `n` columns) that
/// rank decisions allow for: `ε max(√m, n)`, the typical error of a sum of `m` products
/// (the worst case, `ε m`, would call well-determined directions noise on large data sets).
pub(crate) fn noise_level(m: usize, n: usize) -> f64 {
    EPS * (m as f64).sqrt().max(n as f64)
}

/// scipy's exact trust-region subproblem `min ½‖J_h p + f‖² s.t. ‖p‖ ≤ Δ` (plus, for the
/// bounded TRF, the diagonal term `½ pᵀ diag(diag_h) p`), set up from `B = J_hᵀJ_h (+ diag_h)`
/// and `g_h = J_hᵀ f`.
#[derive(Clone, Debug)]
pub(crate) struct Subproblem {
    /// Singular values of the (augmented) scaled Jacobian, descending: `√max(λ_i, 0)`.
    s: Vec<f64>,
    /// Right singular vectors (eigenvectors of `B`).
    v: DMatrix<f64>,
    /// `s ∘ (Uᵀf) = Vᵀ g_h`.
    suf: Vec<f64>,
    /// `g_h`.
    g: Vec<f64>,
    /// Whether the Gauss–Newton step may be tried (scipy's `full_rank`, see [`Subproblem::new`]).
    full_rank: bool,
}

impl Subproblem {
    /// Decomposes `b` (`P × P`, symmetric positive semi-definite up to rounding).
    ///
    /// scipy calls `J_h` full rank when `m ≥ n` and `s_min > ε m s_max`. Eigenvalues of `b`
    /// below the rounding noise of `b` itself are not meaningful, so an eigenvalue also counts
    /// as zero when `λ_i ≤ η (Σ_j |V_ji| √b_jj)²`: the most a perturbation
    /// `|δb_jk| ≤ η √(b_jj b_kk)` (the error of forming `JᵀJ`) can move it, with `η` from
    /// [`noise_level`]. Erring low here is harmless: a noise eigenvalue taken for a real one
    /// only makes the Gauss–Newton step too long, and the subproblem then falls back to
    /// Moré's iteration as it would for any step outside the trust region.
    pub(crate) fn new(b: &DMatrix<f64>, g: &[f64], m: usize) -> Subproblem {
        let n = b.nrows();
        let eig = sym_eigen(b);
        let s: Vec<f64> = eig.values.iter().map(|&l| l.max(0.0).sqrt()).collect();
        let v = eig.vectors;
        let suf: Vec<f64> = (0..n).map(|i| dot(v.column(i).as_slice(), g)).collect();
        let eta = noise_level(m, n);
        let diag_sqrt: Vec<f64> = (0..n).map(|j| b[(j, j)].max(0.0).sqrt()).collect();
        let above_noise = (0..n).all(|i| {
            let w: f64 = (0..n).map(|j| v[(j, i)].abs() * diag_sqrt[j]).sum();
            eig.values[i] > eta * w * w
        });
        let full_rank = n == 0 || (m >= n && s[n - 1] > EPS * m as f64 * s[0] && above_noise);
        Subproblem {
            s,
            v,
            suf,
            g: g.to_vec(),
            full_rank,
        }
    }

    /// `V c` for coefficients `c` in the eigenbasis.
    fn combine_basis(&self, c: &[f64]) -> Vec<f64> {
        let n = c.len();
        (0..n)
            .map(|r| (0..n).map(|i| self.v[(r, i)] * c[i]).sum())
            .collect()
    }

    /// `Vᵀ p`.
    fn project_basis(&self, p: &[f64]) -> Vec<f64> {
        (0..p.len())
            .map(|i| dot(self.v.column(i).as_slice(), p))
            .collect()
    }

    /// `pᵀ B q`, as `Σ s_i² (v_iᵀp)(v_iᵀq)` (no cancellation for `p = q`).
    pub(crate) fn quad_form(&self, p: &[f64], q: &[f64]) -> f64 {
        let (cp, cq) = (self.project_basis(p), self.project_basis(q));
        (0..cp.len())
            .map(|i| self.s[i] * self.s[i] * cp[i] * cq[i])
            .sum()
    }

    /// scipy's `evaluate_quadratic`: `½ pᵀ B p + g_hᵀ p`.
    pub(crate) fn evaluate(&self, p: &[f64]) -> f64 {
        0.5 * self.quad_form(p, p) + dot(&self.g, p)
    }

    /// scipy's `build_quadratic_1d`: `f(t) = ½ (s0 + t s)ᵀ B (s0 + t s) + g_hᵀ (s0 + t s)`
    /// as `a t² + b t + c`.
    pub(crate) fn quadratic_1d(&self, s: &[f64], s0: Option<&[f64]>) -> (f64, f64, f64) {
        let a = 0.5 * self.quad_form(s, s);
        let mut b = dot(&self.g, s);
        let mut c = 0.0;
        if let Some(s0) = s0 {
            b += self.quad_form(s0, s);
            c = 0.5 * self.quad_form(s0, s0) + dot(&self.g, s0);
        }
        (a, b, c)
    }

    /// scipy's `solve_lsq_trust_region` (Moré's algorithm on the SVD): the step `p` in hat
    /// space and the Levenberg–Marquardt parameter `α` with `(B + α I) p = −g_h`.
    pub(crate) fn solve(&self, delta: f64, initial_alpha: f64) -> (Vec<f64>, f64) {
        let n = self.s.len();
        let (s, suf) = (&self.s, &self.suf);
        let suf_norm = super::bounds::norm(suf);
        if n == 0 || suf_norm == 0.0 {
            return (vec![0.0; n], 0.0);
        }
        let phi_and_derivative = |alpha: f64| {
            let mut p2 = 0.0;
            let mut d = 0.0;
            for i in 0..n {
                let denom = s[i] * s[i] + alpha;
                p2 += (suf[i] / denom).powi(2);
                d += suf[i] * suf[i] / (denom * denom * denom);
            }
            let p_norm = p2.sqrt();
            (p_norm - delta, -d / p_norm)
        };

        if self.full_rank {
            let c: Vec<f64> = (0..n).map(|i| -suf[i] / (s[i] * s[i])).collect();
            let p = self.combine_basis(&c);
            if super::bounds::norm(&p) <= delta {
                return (p, 0.0);
            }
        }

        let mut alpha_upper = suf_norm / delta;
        let mut alpha_lower = if self.full_rank {
            let (phi, phi_prime) = phi_and_derivative(0.0);
            -phi / phi_prime
        } else {
            0.0
        };
        let mut alpha = if !self.full_rank && initial_alpha == 0.0 {
            (0.001 * alpha_upper).max((alpha_lower * alpha_upper).sqrt())
        } else {
            initial_alpha
        };
        for _ in 0..10 {
            if alpha < alpha_lower || alpha > alpha_upper {
                alpha = (0.001 * alpha_upper).max((alpha_lower * alpha_upper).sqrt());
            }
            let (phi, phi_prime) = phi_and_derivative(alpha);
            if phi < 0.0 {
                alpha_upper = alpha;
            }
            let ratio = phi / phi_prime;
            alpha_lower = alpha_lower.max(alpha - ratio);
            alpha -= (phi + delta) * ratio / delta;
            if phi.abs() < 0.01 * delta {
                break;
            }
        }
        let c: Vec<f64> = (0..n).map(|i| -suf[i] / (s[i] * s[i] + alpha)).collect();
        let mut p = self.combine_basis(&c);
        let p_norm = super::bounds::norm(&p);
        if p_norm > 0.0 && p_norm.is_finite() {
            let k = delta / p_norm;
            p.iter_mut().for_each(|v| *v *= k);
        }
        (p, alpha)
    }

    /// Whether the Gauss–Newton step may be tried.
    #[cfg(test)]
    pub(crate) fn full_rank(&self) -> bool {
        self.full_rank
    }
}

/// scipy's `minimize_quadratic_1d`: the minimum of `a t² + b t + c` on `[lb, ub]`
/// (`(t, value)`; the first of the candidates `lb`, `ub`, vertex on ties).
pub(crate) fn minimize_quadratic_1d(a: f64, b: f64, lb: f64, ub: f64, c: f64) -> (f64, f64) {
    let mut best = (lb, lb * (a * lb + b) + c);
    let mut consider = |t: f64| {
        let y = t * (a * t + b) + c;
        if y < best.1 || best.1.is_nan() && !y.is_nan() {
            best = (t, y);
        }
    };
    consider(ub);
    if a != 0.0 {
        let extremum = -0.5 * b / a;
        if lb < extremum && extremum < ub {
            consider(extremum);
        }
    }
    best
}

/// scipy's `update_tr_radius`: the new radius and the ratio of actual to predicted reduction.
pub(crate) fn update_tr_radius(
    delta: f64,
    actual_reduction: f64,
    predicted_reduction: f64,
    step_norm: f64,
    bound_hit: bool,
) -> (f64, f64) {
    let ratio = if predicted_reduction > 0.0 {
        actual_reduction / predicted_reduction
    } else if predicted_reduction == 0.0 && actual_reduction == 0.0 {
        1.0
    } else {
        0.0
    };
    let delta = if ratio < 0.25 {
        0.25 * step_norm
    } else if ratio > 0.75 && bound_hit {
        2.0 * delta
    } else {
        delta
    };
    (delta, ratio)
}

/// scipy's `check_termination` (status 2, 3, 4 or none).
pub(crate) fn check_termination(
    df: f64,
    f: f64,
    dx_norm: f64,
    x_norm: f64,
    ratio: f64,
    ftol: f64,
    xtol: f64,
) -> Option<super::Status> {
    use super::Status;
    let ftol_satisfied = df < ftol * f && ratio > 0.25;
    let xtol_satisfied = dx_norm < xtol * (xtol + x_norm);
    match (ftol_satisfied, xtol_satisfied) {
        (true, true) => Some(Status::FtolXtol),
        (true, false) => Some(Status::Ftol),
        (false, true) => Some(Status::Xtol),
        (false, false) => None,
    }
}

/// Validated inputs of a bounded/unbounded trust-region solve.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// Lower bounds, `-∞` where none.
    pub lb: Vec<f64>,
    /// Upper bounds, `+∞` where none.
    pub ub: Vec<f64>,
    /// Fixed scales, or `None` for `x_scale = 'jac'`.
    pub fixed_scale: Option<Vec<f64>>,
    /// `max_nfev` with scipy's default `100 P`.
    pub max_nfev: usize,
    /// Whether any bound is finite.
    pub bounded: bool,
}

/// Checks `x0` and the options as scipy's `least_squares` does (lengths, finite `x0`, `lb < ub`,
/// `x0` within bounds, positive finite `x_scale`, `max_nfev > 0`, at least one tolerance above
/// machine epsilon).
pub(crate) fn prepare(
    obj: &dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
) -> Result<Prepared, FitError> {
    let n = obj.n_params();
    let len_check = |what: &str, got: usize, allow_empty: bool| {
        if got == n || (allow_empty && got == 0) {
            Ok(())
        } else {
            Err(FitError::LengthMismatch {
                what: what.to_string(),
                got,
                expected: n,
            })
        }
    };
    len_check("x0", x0.len(), false)?;
    len_check("lower bounds", opts.lower.len(), true)?;
    len_check("upper bounds", opts.upper.len(), true)?;
    let lb: Vec<f64> = (0..n).map(|j| opts.lower(j)).collect();
    let ub: Vec<f64> = (0..n).map(|j| opts.upper(j)).collect();
    for j in 0..n {
        let name = format!("p[{j}]");
        if !x0[j].is_finite() {
            return Err(FitError::NonFiniteP0 { name, value: x0[j] });
        }
        if lb[j].is_nan() || ub[j].is_nan() || lb[j] >= ub[j] {
            return Err(FitError::BadBounds {
                name,
                reason: format!(
                    "lower bound {} must be strictly less than upper bound {}",
                    lb[j], ub[j]
                ),
            });
        }
        if x0[j] < lb[j] || x0[j] > ub[j] {
            return Err(FitError::BadBounds {
                name,
                reason: format!(
                    "initial value {} is outside the bounds [{}, {}]",
                    x0[j], lb[j], ub[j]
                ),
            });
        }
    }
    let fixed_scale = fixed_scale(opts, n)?;
    let max_nfev = max_nfev(opts, n)?;
    let bounded = lb.iter().any(|v| v.is_finite()) || ub.iter().any(|v| v.is_finite());
    Ok(Prepared {
        lb,
        ub,
        fixed_scale,
        max_nfev,
        bounded,
    })
}

/// The fixed scales of `x_scale` (one for all, or one per parameter; 1 without any), or `None`
/// for `'jac'`.
fn fixed_scale(opts: &SolverOptions, n: usize) -> Result<Option<Vec<f64>>, FitError> {
    Ok(match &opts.x_scale {
        XScale::Jac => None,
        XScale::Fixed(v) => {
            let scale: Vec<f64> = match v.len() {
                0 => vec![1.0; n],
                1 => vec![v[0]; n],
                len if len == n => v.clone(),
                len => {
                    return Err(FitError::LengthMismatch {
                        what: "x_scale".into(),
                        got: len,
                        expected: n,
                    });
                }
            };
            if let Some(bad) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                return Err(FitError::InvalidOption {
                    option: "x_scale".into(),
                    reason: format!("scales must be positive and finite, got {bad}"),
                });
            }
            Some(scale)
        }
    })
}

/// `max_nfev` (scipy's default `100 P`), after checking it and the tolerances.
fn max_nfev(opts: &SolverOptions, n: usize) -> Result<usize, FitError> {
    let max_nfev = match opts.max_nfev {
        Some(0) => {
            return Err(FitError::InvalidOption {
                option: "max_nfev".into(),
                reason: "must be positive".into(),
            });
        }
        Some(k) => k,
        None => 100 * n,
    };
    let tols = [
        ("ftol", opts.ftol),
        ("xtol", opts.xtol),
        ("gtol", opts.gtol),
    ];
    if let Some((name, v)) = tols.iter().find(|(_, v)| v.is_nan()) {
        return Err(FitError::InvalidOption {
            option: (*name).into(),
            reason: format!("must be a number, got {v}"),
        });
    }
    if tols.iter().all(|(_, v)| *v < EPS) {
        return Err(FitError::InvalidOption {
            option: "ftol, xtol, gtol".into(),
            reason: format!(
                "at least one of the tolerances must be above machine epsilon ({EPS:.2e})"
            ),
        });
    }
    Ok(max_nfev)
}

/// The fixed scales and their inverses, or `'jac'` scaling from the first pass.
pub(crate) fn scales(fixed: Option<&[f64]>, jtj: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    match fixed {
        Some(s) => {
            let inv = s.iter().map(|v| 1.0 / v).collect();
            (s.to_vec(), inv)
        }
        None => jac_scale(jtj, None),
    }
}

/// scipy's `compute_jac_scale` from `JᵀJ`: column norms `√(JᵀJ)_jj` (zero → 1 at first,
/// never decreasing afterwards); returns `(scale, scale_inv)`.
pub(crate) fn jac_scale(jtj: &DMatrix<f64>, scale_inv_old: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let n = jtj.nrows();
    let scale_inv: Vec<f64> = (0..n)
        .map(|j| {
            let c = jtj[(j, j)].max(0.0).sqrt();
            match scale_inv_old {
                None if c == 0.0 => 1.0,
                None => c,
                Some(old) => c.max(old[j]),
            }
        })
        .collect();
    (scale_inv.iter().map(|v| 1.0 / v).collect(), scale_inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconstruct(e: &SymEigen) -> DMatrix<f64> {
        let d = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(e.values.clone()));
        &e.vectors * d * e.vectors.transpose()
    }

    #[test]
    fn jacobi_matches_definition() {
        let a = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0]);
        let e = sym_eigen(&a);
        assert!((reconstruct(&e) - &a).abs().max() < 1e-14);
        assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
        let vtv = e.vectors.transpose() * &e.vectors;
        assert!((vtv - DMatrix::identity(3, 3)).abs().max() < 1e-15);
    }

    #[test]
    fn jacobi_graded_matrix_relative_accuracy() {
        // H = D A D with A well conditioned and D spanning 1e-8 .. 1e8: cond(H) ~ 1e32, yet
        // the smallest eigenvalue comes out to nearly full relative accuracy.
        let a = DMatrix::from_row_slice(3, 3, &[1.0, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 1.0]);
        let d = [1e8, 1.0, 1e-8];
        let h = DMatrix::from_fn(3, 3, |i, j| d[i] * a[(i, j)] * d[j]);
        let e = sym_eigen(&h);
        // det(H) = det(A) Π d² = 0.5625 · 1, and the eigenvalues are ~ graded diagonal.
        let det: f64 = e.values.iter().product();
        assert!((det / 0.5625 - 1.0).abs() < 1e-12, "det {det}");
        assert!(e.values[2] > 0.0);
    }

    #[test]
    fn jacobi_semidefinite_zero_column_stays_zero() {
        let h = DMatrix::from_row_slice(3, 3, &[2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 3.0]);
        let e = sym_eigen(&h);
        assert_eq!(e.values[2], 0.0);
    }

    #[test]
    fn subproblem_gauss_newton_and_constrained() {
        // J = diag(2, 1), f = (2, 3): Gauss-Newton step (-1, -3).
        let b = DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, 1.0]);
        let g = [4.0, 3.0];
        let sp = Subproblem::new(&b, &g, 5);
        assert!(sp.full_rank());
        let (p, alpha) = sp.solve(10.0, 0.0);
        assert_eq!(alpha, 0.0);
        assert!((p[0] + 1.0).abs() < 1e-15 && (p[1] + 3.0).abs() < 1e-15);
        let (p, alpha) = sp.solve(1.0, 0.0);
        assert!(alpha > 0.0);
        assert!((crate::solve::bounds::norm(&p) - 1.0).abs() < 1e-12);
        // (B + αI) p = -g
        assert!(((4.0 + alpha) * p[0] + 4.0).abs() < 0.05);
    }

    #[test]
    fn subproblem_rank_deficient() {
        let b = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let g = [1.0, 1.0];
        let sp = Subproblem::new(&b, &g, 3);
        assert!(!sp.full_rank());
        let (p, _) = sp.solve(0.1, 0.0);
        assert!(p.iter().all(|v| v.is_finite()));
        assert!((crate::solve::bounds::norm(&p) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn quadratic_1d_minimum() {
        assert_eq!(minimize_quadratic_1d(1.0, -2.0, 0.0, 5.0, 0.0), (1.0, -1.0));
        assert_eq!(minimize_quadratic_1d(1.0, -2.0, 2.0, 5.0, 1.0), (2.0, 1.0));
        assert_eq!(minimize_quadratic_1d(0.0, -1.0, 0.0, 3.0, 0.0), (3.0, -3.0));
    }

    #[test]
    fn radius_update() {
        assert_eq!(update_tr_radius(1.0, 0.1, 1.0, 0.8, true), (0.2, 0.1));
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 1.0, true), (2.0, 0.9));
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 0.5, false), (1.0, 0.9));
        assert_eq!(update_tr_radius(1.0, 0.0, 0.0, 0.5, false), (1.0, 1.0));
    }
}

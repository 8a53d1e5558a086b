//! Parameter covariance from the Gauss–Newton matrix `JᵀJ`, and which parameters the data do
//! not determine.
//!
//! # The rank rule
//!
//! The passes give `JᵀJ`, never `J`, so the rank is decided on `JᵀJ`, made scale-free first:
//! `S = D⁻¹ JᵀJ D⁻¹` with `D = sqrt(diag JᵀJ)` (unit diagonal; rescaling a parameter does not
//! change what the data determine). A parameter whose column of `J` is exactly zero
//! (`(JᵀJ)_jj = 0`) is undetermined outright. Of the others, an eigen-direction of `S` with
//! eigenvalue
//!
//! ```text
//! μ_i <= eps · max(N, P) · μ_max        (eps = f64::EPSILON, N points, P parameters)
//! ```
//!
//! is a direction the data do not determine ([`RANK_TOLERANCE`] is the factor `eps`). This is
//! scipy's pseudo-inverse threshold (`s_i <= eps · max(M, N) · s_max` on the singular values of
//! `J`) applied to the eigenvalues of `JᵀJ` (`μ = s²`) rather than to their square roots:
//! `JᵀJ` summed in f64 carries a rounding of about `eps · N · μ_max` in every entry, so a
//! direction that `J` does not determine at all (`a·x + b·c`: the columns of `b` and `c` are
//! proportional) shows up with `μ ≈ ±eps · μ_max`, i.e. `s ≈ 1e-8 · s_max` — far above scipy's
//! threshold on `s`, which only an SVD of `J` itself can resolve. Below the threshold used
//! here, an inverse of `JᵀJ` has no correct digit anyway.
//!
//! A parameter takes part in the undetermined directions when the squared length of its unit
//! vector's projection on them exceeds `sqrt(eps)` (≈ 1.5e-8); its variance, and its row and
//! column of the covariance, are `+∞`. The other parameters are determined (their unit vectors
//! lie in the row space of `J`) and keep the variances of the pseudo-inverse, which are exact
//! for them: every generalized inverse of `JᵀJ` gives the same variance to a quantity the data
//! determine.
//!
//! # Relation to scipy's `curve_fit`
//!
//! - `lm` (MINPACK): `pcov` is the inverse of `RᵀR` from the pivoted QR of `J`; when `R` has an
//!   exact zero on its diagonal (a zero column, as in `a·exp(−b x) + 0·c`) every entry is `+∞`
//!   with an `OptimizeWarning`; a merely near-singular `R` (`a·x + b·c`) gives huge but finite
//!   variances (about 1e13) without a warning.
//! - `trf`, `dogbox`: `pcov` is the pseudo-inverse from the SVD of `J`, discarding
//!   `s_i <= eps · max(M, N) · s_max`; a discarded direction gets *zero* variance
//!   (`perr = 0` for `c` in `a·exp(−b x) + 0·c`), unflagged; `pcov` is all `+∞` with a warning
//!   only when it is not finite.
//! - here, for every method: undetermined directions (the rule above) give `+∞` to the
//!   parameters involved and flag the covariance as indeterminate; a determined fit's
//!   covariance is scipy's (the same inverse, from a Jacobi-scaled Cholesky factorisation,
//!   which is accurate to far smaller relative eigenvalues than the eigen-decomposition). With
//!   no degrees of freedom (`N <= P`, unless `absolute_sigma`) or a non-finite `JᵀJ`, every
//!   entry is `+∞`, as in scipy.

use nalgebra::{DMatrix, SymmetricEigen};

/// The factor of `max(N, P) · μ_max` below which an eigenvalue of the scaled `JᵀJ` counts as
/// zero: `f64::EPSILON`, scipy's pseudo-inverse factor.
pub(crate) const RANK_TOLERANCE: f64 = f64::EPSILON;

/// Why a covariance is indeterminate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// `JᵀJ` is rank-deficient: some parameters are not determined by the data.
    RankDeficient,
    /// `N <= P`: no degrees of freedom to estimate the residual variance.
    NoDegreesOfFreedom,
    /// `JᵀJ` or its inverse is not finite.
    NotFinite,
}

/// A covariance matrix and what it could not estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Covariance {
    /// `P × P` covariance of the parameters; `+∞` in the rows and columns of `undetermined`
    /// (everywhere when `cause` is not [`Cause::RankDeficient`]).
    pub matrix: DMatrix<f64>,
    /// The covariance is not fully estimated (`cause` is set).
    pub indeterminate: bool,
    /// Directions of `JᵀJ` discarded as undetermined (zero columns included).
    pub rank_deficiency: usize,
    /// Parameters taking part in the undetermined directions (ascending).
    pub undetermined: Vec<usize>,
    /// Why the covariance is indeterminate.
    pub cause: Option<Cause>,
}

/// A generalized inverse of `JᵀJ` and the directions it left out.
#[derive(Clone, Debug)]
pub struct Inverse {
    /// The inverse when `JᵀJ` has full rank, else the pseudo-inverse of the determined part
    /// (zeros in the rows and columns of zero columns of `J`).
    pub matrix: DMatrix<f64>,
    /// Directions discarded.
    pub dropped: usize,
    /// Parameters taking part in them (ascending).
    pub undetermined: Vec<usize>,
    /// `JᵀJ` was finite.
    pub finite: bool,
}

/// The inverse of `jtj` for `n_points` residuals, with the rank rule of this module.
pub fn pseudo_inverse(jtj: &DMatrix<f64>, n_points: usize) -> Inverse {
    let p = jtj.nrows();
    if jtj.iter().any(|v| !v.is_finite()) {
        return Inverse {
            matrix: DMatrix::from_element(p, p, f64::NAN),
            dropped: 0,
            undetermined: Vec::new(),
            finite: false,
        };
    }
    let d: Vec<f64> = (0..p).map(|j| jtj[(j, j)].max(0.0).sqrt()).collect();
    let zero: Vec<usize> = (0..p).filter(|&j| d[j] == 0.0).collect();
    let active: Vec<usize> = (0..p).filter(|&j| d[j] > 0.0).collect();
    let q = active.len();
    let scaled = DMatrix::from_fn(q, q, |a, b| {
        let (i, j) = (active[a], active[b]);
        jtj[(i, j)] / (d[i] * d[j])
    });
    let eig = SymmetricEigen::new(scaled.clone());
    let mu_max = eig.eigenvalues.iter().cloned().fold(0.0, f64::max);
    let threshold = RANK_TOLERANCE * n_points.max(p) as f64 * mu_max;
    let kept: Vec<usize> = (0..q).filter(|&i| eig.eigenvalues[i] > threshold).collect();
    let dropped_dirs: Vec<usize> = (0..q)
        .filter(|&i| eig.eigenvalues[i] <= threshold)
        .collect();
    let unscale = |m: &DMatrix<f64>| {
        let mut out = DMatrix::zeros(p, p);
        for (a, &i) in active.iter().enumerate() {
            for (b, &j) in active.iter().enumerate() {
                out[(i, j)] = m[(a, b)] / (d[i] * d[j]);
            }
        }
        out
    };
    if zero.is_empty() && dropped_dirs.is_empty() {
        // Full rank: invert D⁻¹ JᵀJ D⁻¹ by Cholesky.
        if let Some(ch) = scaled.clone().cholesky() {
            let inv = ch.inverse();
            return Inverse {
                matrix: DMatrix::from_fn(p, p, |i, j| inv[(i, j)] / (d[i] * d[j])),
                dropped: 0,
                undetermined: Vec::new(),
                finite: true,
            };
        }
    }
    let mut pinv = DMatrix::zeros(q, q);
    for &i in &kept {
        let v = eig.eigenvectors.column(i);
        pinv += (v * v.transpose()) / eig.eigenvalues[i];
    }
    let involved = |a: usize| {
        let share: f64 = dropped_dirs
            .iter()
            .map(|&i| eig.eigenvectors[(a, i)].powi(2))
            .sum();
        share > f64::EPSILON.sqrt()
    };
    let mut undetermined: Vec<usize> = zero.clone();
    undetermined.extend((0..q).filter(|&a| involved(a)).map(|a| active[a]));
    undetermined.sort_unstable();
    Inverse {
        matrix: unscale(&pinv),
        dropped: zero.len() + dropped_dirs.len(),
        undetermined,
        finite: true,
    }
}

/// scipy `curve_fit`'s `pcov`: the inverse of `JᵀJ`, scaled by the residual variance
/// `Σρ / (N − P)` unless `absolute_sigma`, with `+∞` for what the data do not determine.
pub fn covariance(
    jtj: &DMatrix<f64>,
    n_points: usize,
    sum_rho: f64,
    absolute_sigma: bool,
) -> Covariance {
    let p = jtj.nrows();
    let inv = pseudo_inverse(jtj, n_points);
    let mut matrix = inv.matrix;
    let all = |matrix: &mut DMatrix<f64>, cause| {
        matrix.fill(f64::INFINITY);
        Some(cause)
    };
    let cause = if !inv.finite || matrix.iter().any(|v| !v.is_finite()) {
        all(&mut matrix, Cause::NotFinite)
    } else if !absolute_sigma && n_points <= p {
        all(&mut matrix, Cause::NoDegreesOfFreedom)
    } else {
        if !absolute_sigma {
            matrix *= sum_rho / (n_points - p) as f64;
        }
        for &j in &inv.undetermined {
            matrix.row_mut(j).fill(f64::INFINITY);
            matrix.column_mut(j).fill(f64::INFINITY);
        }
        (!inv.undetermined.is_empty()).then_some(Cause::RankDeficient)
    };
    Covariance {
        matrix,
        indeterminate: cause.is_some(),
        rank_deficiency: inv.dropped,
        undetermined: match cause {
            None => Vec::new(),
            Some(Cause::RankDeficient) => inv.undetermined,
            Some(_) => (0..p).collect(),
        },
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_rank_inverse_and_scaling() {
        let j = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]);
        let jtj = j.transpose() * &j;
        let c = covariance(&jtj, 4, 2.0, false);
        let inv = jtj.clone().try_inverse().unwrap();
        assert!((c.matrix - inv * (2.0 / 2.0)).norm() < 1e-14);
        let abs = covariance(&jtj, 4, 2.0, true);
        assert!(!abs.indeterminate && abs.cause.is_none() && abs.undetermined.is_empty());
    }

    #[test]
    fn a_zero_column_is_undetermined_and_the_rest_keeps_its_variance() {
        // The second parameter never matters (scipy's trf would give it variance 0): +inf.
        let jtj = DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, 0.0]);
        let c = covariance(&jtj, 10, 8.0, true);
        assert_eq!(c.rank_deficiency, 1);
        assert_eq!(c.undetermined, [1]);
        assert_eq!(c.cause, Some(Cause::RankDeficient));
        assert!(c.indeterminate);
        assert_eq!(c.matrix[(0, 0)], 0.25);
        assert_eq!(c.matrix[(1, 1)], f64::INFINITY);
        assert_eq!(c.matrix[(0, 1)], f64::INFINITY);
        // No degrees of freedom: all +inf (scipy warns and does the same).
        let c = covariance(&DMatrix::identity(2, 2), 2, 1.0, false);
        assert_eq!(c.cause, Some(Cause::NoDegreesOfFreedom));
        assert!(c.indeterminate && c.matrix.iter().all(|v| *v == f64::INFINITY));
        // Not finite: all +inf.
        let c = covariance(&DMatrix::from_element(2, 2, f64::INFINITY), 9, 1.0, false);
        assert_eq!(c.cause, Some(Cause::NotFinite));
        assert!(c.matrix.iter().all(|v| *v == f64::INFINITY));
    }

    /// `J` of `a·x + b·c` at (a, b, c): columns x, c, b — the last two proportional. Every
    /// rounding of the sums leaves the null direction (0, b, −c) undetermined, and `a`, which
    /// the data determine, keeps the variance of the straight line's slope, computed by hand:
    /// `N / (N Σx² − (Σx)²)`.
    #[test]
    fn proportional_columns_are_undetermined_whatever_the_rounding() {
        for (b, c) in [(1.0, 1.0), (0.3, 1.7), (1e-3, 4e2), (0.1, 0.7)] {
            let n = 30;
            let x: Vec<f64> = (0..n).map(|i| i as f64 / 29.0).collect();
            let j = DMatrix::from_fn(n, 3, |i, k| [x[i], c, b][k]);
            let jtj = j.transpose() * &j;
            let cov = covariance(&jtj, n, 1.0, true);
            assert_eq!(cov.undetermined, [1, 2], "b {b}, c {c}");
            assert_eq!(cov.rank_deficiency, 1);
            let (sx, sxx) = (x.iter().sum::<f64>(), x.iter().map(|v| v * v).sum::<f64>());
            let want = n as f64 / (n as f64 * sxx - sx * sx);
            assert!(
                (cov.matrix[(0, 0)] - want).abs() < 1e-12 * want,
                "b {b}, c {c}"
            );
            assert_eq!(cov.matrix[(1, 1)], f64::INFINITY);
            assert_eq!(cov.matrix[(2, 0)], f64::INFINITY);
        }
    }

    #[test]
    fn the_threshold_is_relative_and_scale_free() {
        // Condition number 1e10 of the scaled JᵀJ: determined; rescaling a parameter by 1e8
        // changes nothing.
        let jtj = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1e-10]);
        assert!(pseudo_inverse(&jtj, 100).undetermined.is_empty());
        let s = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 1e8]));
        let inv = pseudo_inverse(&(&s * &jtj * &s), 100);
        assert!(inv.undetermined.is_empty() && inv.dropped == 0);
        // Correlation 1 − 1e-16 (μ_min ≈ 1e-16 · μ_max < eps · 100 · μ_max): undetermined.
        let r = 1.0 - 1e-16;
        let jtj = DMatrix::from_row_slice(2, 2, &[1.0, r, r, 1.0]);
        assert_eq!(pseudo_inverse(&jtj, 100).undetermined, [0, 1]);
        // Correlation 1 − 1e-9 (μ_min = 2e-9 μ_max): determined.
        let r = 1.0 - 1e-9;
        let jtj = DMatrix::from_row_slice(2, 2, &[1.0, r, r, 1.0]);
        assert!(pseudo_inverse(&jtj, 100).undetermined.is_empty());
    }

    /// The inverse before undetermined directions were flagged (scipy's threshold on the
    /// unscaled singular values, then a Jacobi-scaled Cholesky inverse): on matrices of full
    /// rank the new rule takes the same path and gives the same bits.
    fn previous_inverse(jtj: &DMatrix<f64>, n_points: usize) -> Option<DMatrix<f64>> {
        let p = jtj.nrows();
        let eig = SymmetricEigen::new(jtj.clone());
        let s: Vec<f64> = eig.eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).collect();
        let s_max = s.iter().cloned().fold(0.0, f64::max);
        let threshold = f64::EPSILON * n_points.max(p) as f64 * s_max;
        if s.iter().any(|&v| v <= threshold) {
            return None;
        }
        let d: Vec<f64> = (0..p).map(|j| jtj[(j, j)].sqrt()).collect();
        let scaled = DMatrix::from_fn(p, p, |i, j| jtj[(i, j)] / (d[i] * d[j]));
        let inv = scaled.cholesky()?.inverse();
        Some(DMatrix::from_fn(p, p, |i, j| inv[(i, j)] / (d[i] * d[j])))
    }

    #[test]
    fn full_rank_covariances_are_bit_identical_to_the_previous_rule() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut compared = 0;
        for case in 0..200 {
            let (n, p) = (10 + case % 50, 1 + case % 6);
            // Columns of very different scales, as parameters of different units give.
            let j = DMatrix::from_fn(n, p, |_, k| uniform() * 10f64.powi(k as i32 * 3 - 6));
            let jtj = j.transpose() * &j;
            let Some(want) = previous_inverse(&jtj, n) else {
                continue;
            };
            let got = pseudo_inverse(&jtj, n);
            assert!(
                got.undetermined.is_empty() && got.dropped == 0,
                "case {case}"
            );
            let same = got
                .matrix
                .iter()
                .zip(want.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "case {case}");
            compared += 1;
            let c = covariance(&jtj, n, 3.0, false);
            assert!(c.cause.is_none() || n <= p, "case {case}");
        }
        assert!(compared > 100, "{compared}");
    }
}

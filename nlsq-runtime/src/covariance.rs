//! Parameter covariance from the Gauss–Newton matrix, with scipy `curve_fit`'s rules.
//!
//! scipy takes the Moore–Penrose pseudo-inverse of `JᵀJ` from the SVD of `J`, discarding
//! singular values `s_i <= eps · max(N, P) · s_max`. Here the singular values come from the
//! eigenvalues of `JᵀJ` (`s_i² = λ_i`), which decide the rank with the same threshold; when no
//! direction is discarded the inverse itself is taken from a Jacobi-scaled Cholesky
//! factorisation, which is accurate to far smaller relative eigenvalues than the
//! eigen-decomposition.

use nalgebra::{DMatrix, SymmetricEigen};

/// A covariance matrix and whether scipy would call it indeterminate (then it is all `+∞`).
#[derive(Clone, Debug, PartialEq)]
pub struct Covariance {
    /// `P × P` covariance of the parameters.
    pub matrix: DMatrix<f64>,
    /// The covariance could not be estimated (rank-deficient `J` with every direction lost,
    /// non-finite entries, or no degrees of freedom): every entry is `+∞`.
    pub indeterminate: bool,
    /// Directions discarded as numerically zero.
    pub rank_deficiency: usize,
}

/// The pseudo-inverse of `jtj` with scipy's threshold for `n_points` residuals.
pub fn pseudo_inverse(jtj: &DMatrix<f64>, n_points: usize) -> (DMatrix<f64>, usize) {
    let p = jtj.nrows();
    let eig = SymmetricEigen::new(jtj.clone());
    let s: Vec<f64> = eig.eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let s_max = s.iter().cloned().fold(0.0, f64::max);
    let threshold = f64::EPSILON * n_points.max(p) as f64 * s_max;
    let kept: Vec<usize> = (0..p).filter(|&i| s[i] > threshold).collect();
    let dropped = p - kept.len();
    if dropped == 0 {
        // Full rank: invert D⁻¹ JᵀJ D⁻¹ by Cholesky, D = sqrt(diag).
        let d: Vec<f64> = (0..p).map(|j| jtj[(j, j)].sqrt()).collect();
        let scaled = DMatrix::from_fn(p, p, |i, j| jtj[(i, j)] / (d[i] * d[j]));
        if let Some(ch) = scaled.cholesky() {
            let inv = ch.inverse();
            return (
                DMatrix::from_fn(p, p, |i, j| inv[(i, j)] / (d[i] * d[j])),
                0,
            );
        }
    }
    let mut pinv = DMatrix::zeros(p, p);
    for &i in &kept {
        let v = eig.eigenvectors.column(i);
        pinv += (v * v.transpose()) / (s[i] * s[i]);
    }
    (pinv, dropped)
}

/// scipy `curve_fit`'s `pcov`: the pseudo-inverse of `JᵀJ`, scaled by the residual variance
/// `Σρ / (N − P)` unless `absolute_sigma`.
pub fn covariance(
    jtj: &DMatrix<f64>,
    n_points: usize,
    sum_rho: f64,
    absolute_sigma: bool,
) -> Covariance {
    let p = jtj.nrows();
    let (mut matrix, rank_deficiency) = pseudo_inverse(jtj, n_points);
    let mut indeterminate = matrix.iter().any(|v| v.is_nan()) || rank_deficiency == p;
    if !indeterminate && !absolute_sigma {
        if n_points > p {
            matrix *= sum_rho / (n_points - p) as f64;
        } else {
            indeterminate = true;
        }
    }
    if indeterminate {
        matrix.fill(f64::INFINITY);
    }
    Covariance {
        matrix,
        indeterminate,
        rank_deficiency,
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
        assert!(!abs.indeterminate);
    }

    #[test]
    fn rank_deficient_and_indeterminate() {
        // The second parameter never matters: its direction is dropped, as scipy does.
        let jtj = DMatrix::from_row_slice(2, 2, &[4.0, 0.0, 0.0, 0.0]);
        let c = covariance(&jtj, 10, 8.0, true);
        assert_eq!(c.rank_deficiency, 1);
        assert_eq!(c.matrix[(0, 0)], 0.25);
        assert_eq!(c.matrix[(1, 1)], 0.0);
        // No degrees of freedom: indeterminate, all +inf (scipy warns and does the same).
        let c = covariance(&DMatrix::identity(2, 2), 2, 1.0, false);
        assert!(c.indeterminate && c.matrix.iter().all(|v| *v == f64::INFINITY));
    }
}

//! Fits with a full covariance matrix of the observations (scipy's 2-D `sigma`): residuals and
//! Jacobian are whitened by the Cholesky factor `L` of the covariance, `r ← L⁻¹ r`,
//! `J ← L⁻¹ J`. Whitening mixes points, so this objective forms `r` and `J` densely on the CPU
//! (`O(N²)` for the factor, `O(N² P)` per pass): meant for the moderate `N` such covariances
//! come with.

use crate::backend::blocks;
use crate::backend::cpu::{accumulate_point, pass_from_row};
use crate::data::FitData;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::{Objective, Pass};
use kernels_gen::kernels::abi;
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// An objective whose residuals are whitened by a covariance matrix.
pub struct WhitenedObjective<'d, M: Model> {
    model: M,
    data: &'d FitData<'d>,
    chol: Cholesky<f64, Dyn>,
    loss: Loss,
    f_scale: f64,
}

impl<'d, M: Model> WhitenedObjective<'d, M> {
    /// Factors `cov` (`N × N`, symmetric positive definite).
    pub fn new(
        model: M,
        data: &'d FitData<'d>,
        cov: &DMatrix<f64>,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Self, FitError> {
        let n = data.len();
        if cov.nrows() != n || cov.ncols() != n {
            return Err(FitError::BadSigma(format!(
                "the covariance matrix is {}×{}, expected {n}×{n}",
                cov.nrows(),
                cov.ncols()
            )));
        }
        if cov.iter().any(|v| !v.is_finite()) {
            return Err(FitError::BadSigma(
                "the covariance matrix has non-finite entries".into(),
            ));
        }
        if (0..n).any(|i| (0..i).any(|j| cov[(i, j)] != cov[(j, i)])) {
            return Err(FitError::BadSigma(
                "the covariance matrix is not symmetric".into(),
            ));
        }
        let chol = cov.clone().cholesky().ok_or_else(|| {
            FitError::BadSigma("the covariance matrix is not positive definite".into())
        })?;
        Ok(WhitenedObjective {
            model,
            data,
            chol,
            loss,
            f_scale,
        })
    }

    fn residuals_and_jacobian(&self, p: &[f64]) -> (DVector<f64>, DMatrix<f64>) {
        let n = self.data.len();
        let np = p.len();
        let mut r = DVector::zeros(n);
        let mut j = DMatrix::zeros(n, np);
        blocks::for_each_gradient(&self.model, self.data, p, 0..n, |i, f, g| {
            r[i] = f - self.data.y[i];
            for (k, gk) in g.iter().enumerate() {
                j[(i, k)] = *gk;
            }
        });
        let l = self.chol.l();
        let r = l
            .solve_lower_triangular(&r)
            .unwrap_or_else(|| r.map(|_| f64::NAN));
        let j = l
            .solve_lower_triangular(&j)
            .unwrap_or_else(|| j.map(|_| f64::NAN));
        (r, j)
    }
}

impl<M: Model> Objective for WhitenedObjective<'_, M> {
    fn n_params(&self) -> usize {
        self.model.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let np = p.len();
        let (r, j) = self.residuals_and_jacobian(p);
        let mut row = vec![0.0; abi::reduction_width(np)];
        let mut ji = vec![0.0; np];
        for i in 0..r.len() {
            for (a, v) in ji.iter_mut().enumerate() {
                *v = j[(i, a)];
            }
            accumulate_point(&mut row, r[i], &mut ji, self.loss, self.f_scale);
        }
        Ok(pass_from_row(np, &row))
    }
}

/// `Σ (y_i − f(x_i; p))²`, unwhitened, point after point.
pub(crate) fn unweighted_ssr<M: Model>(model: &M, data: &FitData<'_>, p: &[f64]) -> f64 {
    let mut sum = 0.0;
    blocks::for_each_value(model, data, p, 0..data.len(), |i, f| {
        let r = data.y[i] - f;
        sum += r * r;
    });
    sum
}

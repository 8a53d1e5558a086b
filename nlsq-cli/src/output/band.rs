//! The fitted curve at a point and its 95% confidence band: `f ± t₀.₉₇₅(dof) · sqrt(gᵀ pcov g)`
//! with `g` the gradient of the model in the parameters.

use nlsq::{FitResult, Model};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Evaluates a fitted model and its confidence band.
pub struct Band<'a, M: Model + ?Sized> {
    model: &'a M,
    fit: &'a FitResult,
    t: f64,
    grad: Vec<f64>,
}

impl<'a, M: Model + ?Sized> Band<'a, M> {
    /// The band of `fit` of `model`.
    pub fn new(model: &'a M, fit: &'a FitResult) -> Self {
        let t = if fit.dof == 0 {
            f64::NAN
        } else {
            StudentsT::new(0.0, 1.0, fit.dof as f64)
                .map(|d| d.inverse_cdf(0.975))
                .unwrap_or(f64::NAN)
        };
        Band {
            model,
            fit,
            t,
            grad: vec![0.0; fit.popt.len()],
        }
    }

    /// `(f, half-width of the band)` at the predictors `x` (NaN half-width when the
    /// covariance is indeterminate).
    pub fn at(&mut self, x: &[f64]) -> (f64, f64) {
        let f = self
            .model
            .eval_with_gradient(x, &self.fit.popt, &mut self.grad);
        let mut var = 0.0;
        for (i, gi) in self.grad.iter().enumerate() {
            for (j, gj) in self.grad.iter().enumerate() {
                var += gi * self.fit.pcov[i][j] * gj;
            }
        }
        let half = if var.is_finite() && var >= 0.0 {
            self.t * var.sqrt()
        } else {
            f64::NAN
        };
        (f, half)
    }
}

//! The fitted curve at any predictors with its uncertainty: the 95% confidence band of the
//! curve and the 95% prediction band of a new observation, by the delta method.
//!
//! # The bands
//!
//! At predictors `x`, with `g = ∂f(x; p)/∂p` at the best-fit parameters and `C` the fit's
//! covariance (`pcov`):
//!
//! - **confidence band** of the fitted curve (where the true curve lies):
//!   `f ± t · se_fit`, `se_fit = sqrt(gᵀ C g)`;
//! - **prediction band** of a new observation at `x` (where a new measurement falls):
//!   `f ± t · se_obs`, `se_obs = sqrt(se_fit² + s² σ²)`;
//!
//! with `t` the quantile of the fit's `ci95`: Student's `t₀.₉₇₅(N − P)` on the fit's degrees
//! of freedom for relative sigma, the normal's `z₀.₉₇₅ = 1.96` for absolute sigma (infinite
//! with no degrees of freedom either way), and the new observation's noise
//! variance `s² σ²` following the fit's sigma convention:
//!
//! - relative sigma (the default, scipy's `absolute_sigma=False`): `s² = Σρ / (N − P)`, the
//!   residual variance that also scales `pcov`, and `σ` the new point's sigma in the units of
//!   the fit's sigma (1 for a fit without sigma, so `s²` is then the residual variance);
//! - absolute sigma: `s² = 1` and `σ` the new point's standard deviation (1 when not given,
//!   as for the fit's data without sigma).
//!
//! Both are exact for a model linear in its parameters: Student's t because relative sigma
//! estimates the noise by `s²`; the normal's quantile because absolute sigma knows it (Student's
//! t there would over-cover: 97.4% at 10 degrees of freedom, 99% at 5).
//! `tests/bands_coverage.rs` checks the coverage by Monte Carlo, at 37 and at 5 degrees of
//! freedom.
//!
//! For the linear loss `Σρ = χ²`, so `s²` is the reduced χ². **With a robust loss** `s²` is
//! `Σρ / (N − P)` too (the robust objective, in which outliers count less; the scale of
//! `pcov` under scipy's rule), not the reduced χ² of all residuals: the prediction band is
//! that of a new observation that is not an outlier.
//!
//! # Which model
//!
//! Give the model the fit ran with, or, for a fit with fixed or tied parameters
//! ([`crate::params`]), either the constrained model of the free parameters or the original
//! model of all of them: parameters are matched by name, the constrained model takes the free
//! parameters' block of `pcov` (their covariance `Σ`), the original model the whole `pcov`
//! `= G Σ Gᵀ`. The bands are the same (`gᵀ G Σ Gᵀ g` is the chain rule's `g_freeᵀ Σ g_free`).
//!
//! ```
//! use nlsq_runtime::{Bands, CurveFit, ExprModel};
//! let model = ExprModel::parse("a + b * x").unwrap();
//! let x: Vec<f64> = (0..20).map(|i| i as f64).collect();
//! let y: Vec<f64> = x.iter().map(|x| 1.0 + 2.0 * x + (x * 7.0).sin()).collect();
//! let fit = CurveFit::new(&model).p0([0.0, 1.0]).fit(&x, &y).unwrap();
//! let mut bands = Bands::new(&model, &fit).unwrap();
//! let at = bands.at(&[25.0]);
//! assert!(at.prediction.0 < at.confidence.0 && at.confidence.1 < at.prediction.1);
//! ```

use crate::model::Model;
use crate::quantile::quantile_95;
use crate::result::{FitResult, ParamKind};
use std::fmt;

/// The model given to [`Bands::new`] does not match the fit: a parameter it lacks, or a
/// subset of the fit's parameters other than its free ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelMismatch(pub String);

impl fmt::Display for ModelMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the model does not match the fit: {}", self.0)
    }
}

impl std::error::Error for ModelMismatch {}

/// The fitted curve at one point with its standard errors and 95% bands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    /// The fitted curve `f(x; popt)`.
    pub value: f64,
    /// The standard error of the fitted curve, `sqrt(gᵀ C g)` (`NaN` when the covariance is
    /// not finite in the directions the point depends on).
    pub se_fit: f64,
    /// The standard error of a new observation, `sqrt(se_fit² + s² σ²)`.
    pub se_obs: f64,
    /// The 95% confidence band of the curve, `value ∓ t · se_fit`.
    pub confidence: (f64, f64),
    /// The 95% prediction band of a new observation, `value ∓ t · se_obs`.
    pub prediction: (f64, f64),
}

/// Evaluates a fitted model and its bands at any predictors (the [module docs](self) give the
/// formulas and conventions).
pub struct Bands<'a, M: Model + ?Sized> {
    model: &'a M,
    /// The model's parameters, from the fit.
    p: Vec<f64>,
    /// Their covariance, from the fit's `pcov`.
    cov: Vec<Vec<f64>>,
    /// The quantile of the fit's `ci95` (Student's t, or the normal's for absolute sigma).
    t: f64,
    /// `s²`: the residual variance (relative sigma) or 1 (absolute sigma).
    scale: f64,
    grad: Vec<f64>,
}

impl<'a, M: Model + ?Sized> Bands<'a, M> {
    /// The bands of `fit` of `model` (the fit's model, or for a fit with fixed or tied
    /// parameters its constrained or its original model).
    pub fn new(model: &'a M, fit: &FitResult) -> Result<Self, ModelMismatch> {
        let idx = param_indices(model, fit)?;
        let cov = idx
            .iter()
            .map(|&i| idx.iter().map(|&j| fit.pcov[i][j]).collect())
            .collect();
        let scale = if fit.absolute_sigma {
            1.0
        } else if fit.dof > 0 {
            2.0 * fit.cost / fit.dof as f64
        } else {
            f64::INFINITY
        };
        Ok(Bands {
            model,
            p: idx.iter().map(|&j| fit.popt[j]).collect(),
            cov,
            t: quantile_95(fit.dof, fit.absolute_sigma),
            scale,
            grad: vec![0.0; idx.len()],
        })
    }

    /// The curve and its bands at the predictors `x`, for a new observation with `σ = 1`.
    pub fn at(&mut self, x: &[f64]) -> BandPoint {
        self.at_sigma(x, 1.0)
    }

    /// The curve and its bands at the predictors `x`, for a new observation with sigma
    /// `sigma` (relative or absolute as the fit's sigma was).
    pub fn at_sigma(&mut self, x: &[f64], sigma: f64) -> BandPoint {
        let value = self.model.eval_with_gradient(x, &self.p, &mut self.grad);
        let mut var = 0.0;
        for (gi, row) in self.grad.iter().zip(&self.cov) {
            for (gj, c) in self.grad.iter().zip(row) {
                var += gi * c * gj;
            }
        }
        let se_fit = if var.is_finite() && var >= 0.0 {
            var.sqrt()
        } else {
            f64::NAN
        };
        let se_obs = (se_fit * se_fit + self.scale * sigma * sigma).sqrt();
        let (hf, ho) = (self.t * se_fit, self.t * se_obs);
        BandPoint {
            value,
            se_fit,
            se_obs,
            confidence: (value - hf, value + hf),
            prediction: (value - ho, value + ho),
        }
    }
}

/// The position in `fit` of each of `model`'s parameters, by name: all of the fit's
/// parameters, or exactly its free ones.
fn param_indices<M: Model + ?Sized>(
    model: &M,
    fit: &FitResult,
) -> Result<Vec<usize>, ModelMismatch> {
    let names = model.param_names();
    let all = fit.popt.len();
    if fit.pcov.len() != all || fit.pcov.iter().any(|r| r.len() != all) {
        return Err(ModelMismatch(format!("pcov is not {all} × {all}")));
    }
    let subset = names.len() != all;
    if subset && names.len() != fit.n_free() {
        return Err(ModelMismatch(format!(
            "the model has {} parameters, the fit {all} ({} free)",
            names.len(),
            fit.n_free()
        )));
    }
    names
        .iter()
        .map(|name| {
            let j = fit
                .param_names
                .iter()
                .position(|n| n.as_str() == *name)
                .ok_or_else(|| ModelMismatch(format!("the fit has no parameter `{name}`")))?;
            if subset && *fit.param_kind(j) != ParamKind::Free {
                return Err(ModelMismatch(format!(
                    "`{name}` was not a free parameter of the fit"
                )));
            }
            Ok(j)
        })
        .collect()
}

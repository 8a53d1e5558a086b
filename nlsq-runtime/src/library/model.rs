//! [`LibraryModel`]: one model of the library, its formula, parameters, documentation and
//! p0 estimator.

use super::error::LibraryError;
use super::estimate::{Reason, Samples, finite};
use crate::ExprModel;

/// A peak estimator: the data and the x intervals taken by peaks found before.
pub(crate) type PeakEstimator = fn(&Samples, &[(f64, f64)]) -> Result<Vec<f64>, Reason>;

/// How a model's starting values are estimated (and how a composite treats the part).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Estimator {
    /// A polynomial background, coefficients `c0..cN` (reversed for `linear`'s
    /// `slope, intercept`).
    Polynomial {
        /// The degree.
        degree: usize,
        /// Parameters from the highest power down.
        descending: bool,
    },
    /// A peak (amp, centre, width, ...) that avoids the given x intervals.
    Peak(PeakEstimator),
    /// Any other shape.
    Curve(fn(&Samples) -> Result<Vec<f64>, Reason>),
}

/// A model of the library: a formula in the model language with named parameters, its
/// documentation, and an estimator of starting values from data.
#[derive(Clone, Debug)]
pub struct LibraryModel {
    pub(crate) name: String,
    pub(crate) expr: String,
    pub(crate) params: Vec<String>,
    pub(crate) n_inputs: usize,
    pub(crate) description: String,
    pub(crate) p0_method: &'static str,
    pub(crate) valid_range: &'static str,
    pub(crate) estimator: Estimator,
}

impl LibraryModel {
    /// The canonical name (`gaussian`, `polynomial3`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The formula in the model language (see [`crate::ExprModel`]).
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The parameter names, in the order of p0 and of the fit's `popt`.
    pub fn param_names(&self) -> &[String] {
        &self.params
    }

    /// The number of predictors (1, or 2 for `gaussian2d`).
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// One line on what the model is.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// How the starting values are estimated.
    pub fn p0_method(&self) -> &str {
        self.p0_method
    }

    /// The range of true parameters and data in which the estimator is documented (and
    /// measured, `examples/library_p0.rs`) to lead fits to the truth.
    pub fn valid_range(&self) -> &str {
        self.valid_range
    }

    /// The model compiled for fitting.
    pub fn model(&self) -> Result<ExprModel, LibraryError> {
        let names: Vec<&str> = self.params.iter().map(String::as_str).collect();
        ExprModel::parse_with_params(&self.expr, &names).map_err(|e| LibraryError::Model {
            model: self.name.clone(),
            message: e.to_string(),
        })
    }

    /// Starting values estimated from the data: `x` holds [`Self::n_inputs`] predictor
    /// columns of `y.len()` values each. Non-finite points are skipped, large data
    /// subsampled ([`MAX_ESTIMATE_POINTS`](super::MAX_ESTIMATE_POINTS)).
    pub fn estimate_p0(&self, x: &[&[f64]], y: &[f64]) -> Result<Vec<f64>, LibraryError> {
        check_shape(&self.name, self.n_inputs, x, y)?;
        self.estimate_samples(&Samples::new(x, y), &[])
    }

    /// The estimate on prepared samples, peaks avoiding `exclude`.
    pub(crate) fn estimate_samples(
        &self,
        s: &Samples,
        exclude: &[(f64, f64)],
    ) -> Result<Vec<f64>, LibraryError> {
        let p = match self.estimator {
            Estimator::Polynomial { degree, descending } => {
                super::polynomial::fit(s.x0(), &s.y, degree).map(|mut c| {
                    if descending {
                        c.reverse();
                    }
                    c
                })
            }
            Estimator::Peak(f) => f(s, exclude),
            Estimator::Curve(f) => f(s),
        };
        p.and_then(finite)
            .map_err(|reason| LibraryError::CannotEstimate {
                model: self.name.clone(),
                reason,
            })
    }
}

/// Fails unless `x` has `n_inputs` columns as long as `y`.
pub(crate) fn check_shape(
    model: &str,
    n_inputs: usize,
    x: &[&[f64]],
    y: &[f64],
) -> Result<(), LibraryError> {
    let bad = |reason: String| {
        Err(LibraryError::BadData {
            model: model.to_string(),
            reason,
        })
    };
    if x.len() != n_inputs {
        return bad(format!(
            "{} predictor column(s) given, the model has {n_inputs}",
            x.len()
        ));
    }
    match x.iter().position(|c| c.len() != y.len()) {
        Some(k) => bad(format!(
            "predictor column {k} has {} values but y has {}",
            x[k].len(),
            y.len()
        )),
        None => Ok(()),
    }
}

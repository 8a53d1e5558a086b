//! Global (multi-dataset) fits: several datasets, each with its own model or the same one,
//! some parameters shared across datasets and the others per dataset.
//!
//! The objective is the sum of the datasets' passes: each dataset keeps its own data route (in
//! memory, chunked or streamed) and backend, its pass is computed at its own parameters, and
//! its cost, `JᵀJ` and gradient are added into the global ones at the global positions of its
//! parameters, in dataset order. So the fit is exact (it is the least-squares fit of all the
//! data together), runs on every backend, streams datasets larger than memory, and its
//! covariance is the joint covariance of every parameter.
//!
//! ```
//! use nlsq_runtime::ExprModel;
//! use nlsq_runtime::fit::global::{Dataset, GlobalFit};
//! // Three decays with their own amplitudes and one shared rate k.
//! let model = ExprModel::parse("a * exp(-k * x)").unwrap();
//! let x: Vec<f64> = (0..20).map(|i| i as f64 * 0.2).collect();
//! let ys: Vec<Vec<f64>> = [1.0, 2.0, 3.0]
//!     .iter()
//!     .map(|a| x.iter().map(|x| a * (-0.7 * x).exp()).collect())
//!     .collect();
//! let fit = GlobalFit::new()
//!     .dataset(Dataset::new(&model, &x, &ys[0]).p0([1.0, 1.0]))
//!     .dataset(Dataset::new(&model, &x, &ys[1]).p0([1.0, 1.0]))
//!     .dataset(Dataset::new(&model, &x, &ys[2]).p0([1.0, 1.0]))
//!     .shared(["k"])
//!     .fit()
//!     .unwrap();
//! assert_eq!(fit.param_names, ["a[0]", "k", "a[1]", "a[2]"]);
//! assert!((fit.popt[1] - 0.7).abs() < 1e-9);
//! assert_eq!(fit.datasets.len(), 3);
//! ```

mod dataset;
mod driver;
mod layout;
mod route;

pub use dataset::Dataset;

use super::builder::BoxedCallback;
use super::run::LongRun;
use crate::checkpoint::Every;
use crate::error::FitError;
use crate::loss::Loss;
use crate::result::FitResult;
use crate::solve::{IterationInfo, Method, SolverOptions, XScale};
use std::ops::ControlFlow;
use std::path::Path;

/// A global fit of several [`Dataset`]s with some parameters shared, configured step by step
/// and run by [`GlobalFit::fit`]. See the [module](self) for how the passes combine.
///
/// Parameters named in [`GlobalFit::shared`] are one parameter across every dataset whose
/// model has a parameter of that name; each other parameter is the dataset's own, reported as
/// `name[label]`. The result reports every global parameter, its joint covariance, the usual
/// statistics over all points, and each dataset's part ([`FitResult::datasets`]). Parameters
/// fixed or tied inside a dataset's model (`ExprModel::constrain`) are not reported there: the
/// global fit reports the parameters it solves for.
#[must_use = "a GlobalFit does nothing until `fit` runs it"]
pub struct GlobalFit<'a> {
    datasets: Vec<Dataset<'a>>,
    shared: Vec<String>,
    method: Option<Method>,
    loss: Loss,
    f_scale: f64,
    absolute_sigma: bool,
    options: SolverOptions,
    callback: Option<BoxedCallback<'a>>,
    long: LongRun,
}

impl Default for GlobalFit<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> GlobalFit<'a> {
    /// A global fit with no datasets yet and the defaults of [`CurveFit`](crate::CurveFit).
    pub fn new() -> Self {
        GlobalFit {
            datasets: Vec::new(),
            shared: Vec::new(),
            method: None,
            loss: Loss::Linear,
            f_scale: 1.0,
            absolute_sigma: false,
            options: SolverOptions {
                ftol: super::DEFAULT_TOL,
                xtol: super::DEFAULT_TOL,
                gtol: super::DEFAULT_TOL,
                ..SolverOptions::default()
            },
            callback: None,
            long: LongRun::default(),
        }
    }

    /// Adds a dataset.
    pub fn dataset(mut self, dataset: Dataset<'a>) -> Self {
        self.datasets.push(dataset);
        self
    }

    /// Parameters shared across the datasets, by their models' names.
    pub fn shared<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.shared.extend(names.into_iter().map(Into::into));
        self
    }

    /// The solver (default: LM without bounds or robust loss, else TRF).
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// The loss of every dataset (default linear).
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// The robust loss's soft margin (default 1.0).
    pub fn f_scale(mut self, f_scale: f64) -> Self {
        self.f_scale = f_scale;
        self
    }

    /// Whether the datasets' sigma are absolute (scipy's `absolute_sigma`).
    pub fn absolute_sigma(mut self, yes: bool) -> Self {
        self.absolute_sigma = yes;
        self
    }

    /// `ftol`, `xtol` and `gtol` at once (default [`DEFAULT_TOL`](crate::fit::DEFAULT_TOL)).
    pub fn tol(mut self, v: f64) -> Self {
        (self.options.ftol, self.options.xtol, self.options.gtol) = (v, v, v);
        self
    }

    /// Relative reduction of the cost at which the fit stops.
    pub fn ftol(mut self, v: f64) -> Self {
        self.options.ftol = v;
        self
    }

    /// Relative change of the parameters at which the fit stops.
    pub fn xtol(mut self, v: f64) -> Self {
        self.options.xtol = v;
        self
    }

    /// Norm of the scaled gradient at which the fit stops.
    pub fn gtol(mut self, v: f64) -> Self {
        self.options.gtol = v;
        self
    }

    /// The pass budget (default 1000 per global parameter).
    pub fn max_nfev(mut self, n: usize) -> Self {
        self.options.max_nfev = Some(n);
        self
    }

    /// Characteristic scales of the global parameters, in the order of
    /// [`FitResult::param_names`].
    pub fn x_scale(mut self, scale: impl Into<Vec<f64>>) -> Self {
        self.options.x_scale = XScale::Fixed(scale.into());
        self
    }

    /// Scales the parameters by the Jacobian's column norms (MINPACK's scaling).
    pub fn x_scale_jac(mut self) -> Self {
        self.options.x_scale = XScale::Jac;
        self
    }

    /// Called after each iteration; return `ControlFlow::Break(())` to stop.
    pub fn callback(mut self, f: impl FnMut(&IterationInfo<'_>) -> ControlFlow<()> + 'a) -> Self {
        self.callback = Some(Box::new(f));
        self
    }

    /// Writes a checkpoint to `path` as [`CurveFit::checkpoint`](crate::CurveFit::checkpoint)
    /// does; the checkpoint identifies every dataset.
    pub fn checkpoint(mut self, path: impl AsRef<Path>, every: Every) -> Self {
        self.long.checkpoint = Some((path.as_ref().to_path_buf(), every));
        self
    }

    /// Resumes from a checkpoint of the same global fit.
    pub fn resume_from(mut self, path: impl AsRef<Path>) -> Self {
        self.long.resume = Some(path.as_ref().to_path_buf());
        self
    }

    /// Measures where the fit's time goes ([`FitResult::profile`]).
    pub fn profile(mut self, on: bool) -> Self {
        self.long.profile = on;
        self
    }

    /// Fits every dataset together. Errors: those of a single fit, naming the dataset where
    /// it is the dataset's (its data, its options); `InvalidOption` for no datasets, labels
    /// given twice, or a shared name no model has; `BadBounds` for a shared parameter whose
    /// datasets' bounds do not overlap.
    pub fn fit(self) -> Result<FitResult, FitError> {
        driver::fit(self)
    }
}

/// The error of dataset `label`: an option or a data error, named for it.
fn in_dataset(label: &str, e: FitError) -> FitError {
    match e {
        FitError::InvalidOption { option, reason } => FitError::InvalidOption {
            option: format!("{option} (dataset {label})"),
            reason,
        },
        FitError::LengthMismatch {
            what,
            got,
            expected,
        } => FitError::LengthMismatch {
            what: format!("{what} of dataset {label}"),
            got,
            expected,
        },
        other => other,
    }
}

//! Named parameters: fixed and tied parameters of models given at run time.
//!
//! [`Constraints`] fixes parameters at values and ties others to expressions of the rest
//! (lmfit's `expr`: `sigma2 = sigma1`, `a2 = 0.5 * a1`), by name.
//! [`ExprModel::constrain`](crate::ExprModel::constrain) compiles them into a model of the
//! free parameters: `kernels-gen` substitutes the constants and the ties' expressions into the
//! model's graph and differentiates the result ([`kernels_gen::reparam`]), so a tie costs
//! nothing per point, its derivatives are exact, and the constrained model runs on every
//! backend and data route as any other model.
//!
//! A fit of a constrained model takes `p0`, bounds and `x_scale` for the free parameters (in
//! the order of its [`param_names`](crate::Model::param_names); [`free_values`] and
//! [`free_bounds`] pick them from values of all parameters), and its [`FitResult`](crate::FitResult)
//! reports every parameter of the original model, in the original order, each with its
//! [`ParamKind`](crate::result::ParamKind):
//!
//! - free parameters: the fit's values, standard errors and covariance;
//! - fixed parameters: their values; standard error and confidence interval `NaN`, zero rows
//!   and columns in `pcov`;
//! - tied parameters: the tie's value, and the covariance propagated by the delta method,
//!   `pcov = G Σ Gᵀ` with `G` the exact Jacobian of all parameters with respect to the free
//!   ones and `Σ` the free parameters' covariance (so also the covariances between tied and
//!   free parameters).
//!
//! Models compiled by `#[model]` keep no graph at run time and cannot be constrained; write
//! the model as a string ([`ExprModel::parse`](crate::ExprModel::parse)) or use the model
//! library for fixed and tied parameters.
//!
//! ```
//! use nlsq_runtime::params::Constraints;
//! use nlsq_runtime::result::ParamKind;
//! use nlsq_runtime::{CurveFit, ExprModel, Model};
//! let model = ExprModel::parse("a1 * exp(-b * x) + a2 * exp(-c * x)").unwrap();
//! let free = model
//!     .constrain(&Constraints::new().fix("c", 3.0).tie("a2", "0.5 * a1"))
//!     .unwrap();
//! assert_eq!(free.param_names(), ["a1", "b"]);
//! let x: Vec<f64> = (0..60).map(|i| i as f64 * 0.05).collect();
//! let y: Vec<f64> = x.iter().map(|x| 2.0 * (-x).exp() + (-3.0 * x).exp()).collect();
//! let fit = CurveFit::new(&free).p0([1.0, 2.0]).fit(&x, &y).unwrap();
//! assert_eq!(fit.param_names, ["a1", "b", "a2", "c"]);
//! assert!((fit.popt[2] - 1.0).abs() < 1e-8 && fit.popt[3] == 3.0);
//! assert_eq!(fit.param_kinds[2], ParamKind::Tied { expr: "0.5 * a1".into() });
//! assert!(fit.perr[3].is_nan());
//! ```

mod constraints;
mod expand;

pub use constraints::{ConstraintError, Constraints, free_bounds, free_values};
pub(crate) use expand::{Expanded, expand};
pub use kernels_gen::reparam::{ParamMap, ParamRole, ReparamError};

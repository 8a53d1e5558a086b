//! Fixed and tied parameters: a model over its free parameters only.
//!
//! Each parameter of a [`ModelIr`](crate::ModelIr) is [free](ParamRole::Free), [fixed at a
//! value](ParamRole::Fixed), or [tied](ParamRole::Tied) to an expression of the others (lmfit's
//! `expr`: `sigma2 = sigma1`, `a2 = 0.5 * a1`). [`reparameterize`] substitutes constants for
//! fixed parameters and their expressions' graphs for tied ones (ties of ties resolved in
//! dependency order), renumbers the free parameters, and differentiates the result as any
//! model: the derivatives through ties are exact and symbolic, a tie costs nothing per point
//! beyond the operations it adds to the model, and the new model runs on every backend.
//!
//! The [`ParamMap`] it also returns maps the free parameters to all of the model's parameters,
//! with the exact Jacobian of that map: what a fit needs to report every parameter and to
//! propagate the covariance of the free ones to the tied ones (the delta method).
//!
//! ```
//! use kernels_gen::parse::model_from_expr;
//! use kernels_gen::reparam::{ParamRole, reparameterize};
//! let m = model_from_expr("a1 * exp(-b * x) + a2 * exp(-c * x)", None).unwrap();
//! let r = reparameterize(
//!     &m,
//!     &[
//!         ("a2".into(), ParamRole::Tied("0.5 * a1".into())),
//!         ("c".into(), ParamRole::Fixed(2.0)),
//!     ],
//! )
//! .unwrap();
//! assert_eq!(r.model.param_names(), ["a1", "b"]);
//! assert_eq!(r.map.values(&[4.0, 1.0]), [4.0, 1.0, 2.0, 2.0]);
//! let (f, grad) = r.model.eval_with_gradient(&[0.0], &[4.0, 1.0]);
//! assert_eq!((f, grad[0]), (6.0, 1.5));
//! ```

mod embed;
mod error;
mod map;
mod order;
mod role;
mod substitute;
mod tie;

pub use error::ReparamError;
pub use map::ParamMap;
pub use role::ParamRole;
pub use substitute::{Reparameterized, reparameterize};

//! The nlsq runtime: the [`Model`] interface, solvers and (as they land) backends and drivers.
//!
//! Most users depend on the facade crate `nlsq`, which re-exports everything here together
//! with the `#[model]` macro.

pub mod error;
pub mod model;
pub mod solve;

pub use error::FitError;
pub use kernels_gen;
pub use kernels_gen::{ModelHash, Precision};
pub use model::{ExprModel, Model};

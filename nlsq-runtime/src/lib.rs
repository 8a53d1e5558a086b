//! The nlsq runtime: the [`Model`] interface, and (as they land) problems, solvers, backends
//! and drivers.
//!
//! Most users depend on the facade crate `nlsq`, which re-exports everything here together
//! with the `#[model]` macro.

pub mod model;

pub use kernels_gen;
pub use kernels_gen::{ModelHash, Precision};
pub use model::{ExprModel, Model};

//! The nlsq runtime: the [`Model`] interface, data validation, robust losses, backends and
//! solvers.
//!
//! Most users depend on the facade crate `nlsq`, which re-exports everything here together
//! with the `#[model]` macro.

#![warn(missing_docs)]

mod atomic_file;
pub mod backend;
pub mod bands;
pub mod batch;
pub mod block;
pub mod checkpoint;
pub mod conf_interval;
mod covariance;
pub mod data;
#[cfg(feature = "mpi")]
pub mod distributed;
pub mod error;
mod expr_model;
pub mod fit;
pub mod library;
pub mod loss;
pub mod memory;
pub mod model;
pub mod params;
pub mod pool;
pub mod predictors;
pub mod profile;
#[cfg(feature = "progress")]
mod progress;
mod quantile;
pub mod result;
mod scan;
pub mod search;
mod serde_float;
pub mod solve;
pub mod stream;
mod summary;

pub use backend::{Backend, CudaDevices};
pub use bands::{BandPoint, Bands};
pub use batch::{BatchFit, BatchResult, Estimator, FitState};
pub use checkpoint::{CheckpointError, Every};
pub use data::{FitData, NanPolicy};
pub use error::FitError;
pub use expr_model::ExprModel;
pub use fit::{CurveFit, Sigma, curve_fit};
pub use kernels_gen;
pub use kernels_gen::{ModelHash, Precision};
pub use loss::Loss;
pub use memory::{DataMode, DataPlan, MemoryLimits};
pub use model::Model;
pub use predictors::Predictors;
pub use profile::ProfileReport;
pub use result::{CovarianceIssue, DatasetFit, FitResult, ParamKind};
pub use search::{Minimum, MultiStart, SearchReport};
pub use solve::{IterationInfo, Method, Status};

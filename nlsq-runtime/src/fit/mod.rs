//! The fit pipeline, from the [`CurveFit`] builder to the [`FitResult`]:
//!
//! ```text
//! builder ─► spec (one validation) ─► data plan ─► route ─► finish
//!                                                  │          │
//!     in memory (memory.rs) ──────────────────────┤          ├─ first pass and its checks
//!     chunked or streamed (streamed.rs) ──────────┤          ├─ solver run: checkpoints,
//!     online, one-pass sources (online.rs) ───────┤          │  profile, progress (run.rs)
//!     resident on a GPU (resident.rs) ────────────┘          └─ FitResult (summary.rs)
//! ```
//!
//! - [`builder`](CurveFit): every option, set step by step; nothing is checked there.
//! - `spec`: the one validation of the whole specification, before any data is read.
//! - `plan`: where the data lives (the memory manager's budgets), from the memory options and
//!   the chosen device, never from the builder.
//! - one module per data route, each of which only builds an objective (through the backend
//!   selector) and says what it knows of its data (`finish::Route`);
//! - `finish`: the one step that runs the solver and assembles the result.

mod builder;
#[cfg(feature = "mpi")]
mod distributed;
mod finish;
pub mod global;
mod memory;
mod online;
mod plan;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
mod resident;
mod route;
mod run;
mod source;
mod spec;
mod streamed;

pub use builder::{CurveFit, DEFAULT_MAX_NFEV_PER_PARAM, DEFAULT_TOL, Sigma};
pub use online::DEFAULT_ONLINE_TOL;

use crate::error::FitError;
use crate::memory::DataMode;
use crate::model::Model;
use crate::predictors::Predictors;
use crate::profile::Began;
use crate::result::FitResult;
use crate::stream::SliceSource;
use memory::{Columns, fit_in_memory};

impl<M: Model> CurveFit<'_, M> {
    /// Fits `y ≈ f(x; p)`. `x` is one slice for a single predictor, or `K` column slices.
    ///
    /// Data within the memory budgets is fitted in place; data beyond the host budget (or a
    /// GPU's), or cut by [`CurveFit::chunk_points`], goes through chunk buffers with the same
    /// result. [`FitResult::data_plan`] says which and why.
    pub fn fit<X: Predictors + ?Sized>(self, x: &X, y: &[f64]) -> Result<FitResult, FitError> {
        #[cfg(feature = "mpi")]
        let dist = self.dist.clone();
        let result = self.fit_here(x, y);
        #[cfg(feature = "mpi")]
        if let (Err(e), Some(d)) = (&result, dist) {
            d.fail(e);
        }
        result
    }

    /// [`CurveFit::fit`] on this process (a distributed fit's exchanges are in its route).
    fn fit_here<X: Predictors + ?Sized>(self, x: &X, y: &[f64]) -> Result<FitResult, FitError> {
        let start = Began::now();
        let (spec, callback) = self.into_spec()?;
        let columns = Columns {
            x: x.columns(),
            y,
            sigma: spec.std_sigma(),
        };
        let (k, weighted) = (columns.x.len(), columns.sigma.is_some());
        let Some(plan) = spec.chunked_plan(y.len(), k, weighted) else {
            return fit_in_memory(&spec, callback, columns, None, start);
        };
        debug_assert_eq!(plan.mode, DataMode::Chunked);
        let mut source = SliceSource::new(columns.x, y);
        if let Some(s) = columns.sigma {
            source = source.with_sigma(s);
        }
        source::check_inputs(&source, &spec.model)?;
        streamed::fit_streamed(&spec, callback, &mut source, plan, start)
    }
}
/// scipy's `curve_fit`: fits `model` to `(x, y)` from `p0` with default settings and returns
/// `(popt, pcov)`.
///
/// ```
/// use nlsq_runtime::{ExprModel, curve_fit};
/// let x = [0.0, 1.0, 2.0, 3.0, 4.0];
/// let y = [1.0, 3.1, 4.9, 7.2, 8.8];
/// let (popt, pcov) = curve_fit(ExprModel::parse("a * x + b").unwrap(), &x, &y, &[1.0, 0.0]).unwrap();
/// assert!((popt[0] - 1.97).abs() < 1e-9 && pcov[0][0] > 0.0);
/// ```
pub fn curve_fit<M: Model, X: Predictors + ?Sized>(
    model: M,
    x: &X,
    y: &[f64],
    p0: &[f64],
) -> Result<(Vec<f64>, Vec<Vec<f64>>), FitError> {
    let r = CurveFit::new(model).p0(p0).fit(x, y)?;
    Ok((r.popt, r.pcov))
}

//! The interface between the data routes and the finishing step ([`Route`]).

use crate::data::DataSummary;
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::solve::{Objective, Pass, SolverOutput};

/// What a data route hands to the finishing step: its objective, and what only the route
/// knows of its data.
pub(crate) trait Route {
    /// The objective the solver runs on.
    fn objective(&mut self) -> &mut dyn Objective;

    /// Whether checkpoints identify the data by the pass at p0 (streamed data, which is not
    /// read twice to be fingerprinted); that pass is then computed when resuming too.
    fn identified_by_first_pass(&self) -> bool {
        false
    }

    /// The points and the fingerprint that identify the data in a checkpoint; `first` is the
    /// pass at p0 when it was computed.
    fn fingerprint(&self, first: Option<&Pass>) -> (usize, [u8; 32]);

    /// The index of the first point where the model is not finite at `p` (0 when unknown).
    fn first_nonfinite(&mut self, p: &[f64]) -> Result<usize, FitError>;

    /// `Σ (y − f)²`, unweighted, at the solution `out` (for R² and RMSE). `linear`: the fit's
    /// loss is linear, so an unweighted fit has it as twice the last pass's cost.
    fn unweighted_ssr(&mut self, out: &SolverOutput, linear: bool) -> Result<f64, FitError>;

    /// `Σ (w_i r_i)²` at `p`, whatever the loss: the weighted residuals (whitened with a
    /// covariance sigma; `w = 1` without sigma) summed in squares, evaluated on the CPU; `NaN`
    /// when the route cannot (device-resident data). For the statistics of a robust fit, and to
    /// tell overflowing data from an overflowing `f_scale` at the first pass.
    fn weighted_ssr(&mut self, p: &[f64]) -> Result<f64, FitError>;

    /// The sizes of the fitted data, after the solve (streamed data is counted by its passes),
    /// with the route's last word on `plan`.
    fn summary(&mut self, plan: &mut DataPlan) -> DataSummary;

    /// The backend that ran the passes, and why.
    fn backend(&self) -> String;

    /// Each predictor's smallest and largest finite value, where the route holds its data on
    /// the host (for the starts of a multi-start search); `None` otherwise.
    fn input_ranges(&self) -> Option<Vec<(f64, f64)>> {
        None
    }
}

//! What a batch fit returns: per-fit parameters, states, χ², iterations and (on request)
//! covariances, plus where the batch ran.

use crate::backend::Backend;
use kernels_gen::Precision;

/// How one fit of a batch ended. Per-fit problems end in a state, never in an error of the
/// whole batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum FitState {
    /// The convergence rule held (see [`crate::batch`]).
    Converged = 0,
    /// The iteration budget ran out first; the parameters are the best ones reached.
    MaxIterations = 1,
    /// The damped normal matrix was not positive definite (a parameter without influence on
    /// the model, or linearly dependent parameters): the fit stopped there.
    Singular = 2,
    /// The fit's data (x, y or weights) or the model at the starting point was NaN or
    /// infinite (for Poisson MLE also: a model value `<= 0`).
    NonFinite = 3,
    /// The fit's own inputs are unusable: p0 outside its bounds or not finite, lower bound
    /// above upper bound, a negative weight, negative counts for Poisson MLE, or fewer points
    /// than free parameters.
    InvalidInput = 4,
}

impl FitState {
    /// All states, in code order.
    pub const ALL: [FitState; 5] = [
        FitState::Converged,
        FitState::MaxIterations,
        FitState::Singular,
        FitState::NonFinite,
        FitState::InvalidInput,
    ];

    /// The state's code, as the device kernels write it (`0..=4`, in the order above).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The state of a device code; unknown codes are `None`.
    pub fn from_code(code: u8) -> Option<FitState> {
        FitState::ALL.get(usize::from(code)).copied()
    }

    /// Whether the fit converged.
    pub fn converged(self) -> bool {
        self == FitState::Converged
    }
}

impl std::fmt::Display for FitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FitState::Converged => "converged",
            FitState::MaxIterations => "maximum iterations reached",
            FitState::Singular => "singular normal matrix",
            FitState::NonFinite => "non-finite data or model",
            FitState::InvalidInput => "invalid input for this fit",
        })
    }
}

/// The results of a batch fit, all flat and fit-major.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    /// Number of fits.
    pub n_fits: usize,
    /// Parameters per fit (`P`, fixed ones included).
    pub n_params: usize,
    /// Final parameters, `n_fits * P` (fit `i` at `i * P ..`); a fit that could not start
    /// ([`FitState::InvalidInput`], [`FitState::NonFinite`]) keeps its p0.
    pub params: Vec<f64>,
    /// How each fit ended.
    pub states: Vec<FitState>,
    /// χ² at the final parameters: `Σ w (f - y)²` for least squares, the Poisson deviance
    /// for maximum likelihood (see [`crate::batch::Estimator`]); NaN for fits that could not
    /// start.
    pub chi2: Vec<f64>,
    /// Iterations (normal-matrix solves, accepted or not) per fit.
    pub iterations: Vec<u32>,
    /// Covariance matrices on request, `n_fits * P * P` (row-major per fit); rows and columns
    /// of fixed parameters are zero; NaN for fits that did not converge or stopped singular.
    pub covariance: Option<Vec<f64>>,
    /// Standard errors on request (square roots of the covariance diagonals), `n_fits * P`.
    pub perr: Option<Vec<f64>>,
    /// Where the batch ran.
    pub backend: Backend,
    /// The precision of the model evaluation.
    pub precision: Precision,
    /// Why that backend, in words.
    pub reason: String,
}

impl BatchResult {
    /// The parameters of fit `i`.
    pub fn params_of(&self, i: usize) -> &[f64] {
        &self.params[i * self.n_params..(i + 1) * self.n_params]
    }

    /// The covariance of fit `i` (row-major `P x P`), when requested.
    pub fn covariance_of(&self, i: usize) -> Option<&[f64]> {
        let pp = self.n_params * self.n_params;
        self.covariance.as_ref().map(|c| &c[i * pp..(i + 1) * pp])
    }

    /// The standard errors of fit `i`, when requested.
    pub fn perr_of(&self, i: usize) -> Option<&[f64]> {
        self.perr
            .as_ref()
            .map(|e| &e[i * self.n_params..(i + 1) * self.n_params])
    }

    /// How many fits ended in `state`.
    pub fn count(&self, state: FitState) -> usize {
        self.states.iter().filter(|&&s| s == state).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in FitState::ALL {
            assert_eq!(FitState::from_code(s.code()), Some(s));
        }
        assert_eq!(FitState::from_code(5), None);
    }
}

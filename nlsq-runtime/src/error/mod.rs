//! The errors a fit can end with. Every bad input gets its own variant; nothing panics.

mod checkpoint;

pub use checkpoint::CheckpointError;

use crate::loss::Loss;

/// For [`FitError::SumsOverflow`]: with a robust loss, the scaled residuals may be to blame.
fn robust_note(loss: Loss, f_scale: f64) -> String {
    if loss == Loss::Linear {
        String::new()
    } else {
        format!(" (or (r / f_scale)² overflowed: f_scale = {f_scale} with the {loss} loss)")
    }
}

/// Why a fit could not be run or finished.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum FitError {
    /// No data points.
    #[error("no data: x and y are empty")]
    EmptyData,
    /// Inputs of different lengths.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// Which input.
        what: String,
        /// Its length.
        got: usize,
        /// The length it must have.
        expected: usize,
    },
    /// Fewer points than parameters.
    #[error("{points} data points cannot determine {params} parameters")]
    TooFewPoints {
        /// Usable points.
        points: usize,
        /// Parameters.
        params: usize,
    },
    /// A NaN or infinity in the data (with `NanPolicy::Raise`).
    #[error(
        "{what}[{index}] is {value}: data must be finite (or set nan_policy to omit such points)"
    )]
    NonFiniteData {
        /// Which input (`x`, `x[1]`, `y`, `sigma`).
        what: String,
        /// The first offending index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A starting value outside its bounds, or bounds that admit nothing.
    #[error("parameter `{name}`: {reason}")]
    BadBounds {
        /// Parameter name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A starting value that is not finite.
    #[error("p0 for parameter `{name}` is {value}: starting values must be finite")]
    NonFiniteP0 {
        /// Parameter name.
        name: String,
        /// The value.
        value: f64,
    },
    /// The model or its derivatives are not finite at the starting point, at some points.
    #[error(
        "model `{model}` gives a non-finite value or derivative at p0 for {count} of {points} points (first at point {first}); choose another p0 or check the model's domain"
    )]
    NonFiniteModelAtP0 {
        /// Model name.
        model: String,
        /// How many points.
        count: usize,
        /// Total points.
        points: usize,
        /// First offending point (or 0 when unknown).
        first: usize,
    },
    /// The sums of the pass at p0 (cost, `JᵀJ`, `Jᵀr`) overflowed although the model and its
    /// derivatives are finite at every point: the data's scale (or the parameters') is beyond
    /// what f64 sums of squares hold, not the model's domain.
    #[error(
        "the sums of squares at p0 overflow f64 although model `{model}` and its derivatives are finite at all {points} points{}: the data's scale is too large (a weighted residual or a derivative beyond ~1e154 squares to infinity, or N squares sum past ~1.8e308); rescale y (and sigma), the predictors or the parameters to moderate magnitudes",
        robust_note(*.loss, *.f_scale)
    )]
    SumsOverflow {
        /// Model name.
        model: String,
        /// Points in the pass.
        points: usize,
        /// The loss of the fit; with a robust loss, `(r / f_scale)²` may have overflowed too.
        loss: Loss,
        /// The loss scale.
        f_scale: f64,
    },
    /// Sigma that is zero, negative or not finite, or a covariance that is not positive definite.
    #[error("bad sigma: {0}")]
    BadSigma(String),
    /// An option out of its domain.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option.
        option: String,
        /// Why.
        reason: String,
    },
    /// A checkpoint could not be read, belongs to another fit, or cannot be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A data source could not be read: a missing or unreadable file, a corrupt header, a
    /// file whose size does not match its header, a ragged or unparsable CSV row.
    #[error("data source `{origin}`: {message}")]
    Source {
        /// The source (usually a path).
        origin: String,
        /// What is wrong, with the position (line, byte offset) where known.
        message: String,
    },
    /// A fit that needs several passes over a source that can be read only once, or a source
    /// that gave different data on a later pass.
    #[error("data source `{origin}`: {reason}")]
    NotReiterable {
        /// The source.
        origin: String,
        /// What happened.
        reason: String,
    },
    /// A backend failed (device lost, out of memory, kernel build error).
    #[error("backend `{backend}` failed: {message}")]
    Backend {
        /// The backend.
        backend: String,
        /// What happened.
        message: String,
    },
    /// A distributed fit (feature `mpi`) ended because of another process: a rank failed
    /// (its error is quoted), or the ranks did not all answer within the fit's timeout.
    #[error("distributed fit: rank {rank}: {message}")]
    Distributed {
        /// The rank that failed (or, for a timeout, this rank).
        rank: usize,
        /// What happened.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_and_domain_errors_give_different_advice() {
        let overflow = |loss| FitError::SumsOverflow {
            model: "m".into(),
            points: 7,
            loss,
            f_scale: 0.5,
        };
        let linear = overflow(Loss::Linear).to_string();
        assert!(
            linear.contains("all 7 points: the data's scale"),
            "{linear}"
        );
        assert!(linear.contains("rescale y") && !linear.contains("f_scale"));
        let robust = overflow(Loss::Huber).to_string();
        assert!(
            robust.contains("f_scale = 0.5 with the huber loss"),
            "{robust}"
        );
        let domain = FitError::NonFiniteModelAtP0 {
            model: "m".into(),
            count: 1,
            points: 7,
            first: 3,
        }
        .to_string();
        assert!(domain.contains("domain") && !domain.contains("rescale"));
    }
}

//! The errors of the model library: looking up a model, parsing a composite spec, estimating
//! starting values.

/// What is wrong with a composite spec such as `"gaussian:g1 + linear"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecProblem {
    /// A part with nothing in it (an empty spec, `a + + b`, a trailing `+`).
    EmptyPart,
    /// A model name with characters other than letters, digits and `_`.
    BadName(String),
    /// A prefix after `:` that is not an identifier (`[A-Za-z_][A-Za-z0-9_]*`).
    BadPrefix(String),
    /// A 2-D model mixed with 1-D models (all parts must have the same predictors).
    MixedPredictors {
        /// The part's model.
        model: String,
        /// Its number of predictors.
        inputs: usize,
        /// The number of predictors of the parts before it.
        expected: usize,
    },
    /// A polynomial degree beyond [`MAX_POLYNOMIAL_DEGREE`](super::MAX_POLYNOMIAL_DEGREE).
    DegreeTooLarge(usize),
}

impl std::fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecProblem::EmptyPart => write!(f, "empty part: expected a model name"),
            SpecProblem::BadName(s) => write!(
                f,
                "`{s}` is not a model name (letters, digits and `_` only)"
            ),
            SpecProblem::BadPrefix(s) => write!(
                f,
                "prefix `{s}` is not an identifier (a letter or `_`, then letters, digits, `_`)"
            ),
            SpecProblem::MixedPredictors {
                model,
                inputs,
                expected,
            } => write!(
                f,
                "`{model}` has {inputs} predictor(s) but the parts before it have {expected}: a composite cannot mix 1-D and 2-D models"
            ),
            SpecProblem::DegreeTooLarge(d) => write!(
                f,
                "polynomial degree {d} is larger than MAX_POLYNOMIAL_DEGREE = {}",
                super::MAX_POLYNOMIAL_DEGREE
            ),
        }
    }
}

/// Why a library model could not be found, composed or given starting values.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum LibraryError {
    /// No model of this name.
    #[error("unknown model `{name}`{}", suggestion_note(.suggestion))]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The closest known name, when one is close.
        suggestion: Option<String>,
        /// Byte offset of the name in the spec (0 for a plain lookup).
        position: usize,
    },
    /// A malformed composite spec.
    #[error("bad model spec at column {}: {problem}", .position + 1)]
    BadSpec {
        /// Byte offset of the problem in the spec.
        position: usize,
        /// What is wrong.
        problem: SpecProblem,
    },
    /// Two parts of a composite give a parameter the same name.
    #[error(
        "parameter `{name}` appears twice in the composite (part at column {}): give the parts prefixes, e.g. `gaussian:g1 + gaussian:g2`",
        .position + 1
    )]
    DuplicateParameter {
        /// The parameter name.
        name: String,
        /// Byte offset of the second part that defines it.
        position: usize,
    },
    /// The predictors and observations do not fit the model's shape.
    #[error("bad data for `{model}`: {reason}")]
    BadData {
        /// The model (or composite spec).
        model: String,
        /// What is wrong (number of predictor columns, lengths).
        reason: String,
    },
    /// The data do not allow a starting value to be estimated.
    #[error("cannot estimate p0 for `{model}`: {reason}")]
    CannotEstimate {
        /// The model.
        model: String,
        /// Why (too few finite points, constant y, x out of the model's domain, ...).
        reason: String,
    },
    /// The model's formula was rejected by the model language (a library model that needs a
    /// function the language does not have yet).
    #[error("model `{model}` does not compile: {message}")]
    Model {
        /// The model.
        model: String,
        /// The parser's message.
        message: String,
    },
}

fn suggestion_note(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(": did you mean `{s}`?"),
        None => String::new(),
    }
}

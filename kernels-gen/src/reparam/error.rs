//! Why a set of fixed and tied parameters was refused.

/// A rejection by [`reparameterize`](super::reparameterize): every message names the parameter
/// (and the tie) at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReparamError {
    /// A fixed or tied name is not a parameter of the model.
    #[error("the model has no parameter `{name}`; its parameters are {}", .known.join(", "))]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The model's parameters.
        known: Vec<String>,
    },
    /// A parameter is given a role twice (fixed twice, tied twice, or both).
    #[error("`{name}` is fixed or tied more than once")]
    Duplicate {
        /// The parameter.
        name: String,
    },
    /// A fixed value is NaN or infinite.
    #[error("`{name}` cannot be fixed at {value}: the value must be finite")]
    NonFiniteValue {
        /// The parameter.
        name: String,
        /// The value given.
        value: f64,
    },
    /// Every parameter is fixed or tied.
    #[error("every parameter is fixed or tied: at least one must be free to fit")]
    NoFreeParameter,
    /// A tie's expression is not in the model language.
    #[error("tie `{name} = {expr}`: {message}")]
    TieSyntax {
        /// The tied parameter.
        name: String,
        /// Its expression.
        expr: String,
        /// The parser's message, with the line and column in `expr`.
        message: String,
    },
    /// A tie refers to a name that is not a parameter.
    #[error(
        "tie `{name} = {expr}`: `{unknown}` is not a parameter of the model; its parameters are {}",
        .known.join(", ")
    )]
    TieUnknownName {
        /// The tied parameter.
        name: String,
        /// Its expression.
        expr: String,
        /// The name that is not a parameter.
        unknown: String,
        /// The model's parameters.
        known: Vec<String>,
    },
    /// A tie uses the independent variable.
    #[error(
        "tie `{name} = {expr}`: a tie is a function of the other parameters only; it cannot use the independent variable `x`"
    )]
    TieUsesInput {
        /// The tied parameter.
        name: String,
        /// Its expression.
        expr: String,
    },
    /// A tie refers to no parameter at all.
    #[error(
        "tie `{name} = {expr}`: the expression refers to no parameter; to hold `{name}` at a value, fix it instead"
    )]
    TieWithoutParameters {
        /// The tied parameter.
        name: String,
        /// Its expression.
        expr: String,
    },
    /// A tie refers to its own parameter.
    #[error("tie `{name} = {expr}` refers to `{name}` itself")]
    SelfTie {
        /// The tied parameter.
        name: String,
        /// Its expression.
        expr: String,
    },
    /// Ties refer to each other in a circle.
    #[error("the ties form a cycle: {}", .names.join(" -> "))]
    Cycle {
        /// The parameters around the circle, the first repeated at the end.
        names: Vec<String>,
    },
    /// The substituted model exceeds the compiler's limits.
    #[error("the model with its ties is too large: {message}")]
    TooLarge {
        /// Which limit.
        message: String,
    },
}

//! [`Constraints`]: fixed and tied parameters by name, and their errors.

use kernels_gen::reparam::{ParamMap, ParamRole, ReparamError};

/// Parameters fixed at values and tied to expressions, by name; the others stay free. Applied
/// by [`ExprModel::constrain`](crate::ExprModel::constrain).
///
/// ```
/// use nlsq_runtime::params::Constraints;
/// let c = Constraints::new().fix("b", 1.3).tie("sigma2", "sigma1");
/// assert_eq!(c.roles().len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    roles: Vec<(String, ParamRole)>,
}

impl Constraints {
    /// No parameter fixed or tied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds parameter `name` at `value` (finite).
    pub fn fix(mut self, name: impl Into<String>, value: f64) -> Self {
        self.roles.push((name.into(), ParamRole::Fixed(value)));
        self
    }

    /// Ties parameter `name` to `expr`, an expression in the model language of the model's
    /// other parameters (`"sigma1"`, `"0.5 * a1"`, `"sqrt(a * b)"`); it may refer to fixed and
    /// to other tied parameters, without a cycle.
    pub fn tie(mut self, name: impl Into<String>, expr: impl Into<String>) -> Self {
        self.roles.push((name.into(), ParamRole::Tied(expr.into())));
        self
    }

    /// Whether no parameter is fixed or tied.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }

    /// The roles given, by name, in the order given.
    pub fn roles(&self) -> &[(String, ParamRole)] {
        &self.roles
    }
}

/// Why parameters could not be fixed or tied, or their bounds not applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConstraintError {
    /// The compiler refused the fixed and tied parameters (unknown name, cycle, bad
    /// expression, ...).
    #[error(transparent)]
    Reparam(#[from] ReparamError),
    /// The model is already constrained: constrain the original model with all the fixed and
    /// tied parameters at once.
    #[error(
        "the model already has fixed or tied parameters: give all of them at once to the unconstrained model"
    )]
    AlreadyConstrained,
    /// A fixed or tied parameter was given a finite bound.
    #[error("`{name}` is {kind}: bounds apply to free parameters only")]
    BoundsOnNonFree {
        /// The parameter.
        name: String,
        /// `"fixed"` or `"tied"`.
        kind: &'static str,
    },
    /// Values for all parameters of the wrong length.
    #[error("{what}: {got} values for the model's {expected} parameters")]
    LengthMismatch {
        /// Which values.
        what: &'static str,
        /// How many were given.
        got: usize,
        /// How many parameters the original model has.
        expected: usize,
    },
}

/// The free parameters' entries of `all`, values for every parameter of the original model
/// in its order (a `p0` estimated or given for all of them, say).
pub fn free_values(map: &ParamMap, all: &[f64]) -> Result<Vec<f64>, ConstraintError> {
    check_len(map, "values", all)?;
    Ok(map.select_free(all))
}

/// The free parameters' bounds from bounds of every parameter of the original model (`±∞` for
/// none); a finite bound on a fixed or tied parameter is an error.
pub fn free_bounds(
    map: &ParamMap,
    lower: &[f64],
    upper: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), ConstraintError> {
    check_len(map, "lower bounds", lower)?;
    check_len(map, "upper bounds", upper)?;
    for (k, role) in map.roles().iter().enumerate() {
        let bounded = lower[k] != f64::NEG_INFINITY || upper[k] != f64::INFINITY;
        if bounded && *role != ParamRole::Free {
            return Err(ConstraintError::BoundsOnNonFree {
                name: map.names()[k].clone(),
                kind: role.label(),
            });
        }
    }
    Ok((map.select_free(lower), map.select_free(upper)))
}

fn check_len(map: &ParamMap, what: &'static str, v: &[f64]) -> Result<(), ConstraintError> {
    if v.len() == map.len() {
        Ok(())
    } else {
        Err(ConstraintError::LengthMismatch {
            what,
            got: v.len(),
            expected: map.len(),
        })
    }
}

//! What each parameter is in a reparameterized model.

/// The role of one of a model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamRole {
    /// Fitted.
    Free,
    /// Held at a finite value.
    Fixed(f64),
    /// An expression in the model language of the model's other parameters, e.g.
    /// `"0.5 * a1"` or `"sigma1"`; it may refer to fixed parameters and to other tied ones
    /// (without a cycle), never to the independent variable.
    Tied(String),
}

impl ParamRole {
    /// `"free"`, `"fixed"` or `"tied"`.
    pub fn label(&self) -> &'static str {
        match self {
            ParamRole::Free => "free",
            ParamRole::Fixed(_) => "fixed",
            ParamRole::Tied(_) => "tied",
        }
    }
}

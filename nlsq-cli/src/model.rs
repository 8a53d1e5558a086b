//! From the `--model` text to a model: a library model, a sum of them, or an expression, by
//! the rule of [`library::resolve`] (shared with the Python package).

use crate::error::CliError;
use nlsq::ExprModel;
use nlsq::library::{self, Composite};

/// The model of a command.
pub struct ModelChoice {
    /// The compiled model.
    pub model: ExprModel,
    /// Its parameters, in order.
    pub names: Vec<String>,
    /// The library composition it came from (which can estimate p0), if any.
    pub library: Option<Composite>,
}

/// Compiles the `--model` text, by the runtime's rule ([`library::resolve`]).
pub fn resolve(spec: &str) -> Result<ModelChoice, CliError> {
    let r = library::resolve(spec).map_err(|e| CliError::Model(e.to_string()))?;
    Ok(ModelChoice {
        model: r.model,
        names: r.names,
        library: r.library,
    })
}

impl ModelChoice {
    /// Starting values estimated from the data, for a library model.
    pub fn estimate(&self, x: &[&[f64]], y: &[f64]) -> Option<Result<Vec<f64>, CliError>> {
        self.library.as_ref().map(|c| {
            c.estimate_p0(x, y).map_err(|e| {
                CliError::usage(format!(
                    "automatic p0: {e}; give starting values with --p0 name=value"
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_through_the_runtime() {
        let m = resolve("gaussian:g1 + constant").unwrap();
        assert_eq!(m.names, ["g1_amp", "g1_mu", "g1_sigma", "c"]);
        let e = resolve("gausian").err().unwrap().to_string();
        assert!(e.contains("gaussian"), "{e}");
        let m = resolve("a*exp(-b*x)+c").unwrap();
        assert!(m.library.is_none() && m.names == ["a", "b", "c"]);
    }
}

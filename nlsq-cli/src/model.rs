//! From the `--model` text to a model: a library model, a sum of them, or an expression, by
//! the rule of [`library::resolve`] (shared with the Python package).

use crate::error::CliError;
use nlsq::library::{self, Composite};
use nlsq::params::{Constraints, ParamMap, free_values};
use nlsq::{ExprModel, Model};

/// The model of a command.
pub struct ModelChoice {
    /// The compiled model.
    pub model: ExprModel,
    /// Its parameters, in order.
    pub names: Vec<String>,
    /// The library composition it came from (which can estimate p0), if any.
    pub library: Option<Composite>,
    /// The model of the free parameters, when some are fixed or tied.
    pub constrained: Option<ExprModel>,
}

/// Compiles the `--model` text, by the runtime's rule ([`library::resolve`]).
pub fn resolve(spec: &str) -> Result<ModelChoice, CliError> {
    let r = library::resolve(spec).map_err(|e| CliError::Model(e.to_string()))?;
    Ok(ModelChoice {
        model: r.model,
        names: r.names,
        library: r.library,
        constrained: None,
    })
}

impl ModelChoice {
    /// Fixes and ties parameters (`--fix`, `--tie`); nothing when `c` is empty.
    pub fn constrain(mut self, c: &Constraints) -> Result<Self, CliError> {
        if !c.is_empty() {
            let m = self
                .model
                .constrain(c)
                .map_err(|e| CliError::usage(format!("fixed and tied parameters: {e}")))?;
            self.constrained = Some(m);
        }
        Ok(self)
    }

    /// The model the fit runs: of the free parameters.
    pub fn fitted(&self) -> &ExprModel {
        self.constrained.as_ref().unwrap_or(&self.model)
    }

    /// The parameters the fit runs on (`--p0` and `--bounds` name these).
    pub fn free_names(&self) -> Vec<String> {
        self.fitted()
            .param_names()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// The map from the free parameters to all, when some are fixed or tied.
    pub fn map(&self) -> Option<&ParamMap> {
        self.fitted().param_map()
    }

    /// The free parameters' entries of values for all.
    pub fn free_values(&self, all: Vec<f64>) -> Result<Vec<f64>, CliError> {
        match self.map() {
            Some(map) => free_values(map, &all).map_err(|e| CliError::usage(e.to_string())),
            None => Ok(all),
        }
    }

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

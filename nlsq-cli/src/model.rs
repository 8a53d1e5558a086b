//! From the `--model` text to a model: a library model, a sum of them, or an expression.
//!
//! Text made only of names, each with an optional `:prefix`, joined by `+`
//! (`gaussian:g1 + gaussian:g2 + linear`) is a library composition; anything else is an
//! expression in `x` (or `x[0]`, `x[1]`, ... for several predictors).

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

/// Compiles the `--model` text.
pub fn resolve(spec: &str) -> Result<ModelChoice, CliError> {
    if is_composition(spec) {
        let c = library::compose(spec).map_err(|e| CliError::Model(e.to_string()))?;
        let model = c.model().map_err(|e| CliError::Model(e.to_string()))?;
        return Ok(ModelChoice {
            model,
            names: c.param_names().to_vec(),
            library: Some(c),
        });
    }
    let model = ExprModel::parse(spec).map_err(|e| CliError::Model(e.to_string()))?;
    let names = nlsq::Model::param_names(&model)
        .into_iter()
        .map(String::from)
        .collect();
    Ok(ModelChoice {
        model,
        names,
        library: None,
    })
}

/// Whether `spec` is `name[:prefix] (+ name[:prefix])*` with no part naming `x`.
fn is_composition(spec: &str) -> bool {
    let ident = |s: &str| {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    };
    spec.split('+').all(|part| {
        let part = part.trim();
        let (name, prefix) = match part.split_once(':') {
            Some((n, p)) => (n.trim(), Some(p.trim())),
            None => (part, None),
        };
        ident(name) && name != "x" && prefix.is_none_or(ident)
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
    fn compositions_and_expressions() {
        assert!(is_composition("gaussian"));
        assert!(is_composition("gaussian:g1 + gaussian:g2 + linear"));
        assert!(is_composition("gausian"));
        assert!(!is_composition("a*exp(-b*x)+c"));
        assert!(!is_composition("a + x"));
        assert!(!is_composition("gaussian:1"));
        let m = resolve("gaussian:g1 + constant").unwrap();
        assert_eq!(m.names, ["g1_amp", "g1_mu", "g1_sigma", "c"]);
        let e = resolve("gausian").err().unwrap().to_string();
        assert!(e.contains("gaussian"), "{e}");
        let m = resolve("a*exp(-b*x)+c").unwrap();
        assert!(m.library.is_none() && m.names == ["a", "b", "c"]);
    }
}

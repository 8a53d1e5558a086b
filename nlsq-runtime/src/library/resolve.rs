//! From a model text to a model: a library model, a sum of them, or an expression. The one
//! rule every front end (the command line, the Python package) applies to a model given as
//! text.
//!
//! Text made only of names, each with an optional `:prefix`, joined by `+`
//! (`gaussian:g1 + gaussian:g2 + linear`) is a library composition ([`compose`]); anything
//! else is an expression in `x` (or `x[0]`, `x[1]`, ... for several predictors), compiled by
//! [`ExprModel::parse`]. A name that is not in the library (`gausian`) is therefore an error
//! that suggests the closest library names, never a one-parameter expression.

use super::compose::{Composite, compose};
use super::error::LibraryError;
use crate::{ExprModel, Model};

/// A model resolved from text by [`resolve`].
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The compiled model.
    pub model: ExprModel,
    /// Its parameters, in order.
    pub names: Vec<String>,
    /// The library composition it came from (which can estimate p0), if any.
    pub library: Option<Composite>,
}

/// Why a model text could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The text is a library composition with an unknown name, a bad prefix or parts that
    /// do not fit together.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The text is an expression that the model language rejects.
    #[error("{0}")]
    Expression(#[from] kernels_gen::parse::ParseError),
}

/// Compiles a model text: a library composition when [`is_composition`] says so, an
/// expression otherwise.
///
/// ```
/// use nlsq_runtime::library::resolve;
/// let m = resolve("gaussian:g1 + constant").unwrap();
/// assert_eq!(m.names, ["g1_amp", "g1_mu", "g1_sigma", "c"]);
/// assert!(m.library.is_some());
/// let e = resolve("a * exp(-b * x) + c").unwrap();
/// assert!(e.library.is_none() && e.names == ["a", "b", "c"]);
/// ```
pub fn resolve(spec: &str) -> Result<Resolved, ResolveError> {
    if is_composition(spec) {
        let c = compose(spec)?;
        let model = c.model()?;
        return Ok(Resolved {
            model,
            names: c.param_names().to_vec(),
            library: Some(c),
        });
    }
    let model = ExprModel::parse(spec)?;
    let names = model.param_names().into_iter().map(String::from).collect();
    Ok(Resolved {
        model,
        names,
        library: None,
    })
}

/// Whether `spec` is `name[:prefix] (+ name[:prefix])*`, each name and prefix an identifier
/// and no name `x`: the rule that tells a library composition from an expression.
pub fn is_composition(spec: &str) -> bool {
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
        assert!(!is_composition(""));
        let m = resolve("gaussian:g1 + constant").unwrap();
        assert_eq!(m.names, ["g1_amp", "g1_mu", "g1_sigma", "c"]);
        let e = resolve("gausian").err().unwrap();
        assert!(matches!(e, ResolveError::Library(_)));
        assert!(e.to_string().contains("gaussian"), "{e}");
        let m = resolve("a*exp(-b*x)+c").unwrap();
        assert!(m.library.is_none() && m.names == ["a", "b", "c"]);
        let e = resolve("a*exp(-b*x").err().unwrap();
        assert!(matches!(e, ResolveError::Expression(_)), "{e}");
    }

    #[test]
    fn library_models_estimate_p0() {
        let m = resolve("linear").unwrap();
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let p0 = m.library.unwrap().estimate_p0(&[&x], &y).unwrap();
        assert!(
            (p0[0] - 2.0).abs() < 1e-9 && (p0[1] - 1.0).abs() < 1e-9,
            "{p0:?}"
        );
    }
}

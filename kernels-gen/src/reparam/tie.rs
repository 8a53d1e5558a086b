//! A tie's expression, parsed by the model language's parser (with its limits on size and
//! depth) and checked: parameters of the model only, at least one, never `x`.

use super::embed::uses_input;
use super::error::ReparamError;
use crate::ir::{Graph, NodeId};
use crate::parse::model_from_expr;

/// A parsed tie: `value` in `graph`, whose parameter `l` is the model's parameter `refs[l]`.
pub(crate) struct Tie {
    pub(crate) graph: Graph,
    pub(crate) value: NodeId,
    pub(crate) refs: Vec<usize>,
}

/// Parses the tie `name = expr` over the model's parameters `names`.
pub(crate) fn parse(name: &str, expr: &str, names: &[String]) -> Result<Tie, ReparamError> {
    let ir = match model_from_expr(expr, None) {
        Ok(ir) => ir,
        Err(e) => return Err(rejection(name, expr, names, e.to_string())),
    };
    if uses_input(&ir.graph, ir.value) {
        return Err(ReparamError::TieUsesInput {
            name: name.into(),
            expr: expr.into(),
        });
    }
    let refs = ir
        .param_names()
        .into_iter()
        .map(|n| {
            names
                .iter()
                .position(|m| *m == n)
                .ok_or_else(|| ReparamError::TieUnknownName {
                    name: name.into(),
                    expr: expr.into(),
                    unknown: n,
                    known: names.to_vec(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if refs.iter().any(|&k| names[k] == name) {
        return Err(ReparamError::SelfTie {
            name: name.into(),
            expr: expr.into(),
        });
    }
    Ok(Tie {
        graph: ir.graph,
        value: ir.value,
        refs,
    })
}

/// Why `expr` did not parse: an expression without parameters (a constant, or `x` alone)
/// parses when the model's names are given, and gets its own error; anything else is the
/// parser's message.
fn rejection(name: &str, expr: &str, names: &[String], message: String) -> ReparamError {
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    match model_from_expr(expr, Some(&all)) {
        Ok(ir) if uses_input(&ir.graph, ir.value) => ReparamError::TieUsesInput {
            name: name.into(),
            expr: expr.into(),
        },
        Ok(_) => ReparamError::TieWithoutParameters {
            name: name.into(),
            expr: expr.into(),
        },
        Err(_) => ReparamError::TieSyntax {
            name: name.into(),
            expr: expr.into(),
            message,
        },
    }
}

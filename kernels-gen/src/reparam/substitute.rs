//! The substitution itself: fixed parameters become constants, tied ones their expressions,
//! free ones are renumbered; the result is differentiated as a new model.

use super::embed::embed;
use super::error::ReparamError;
use super::map::ParamMap;
use super::order::resolve_order;
use super::role::ParamRole;
use super::tie::{self, Tie};
use crate::ir::{Graph, NodeId};
use crate::model::{ModelIr, ParamDecl};
use crate::parse::{MAX_DIFF_VISITS, MAX_NODES};

/// A model over its free parameters, and the map back to all of its parameters.
#[derive(Clone, Debug)]
pub struct Reparameterized {
    /// The model of the free parameters (named as in the original, flattened: `amp[1]`),
    /// differentiated; it has the original's name and predictors.
    pub model: ModelIr,
    /// All of the original parameters as functions of the free ones.
    pub map: ParamMap,
}

/// Fixes and ties parameters of `ir` by name (`roles`; the parameters not named stay free) and
/// returns the model of the free parameters. Names are flattened (`amp[1]` for an element of
/// an array parameter); tie expressions are in the model language and refer to the model's
/// parameters by name (scalar parameters only).
///
/// Every problem is a [`ReparamError`] naming the parameter: an unknown name, a parameter
/// given two roles, a non-finite fixed value, a tie that does not parse, uses `x`, refers to
/// no parameter, to an unknown name or to itself, ties in a cycle, no free parameter left, or
/// a result beyond the compiler's limits.
pub fn reparameterize(
    ir: &ModelIr,
    roles: &[(String, ParamRole)],
) -> Result<Reparameterized, ReparamError> {
    let names = ir.param_names();
    let roles = assign(&names, roles)?;
    let free: Vec<usize> = (0..names.len())
        .filter(|&k| roles[k] == ParamRole::Free)
        .collect();
    if free.is_empty() {
        return Err(ReparamError::NoFreeParameter);
    }
    let ties = parse_ties(&names, &roles)?;
    let deps: Vec<Option<Vec<usize>>> = ties
        .iter()
        .map(|t| {
            t.as_ref().map(|t| {
                let tied = t.refs.iter().copied();
                tied.filter(|&r| matches!(roles[r], ParamRole::Tied(_)))
                    .collect()
            })
        })
        .collect();
    let order = resolve_order(&deps, &names)?;
    let resolved = |g: &mut Graph| resolve(g, &roles, &free, &ties, &order);
    let mut graph = Graph::new();
    let values = resolved(&mut graph);
    let value = embed(&ir.graph, ir.value, &mut graph, &|j| values[j as usize]);
    let decls = free
        .iter()
        .map(|&k| ParamDecl {
            name: names[k].clone(),
            len: None,
        })
        .collect();
    let model = ModelIr::new_within(
        ir.name.clone(),
        ir.input,
        decls,
        graph,
        value,
        MAX_NODES,
        MAX_DIFF_VISITS,
    )
    .ok_or_else(|| ReparamError::TooLarge {
        message: format!(
            "more than MAX_NODES = {MAX_NODES} operations, or more than MAX_DIFF_VISITS = \
             {MAX_DIFF_VISITS} steps to differentiate"
        ),
    })?;
    let mut map_graph = Graph::new();
    let map_values = resolved(&mut map_graph);
    let map = ParamMap::new(names, roles, map_graph, &map_values);
    Ok(Reparameterized { model, map })
}

/// The role of every parameter, in order, from the roles given by name.
fn assign(names: &[String], given: &[(String, ParamRole)]) -> Result<Vec<ParamRole>, ReparamError> {
    let mut roles = vec![ParamRole::Free; names.len()];
    let mut named = vec![false; names.len()];
    for (name, role) in given {
        let k =
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| ReparamError::UnknownParameter {
                    name: name.clone(),
                    known: names.to_vec(),
                })?;
        if std::mem::replace(&mut named[k], true) {
            return Err(ReparamError::Duplicate { name: name.clone() });
        }
        roles[k] = match role {
            ParamRole::Fixed(v) if !v.is_finite() => {
                return Err(ReparamError::NonFiniteValue {
                    name: name.clone(),
                    value: *v,
                });
            }
            ParamRole::Tied(e) => ParamRole::Tied(e.trim().to_string()),
            r => r.clone(),
        };
    }
    Ok(roles)
}

/// Each tied parameter's parsed tie (`None` for the others).
fn parse_ties(names: &[String], roles: &[ParamRole]) -> Result<Vec<Option<Tie>>, ReparamError> {
    names
        .iter()
        .zip(roles)
        .map(|(name, role)| match role {
            ParamRole::Tied(expr) => tie::parse(name, expr, names).map(Some),
            _ => Ok(None),
        })
        .collect()
}

/// Every parameter of the original model as a node of `g` over the free parameters (free
/// parameter `free[j]` is `g`'s parameter `j`), ties in dependency `order`.
fn resolve(
    g: &mut Graph,
    roles: &[ParamRole],
    free: &[usize],
    ties: &[Option<Tie>],
    order: &[usize],
) -> Vec<NodeId> {
    let zero = g.constant(0.0);
    let mut values = vec![zero; roles.len()];
    for (j, &k) in free.iter().enumerate() {
        values[k] = g.param(j as u32);
    }
    for (k, role) in roles.iter().enumerate() {
        if let ParamRole::Fixed(v) = role {
            values[k] = g.constant(*v);
        }
    }
    for &k in order {
        if let Some(t) = &ties[k] {
            let v = embed(&t.graph, t.value, g, &|l| values[t.refs[l as usize]]);
            values[k] = v;
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::model_from_expr;

    fn roles(list: &[(&str, ParamRole)]) -> Vec<(String, ParamRole)> {
        list.iter()
            .map(|(n, r)| (n.to_string(), r.clone()))
            .collect()
    }

    #[test]
    fn fixed_and_tied_equal_the_model_written_with_them() {
        let m = model_from_expr("a * exp(-b * x) + c * x + d", None).unwrap();
        let r = reparameterize(
            &m,
            &roles(&[
                ("b", ParamRole::Fixed(1.3)),
                ("d", ParamRole::Tied("c".into())),
                ("c", ParamRole::Tied("2 * a".into())),
            ]),
        )
        .unwrap();
        let hand = model_from_expr("a * exp(-1.3 * x) + 2 * a * x + 2 * a", None).unwrap();
        assert_eq!(r.model.param_names(), ["a"]);
        for x in [0.0, 0.5, 2.0] {
            let (f, g) = r.model.eval_with_gradient(&[x], &[0.7]);
            let (fh, gh) = hand.eval_with_gradient(&[x], &[0.7]);
            assert!((f - fh).abs() <= 1e-15 * fh.abs(), "{f} {fh}");
            assert!((g[0] - gh[0]).abs() <= 1e-15 * gh[0].abs(), "{g:?} {gh:?}");
        }
        assert_eq!(r.map.values(&[0.7]), [0.7, 1.3, 1.4, 1.4]);
        assert_eq!(r.map.jacobian(&[0.7]), [[1.0], [0.0], [2.0], [2.0]]);
    }

    #[test]
    fn every_problem_is_a_typed_error() {
        let m = model_from_expr("a * exp(-b * x) + c", None).unwrap();
        let e = |list: &[(&str, ParamRole)]| reparameterize(&m, &roles(list)).unwrap_err();
        let tie = |s: &str| ParamRole::Tied(s.into());
        assert!(matches!(
            e(&[("z", ParamRole::Fixed(1.0))]),
            ReparamError::UnknownParameter { .. }
        ));
        assert!(matches!(
            e(&[("a", ParamRole::Fixed(1.0)), ("a", tie("b"))]),
            ReparamError::Duplicate { .. }
        ));
        assert!(matches!(
            e(&[("a", ParamRole::Fixed(f64::NAN))]),
            ReparamError::NonFiniteValue { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("a"))]),
            ReparamError::SelfTie { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("b")), ("b", tie("c")), ("c", tie("2*a"))]),
            ReparamError::NoFreeParameter
        ));
        assert!(matches!(
            e(&[("a", tie("b")), ("b", tie("a"))]),
            ReparamError::Cycle { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("q"))]),
            ReparamError::TieUnknownName { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("b * x"))]),
            ReparamError::TieUsesInput { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("x"))]),
            ReparamError::TieUsesInput { .. }
        ));
        assert!(matches!(
            e(&[("a", tie("2 * 3"))]),
            ReparamError::TieWithoutParameters { .. }
        ));
        let s = e(&[("a", tie("b *"))]);
        assert!(matches!(s, ReparamError::TieSyntax { .. }), "{s}");
        assert!(s.to_string().starts_with("tie `a = b *`:"), "{s}");
        let deep = format!("{}b{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(matches!(
            e(&[("a", tie(&deep))]),
            ReparamError::TieSyntax { .. }
        ));
    }
}

//! What each parameter does in a model, read from its expression graph: the model is affine in
//! it ([`Role::Linear`]), it shifts a predictor ([`Role::Location`], `x − c`), or it multiplies
//! a power of a predictor ([`Role::Rate`], `k·x`, `w·(x − c)²`, `x / s`). A multi-start search
//! draws its starts from these roles (a location within the data, a rate over length scales
//! of the data) and solves the linear parameters at each start by linear least squares.
//!
//! ```
//! use kernels_gen::parse::model_from_expr;
//! use kernels_gen::roles::{Role, param_roles};
//! let ir = model_from_expr("a * exp(-pow(x - c, 2) * w) + b", Some(&["a", "c", "w", "b"])).unwrap();
//! let roles = param_roles(&ir);
//! assert_eq!(roles[0], Role::Linear);
//! assert_eq!(roles[1], Role::Location { input: 0 });
//! assert_eq!(roles[2], Role::Rate { input: 0, power: 2 });
//! assert_eq!(roles[3], Role::Linear);
//! ```

use crate::ir::{BinaryOp, Graph, Node, NodeId, UnaryOp};
use crate::model::ModelIr;

/// The role of one parameter in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The model is affine in this parameter, jointly with every other `Linear` one: no
    /// derivative with respect to one of them depends on any of them.
    Linear,
    /// It appears only as a shift of predictor `input`: `x − p`, `p − x` or `x + p`.
    Location {
        /// The predictor.
        input: u32,
    },
    /// It appears only as a factor of an expression of predictor `input` of degree `power` in
    /// it (`p·x`: 1; `p·(x − c)²`: 2), or as its divisor (`x / p`: −1; `(x − c)² / (2 p²)`:
    /// −1 too, a power of `p` counting as `p`): `p` is then the inverse of a length of `x` to
    /// that power.
    Rate {
        /// The predictor.
        input: u32,
        /// The degree of the expression it multiplies (negative when it divides it).
        power: i32,
    },
    /// None of the above.
    Other,
}

/// The role of every flattened parameter of `ir`, in order.
pub fn param_roles(ir: &ModelIr) -> Vec<Role> {
    let n = ir.gradient.len();
    let uses = Uses::new(&ir.graph, ir.value, n);
    let linear = linear_params(ir, &uses);
    let locations: Vec<Option<u32>> = (0..n).map(|j| location(&uses, j)).collect();
    let degrees = degrees(&ir.graph, &locations);
    (0..n)
        .map(|j| {
            if linear[j] {
                Role::Linear
            } else if let Some(input) = locations[j] {
                Role::Location { input }
            } else if let Some((input, power)) = rate(&uses, &degrees, j) {
                Role::Rate { input, power }
            } else {
                Role::Other
            }
        })
        .collect()
}

/// Where each parameter is used in the model's value (its derivatives aside).
struct Uses<'g> {
    graph: &'g Graph,
    /// The node of each parameter the value depends on.
    param: Vec<Option<NodeId>>,
    /// The nodes of the value that use each node directly.
    parents: Vec<Vec<NodeId>>,
}

impl<'g> Uses<'g> {
    fn new(graph: &'g Graph, value: NodeId, n_params: usize) -> Self {
        let live = reachable(graph, &[value]);
        let mut param = vec![None; n_params];
        let mut parents = vec![Vec::new(); graph.len()];
        for (i, node) in graph.nodes().iter().enumerate() {
            if !live[i] {
                continue;
            }
            if let Node::Param(j) = *node
                && let Some(slot) = param.get_mut(j as usize)
            {
                *slot = Some(NodeId(i as u32));
            }
            for c in node.children() {
                parents[c.index()].push(NodeId(i as u32));
            }
        }
        Uses {
            graph,
            param,
            parents,
        }
    }

    /// The nodes that use parameter `j` directly, with its node; `None` when the value does
    /// not depend on it.
    fn of_param(&self, j: usize) -> Option<(NodeId, Vec<Node>)> {
        let id = self.param[j]?;
        let nodes = self.parents[id.index()]
            .iter()
            .map(|&p| *self.graph.node(p))
            .collect();
        Some((id, nodes))
    }
}

/// Which nodes `roots` depend on.
fn reachable(g: &Graph, roots: &[NodeId]) -> Vec<bool> {
    let mut live = vec![false; g.len()];
    for r in roots {
        live[r.index()] = true;
    }
    for i in (0..g.len()).rev() {
        if live[i] {
            for c in g.nodes()[i].children() {
                live[c.index()] = true;
            }
        }
    }
    live
}

/// The parameters each node depends on, as bit sets of `words` words.
fn param_sets(g: &Graph, n_params: usize) -> (Vec<u64>, usize) {
    let words = n_params.div_ceil(64).max(1);
    let mut sets = vec![0u64; g.len() * words];
    for (i, node) in g.nodes().iter().enumerate() {
        if let Node::Param(j) = *node {
            sets[i * words + j as usize / 64] |= 1 << (j % 64);
        }
        for c in node.children() {
            for w in 0..words {
                sets[i * words + w] |= sets[c.index() * words + w];
            }
        }
    }
    (sets, words)
}

/// The largest set, taken greedily in parameter order, of parameters the value depends on and
/// no derivative with respect to one of them depends on.
fn linear_params(ir: &ModelIr, uses: &Uses<'_>) -> Vec<bool> {
    let n = ir.gradient.len();
    let (sets, words) = param_sets(&ir.graph, n);
    let depends = |node: NodeId, j: usize| sets[node.index() * words + j / 64] >> (j % 64) & 1 == 1;
    let mut linear = vec![false; n];
    for j in 0..n {
        if uses.param[j].is_none() || depends(ir.gradient[j], j) {
            continue;
        }
        let clash =
            (0..j).any(|i| linear[i] && (depends(ir.gradient[j], i) || depends(ir.gradient[i], j)));
        linear[j] = !clash;
    }
    linear
}

/// The predictor `p_j` shifts, when every use of it is `x ± p` or `p − x` of one predictor.
fn location(uses: &Uses<'_>, j: usize) -> Option<u32> {
    let g = uses.graph;
    let (id, nodes) = uses.of_param(j)?;
    let mut input = None;
    for node in &nodes {
        let other = match *node {
            Node::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) if a == id => b,
            Node::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) if b == id => a,
            _ => return None,
        };
        let Node::Input(k) = *g.node(other) else {
            return None;
        };
        if input.is_some_and(|i| i != k) {
            return None;
        }
        input = Some(k);
    }
    input
}

/// The predictor and power of `p_j`, when every use of it, or of a monomial `c p_j^m` built of
/// it (`2 s s`, `pow(s, 2)`), multiplies or divides an expression of one predictor, always the
/// same power of it: `k x` (power 1), `w (x − c)²` (2), `(x − c)² / (2 s²)` (−1).
fn rate(uses: &Uses<'_>, degrees: &[Option<(u32, i32)>], j: usize) -> Option<(u32, i32)> {
    let monomials = monomials(uses, j)?;
    let with = |e: NodeId, sign: i32| degrees[e.index()].map(|(k, d)| (k, d, sign));
    let mut found = None;
    for (&top, &m) in &monomials {
        let parents = &uses.parents[top.index()];
        if parents.is_empty() {
            return None; // the model's value itself
        }
        for &parent in parents.iter().filter(|q| !monomials.contains_key(q)) {
            // p^m x^d (a product) or p^m / x^d, x^d / p^m (a quotient) without dimension.
            let (input, d, sign) = match *uses.graph.node(parent) {
                Node::Binary(BinaryOp::Mul, a, b) if a == top => with(b, 1)?,
                Node::Binary(BinaryOp::Mul, a, b) if b == top => with(a, 1)?,
                Node::Binary(BinaryOp::Div, a, b) if a == top => with(b, -1)?,
                Node::Binary(BinaryOp::Div, a, b) if b == top => with(a, -1)?,
                _ => return None,
            };
            if d % m != 0 || d == 0 {
                return None;
            }
            let power = sign * d / m;
            if found.is_some_and(|f| f != (input, power)) {
                return None;
            }
            found = Some((input, power));
        }
    }
    found
}

/// The nodes of the value that are monomials `c p_j^m` (`m ≠ 0`) of parameter `j` and
/// constants, with `m`: found upwards from the parameter, smallest id first, so that both
/// factors of a product are known when it is reached.
fn monomials(uses: &Uses<'_>, j: usize) -> Option<std::collections::HashMap<NodeId, i32>> {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashMap};
    let g = uses.graph;
    let id = uses.param[j]?;
    let mut degree: HashMap<NodeId, i32> = HashMap::from([(id, 1)]);
    let mut queue: BinaryHeap<Reverse<NodeId>> = uses.parents[id.index()]
        .iter()
        .map(|&q| Reverse(q))
        .collect();
    while let Some(Reverse(node)) = queue.pop() {
        if degree.contains_key(&node) {
            continue;
        }
        let of = |n: NodeId| degree.get(&n).copied();
        let konst = |n: NodeId| matches!(g.node(n), Node::Const(_));
        let m = match *g.node(node) {
            Node::Unary(UnaryOp::Neg, a) => of(a),
            Node::Unary(UnaryOp::Powi(n), a) => of(a).and_then(|m| m.checked_mul(n)),
            Node::Binary(BinaryOp::Powf, a, b) => match *g.node(b) {
                Node::Const(bits) => {
                    let e = f64::from_bits(bits);
                    let n = e as i32;
                    if f64::from(n) == e {
                        of(a).and_then(|m| m.checked_mul(n))
                    } else {
                        None
                    }
                }
                _ => None,
            },
            Node::Binary(BinaryOp::Mul, a, b) => match (of(a), of(b)) {
                (Some(x), Some(y)) => x.checked_add(y),
                (Some(x), None) if konst(b) => Some(x),
                (None, Some(y)) if konst(a) => Some(y),
                _ => None,
            },
            Node::Binary(BinaryOp::Div, a, b) => match (of(a), of(b)) {
                (Some(x), Some(y)) => x.checked_sub(y),
                (Some(x), None) if konst(b) => Some(x),
                (None, Some(y)) if konst(a) => y.checked_neg(),
                _ => None,
            },
            _ => None,
        };
        if let Some(m) = m.filter(|&m| m != 0) {
            degree.insert(node, m);
            queue.extend(uses.parents[node.index()].iter().map(|&q| Reverse(q)));
        }
    }
    Some(degree)
}

/// The degree of every node in one predictor, in one pass over the graph (children first):
/// defined for expressions built of that predictor, locations on it, constants, sums of equal
/// degrees, products, quotients and integer powers.
fn degrees(g: &Graph, locations: &[Option<u32>]) -> Vec<Option<(u32, i32)>> {
    let mut deg: Vec<Option<(u32, i32)>> = Vec::with_capacity(g.len());
    for node in g.nodes() {
        let of = |id: NodeId| deg[id.index()];
        let scaled = |id: NodeId, n: i32| of(id).and_then(|(k, d)| Some((k, d.checked_mul(n)?)));
        let d = match *node {
            Node::Input(k) => Some((k, 1)),
            Node::Unary(UnaryOp::Neg | UnaryOp::Abs, a) => of(a),
            Node::Unary(UnaryOp::Powi(n), a) => scaled(a, n),
            Node::Binary(BinaryOp::Powf, a, b) => match *g.node(b) {
                Node::Const(bits) => {
                    let e = f64::from_bits(bits);
                    let n = e as i32;
                    if f64::from(n) == e {
                        scaled(a, n)
                    } else {
                        None
                    }
                }
                _ => None,
            },
            Node::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => {
                let side = |x: NodeId| match *g.node(x) {
                    Node::Param(p) => locations.get(p as usize).copied().flatten().map(|k| (k, 1)),
                    _ => of(x),
                };
                match (side(a), side(b)) {
                    (Some(da), Some(db)) if da == db => Some(da),
                    _ => None,
                }
            }
            Node::Binary(op @ (BinaryOp::Mul | BinaryOp::Div), a, b) => {
                let sign = if op == BinaryOp::Mul { 1 } else { -1 };
                match (constant(g, a), constant(g, b)) {
                    (true, true) => None,
                    (true, false) => scaled(b, sign),
                    (false, true) => of(a),
                    (false, false) => match (of(a), of(b)) {
                        (Some((ka, da)), Some((kb, db))) if ka == kb => db
                            .checked_mul(sign)
                            .and_then(|db| da.checked_add(db))
                            .map(|d| (ka, d)),
                        _ => None,
                    },
                }
            }
            _ => None,
        };
        deg.push(d);
    }
    deg
}

/// Whether `id` is a constant.
fn constant(g: &Graph, id: NodeId) -> bool {
    matches!(g.node(id), Node::Const(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::model_from_expr;

    fn roles(expr: &str, params: &[&str]) -> Vec<Role> {
        param_roles(&model_from_expr(expr, Some(params)).unwrap())
    }

    #[test]
    fn osborne_2_has_amplitudes_rates_and_centres() {
        let r = roles(
            "p1 * exp(-x * p5) + p2 * exp(-pow(x - p9, 2) * p6) \
             + p3 * exp(-pow(x - p10, 2) * p7) + p4 * exp(-pow(x - p11, 2) * p8)",
            &[
                "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11",
            ],
        );
        let rate = |power| Role::Rate { input: 0, power };
        let at = Role::Location { input: 0 };
        assert_eq!(
            r,
            [
                Role::Linear,
                Role::Linear,
                Role::Linear,
                Role::Linear,
                rate(1),
                rate(2),
                rate(2),
                rate(2),
                at,
                at,
                at
            ]
        );
    }

    #[test]
    fn a_standard_deviation_squared_is_a_length() {
        let r = roles(
            "amp * exp(-(x - mu) * (x - mu) / (2 * sigma * sigma)) + exp(-pow(x / s, 2)) \
             + exp(-x * x * pow(t, 2)) + exp(-x / (q * q))",
            &["amp", "mu", "sigma", "s", "t", "q"],
        );
        let length = Role::Rate {
            input: 0,
            power: -1,
        };
        assert_eq!(
            r[..4],
            [Role::Linear, Role::Location { input: 0 }, length, length]
        );
        assert_eq!(r[4], Role::Rate { input: 0, power: 1 });
        assert_eq!(r[5], Role::Other, "q² a length of x: q is no power of x");
    }

    #[test]
    fn a_product_of_two_parameters_is_linear_in_one_only() {
        assert_eq!(
            roles("a * b * exp(-x)", &["a", "b"]),
            [Role::Linear, Role::Other]
        );
    }

    #[test]
    fn divisors_powers_and_other_uses() {
        let r = roles(
            "a / (1 + exp(-(x - c) / s)) + x * x * q + sin(w * x) + pow(x, 2) / h + exp(-u) * x + v * v",
            &["a", "c", "s", "q", "w", "h", "u", "v"],
        );
        assert_eq!(r[0], Role::Linear);
        assert_eq!(r[1], Role::Location { input: 0 });
        assert_eq!(
            r[2],
            Role::Rate {
                input: 0,
                power: -1
            }
        );
        assert_eq!(r[3], Role::Linear);
        assert_eq!(r[4], Role::Rate { input: 0, power: 1 });
        assert_eq!(
            r[5],
            Role::Rate {
                input: 0,
                power: -2
            }
        );
        assert_eq!(r[6], Role::Other);
        assert_eq!(r[7], Role::Other);
    }

    #[test]
    fn two_predictors_and_a_parameter_on_both() {
        let r = roles(
            "exp(-k * x[0]) + exp(-m * x[1]) + exp(-z * (x[0] + x[1])) + exp(-t * x[0] - t * x[1])",
            &["k", "m", "z", "t"],
        );
        assert_eq!(r[0], Role::Rate { input: 0, power: 1 });
        assert_eq!(r[1], Role::Rate { input: 1, power: 1 });
        assert_eq!(r[2], Role::Other);
        assert_eq!(r[3], Role::Other);
    }
}

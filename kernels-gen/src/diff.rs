//! Symbolic differentiation on the hash-consed graph.
//!
//! Derivatives are built as new nodes in the same [`Graph`], so every subexpression that the
//! value and the derivatives have in common (an `exp(...)` factor, a shared denominator) is one
//! node, computed once by every emitter.
//!
//! At points where a function is not differentiable the derivative follows the branch Rust's
//! own evaluation takes there: `abs` differentiates as `if a < 0 { -da } else { da }`,
//! `a.min(b)` as `if a < b || b.is_nan() { da } else { db }` and `a.max(b)` likewise with
//! `a > b` (a tie takes the second argument's derivative, a NaN `b` the first's), and `if`/`else` differentiates each arm under the same
//! condition.

use crate::ir::{BinaryOp, CmpOp, Graph, Node, NodeId, UnaryOp};

/// Returns `d(expr)/d(param j)`, adding the needed nodes to `g`.
pub fn derivative(g: &mut Graph, expr: NodeId, j: u32) -> NodeId {
    let ranges = param_ranges(g, expr);
    let mut memo = Memo::new(expr);
    let mut unlimited = usize::MAX;
    d(g, expr, j, &ranges, &mut memo, &mut unlimited).unwrap_or(NO_NODE)
}

/// Returns the derivatives of `expr` with respect to parameters `0..n_params`.
pub fn gradient(g: &mut Graph, expr: NodeId, n_params: u32) -> Vec<NodeId> {
    gradient_within(g, expr, n_params, usize::MAX, usize::MAX).unwrap_or_default()
}

/// Like [`gradient`], but gives up (`None`) once the graph has more than `max_nodes` nodes or
/// the walks have visited more than `max_visits` nodes in all (each derivative walks the part
/// of the value that depends on its parameter). Each derivative adds at most a few nodes per
/// node of the value, so the graph never gets much beyond the limit before the check.
pub fn gradient_within(
    g: &mut Graph,
    expr: NodeId,
    n_params: u32,
    max_nodes: usize,
    max_visits: usize,
) -> Option<Vec<NodeId>> {
    let mut visits_left = max_visits;
    let ranges = param_ranges(g, expr);
    let mut memo = Memo::new(expr);
    let mut grad = Vec::with_capacity(n_params as usize);
    for j in 0..n_params {
        if g.len() > max_nodes {
            return None;
        }
        memo.clear();
        grad.push(d(g, expr, j, &ranges, &mut memo, &mut visits_left)?);
    }
    (g.len() <= max_nodes).then_some(grad)
}

/// Not a node.
const NO_NODE: NodeId = NodeId(u32::MAX);

/// The derivatives found so far in one walk, by node id; clearing is O(1) (entries of
/// earlier walks carry an older generation).
struct Memo {
    entries: Vec<(u32, NodeId)>,
    generation: u32,
}

impl Memo {
    fn new(root: NodeId) -> Self {
        Memo {
            entries: vec![(0, NO_NODE); root.index() + 1],
            generation: 1,
        }
    }

    fn clear(&mut self) {
        self.generation += 1;
    }

    fn get(&self, id: NodeId) -> Option<NodeId> {
        let (generation, d) = self.entries[id.index()];
        (generation == self.generation).then_some(d)
    }

    fn set(&mut self, id: NodeId, d: NodeId) {
        self.entries[id.index()] = (self.generation, d);
    }

    /// A derivative known to be done (the walk's children are finished before their parent).
    fn done(&self, id: NodeId) -> NodeId {
        self.get(id).unwrap_or(NO_NODE)
    }
}

/// For every node up to `root`, the smallest and largest parameter it depends on (an empty
/// range, `(u32::MAX, 0)`, for none). Ids are topological, so one pass in id order does it.
fn param_ranges(g: &Graph, root: NodeId) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(root.index() + 1);
    for node in &g.nodes()[..=root.index()] {
        let r = match *node {
            Node::Param(k) => (k, k),
            n => n.children().fold((u32::MAX, 0), |(lo, hi), c| {
                let (clo, chi) = ranges[c.index()];
                (lo.min(clo), hi.max(chi))
            }),
        };
        ranges.push(r);
    }
    ranges
}

/// `d(root)/d(param j)`, memoized. A post-order walk with an explicit stack (the graph can be
/// as deep as it is large); it visits children in the order a recursive walk would, first
/// operand first, so nodes are created in the same order and the graph is the same. A
/// subgraph that cannot depend on parameter `j` is not walked: its derivative is zero, and
/// the walk would only have made the zero constant.
fn d(
    g: &mut Graph,
    root: NodeId,
    j: u32,
    ranges: &[(u32, u32)],
    memo: &mut Memo,
    visits_left: &mut usize,
) -> Option<NodeId> {
    // The zero constant, once made (it is made where a recursive walk would first make it).
    let mut zero = None;
    let mut zero_of = |g: &mut Graph| *zero.get_or_insert_with(|| g.constant(0.0));
    let mut stack = vec![(root, false)];
    while let Some((id, children_done)) = stack.pop() {
        if memo.get(id).is_some() {
            continue;
        }
        *visits_left = visits_left.checked_sub(1)?;
        let (lo, hi) = ranges[id.index()];
        if j < lo || j > hi {
            let z = zero_of(g);
            memo.set(id, z);
            continue;
        }
        let node = *g.node(id);
        if !children_done {
            stack.push((id, true));
            match node {
                Node::Select(_, a, b) | Node::Binary(_, a, b) => {
                    stack.push((b, false));
                    stack.push((a, false));
                }
                Node::Unary(_, a) => stack.push((a, false)),
                _ => {}
            }
            continue;
        }
        let r = match node {
            Node::Const(_) | Node::Input(_) => zero_of(g),
            Node::Param(k) if k == j => g.constant(1.0),
            Node::Param(_) => zero_of(g),
            Node::Bool(_) | Node::Cmp(..) | Node::And(..) | Node::Or(..) | Node::Not(_) => {
                // Booleans carry no derivative; they only ever appear as conditions.
                zero_of(g)
            }
            Node::Select(c, a, b) => {
                let (da, db) = (memo.done(a), memo.done(b));
                g.select(c, da, db)
            }
            Node::Unary(op, a) => {
                let da = memo.done(a);
                if g.as_const(da) == Some(0.0) {
                    g.constant(0.0)
                } else {
                    let f = unary_derivative(g, op, a, id);
                    g.mul(f, da)
                }
            }
            Node::Binary(op, a, b) => {
                let (da, db) = (memo.done(a), memo.done(b));
                binary_derivative(g, op, a, b, id, da, db)
            }
        };
        memo.set(id, r);
    }
    Some(memo.done(root))
}

/// `d op(a) / da`, where `value` is the node `op(a)` itself (reused where the derivative
/// contains the function, as for exp, sqrt and tanh).
fn unary_derivative(g: &mut Graph, op: UnaryOp, a: NodeId, value: NodeId) -> NodeId {
    match op {
        UnaryOp::Neg => g.constant(-1.0),
        UnaryOp::Exp => value,
        UnaryOp::Ln => {
            let one = g.constant(1.0);
            g.div(one, a)
        }
        UnaryOp::Log10 => {
            let k = g.constant(std::f64::consts::LN_10);
            let den = g.mul(a, k);
            let one = g.constant(1.0);
            g.div(one, den)
        }
        UnaryOp::Log2 => {
            let k = g.constant(std::f64::consts::LN_2);
            let den = g.mul(a, k);
            let one = g.constant(1.0);
            g.div(one, den)
        }
        UnaryOp::Sqrt => {
            let den = g.scale(2.0, value);
            let one = g.constant(1.0);
            g.div(one, den)
        }
        UnaryOp::Cbrt => {
            let sq = g.mul(value, value);
            let den = g.scale(3.0, sq);
            let one = g.constant(1.0);
            g.div(one, den)
        }
        UnaryOp::Sin => g.unary(UnaryOp::Cos, a),
        UnaryOp::Cos => {
            let s = g.unary(UnaryOp::Sin, a);
            g.neg(s)
        }
        UnaryOp::Tan => {
            let one = g.constant(1.0);
            let sq = g.mul(value, value);
            g.add(one, sq)
        }
        UnaryOp::Asin | UnaryOp::Acos => {
            let one = g.constant(1.0);
            let sq = g.mul(a, a);
            let diff = g.sub(one, sq);
            let root = g.unary(UnaryOp::Sqrt, diff);
            let inv = g.div(one, root);
            if op == UnaryOp::Acos { g.neg(inv) } else { inv }
        }
        UnaryOp::Atan => {
            let one = g.constant(1.0);
            let sq = g.mul(a, a);
            let den = g.add(one, sq);
            g.div(one, den)
        }
        UnaryOp::Sinh => g.unary(UnaryOp::Cosh, a),
        UnaryOp::Cosh => g.unary(UnaryOp::Sinh, a),
        UnaryOp::Tanh => {
            let one = g.constant(1.0);
            let sq = g.mul(value, value);
            g.sub(one, sq)
        }
        UnaryOp::Abs => {
            let zero = g.constant(0.0);
            let neg = g.cmp(CmpOp::Lt, a, zero);
            let m1 = g.constant(-1.0);
            let p1 = g.constant(1.0);
            g.select(neg, m1, p1)
        }
        UnaryOp::Erf => {
            // (2/√π)·exp(−a²)
            let sq = g.mul(a, a);
            let minus = g.neg(sq);
            let e = g.unary(UnaryOp::Exp, minus);
            g.scale(std::f64::consts::FRAC_2_SQRT_PI, e)
        }
        UnaryOp::Erfc => {
            // −(2/√π)·exp(−a²)
            let sq = g.mul(a, a);
            let minus = g.neg(sq);
            let e = g.unary(UnaryOp::Exp, minus);
            g.scale(-std::f64::consts::FRAC_2_SQRT_PI, e)
        }
        UnaryOp::Powi(n) => {
            let p = g.unary(UnaryOp::Powi(n - 1), a);
            g.scale(f64::from(n), p)
        }
    }
}

fn binary_derivative(
    g: &mut Graph,
    op: BinaryOp,
    a: NodeId,
    b: NodeId,
    value: NodeId,
    da: NodeId,
    db: NodeId,
) -> NodeId {
    let zero_da = g.as_const(da) == Some(0.0);
    let zero_db = g.as_const(db) == Some(0.0);
    if zero_da && zero_db {
        return g.constant(0.0);
    }
    match op {
        BinaryOp::Add => g.add(da, db),
        BinaryOp::Sub => g.sub(da, db),
        BinaryOp::Mul => {
            let l = g.mul(da, b);
            let r = g.mul(a, db);
            g.add(l, r)
        }
        BinaryOp::Div => {
            // d(a/b) = da/b - (a/b) * db/b, which reuses the quotient node.
            let l = g.div(da, b);
            let q = g.mul(value, db);
            let r = g.div(q, b);
            g.sub(l, r)
        }
        BinaryOp::Powf => {
            // d(a^b) = b a^(b-1) da + a^b ln(a) db; each term only when its factor is live.
            let left = if zero_da {
                g.constant(0.0)
            } else {
                let one = g.constant(1.0);
                let bm1 = g.sub(b, one);
                let p = g.binary(BinaryOp::Powf, a, bm1);
                let t = g.mul(b, p);
                g.mul(t, da)
            };
            let right = if zero_db {
                g.constant(0.0)
            } else {
                let ln = g.unary(UnaryOp::Ln, a);
                let t = g.mul(value, ln);
                let term = g.mul(t, db);
                // An exponent whose derivative is zero only on some branches (an `if`) must not
                // turn `ln(negative base) * 0` into NaN on those branches.
                if matches!(g.node(db), Node::Select(..)) {
                    let zero = g.constant(0.0);
                    let inactive = g.cmp(CmpOp::Eq, db, zero);
                    g.select(inactive, zero, term)
                } else {
                    term
                }
            };
            g.add(left, right)
        }
        BinaryOp::Atan2 => {
            // atan2(y, x): (x dy - y dx) / (x^2 + y^2)
            let xdy = g.mul(b, da);
            let ydx = g.mul(a, db);
            let num = g.sub(xdy, ydx);
            let xx = g.mul(b, b);
            let yy = g.mul(a, a);
            let den = g.add(xx, yy);
            g.div(num, den)
        }
        BinaryOp::Hypot => {
            let l = g.mul(a, da);
            let r = g.mul(b, db);
            let num = g.add(l, r);
            g.div(num, value)
        }
        BinaryOp::Min | BinaryOp::Max => {
            // Rust returns `a` when `b` is NaN, so the derivative follows `a` there too.
            let order = if op == BinaryOp::Min {
                CmpOp::Lt
            } else {
                CmpOp::Gt
            };
            let c = g.cmp(order, a, b);
            let b_nan = g.cmp(CmpOp::Ne, b, b);
            let take_a = g.or(c, b_nan);
            g.select(take_a, da, db)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::eval_nodes;

    #[test]
    fn derivative_of_exponential_decay() {
        // a * exp(-b * x) + c
        let mut g = Graph::new();
        let x = g.input(0);
        let (a, b, c) = (g.param(0), g.param(1), g.param(2));
        let bx = g.mul(b, x);
        let nbx = g.neg(bx);
        let e = g.unary(UnaryOp::Exp, nbx);
        let ae = g.mul(a, e);
        let f = g.add(ae, c);
        let grad = gradient(&mut g, f, 3);
        // d/da is the exp node itself: shared, not rebuilt.
        assert_eq!(grad[0], e);
        let vals = eval_nodes(
            &g,
            &[f, grad[0], grad[1], grad[2]],
            &[0.5],
            &[2.0, 3.0, 1.0],
        );
        let ex = (-1.5f64).exp();
        assert_eq!(vals[0], 2.0 * ex + 1.0);
        assert_eq!(vals[1], ex);
        assert!((vals[2] - (-2.0 * 0.5 * ex)).abs() < 1e-15);
        assert_eq!(vals[3], 1.0);
    }
}

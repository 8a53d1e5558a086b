//! The hash-consed expression DAG every model is compiled into.
//!
//! A [`Graph`] is an arena of [`Node`]s. Building a node that already exists returns the
//! existing [`NodeId`] (hash-consing), so every subexpression shared between the model value
//! and its derivatives is stored, and later computed, exactly once. The constructors also
//! simplify: constants are folded and the usual algebraic identities (`x + 0`, `x * 1`,
//! `x * 0`, `--x`, ...) are applied as nodes are made, so no separate simplification pass is
//! needed and the graph is always in its simplified, canonical form.
//!
//! Children are always created before their parents, so node ids are a topological order.

use std::collections::HashMap;

/// Index of a node in a [`Graph`]. Ids are dense and topologically ordered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The position of this node in its graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Real-valued functions of one argument.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UnaryOp {
    /// `-a`
    Neg,
    /// `a.exp()`
    Exp,
    /// `a.ln()`
    Ln,
    /// `a.log10()`
    Log10,
    /// `a.log2()`
    Log2,
    /// `a.sqrt()`
    Sqrt,
    /// `a.cbrt()`
    Cbrt,
    /// `a.sin()`
    Sin,
    /// `a.cos()`
    Cos,
    /// `a.tan()`
    Tan,
    /// `a.asin()`
    Asin,
    /// `a.acos()`
    Acos,
    /// `a.atan()`
    Atan,
    /// `a.sinh()`
    Sinh,
    /// `a.cosh()`
    Cosh,
    /// `a.tanh()`
    Tanh,
    /// `a.abs()`
    Abs,
    /// The error function `erf(a)` (`libm::erf` on the CPU). Expression strings only: Rust has
    /// no stable `f64::erf`, so `#[model]` functions cannot spell it.
    Erf,
    /// The complementary error function `erfc(a) = 1 − erf(a)`, computed directly
    /// (`libm::erfc` on the CPU), so that it keeps its digits in the tail where `1 − erf`
    /// cancels. Expression strings only, as [`UnaryOp::Erf`].
    Erfc,
    /// `a.powi(n)` with a constant integer exponent.
    Powi(i32),
}

/// Real-valued functions of two arguments.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a.powf(b)`
    Powf,
    /// `a.atan2(b)` (Rust's receiver order: `y.atan2(x)`)
    Atan2,
    /// `a.hypot(b)`
    Hypot,
    /// `a.min(b)`
    Min,
    /// `a.max(b)`
    Max,
}

/// Comparisons between two reals, giving a boolean.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// Applies the comparison with IEEE semantics (any comparison with NaN but `!=` is false).
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }

    /// The operator as written in Rust, C and WGSL.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

/// One node of the expression DAG. Real-valued unless noted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Node {
    /// A real constant, stored as its bit pattern so nodes can be hashed.
    Const(u64),
    /// A boolean constant.
    Bool(bool),
    /// Component `k` of the independent variable.
    Input(u32),
    /// Flattened parameter `j`.
    Param(u32),
    /// A function of one real.
    Unary(UnaryOp, NodeId),
    /// A function of two reals.
    Binary(BinaryOp, NodeId, NodeId),
    /// A comparison (boolean).
    Cmp(CmpOp, NodeId, NodeId),
    /// Logical and of two booleans (boolean).
    And(NodeId, NodeId),
    /// Logical or of two booleans (boolean).
    Or(NodeId, NodeId),
    /// Logical negation (boolean).
    Not(NodeId),
    /// `if cond { then } else { otherwise }`: both arms are pure, the condition picks one.
    Select(NodeId, NodeId, NodeId),
}

impl Node {
    /// The children of this node, in order.
    pub fn children(&self) -> impl Iterator<Item = NodeId> {
        let (a, b, c) = match *self {
            Node::Const(_) | Node::Bool(_) | Node::Input(_) | Node::Param(_) => (None, None, None),
            Node::Unary(_, a) | Node::Not(a) => (Some(a), None, None),
            Node::Binary(_, a, b) | Node::Cmp(_, a, b) | Node::And(a, b) | Node::Or(a, b) => {
                (Some(a), Some(b), None)
            }
            Node::Select(c, a, b) => (Some(c), Some(a), Some(b)),
        };
        a.into_iter().chain(b).chain(c)
    }

    /// Whether this node is boolean-valued.
    pub fn is_bool(&self) -> bool {
        matches!(
            self,
            Node::Bool(_) | Node::Cmp(..) | Node::And(..) | Node::Or(..) | Node::Not(_)
        )
    }
}

/// Applies a unary op with Rust's `f64` semantics (`erf` and `erfc` being `libm::erf` and
/// `libm::erfc`, the ports of musl's, accurate to about one ulp).
pub fn apply_unary(op: UnaryOp, a: f64) -> f64 {
    match op {
        UnaryOp::Neg => -a,
        UnaryOp::Exp => a.exp(),
        UnaryOp::Ln => a.ln(),
        UnaryOp::Log10 => a.log10(),
        UnaryOp::Log2 => a.log2(),
        UnaryOp::Sqrt => a.sqrt(),
        UnaryOp::Cbrt => a.cbrt(),
        UnaryOp::Sin => a.sin(),
        UnaryOp::Cos => a.cos(),
        UnaryOp::Tan => a.tan(),
        UnaryOp::Asin => a.asin(),
        UnaryOp::Acos => a.acos(),
        UnaryOp::Atan => a.atan(),
        UnaryOp::Sinh => a.sinh(),
        UnaryOp::Cosh => a.cosh(),
        UnaryOp::Tanh => a.tanh(),
        UnaryOp::Abs => a.abs(),
        UnaryOp::Erf => libm::erf(a),
        UnaryOp::Erfc => libm::erfc(a),
        UnaryOp::Powi(n) => a.powi(n),
    }
}

/// Applies a binary op with Rust's `f64` semantics.
pub fn apply_binary(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Powf => a.powf(b),
        BinaryOp::Atan2 => a.atan2(b),
        BinaryOp::Hypot => a.hypot(b),
        BinaryOp::Min => a.min(b),
        BinaryOp::Max => a.max(b),
    }
}

/// A hash-consed, self-simplifying expression DAG.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    index: HashMap<Node, NodeId>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// All nodes, in topological (creation) order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn intern(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = NodeId(u32::try_from(self.nodes.len()).expect("expression graph over 2^32 nodes"));
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    /// The value of a constant node, if it is one.
    pub fn as_const(&self, id: NodeId) -> Option<f64> {
        match self.nodes[id.index()] {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    fn is_const(&self, id: NodeId, v: f64) -> bool {
        self.as_const(id) == Some(v)
    }

    /// A real constant. Negative zero is kept distinct from zero.
    pub fn constant(&mut self, v: f64) -> NodeId {
        self.intern(Node::Const(v.to_bits()))
    }

    /// A boolean constant.
    pub fn boolean(&mut self, v: bool) -> NodeId {
        self.intern(Node::Bool(v))
    }

    /// Component `k` of the independent variable.
    pub fn input(&mut self, k: u32) -> NodeId {
        self.intern(Node::Input(k))
    }

    /// Flattened parameter `j`.
    pub fn param(&mut self, j: u32) -> NodeId {
        self.intern(Node::Param(j))
    }

    /// Folds to a constant when the result is finite (non-finite constants are left to run
    /// time, so no emitter ever has to spell an infinity or a NaN).
    fn fold(&mut self, v: f64) -> Option<NodeId> {
        v.is_finite().then(|| self.constant(v))
    }

    /// `op(a)`, simplified.
    pub fn unary(&mut self, op: UnaryOp, a: NodeId) -> NodeId {
        if let Some(c) = self.as_const(a)
            && let Some(id) = self.fold(apply_unary(op, c))
        {
            return id;
        }
        match (op, self.nodes[a.index()]) {
            (UnaryOp::Neg, Node::Unary(UnaryOp::Neg, inner)) => return inner,
            (UnaryOp::Neg, Node::Binary(BinaryOp::Sub, x, y)) => {
                return self.binary(BinaryOp::Sub, y, x);
            }
            (UnaryOp::Abs, Node::Unary(UnaryOp::Abs | UnaryOp::Neg, inner)) => {
                return self.unary(UnaryOp::Abs, inner);
            }
            (UnaryOp::Powi(0), _) => return self.constant(1.0),
            (UnaryOp::Powi(1), _) => return a,
            _ => {}
        }
        self.intern(Node::Unary(op, a))
    }

    /// `op(a, b)`, simplified.
    pub fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b))
            && let Some(id) = self.fold(apply_binary(op, x, y))
        {
            return id;
        }
        let neg_of = |g: &Graph, id: NodeId| match g.nodes[id.index()] {
            Node::Unary(UnaryOp::Neg, inner) => Some(inner),
            _ => None,
        };
        match op {
            BinaryOp::Add => {
                if self.is_const(a, 0.0) {
                    return b;
                }
                if self.is_const(b, 0.0) {
                    return a;
                }
                if let Some(nb) = neg_of(self, b) {
                    return self.binary(BinaryOp::Sub, a, nb);
                }
                if let Some(na) = neg_of(self, a) {
                    return self.binary(BinaryOp::Sub, b, na);
                }
                // Addition is exactly commutative in IEEE arithmetic: order operands canonically.
                let (a, b) = if b < a { (b, a) } else { (a, b) };
                self.intern(Node::Binary(op, a, b))
            }
            BinaryOp::Sub => {
                if self.is_const(b, 0.0) {
                    return a;
                }
                if self.is_const(a, 0.0) {
                    return self.unary(UnaryOp::Neg, b);
                }
                if a == b {
                    return self.constant(0.0);
                }
                if let Some(nb) = neg_of(self, b) {
                    return self.binary(BinaryOp::Add, a, nb);
                }
                self.intern(Node::Binary(op, a, b))
            }
            BinaryOp::Mul => {
                if self.is_const(a, 0.0) || self.is_const(b, 0.0) {
                    return self.constant(0.0);
                }
                if self.is_const(a, 1.0) {
                    return b;
                }
                if self.is_const(b, 1.0) {
                    return a;
                }
                if self.is_const(a, -1.0) {
                    return self.unary(UnaryOp::Neg, b);
                }
                if self.is_const(b, -1.0) {
                    return self.unary(UnaryOp::Neg, a);
                }
                if let (Some(na), Some(nb)) = (neg_of(self, a), neg_of(self, b)) {
                    return self.binary(BinaryOp::Mul, na, nb);
                }
                if let Some(na) = neg_of(self, a) {
                    let m = self.binary(BinaryOp::Mul, na, b);
                    return self.unary(UnaryOp::Neg, m);
                }
                if let Some(nb) = neg_of(self, b) {
                    let m = self.binary(BinaryOp::Mul, a, nb);
                    return self.unary(UnaryOp::Neg, m);
                }
                // Multiplication is exactly commutative in IEEE arithmetic.
                let (a, b) = if b < a { (b, a) } else { (a, b) };
                self.intern(Node::Binary(op, a, b))
            }
            BinaryOp::Div => {
                if self.is_const(a, 0.0) {
                    return self.constant(0.0);
                }
                if self.is_const(b, 1.0) {
                    return a;
                }
                if self.is_const(b, -1.0) {
                    return self.unary(UnaryOp::Neg, a);
                }
                if let Some(na) = neg_of(self, a) {
                    let d = self.binary(BinaryOp::Div, na, b);
                    return self.unary(UnaryOp::Neg, d);
                }
                self.intern(Node::Binary(op, a, b))
            }
            BinaryOp::Powf => {
                if self.is_const(b, 1.0) {
                    return a;
                }
                if self.is_const(b, 0.0) {
                    return self.constant(1.0);
                }
                self.intern(Node::Binary(op, a, b))
            }
            BinaryOp::Min | BinaryOp::Max if a == b => a,
            _ => self.intern(Node::Binary(op, a, b)),
        }
    }

    /// `a + b`
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Add, a, b)
    }

    /// `a - b`
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Sub, a, b)
    }

    /// `a * b`
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Mul, a, b)
    }

    /// `a / b`
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.binary(BinaryOp::Div, a, b)
    }

    /// `-a`
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        self.unary(UnaryOp::Neg, a)
    }

    /// `c * a` for a constant `c`.
    pub fn scale(&mut self, c: f64, a: NodeId) -> NodeId {
        let c = self.constant(c);
        self.mul(c, a)
    }

    /// A comparison, folded when both sides are constant.
    pub fn cmp(&mut self, op: CmpOp, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.as_const(a), self.as_const(b)) {
            return self.boolean(op.apply(x, y));
        }
        self.intern(Node::Cmp(op, a, b))
    }

    fn as_bool(&self, id: NodeId) -> Option<bool> {
        match self.nodes[id.index()] {
            Node::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// `a && b`
    pub fn and(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_bool(a), self.as_bool(b)) {
            (Some(false), _) | (_, Some(false)) => self.boolean(false),
            (Some(true), _) => b,
            (_, Some(true)) => a,
            _ => self.intern(Node::And(a, b)),
        }
    }

    /// `a || b`
    pub fn or(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_bool(a), self.as_bool(b)) {
            (Some(true), _) | (_, Some(true)) => self.boolean(true),
            (Some(false), _) => b,
            (_, Some(false)) => a,
            _ => self.intern(Node::Or(a, b)),
        }
    }

    /// `!a`
    pub fn not(&mut self, a: NodeId) -> NodeId {
        match self.nodes[a.index()] {
            Node::Bool(v) => self.boolean(!v),
            Node::Not(inner) => inner,
            _ => self.intern(Node::Not(a)),
        }
    }

    /// `if cond { then } else { otherwise }`, simplified when the condition is constant or
    /// both arms are the same.
    pub fn select(&mut self, cond: NodeId, then: NodeId, otherwise: NodeId) -> NodeId {
        if then == otherwise {
            return then;
        }
        match self.nodes[cond.index()] {
            Node::Bool(true) => then,
            Node::Bool(false) => otherwise,
            Node::Not(inner) => self.select(inner, otherwise, then),
            _ => self.intern(Node::Select(cond, then, otherwise)),
        }
    }

    /// Whether `id` depends on parameter `j` (or on any parameter when `j` is `None`).
    pub fn depends_on_param(&self, id: NodeId, j: Option<u32>) -> bool {
        let mut seen = vec![false; id.index() + 1];
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.index()], true) {
                continue;
            }
            match self.nodes[n.index()] {
                Node::Param(k) if j.is_none_or(|j| j == k) => return true,
                node => stack.extend(node.children()),
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_consing_shares_nodes() {
        let mut g = Graph::new();
        let x = g.input(0);
        let a = g.param(0);
        let e1 = g.mul(a, x);
        let e2 = g.mul(x, a);
        assert_eq!(e1, e2, "commutative products are one node");
        let s1 = g.unary(UnaryOp::Exp, e1);
        let s2 = g.unary(UnaryOp::Exp, e2);
        assert_eq!(s1, s2);
        assert_eq!(g.len(), 4);
    }

    #[test]
    fn identities_and_folding() {
        let mut g = Graph::new();
        let x = g.input(0);
        let zero = g.constant(0.0);
        let one = g.constant(1.0);
        assert_eq!(g.add(x, zero), x);
        assert_eq!(g.mul(one, x), x);
        assert_eq!(g.mul(zero, x), zero);
        let nx = g.neg(x);
        assert_eq!(g.neg(nx), x);
        let two = g.constant(2.0);
        let three = g.constant(3.0);
        let five = g.add(two, three);
        assert_eq!(g.as_const(five), Some(5.0));
        // Division by zero is not folded: non-finite constants stay a run-time matter.
        let inf = g.div(one, zero);
        assert_eq!(g.as_const(inf), None);
    }

    #[test]
    fn select_simplifies() {
        let mut g = Graph::new();
        let x = g.input(0);
        let a = g.param(0);
        let t = g.boolean(true);
        assert_eq!(g.select(t, x, a), x);
        let c = g.cmp(CmpOp::Lt, x, a);
        assert_eq!(g.select(c, x, x), x);
        let nc = g.not(c);
        assert_eq!(g.select(nc, x, a), g.select(c, a, x));
    }
}

//! A small interpreter for scheduled graphs, with Rust's `f64` semantics.
//!
//! It serves models built at run time (from a string) on the CPU, and it is the reference the
//! emitted code is tested against.

use crate::ir::{Graph, Node, NodeId, UnaryOp, apply_binary, apply_unary};
use crate::schedule::Schedule;

/// A compiled evaluation tape: a schedule plus a scratch buffer.
#[derive(Clone, Debug)]
pub struct Tape {
    ops: Vec<Node>,
    outputs: Vec<usize>,
}

impl Tape {
    /// Builds a tape computing `outputs`.
    pub fn new(g: &Graph, outputs: &[NodeId]) -> Self {
        let s = Schedule::new(g, outputs);
        // Re-express every child as its slot in the tape, so evaluation indexes a dense buffer.
        let remap = |id: NodeId| NodeId(s.slot(id) as u32);
        let ops = s
            .order
            .iter()
            .map(|&id| match *g.node(id) {
                Node::Unary(op, a) => Node::Unary(op, remap(a)),
                Node::Binary(op, a, b) => Node::Binary(op, remap(a), remap(b)),
                Node::Cmp(op, a, b) => Node::Cmp(op, remap(a), remap(b)),
                Node::And(a, b) => Node::And(remap(a), remap(b)),
                Node::Or(a, b) => Node::Or(remap(a), remap(b)),
                Node::Not(a) => Node::Not(remap(a)),
                Node::Select(c, a, b) => Node::Select(remap(c), remap(a), remap(b)),
                leaf => leaf,
            })
            .collect();
        let outputs = outputs.iter().map(|&o| s.slot(o)).collect();
        Tape { ops, outputs }
    }

    /// Number of values the tape computes (the scratch length [`Tape::eval_into`] needs).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the tape is empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Evaluates at input `x` and parameters `p`, writing the outputs to `out`, using `scratch`
    /// (resized as needed) for intermediate values. Booleans are held as 0.0 / 1.0.
    pub fn eval_into(&self, x: &[f64], p: &[f64], scratch: &mut Vec<f64>, out: &mut [f64]) {
        scratch.clear();
        scratch.reserve(self.ops.len());
        for op in &self.ops {
            let mut args = [0.0; 3];
            for (a, c) in args.iter_mut().zip(op.children()) {
                *a = scratch[c.index()];
            }
            scratch.push(apply_node(*op, args, x, p, apply_unary));
        }
        for (o, &slot) in out.iter_mut().zip(&self.outputs) {
            *o = scratch[slot];
        }
    }
}

/// The value of `node` at input `x` and parameters `p`, its children's values being `args` in
/// order (those past its arity ignored), with Rust's `f64` semantics except for the unary
/// functions, which `unary` computes (the interpreter passes [`apply_unary`]; the runtime's
/// block code replaces `exp` and `ln`). Booleans are held as 0.0 / 1.0.
///
/// ```
/// use kernels_gen::eval::apply_node;
/// use kernels_gen::ir::{Node, apply_unary};
/// assert_eq!(apply_node(Node::Param(1), [0.0; 3], &[], &[4.0, 5.0], apply_unary), 5.0);
/// ```
pub fn apply_node(
    node: Node,
    [a, b, c]: [f64; 3],
    x: &[f64],
    p: &[f64],
    unary: impl Fn(UnaryOp, f64) -> f64,
) -> f64 {
    let truth = |v: bool| if v { 1.0 } else { 0.0 };
    match node {
        Node::Const(bits) => f64::from_bits(bits),
        Node::Bool(v) => truth(v),
        Node::Input(k) => x[k as usize],
        Node::Param(j) => p[j as usize],
        Node::Unary(op, _) => unary(op, a),
        Node::Binary(op, _, _) => apply_binary(op, a, b),
        Node::Cmp(op, _, _) => truth(op.apply(a, b)),
        Node::And(..) => truth(a != 0.0 && b != 0.0),
        Node::Or(..) => truth(a != 0.0 || b != 0.0),
        Node::Not(_) => truth(a == 0.0),
        Node::Select(..) => {
            if a != 0.0 {
                b
            } else {
                c
            }
        }
    }
}

/// Evaluates `outputs` once (convenience for tests and tools; build a [`Tape`] for loops).
pub fn eval_nodes(g: &Graph, outputs: &[NodeId], x: &[f64], p: &[f64]) -> Vec<f64> {
    let tape = Tape::new(g, outputs);
    let mut out = vec![0.0; outputs.len()];
    tape.eval_into(x, p, &mut Vec::new(), &mut out);
    out
}

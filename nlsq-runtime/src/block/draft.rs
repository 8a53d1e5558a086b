//! A block tape before slots are assigned: instructions on virtual registers, and the fused
//! pairs of operations one instruction may compute.

use kernels_gen::ir::{BinaryOp, Node};

/// An operand before slots are assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// The result of instruction `v` (its virtual register).
    Reg(u32),
    /// Predictor `k`.
    Input(u32),
    /// Uniform value `u`.
    Uniform(u32),
}

/// An operation before slots are assigned.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DraftOp {
    /// Every lane gets uniform value `u`.
    Splat(u32),
    /// A graph operation on `args` (those past its arity unused).
    Node(Node, [Arg; 3]),
    /// Two operations in one lane loop, on `args` (see [`Fused`]).
    Fused(Fused, [Arg; 3]),
    /// An operation fused into its only reader.
    Removed,
}

/// Two operations (or three, see [`Outer::NegExp`]) in one lane loop: `outer(inner(a, b), c)`,
/// the inner result never stored. Per lane the same roundings as the operations apart, so the
/// same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fused {
    pub inner: Inner,
    pub outer: Outer,
}

/// The first operation of a fused pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inner {
    /// `a ∘ b` (`+ - * /`).
    Binary(BinaryOp),
    /// `-a`.
    Neg,
    /// `a.powi(2)`, that is `a * a`.
    Square,
    /// `a.powi(3)`, that is `a * (a * a)`.
    Cube,
}

/// The second operation of a fused pair, `t` being the first one's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outer {
    /// `t ∘ c` (`+ - * /`).
    Left(BinaryOp),
    /// `c ∘ t` (`+ - * /`).
    Right(BinaryOp),
    /// `-t`.
    Neg,
    /// `exp(t)`, the block `exp`.
    Exp,
    /// `exp(-t)` (three operations: the pair's inner one, a negation and `exp`).
    NegExp,
    /// `t + t` (the derivative of a square, `d(u·u) = u' u + u u'`, as the graph folds it).
    Twice,
}

/// Whether `op` is one of the four arithmetic operations, the ones fused.
pub(crate) fn arithmetic(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div
    )
}

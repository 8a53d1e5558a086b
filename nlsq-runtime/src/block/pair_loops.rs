//! The lane loops of paired operations (see `pair.rs`): a division (or its negation) and an
//! independent addition, subtraction or multiplication in one loop, each lane computing both
//! as the two instructions would: the same bits.

use super::loops::{Arg, Lane, Lanes, with_lanes};
use super::pair::First;
use kernels_gen::ir::BinaryOp;

/// `out = a / b` (or `-(a / b)`, as `first` says) and `out2 = c ∘ d` (`∘` = `op`) over the
/// block.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn pair(
    first: First,
    out: &mut Lanes,
    a: Arg<'_>,
    b: Arg<'_>,
    op: BinaryOp,
    out2: &mut Lanes,
    c: Arg<'_>,
    d: Arg<'_>,
) {
    with_lanes!(a, b, |a, b| {
        with_lanes!(c, d, |c, d| arithmetic(first, out, a, b, op, out2, c, d))
    })
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn arithmetic<A: Lane, B: Lane, C: Lane, D: Lane>(
    first: First,
    out: &mut Lanes,
    a: A,
    b: B,
    op: BinaryOp,
    out2: &mut Lanes,
    c: C,
    d: D,
) {
    let neg = |q: f64| -q;
    match (first, op) {
        (First::Div, BinaryOp::Add) => both(out, a, b, |q| q, out2, c, d, |x, y| x + y),
        (First::Div, BinaryOp::Sub) => both(out, a, b, |q| q, out2, c, d, |x, y| x - y),
        (First::Div, BinaryOp::Mul) => both(out, a, b, |q| q, out2, c, d, |x, y| x * y),
        (First::NegDiv, BinaryOp::Add) => both(out, a, b, neg, out2, c, d, |x, y| x + y),
        (First::NegDiv, BinaryOp::Sub) => both(out, a, b, neg, out2, c, d, |x, y| x - y),
        (First::NegDiv, BinaryOp::Mul) => both(out, a, b, neg, out2, c, d, |x, y| x * y),
        _ => unreachable!("only +, - and * are paired with a division"),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn both<A: Lane, B: Lane, C: Lane, D: Lane>(
    out: &mut Lanes,
    a: A,
    b: B,
    sign: impl Fn(f64) -> f64,
    out2: &mut Lanes,
    c: C,
    d: D,
    f: impl Fn(f64, f64) -> f64,
) {
    for i in 0..out.len() {
        out[i] = sign(a.at(i) / b.at(i));
        out2[i] = f(c.at(i), d.at(i));
    }
}

//! The lane loops of fused pairs of operations (see `fuse.rs`): `outer(inner(a, b), c)` in
//! each lane, the inner result kept in a register (the argument of [`exp_lanes`] when the
//! outer operation is `exp`). Each lane performs the two operations' roundings in order, as
//! the two instructions would: the same bits.

use super::draft::{Fused, Inner, Outer};
use super::exp_lanes::exp_lanes;
use super::loops::{Arg, Lane, Lanes, map2, map3, with_lanes};
use kernels_gen::ir::BinaryOp;

/// The fused pair `f` over the block: `a` and `b` are the inner operation's operands (`b`
/// unused after a negation), `c` the outer operation's other operand (unused by `-` and
/// `exp`).
#[inline(always)]
pub(crate) fn fused(f: Fused, out: &mut Lanes, a: Arg<'_>, b: Arg<'_>, c: Arg<'_>) {
    match f.inner {
        Inner::Neg => {
            let Arg::Lanes(a) = a else {
                unreachable!("a negated uniform value is uniform")
            };
            // After a negation only `exp` is fused (`fuse.rs`).
            exp_lanes(out, |i| -a[i]);
        }
        // Integer powers as the tape's own loops compute them (`lanes.rs`).
        Inner::Square | Inner::Cube => {
            let Arg::Lanes(a) = a else {
                unreachable!("a power of a uniform value is uniform")
            };
            if f.inner == Inner::Square {
                then(f.outer, out, a, 0.0, c, |x, _| x * x);
            } else {
                then(f.outer, out, a, 0.0, c, |x, _| x * (x * x));
            }
        }
        Inner::Binary(op) => with_lanes!(a, b, |a, b| inner(op, f.outer, out, a, b, c)),
    }
}

#[inline(always)]
fn inner<A: Lane, B: Lane>(op: BinaryOp, outer: Outer, out: &mut Lanes, a: A, b: B, c: Arg<'_>) {
    match op {
        BinaryOp::Add => then(outer, out, a, b, c, |x, y| x + y),
        BinaryOp::Sub => then(outer, out, a, b, c, |x, y| x - y),
        BinaryOp::Mul => then(outer, out, a, b, c, |x, y| x * y),
        BinaryOp::Div => then(outer, out, a, b, c, |x, y| x / y),
        _ => unreachable!("only arithmetic is fused"),
    }
}

#[inline(always)]
fn then<A: Lane, B: Lane>(
    outer: Outer,
    out: &mut Lanes,
    a: A,
    b: B,
    c: Arg<'_>,
    f: impl Fn(f64, f64) -> f64 + Copy,
) {
    match (outer, c) {
        (Outer::Neg, _) => map2(out, a, b, |x, y| -f(x, y)),
        (Outer::Exp, _) => exp_lanes(out, |i| f(a.at(i), b.at(i))),
        (Outer::NegExp, _) => exp_lanes(out, |i| -f(a.at(i), b.at(i))),
        (Outer::Twice, _) => map2(out, a, b, |x, y| {
            let t = f(x, y);
            t + t
        }),
        (Outer::Left(op), Arg::Lanes(c)) => left(op, out, a, b, c, f),
        (Outer::Left(op), Arg::Uniform(c)) => left(op, out, a, b, c, f),
        (Outer::Right(op), Arg::Lanes(c)) => right(op, out, a, b, c, f),
        (Outer::Right(op), Arg::Uniform(c)) => right(op, out, a, b, c, f),
    }
}

/// `f(a, b) ∘ c`.
#[inline(always)]
fn left<A: Lane, B: Lane, C: Lane>(
    op: BinaryOp,
    out: &mut Lanes,
    a: A,
    b: B,
    c: C,
    f: impl Fn(f64, f64) -> f64 + Copy,
) {
    match op {
        BinaryOp::Add => map3(out, a, b, c, |x, y, z| f(x, y) + z),
        BinaryOp::Sub => map3(out, a, b, c, |x, y, z| f(x, y) - z),
        BinaryOp::Mul => map3(out, a, b, c, |x, y, z| f(x, y) * z),
        BinaryOp::Div => map3(out, a, b, c, |x, y, z| f(x, y) / z),
        _ => unreachable!("only arithmetic is fused"),
    }
}

/// `c ∘ f(a, b)`.
#[inline(always)]
fn right<A: Lane, B: Lane, C: Lane>(
    op: BinaryOp,
    out: &mut Lanes,
    a: A,
    b: B,
    c: C,
    f: impl Fn(f64, f64) -> f64 + Copy,
) {
    match op {
        BinaryOp::Add => map3(out, a, b, c, |x, y, z| z + f(x, y)),
        BinaryOp::Sub => map3(out, a, b, c, |x, y, z| z - f(x, y)),
        BinaryOp::Mul => map3(out, a, b, c, |x, y, z| z * f(x, y)),
        BinaryOp::Div => map3(out, a, b, c, |x, y, z| z / f(x, y)),
        _ => unreachable!("only arithmetic is fused"),
    }
}

//! The lane loops every block instruction is made of: one block of lanes, operands that are
//! blocks or one value for every lane, and element-wise maps the compiler vectorizes.

#![allow(clippy::needless_range_loop)] // lane loops index several arrays at once

use super::BLOCK;

/// One block of lanes.
pub(crate) type Lanes = [f64; BLOCK];

/// An operand: a block of lanes, or one value for every lane.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    Lanes(&'a Lanes),
    Uniform(f64),
}

/// `$body` with the operands `$a` and `$b` (each an [`Arg`]) bound to `$x` and `$y` as their
/// [`Lane`] types, so that it is compiled once per pair of forms; two uniform operands are
/// unreachable (an operation of uniform values is computed once, as a scalar).
macro_rules! with_lanes {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (Arg::Lanes($x), Arg::Lanes($y)) => $body,
            (Arg::Lanes($x), Arg::Uniform($y)) => $body,
            (Arg::Uniform($x), Arg::Lanes($y)) => $body,
            (Arg::Uniform(_), Arg::Uniform(_)) => {
                unreachable!("an operation of uniform values is uniform")
            }
        }
    };
}
pub(crate) use with_lanes;

/// Lane `i` of an operand.
pub(crate) trait Lane: Copy {
    fn at(self, i: usize) -> f64;
}

impl Lane for &Lanes {
    #[inline(always)]
    fn at(self, i: usize) -> f64 {
        self[i]
    }
}

impl Lane for f64 {
    #[inline(always)]
    fn at(self, _: usize) -> f64 {
        self
    }
}

#[inline(always)]
pub(crate) fn map1(out: &mut Lanes, a: &Lanes, f: impl Fn(f64) -> f64) {
    for i in 0..BLOCK {
        out[i] = f(a[i]);
    }
}

#[inline(always)]
pub(crate) fn map2<A: Lane, B: Lane>(out: &mut Lanes, a: A, b: B, f: impl Fn(f64, f64) -> f64) {
    for i in 0..BLOCK {
        out[i] = f(a.at(i), b.at(i));
    }
}

#[inline(always)]
pub(crate) fn map3<A: Lane, B: Lane, C: Lane>(
    out: &mut Lanes,
    a: A,
    b: B,
    c: C,
    f: impl Fn(f64, f64, f64) -> f64,
) {
    for i in 0..BLOCK {
        out[i] = f(a.at(i), b.at(i), c.at(i));
    }
}

//! Pairing divisions with independent arithmetic: a division's lane loop is bound by the
//! divider, and another operation computed in the same loop runs in its shadow, as the
//! `#[model]`'s single loop lets every operation do. The tape's instructions are reordered so
//! that each division is followed by an independent addition, subtraction or multiplication,
//! which the run then computes in the division's loop (`Op::Pair`). Every operation still
//! performs its own rounding: the same bits.

use super::draft::{Arg, DraftOp, Fused, Inner, Outer};
use kernels_gen::ir::{BinaryOp, Node};

/// Tapes of more operations keep their order, unpaired: the schedule's steps each scan
/// every operation (quadratic time).
pub(crate) const SCHEDULE_MAX_OPS: usize = 2048;

/// The division a pair starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum First {
    /// `a / b`.
    Div,
    /// `-(a / b)` (a fused pair: the derivatives of quotients).
    NegDiv,
}

/// The division `op` is, if it can start a pair, with its operands.
pub(crate) fn division(op: &DraftOp) -> Option<(First, [Arg; 2])> {
    const NEG_DIV: Fused = Fused {
        inner: Inner::Binary(BinaryOp::Div),
        outer: Outer::Neg,
    };
    match *op {
        DraftOp::Node(Node::Binary(BinaryOp::Div, _, _), [a, b, _]) => Some((First::Div, [a, b])),
        DraftOp::Fused(f, [a, b, _]) if f == NEG_DIV => Some((First::NegDiv, [a, b])),
        _ => None,
    }
}

fn is_division(op: &DraftOp) -> bool {
    division(op).is_some()
}

/// Whether `op` is a plain addition, subtraction or multiplication of a block (the second of
/// a pair).
pub(crate) fn is_cheap(op: &DraftOp) -> bool {
    matches!(
        op,
        DraftOp::Node(Node::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, _, _), args)
            if args[..2].iter().any(|a| !matches!(a, Arg::Uniform(_)))
    )
}

/// The order to run `ops` in (removed ones left out), and for each position whether it and
/// the next form a pair (a division, then an independent cheap operation). `reads[i]` are
/// operation `i`'s register operands.
///
/// A list schedule: at each step the first ready division (operands all run) is taken with
/// the first ready cheap operation; without one, the first ready operation that is neither a
/// division nor a cheap one no division depends on (those wait while divisions remain, to be
/// paired with them), so that a division waits for a partner while other work is ready; then a
/// division alone.
pub(crate) fn schedule(ops: &[DraftOp], reads: &[Vec<u32>]) -> (Vec<u32>, Vec<bool>) {
    let n = ops.len();
    let live = |i: usize| !matches!(ops[i], DraftOp::Removed);
    if n > SCHEDULE_MAX_OPS {
        let order: Vec<u32> = (0..n).filter(|&i| live(i)).map(|i| i as u32).collect();
        let paired = vec![false; order.len()];
        return (order, paired);
    }
    // For each operation, how many divisions not yet run depend on it.
    let divisions: Vec<usize> = (0..n)
        .filter(|&i| live(i) && is_division(&ops[i]))
        .collect();
    let mut fed = vec![0usize; n];
    let mut seen = Seen(vec![0; n], 0);
    for &d in &divisions {
        ancestors(d, reads, &mut seen, |a| fed[a] += 1);
    }
    let mut divisions_left = divisions.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut paired = Vec::with_capacity(n);
    let ready =
        |i: usize, done: &[bool]| live(i) && !done[i] && reads[i].iter().all(|&v| done[v as usize]);
    let total = (0..n).filter(|&i| live(i)).count();
    while order.len() < total {
        let first = |f: &dyn Fn(usize) -> bool| (0..n).find(|&i| ready(i, &done) && f(i));
        // A cheap operation waits while some division left does not depend on it.
        let waits = |i: usize| is_cheap(&ops[i]) && divisions_left > fed[i];
        let division = first(&|i| is_division(&ops[i]));
        let partner =
            division.and_then(|d| (0..n).find(|&i| i != d && ready(i, &done) && is_cheap(&ops[i])));
        let step = match (division, partner) {
            (Some(d), Some(c)) => (d, Some(c)),
            _ => {
                let o = first(&|i| !is_division(&ops[i]) && !waits(i))
                    .or(division)
                    .or_else(|| first(&|_| true))
                    .expect("an operation is ready while some are left");
                (o, None)
            }
        };
        let (o, c) = step;
        done[o] = true;
        order.push(o as u32);
        paired.push(c.is_some());
        if is_division(&ops[o]) {
            divisions_left -= 1;
            ancestors(o, reads, &mut seen, |a| fed[a] -= 1);
        }
        if let Some(c) = c {
            done[c] = true;
            order.push(c as u32);
            paired.push(false);
        }
    }
    (order, paired)
}

/// The operations each walk has visited: the number of the walk that last visited each, and
/// the walks so far.
struct Seen(Vec<u64>, u64);

/// Calls `f` on each operation `d` depends on (once each), by a walk up its operands.
fn ancestors(d: usize, reads: &[Vec<u32>], seen: &mut Seen, mut f: impl FnMut(usize)) {
    seen.1 += 1;
    let mut stack: Vec<u32> = reads[d].clone();
    while let Some(v) = stack.pop() {
        let v = v as usize;
        if seen.0[v] == seen.1 {
            continue;
        }
        seen.0[v] = seen.1;
        f(v);
        stack.extend_from_slice(&reads[v]);
    }
}

//! Fusing pairs of operations of a block tape: an operation (arithmetic, a square or a cube)
//! whose result only one later operation reads is computed inside that operation's lane loop, so its block is never stored
//! and loaded again (the tape's main cost against the registers of `#[model]`'s fused loop).

use super::draft::{Arg, DraftOp, Fused, Inner, Outer, arithmetic};
use kernels_gen::ir::{BinaryOp, Node, UnaryOp};

/// Fuses each operation with one operand that a plain arithmetic operation (or, under `exp`, a
/// negation, or the negation of an arithmetic operation) computes for it alone, from the last
/// operation to the first, so that a consumer takes its producer before the producer takes its
/// own. `reads[i]` lists instruction `i`'s register operands and is updated; `kept[v]` marks
/// registers that must stay (outputs).
pub(crate) fn fuse(ops: &mut [DraftOp], reads: &mut [Vec<u32>], kept: &[bool]) {
    let mut readers = vec![0u32; ops.len()];
    for r in reads.iter() {
        for &v in r {
            readers[v as usize] += 1;
        }
    }
    for j in (0..ops.len()).rev() {
        let DraftOp::Node(node, args) = ops[j] else {
            continue;
        };
        let alone = |a: Arg| match a {
            Arg::Reg(i) if readers[i as usize] == 1 && !kept[i as usize] => Some(i),
            _ => None,
        };
        // Read twice by one operation, and by nothing else.
        let only_twice = |i: u32| readers[i as usize] == 2 && !kept[i as usize];
        let Some((absorbed, fused, fused_args)) =
            doubled(node, args, &*ops, only_twice).or_else(|| candidate(node, args, &*ops, alone))
        else {
            continue;
        };
        ops[j] = DraftOp::Fused(fused, fused_args);
        for i in absorbed.into_iter().flatten() {
            ops[i as usize] = DraftOp::Removed;
            let inner_reads = std::mem::take(&mut reads[i as usize]);
            reads[j].retain(|&v| v != i);
            reads[j].extend(
                inner_reads
                    .into_iter()
                    .filter(|&v| !absorbed.contains(&Some(v))),
            );
        }
    }
}

/// The producers (one, or a negation and its arithmetic operand) that operation `node` on `args`
/// can absorb, with the fused operation and its operands.
fn candidate(
    node: Node,
    args: [Arg; 3],
    ops: &[DraftOp],
    alone: impl Fn(Arg) -> Option<u32>,
) -> Option<([Option<u32>; 2], Fused, [Arg; 3])> {
    let inner = |i: u32| inner_of(ops, i);
    match node {
        Node::Binary(op, _, _) if arithmetic(op) => {
            for (pos, outer) in [(0, Outer::Left(op)), (1, Outer::Right(op))] {
                let Some(i) = alone(args[pos]) else { continue };
                if let Some((inner, a, b)) = value_inner(ops, i) {
                    let fused = Fused { inner, outer };
                    return Some(([Some(i), None], fused, [a, b, args[1 - pos]]));
                }
            }
            None
        }
        Node::Unary(op @ (UnaryOp::Neg | UnaryOp::Exp), _) => {
            let i = alone(args[0])?;
            let (inner, a, b) = inner(i)?;
            // `exp(-(a ∘ b))`: all three in one loop.
            if let (UnaryOp::Exp, Inner::Neg, Some(k)) = (op, inner, alone(a))
                && let Some((inner, a, b)) = value_inner(ops, k)
            {
                let fused = Fused {
                    inner,
                    outer: Outer::NegExp,
                };
                return Some(([Some(i), Some(k)], fused, [a, b, a]));
            }
            let outer = if op == UnaryOp::Neg {
                Outer::Neg
            } else {
                Outer::Exp
            };
            // `-(-a)` never reaches here (the graph folds it).
            (inner != Inner::Neg || outer == Outer::Exp).then_some((
                [Some(i), None],
                Fused { inner, outer },
                [a, b, a],
            ))
        }
        _ => None,
    }
}

/// `t + t` (`node` on `args`) where only this addition reads `t`: the fused pair computing
/// `t` and the sum in one loop, when `t` is arithmetic, a square or a cube.
fn doubled(
    node: Node,
    args: [Arg; 3],
    ops: &[DraftOp],
    only_twice: impl Fn(u32) -> bool,
) -> Option<([Option<u32>; 2], Fused, [Arg; 3])> {
    let (Node::Binary(BinaryOp::Add, _, _), [Arg::Reg(i), Arg::Reg(k), _]) = (node, args) else {
        return None;
    };
    if i != k || !only_twice(i) {
        return None;
    }
    let (inner, a, b) = value_inner(ops, i)?;
    let fused = Fused {
        inner,
        outer: Outer::Twice,
    };
    Some(([Some(i), None], fused, [a, b, a]))
}

/// [`inner_of`] where it is a value fused pairs take as their inner one: arithmetic, a square
/// or a cube (a negation is only fused under `exp`).
fn value_inner(ops: &[DraftOp], i: u32) -> Option<(Inner, Arg, Arg)> {
    inner_of(ops, i).filter(|(inner, ..)| *inner != Inner::Neg)
}

/// The plain operation computing register `i` as a fused pair's inner one, with its operands.
fn inner_of(ops: &[DraftOp], i: u32) -> Option<(Inner, Arg, Arg)> {
    match ops[i as usize] {
        DraftOp::Node(Node::Binary(op, _, _), [a, b, _]) if arithmetic(op) => {
            Some((Inner::Binary(op), a, b))
        }
        DraftOp::Node(Node::Unary(UnaryOp::Neg, _), [a, _, _]) => Some((Inner::Neg, a, a)),
        DraftOp::Node(Node::Unary(UnaryOp::Powi(2), _), [a, _, _]) => Some((Inner::Square, a, a)),
        DraftOp::Node(Node::Unary(UnaryOp::Powi(3), _), [a, _, _]) => Some((Inner::Cube, a, a)),
        _ => None,
    }
}

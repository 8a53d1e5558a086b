//! Emitters: one straight-line SSA listing of a [`Schedule`] per target language.
//!
//! All targets share the walk in [`emit_body`]; a [`Dialect`] only spells constants, operators
//! and statements. Leaves are spelled inline (`x0`, `p3`, literals) and every operation becomes
//! one temporary `tN`, so a subexpression shared by the value and the derivatives is computed
//! once in every target.

pub mod cuda;
pub mod rust;
pub mod wgsl;

use crate::ir::{BinaryOp, CmpOp, Graph, Node, NodeId, UnaryOp};
use crate::schedule::Schedule;

/// How a target spells the pieces of an expression.
pub trait Dialect {
    /// A finite real constant.
    fn constant(&self, v: f64) -> String;
    /// A boolean constant.
    fn boolean(&self, v: bool) -> String {
        v.to_string()
    }
    /// A unary function applied to an operand.
    fn unary(&self, op: UnaryOp, a: &str) -> String;
    /// A binary function of two operands (arithmetic operators included).
    fn binary(&self, op: BinaryOp, a: &str, b: &str) -> String {
        let sym = match op {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            _ => return self.function2(op, a, b),
        };
        format!("{a} {sym} {b}")
    }
    /// The non-operator binary functions (powf, atan2, hypot, min, max).
    fn function2(&self, op: BinaryOp, a: &str, b: &str) -> String;
    /// `cond ? a : b`
    fn select(&self, cond: &str, a: &str, b: &str) -> String;
    /// A comparison with Rust's (IEEE) semantics: only `!=` is true for NaN operands.
    fn compare(&self, op: CmpOp, a: &str, b: &str) -> String {
        format!("{a} {} {b}", op.symbol())
    }
    /// `a && b`
    fn and(&self, a: &str, b: &str) -> String {
        format!("{a} && {b}")
    }
    /// `a || b`
    fn or(&self, a: &str, b: &str) -> String {
        format!("{a} || {b}")
    }
    /// `!a`
    fn not(&self, a: &str) -> String {
        format!("!{a}")
    }
    /// A statement binding temporary `name` to `expr`.
    fn bind(&self, name: &str, expr: &str, is_bool: bool) -> String;
}

/// Spells a finite f64 so that it parses back to the same value, with a leading `-` wrapped in
/// parentheses so the text can stand as any operand.
pub fn float_literal(v: f64, suffix: &str) -> String {
    debug_assert!(
        v.is_finite(),
        "non-finite constants are never folded into the graph"
    );
    let mut s = format!("{v:?}");
    if !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    s.push_str(suffix);
    if v.is_sign_negative() {
        format!("({s})")
    } else {
        s
    }
}

/// The name of a scheduled node's value in emitted code.
pub fn operand(g: &Graph, d: &dyn Dialect, id: NodeId) -> String {
    match *g.node(id) {
        Node::Const(bits) => d.constant(f64::from_bits(bits)),
        Node::Bool(v) => d.boolean(v),
        Node::Input(k) => format!("x{k}"),
        Node::Param(j) => format!("p{j}"),
        _ => format!("t{}", id.index()),
    }
}

/// Emits one statement per operation in `schedule`, in order. Returns the lines; the outputs are
/// then available under [`operand`] names.
///
/// Every division is spelled `a / b`: on sm_90 that is faster than one corrected reciprocal
/// per shared denominator with the same bits (the Gaussian's CUDA pass: 1.02 ms against 1.32
/// ms on an H200, `benches/RESULTS.md`), which only the batch kernel's Poisson terms use.
pub fn emit_body(g: &Graph, schedule: &Schedule, d: &dyn Dialect) -> Vec<String> {
    let mut lines = Vec::new();
    for &id in &schedule.order {
        let node = *g.node(id);
        let name = |n| operand(g, d, n);
        let expr = match node {
            Node::Const(_) | Node::Bool(_) | Node::Input(_) | Node::Param(_) => continue,
            Node::Unary(op, a) => d.unary(op, &name(a)),
            Node::Binary(op, a, b) => d.binary(op, &name(a), &name(b)),
            Node::Cmp(op, a, b) => d.compare(op, &name(a), &name(b)),
            Node::And(a, b) => d.and(&name(a), &name(b)),
            Node::Or(a, b) => d.or(&name(a), &name(b)),
            Node::Not(a) => d.not(&name(a)),
            Node::Select(c, a, b) => d.select(&name(c), &name(a), &name(b)),
        };
        lines.push(d.bind(&format!("t{}", id.index()), &expr, node.is_bool()));
    }
    lines
}

/// Which `x{k}` and `p{j}` a schedule reads, so targets declare only those.
pub fn leaves(g: &Graph, schedule: &Schedule) -> (Vec<u32>, Vec<u32>) {
    let mut xs = Vec::new();
    let mut ps = Vec::new();
    for &id in &schedule.order {
        match *g.node(id) {
            Node::Input(k) => xs.push(k),
            Node::Param(j) => ps.push(j),
            _ => {}
        }
    }
    (xs, ps)
}

/// Indents each line by `n` spaces and joins them with newlines.
pub(crate) fn indent(lines: &[String], n: usize) -> String {
    let pad = " ".repeat(n);
    lines
        .iter()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::float_literal;

    #[test]
    fn literals_round_trip() {
        for v in [
            0.0,
            1.0,
            -2.5,
            0.1,
            1e-300,
            6.02214076e23,
            std::f64::consts::PI,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let s = float_literal(v, "");
            let t = s.trim_start_matches('(').trim_end_matches(')');
            assert_eq!(t.parse::<f64>().unwrap(), v, "{s}");
        }
        assert_eq!(float_literal(-3.0, "f"), "(-3.0f)");
        assert_eq!(float_literal(1e20, ""), "1e20");
    }
}

//! Rust emitter: the CPU's value and value-with-gradient functions.
//!
//! The emitted functions compute exactly what the original Rust function computes (same
//! operations, Rust's own `f64` methods), so the macro's model agrees bit-for-bit with a call of
//! the original function wherever simplification did not reassociate.
//!
//! `erf` and `erfc` are the functions a `#[model]` function cannot contain (Rust has no
//! stable `f64::erf`; only expression strings spell them): the per-point functions call
//! `libm::erf` / `libm::erfc`, so their text compiles in a crate that depends on `libm` (as
//! the CLI's `--target rust` output of an expression with `erf` needs), and the block
//! functions call `{path}::erf` / `{path}::erfc`, the runtime's wrappers of the same functions.

use super::{Dialect, emit_body, float_literal, indent, leaves, operand};
use crate::ir::{BinaryOp, UnaryOp};
use crate::model::ModelIr;
use crate::schedule::Schedule;

/// The Rust spelling.
pub struct Rust;

impl Dialect for Rust {
    fn constant(&self, v: f64) -> String {
        float_literal(v, "_f64")
    }

    fn unary(&self, op: UnaryOp, a: &str) -> String {
        let m = match op {
            UnaryOp::Neg => return format!("-{a}"),
            UnaryOp::Powi(n) => return format!("{a}.powi({n})"),
            UnaryOp::Erf => return format!("libm::erf({a})"),
            UnaryOp::Erfc => return format!("libm::erfc({a})"),
            UnaryOp::Exp => "exp",
            UnaryOp::Ln => "ln",
            UnaryOp::Log10 => "log10",
            UnaryOp::Log2 => "log2",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Asin => "asin",
            UnaryOp::Acos => "acos",
            UnaryOp::Atan => "atan",
            UnaryOp::Sinh => "sinh",
            UnaryOp::Cosh => "cosh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Abs => "abs",
        };
        format!("{a}.{m}()")
    }

    fn function2(&self, op: BinaryOp, a: &str, b: &str) -> String {
        let m = match op {
            BinaryOp::Powf => "powf",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Hypot => "hypot",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            _ => unreachable!("arithmetic is spelled as operators"),
        };
        format!("{a}.{m}({b})")
    }

    fn select(&self, cond: &str, a: &str, b: &str) -> String {
        format!("if {cond} {{ {a} }} else {{ {b} }}")
    }

    fn bind(&self, name: &str, expr: &str, _is_bool: bool) -> String {
        format!("let {name} = {expr};")
    }
}

fn prologue(model: &ModelIr, schedule: &Schedule) -> Vec<String> {
    let (xs, ps) = leaves(&model.graph, schedule);
    xs.iter()
        .map(|k| format!("let x{k}: f64 = x[{k}];"))
        .chain(ps.iter().map(|j| format!("let p{j}: f64 = p[{j}];")))
        .collect()
}

/// `fn value(x: &[f64], p: &[f64]) -> f64`: the model value. `x` holds the `K` predictors and
/// `p` the `P` flattened parameters.
pub fn value_fn(model: &ModelIr, fn_name: &str) -> String {
    let s = model.value_schedule();
    let mut lines = prologue(model, &s);
    lines.extend(emit_body(&model.graph, &s, &Rust));
    let out = operand(&model.graph, &Rust, model.value);
    format!(
        "#[allow(unused_parens, clippy::all)]\n#[inline]\nfn {fn_name}(x: &[f64], p: &[f64]) -> f64 {{\n{}    {out}\n}}\n",
        indent(&lines, 4)
    )
}

/// `fn value_and_gradient(x: &[f64], p: &[f64], grad: &mut [f64]) -> f64`: the model value,
/// with `d value / d p_j` written to `grad[j]`.
pub fn value_and_gradient_fn(model: &ModelIr, fn_name: &str) -> String {
    let s = model.schedule();
    let mut lines = prologue(model, &s);
    lines.extend(emit_body(&model.graph, &s, &Rust));
    for (j, &d) in model.gradient.iter().enumerate() {
        lines.push(format!("grad[{j}] = {};", operand(&model.graph, &Rust, d)));
    }
    let out = operand(&model.graph, &Rust, model.value);
    format!(
        "#[allow(unused_parens, clippy::all)]\n#[inline]\nfn {fn_name}(x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {{\n{}    {out}\n}}\n",
        indent(&lines, 4)
    )
}

/// The Rust spelling inside a block loop: `exp` and `ln` become the runtime's vectorizable
/// versions (`{path}::exp` / `{path}::ln`), `erf` and `erfc` the runtime's `{path}::erf` and
/// `{path}::erfc` (`libm`'s),
/// everything else is [`Rust`]'s.
struct RustBlock<'a> {
    path: &'a str,
}

impl Dialect for RustBlock<'_> {
    fn constant(&self, v: f64) -> String {
        Rust.constant(v)
    }

    fn unary(&self, op: UnaryOp, a: &str) -> String {
        match op {
            UnaryOp::Exp => format!("{}::exp({a})", self.path),
            UnaryOp::Ln => format!("{}::ln({a})", self.path),
            UnaryOp::Erf => format!("{}::erf({a})", self.path),
            UnaryOp::Erfc => format!("{}::erfc({a})", self.path),
            _ => Rust.unary(op, a),
        }
    }

    fn function2(&self, op: BinaryOp, a: &str, b: &str) -> String {
        Rust.function2(op, a, b)
    }

    fn select(&self, cond: &str, a: &str, b: &str) -> String {
        Rust.select(cond, a, b)
    }

    // Operands are temporaries already computed: the non-short-circuit forms are equivalent
    // and keep the loop free of branches.
    fn and(&self, a: &str, b: &str) -> String {
        format!("{a} & {b}")
    }

    fn or(&self, a: &str, b: &str) -> String {
        format!("{a} | {b}")
    }

    fn bind(&self, name: &str, expr: &str, is_bool: bool) -> String {
        Rust.bind(name, expr, is_bool)
    }
}

/// `fn name(x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK], grad: &mut [[f64; BLOCK]])`:
/// the model value and gradient at `BLOCK` points, `x[k][i]` being predictor `k` of point `i`
/// and `grad[j][i]` receiving `d value / d p_j` at point `i`. The body is one loop over the
/// points whose iterations are the per-point function, branch-free wherever the model is, with
/// `exp`/`ln` from `path` (the runtime's `block` module, which also defines `BLOCK`), so the
/// compiler vectorizes the loop.
pub fn value_and_gradient_block_fn(model: &ModelIr, fn_name: &str, path: &str) -> String {
    block_fn(model, fn_name, path, true)
}

/// `fn name(x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK])`: the model value at
/// `BLOCK` points, as [`value_and_gradient_block_fn`] computes it without the gradient.
pub fn value_block_fn(model: &ModelIr, fn_name: &str, path: &str) -> String {
    block_fn(model, fn_name, path, false)
}

fn block_fn(model: &ModelIr, fn_name: &str, path: &str, with_gradient: bool) -> String {
    let d = RustBlock { path };
    let (s, gradient) = if with_gradient {
        (model.schedule(), &model.gradient[..])
    } else {
        (model.value_schedule(), &[][..])
    };
    let (xs, ps) = leaves(&model.graph, &s);
    let head: Vec<String> = std::iter::once(format!(
        "assert!(x.len() >= {} && grad.len() >= {});",
        model.n_inputs(),
        gradient.len()
    ))
    .chain(ps.iter().map(|j| format!("let p{j}: f64 = p[{j}];")))
    .collect();
    let mut body: Vec<String> = xs
        .iter()
        .map(|k| format!("let x{k}: f64 = x[{k}][i];"))
        .collect();
    body.extend(emit_body(&model.graph, &s, &d));
    for (j, &g) in gradient.iter().enumerate() {
        body.push(format!("grad[{j}][i] = {};", operand(&model.graph, &d, g)));
    }
    body.push(format!(
        "value[i] = {};",
        operand(&model.graph, &d, model.value)
    ));
    let grad_arg = if with_gradient {
        format!(", grad: &mut [[f64; {path}::BLOCK]]")
    } else {
        String::new()
    };
    let head = if with_gradient {
        head
    } else {
        // No gradient argument: the length check is on the predictors only.
        std::iter::once(format!("assert!(x.len() >= {});", model.n_inputs()))
            .chain(head.into_iter().skip(1))
            .collect()
    };
    format!(
        "#[allow(unused_parens, clippy::all)]\n#[inline(always)]\nfn {fn_name}(x: &[&[f64; {path}::BLOCK]], p: &[f64], value: &mut [f64; {path}::BLOCK]{grad_arg}) {{\n{}    for i in 0..{path}::BLOCK {{\n{}    }}\n}}\n",
        indent(&head, 4),
        indent(&body, 8)
    )
}

/// Both functions, as printed by the CLI for `--target rust`.
pub fn source(model: &ModelIr) -> String {
    format!(
        "{}\n{}",
        value_fn(model, "value"),
        value_and_gradient_fn(model, "value_and_gradient")
    )
}

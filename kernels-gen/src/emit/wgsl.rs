//! WGSL emitter: function bodies in `real` (an alias for `f64` or `f32`).
//!
//! Every transcendental goes through an `nlsq_*` function of the WGSL prelude: for f32 these
//! are thin wrappers over the builtins (plus the cases WGSL leaves undefined, such as `pow` of a
//! negative base); for f64 they are software implementations, because SPIR-V's GLSL.std.450
//! transcendentals exist only for 16- and 32-bit floats. `erf` and `erfc`, which WGSL lacks
//! in both precisions, are `nlsq_erf` and `nlsq_erfc` of `wgsl_math_erf.wgsl`, which only the
//! modules of models that call one of them include.

use super::{Dialect, float_literal};
use crate::ir::{BinaryOp, CmpOp, UnaryOp};
use crate::kernels::Precision;

/// The WGSL spelling for one precision.
pub struct Wgsl(pub Precision);

impl Dialect for Wgsl {
    fn constant(&self, v: f64) -> String {
        match self.0 {
            Precision::F64 => float_literal(v, "lf"),
            Precision::F32 => float_literal(v, "f"),
        }
    }

    fn unary(&self, op: UnaryOp, a: &str) -> String {
        let name = match op {
            UnaryOp::Neg => return format!("-{a}"),
            UnaryOp::Powi(n) => return format!("nlsq_powi({a}, {n})"),
            UnaryOp::Abs => return format!("abs({a})"),
            UnaryOp::Sqrt => return format!("sqrt({a})"),
            UnaryOp::Exp => "exp",
            UnaryOp::Ln => "ln",
            UnaryOp::Log10 => "log10",
            UnaryOp::Log2 => "log2",
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
            // Not in the shared prelude: the module adds it when the model uses it (see
            // `kernels::wgsl`), so the modules of models without `erf` keep their text.
            UnaryOp::Erf => "erf",
            UnaryOp::Erfc => "erfc",
        };
        format!("nlsq_{name}({a})")
    }

    fn function2(&self, op: BinaryOp, a: &str, b: &str) -> String {
        match op {
            BinaryOp::Powf => format!("nlsq_pow({a}, {b})"),
            BinaryOp::Atan2 => format!("nlsq_atan2({a}, {b})"),
            BinaryOp::Hypot => format!("nlsq_hypot({a}, {b})"),
            BinaryOp::Min => format!("nlsq_min({a}, {b})"),
            BinaryOp::Max => format!("nlsq_max({a}, {b})"),
            _ => unreachable!("arithmetic is spelled as operators"),
        }
    }

    fn select(&self, cond: &str, a: &str, b: &str) -> String {
        format!("select({b}, {a}, {cond})")
    }

    fn compare(&self, op: CmpOp, a: &str, b: &str) -> String {
        // naga lowers `!=` to an ordered not-equal, false for NaN; Rust's is unordered.
        match op {
            CmpOp::Ne => format!("!({a} == {b})"),
            _ => format!("{a} {} {b}", op.symbol()),
        }
    }

    fn bind(&self, name: &str, expr: &str, _is_bool: bool) -> String {
        format!("let {name} = {expr};")
    }
}

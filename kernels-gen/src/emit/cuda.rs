//! CUDA C emitter: device-function bodies in `real` (a typedef for `double` or `float`).

use super::{Dialect, float_literal};
use crate::ir::{BinaryOp, UnaryOp};
use crate::kernels::Precision;

/// The CUDA C spelling for one precision.
pub struct Cuda(pub Precision);

impl Cuda {
    fn f(&self, name: &str) -> String {
        match self.0 {
            Precision::F64 => name.to_string(),
            Precision::F32 => format!("{name}f"),
        }
    }
}

impl Dialect for Cuda {
    fn constant(&self, v: f64) -> String {
        match self.0 {
            Precision::F64 => float_literal(v, ""),
            Precision::F32 => float_literal(v, "f"),
        }
    }

    fn unary(&self, op: UnaryOp, a: &str) -> String {
        let name = match op {
            UnaryOp::Neg => return format!("-{a}"),
            // Binary exponentiation, the algorithm Rust's powi lowers to (see the prelude).
            UnaryOp::Powi(n) => return format!("nlsq_powi({a}, {n})"),
            UnaryOp::Exp => "exp",
            UnaryOp::Ln => "log",
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
            UnaryOp::Abs => "fabs",
            // CUDA's erf / erfc (double) and erff / erfcf (float): a few ulp at most.
            UnaryOp::Erf => "erf",
            UnaryOp::Erfc => "erfc",
        };
        format!("{}({a})", self.f(name))
    }

    fn function2(&self, op: BinaryOp, a: &str, b: &str) -> String {
        let name = match op {
            BinaryOp::Powf => "pow",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Hypot => "hypot",
            BinaryOp::Min => "fmin",
            BinaryOp::Max => "fmax",
            _ => unreachable!("arithmetic is spelled as operators"),
        };
        format!("{}({a}, {b})", self.f(name))
    }

    fn select(&self, cond: &str, a: &str, b: &str) -> String {
        format!("{cond} ? {a} : {b}")
    }

    fn bind(&self, name: &str, expr: &str, is_bool: bool) -> String {
        let ty = if is_bool { "bool" } else { "real" };
        format!("const {ty} {name} = {expr};")
    }
}

//! # nlsq
//!
//! Nonlinear least-squares curve fitting on CPUs and GPUs. Write the model once as a plain
//! Rust function; `#[model]` differentiates it symbolically at compile time and emits the CPU
//! code, CUDA and WGSL kernels, and a content hash that keys every kernel cache.
//!
//! ```
//! use nlsq::{Model, model};
//!
//! #[model]
//! fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
//!     let d = x - mu;
//!     amp * (-(d * d) / (2.0 * sigma * sigma)).exp()
//! }
//!
//! // The function stays callable, and `Gaussian` is the model.
//! let p = [2.0, 0.5, 1.5];
//! assert_eq!(Gaussian.eval(&[1.0], &p), gaussian(1.0, 2.0, 0.5, 1.5));
//! let mut grad = [0.0; 3];
//! Gaussian.eval_with_gradient(&[1.0], &p, &mut grad);
//! assert_eq!(Gaussian.param_names(), ["amp", "mu", "sigma"]);
//! assert!(Gaussian.cuda_source(nlsq::Precision::F64).contains("nlsq_pass"));
//! ```
//!
//! ## The model language
//!
//! The first argument is the independent variable (`f64`, or `[f64; K]` for `K` predictors);
//! every later argument is a fitted parameter (`f64`, or `[f64; M]` for repeated terms, which
//! flatten to `name[0]`, `name[1]`, ...). Bodies may use `let` / `let mut` (with `=`, `+=`,
//! `-=`, `*=`, `/=`), arithmetic, unary minus, float literals, `std::f64::consts`, the `f64`
//! methods exp, ln, log10, log2, sqrt, cbrt, powi, powf, sin, cos, tan, asin, acos, atan,
//! atan2, sinh, cosh, tanh, abs, hypot, min, max, `if`/`else` on comparisons, and `for` loops
//! over constant ranges (unrolled). Anything else is a compile error at its span.
//!
//! Models given as strings ([`ExprModel`]) use the same language as expressions, with free
//! function calls (`exp(u)`, `log(u)`, `pow(a, b)`, ...) and two functions more: the error
//! function `erf(u)` and its complement `erfc(u)` (`scipy.special.erf` / `erfc`; `libm`'s on
//! the CPU), which a `#[model]` body cannot use because Rust has no stable `f64::erf`.
//!
//! At non-differentiable points the gradient follows the branch Rust takes: `abs` at 0 and
//! `min`/`max` on a tie use the `else` side of `if a < 0`, `if a < b`, `if a > b`.

#![warn(missing_docs)]

pub use nlsq_macros::model;
pub use nlsq_runtime::*;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

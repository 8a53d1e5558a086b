//! The nlsq model compiler.
//!
//! `kernels-gen` turns a model written as a plain Rust function (or an expression string) into
//! a hash-consed expression DAG ([`ir`]), differentiates it symbolically ([`diff`]), and emits
//! from one schedule: Rust code for the CPU, whole CUDA C and WGSL kernel sources ([`kernels`]),
//! and a stable BLAKE3 content hash ([`hash`]) that keys every kernel cache.
//!
//! It is an ordinary library: the `#[model]` macro is a thin shell over it, and the runtime
//! uses it to compile models given as strings.
//!
//! ```
//! use kernels_gen::{Compiled, parse};
//! let model = parse::model_from_expr("a * exp(-b * x) + c", None).unwrap();
//! let compiled = Compiled::new(model);
//! assert!(compiled.cuda_source(kernels_gen::Precision::F64).contains("nlsq_pass"));
//! println!("{}", compiled.hash);
//! ```

#![warn(missing_docs)]

pub mod diff;
pub mod emit;
pub mod eval;
pub mod hash;
pub mod ir;
pub mod kernels;
pub mod model;
#[cfg(feature = "nvrtc")]
pub mod nvrtc;
pub mod parse;
pub mod reparam;
pub mod roles;
pub mod schedule;

mod compiled;

pub use compiled::Compiled;
pub use hash::ModelHash;
pub use kernels::Precision;
pub use model::{InputShape, ModelIr, ParamDecl};

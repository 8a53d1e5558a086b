//! Block evaluation: the model at [`BLOCK`] points per call, in loops the compiler vectorizes.
//!
//! `#[model]` emits, beside the per-point value and gradient, functions whose body is one
//! loop over a block of points, each iteration being the per-point computation; the CPU
//! backend's passes call them from code compiled for AVX-512 or AVX2 when the processor has
//! them ([`Simd`]), so a model without library calls runs 4 or 8 points per instruction.
//! Library calls would stop that, so `exp` and `ln` are replaced by [`exp`] and [`ln`] here:
//! branch-free ports of fdlibm's algorithms, below one ulp of error like the system library's.
//! Other functions (`sin`, `powf`, ...) stay the `f64` methods, one call per point, and the
//! error functions of expression strings are [`erf`] and [`erfc`] (`libm`'s), one call per
//! point too.
//!
//! Models given at run time ([`crate::ExprModel`]) run on [`BlockTape`]s: the same operations
//! in the same order with the same functions, one instruction per operation over the whole
//! block, so they give the `#[model]`'s bits. A tape is compiled once per model hash and
//! process ([`tapes_for`]).
//!
//! ```
//! use nlsq_runtime::block;
//! assert_eq!(block::exp(0.0), 1.0);
//! assert!((block::ln(10.0) - 10f64.ln()).abs() <= f64::EPSILON * 4.0);
//! ```

mod cache;
mod draft;
mod exp_lanes;
mod fuse;
mod fused_loops;
mod lanes;
mod loops;
mod math;
mod pair;
mod pair_loops;
mod simd;
mod tape;

pub use cache::{ModelTapes, TAPE_CACHE_ENTRIES, TapeCacheStats, tape_cache_stats, tapes_for};
pub(crate) use lanes::TapeSession;
pub use math::{erf, erfc, exp, ln};
pub use simd::Simd;
pub use tape::BlockTape;

/// Points per call of a model's block function.
pub const BLOCK: usize = 64;

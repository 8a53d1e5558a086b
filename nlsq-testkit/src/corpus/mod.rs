//! The model corpus: the `#[model]` functions of `kernels-gen/tests/corpus/models.rs`, their
//! sample points, and a dispatch from a corpus function's name to its model.
//!
//! The sources stay in kernels-gen, whose own tests read them (as text, and the samples as a
//! module) and which cannot depend on this crate: the runtime, and so this crate, sits above it.

/// The corpus, compiled with `#[model]`.
#[allow(clippy::too_many_arguments)]
#[path = "../../../kernels-gen/tests/corpus/models.rs"]
pub mod models;

/// Sample points of every corpus function.
#[path = "../../../kernels-gen/tests/corpus/samples.rs"]
pub mod samples;

pub mod dispatch;

pub use dispatch::{COUNT, Original, lookup};

/// The corpus source, as text.
pub const SOURCE: &str = include_str!("../../../kernels-gen/tests/corpus/models.rs");

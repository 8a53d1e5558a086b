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

/// The source of corpus function `name` (`pub fn name(...) { ... }`), as written.
pub fn source_of(name: &str) -> Option<&'static str> {
    let head = format!("pub fn {name}(");
    let start = SOURCE.find(&head)?;
    let len = SOURCE[start..].find("\n}\n")? + 2;
    Some(&SOURCE[start..start + len])
}

/// Names of every corpus function, in source order.
pub fn names() -> Vec<&'static str> {
    SOURCE
        .split("#[model]\npub fn ")
        .skip(1)
        .filter_map(|s| s.split('(').next())
        .collect()
}

/// Corpus function `name` as a model given at run time: its source compiled by
/// `kernels_gen::parse::model_from_source` into an [`nlsq::ExprModel`], the mathematics of
/// the `#[model]` of the same name.
pub fn runtime_model(name: &str) -> Option<nlsq::ExprModel> {
    let ir = nlsq::kernels_gen::parse::model_from_source(source_of(name)?).ok()?;
    Some(nlsq::ExprModel::from_ir(ir))
}

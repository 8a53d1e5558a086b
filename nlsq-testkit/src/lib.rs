//! The shared fixtures of nlsq's tests, benches and examples (dev-only, never published):
//!
//! - [`models`]: the decay and Gaussian models and seeded decay data;
//! - [`corpus`]: the `#[model]` corpus of kernels-gen, its samples and a dispatch by name;
//! - [`nist`]: the NIST StRD loader and LRE tables of fits on any backend;
//! - [`batch`]: the random problems of the batch acceptance tests and their comparisons;
//! - [`streaming`]: data, models and file helpers of the streaming tests;
//! - [`library`]: random problems and the success rule of the model library's p0 estimators;
//! - [`params`]: models with fixed and tied parameters and their hand-substituted twins;
//! - [`global`]: three datasets sharing a parameter, their concatenated twin and scipy's fit;
//! - [`gpufit`]: Gpufit's standard problem of the batch benches;
//! - [`mpirun`]: the MPI launcher of the distributed tests (OpenMPI's or MPICH's);
//! - `wgpu` (feature `wgpu`): the shared adapter of the wgpu tests;
//! - [`suite`]: the backend-generic suites and the macros ([`testgen_fit!`],
//!   [`testgen_nist!`], [`testgen_batch!`]) that instantiate them per backend.
//!
//! nlsq dev-depends on this crate, which depends on nlsq: cargo allows the cycle for tests,
//! benches and examples. nlsq's feature `wgpu` turns on this crate's.

pub mod batch;
pub mod corpus;
pub mod global;
pub mod gpufit;
pub mod library;
pub mod models;
pub mod mpirun;
pub mod nist;
/// The NIST StRD parser, plain Rust without nlsq: nlsq-runtime's unit tests, which cannot use
/// this crate, compile the same file by path (`src/solve/test_problems.rs`).
mod nist_files;
pub mod params;
pub mod streaming;
pub mod suite;
#[cfg(feature = "wgpu")]
pub mod wgpu;

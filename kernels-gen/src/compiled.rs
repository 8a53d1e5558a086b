//! A model with every artefact the runtime needs: kernel sources and the hash.

use crate::hash::{ModelHash, model_hash};
use crate::kernels::{Precision, cuda, wgsl};
use crate::model::ModelIr;

/// A compiled model: its IR, the CUDA and WGSL modules in both precisions, and their hash.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The differentiated model.
    pub ir: ModelIr,
    /// Content hash of everything below (see [`crate::hash`]).
    pub hash: ModelHash,
    cuda: [String; 2],
    wgsl: [String; 2],
}

fn at(p: Precision) -> usize {
    match p {
        Precision::F32 => 0,
        Precision::F64 => 1,
    }
}

impl Compiled {
    /// Emits every kernel and hashes the result.
    pub fn new(ir: ModelIr) -> Self {
        let cuda = Precision::ALL.map(|p| cuda::module_source(&ir, p));
        let wgsl = Precision::ALL.map(|p| wgsl::module_source(&ir, p));
        let hash = model_hash(&ir, cuda.iter().chain(wgsl.iter()).map(String::as_str));
        Compiled {
            ir,
            hash,
            cuda,
            wgsl,
        }
    }

    /// The CUDA C module for `precision`.
    pub fn cuda_source(&self, precision: Precision) -> &str {
        &self.cuda[at(precision)]
    }

    /// The WGSL module for `precision`.
    pub fn wgsl_source(&self, precision: Precision) -> &str {
        &self.wgsl[at(precision)]
    }

    /// The Rust value and value-with-gradient functions.
    pub fn rust_source(&self) -> String {
        crate::emit::rust::source(&self.ir)
    }

    /// Operations for the value and full gradient (after sharing and simplification).
    pub fn op_count(&self) -> usize {
        self.ir.op_count()
    }
}

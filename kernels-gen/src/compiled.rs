//! A model with every artefact the runtime needs: kernel sources and the hash.

use crate::hash::{ModelHash, model_hash};
use crate::kernels::{Precision, cuda, cuda_batch, wgsl, wgsl_batch};
use crate::model::ModelIr;

/// A compiled model: its IR, the CUDA and WGSL modules in both precisions (the fit modules,
/// and the batch-fit modules when `P <=` [`crate::kernels::abi::BATCH_MAX_P`]), and their hash.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The differentiated model.
    pub ir: ModelIr,
    /// Content hash of everything below (see [`crate::hash`]).
    pub hash: ModelHash,
    cuda: [String; 2],
    wgsl: [String; 2],
    cuda_batch: [Option<String>; 2],
    wgsl_batch: [Option<String>; 2],
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
        let cuda_batch = Precision::ALL.map(|p| cuda_batch::module_source(&ir, p));
        let wgsl_batch = Precision::ALL.map(|p| wgsl_batch::module_source(&ir, p));
        let batch = cuda_batch.iter().chain(wgsl_batch.iter()).flatten();
        let hash = model_hash(
            &ir,
            cuda.iter()
                .chain(wgsl.iter())
                .chain(batch)
                .map(String::as_str),
        );
        Compiled {
            ir,
            hash,
            cuda,
            wgsl,
            cuda_batch,
            wgsl_batch,
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

    /// The CUDA C batch-fit module for `precision` (`None` above
    /// [`crate::kernels::abi::BATCH_MAX_P`] parameters).
    pub fn cuda_batch_source(&self, precision: Precision) -> Option<&str> {
        self.cuda_batch[at(precision)].as_deref()
    }

    /// The WGSL batch-fit module for `precision` (`None` above
    /// [`crate::kernels::abi::BATCH_MAX_P`] parameters).
    pub fn wgsl_batch_source(&self, precision: Precision) -> Option<&str> {
        self.wgsl_batch[at(precision)].as_deref()
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

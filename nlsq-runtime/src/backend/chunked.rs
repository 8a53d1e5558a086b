//! Objectives over data read chunk by chunk (a re-iterable [`DataSource`](crate::stream::DataSource)
//! through a [`ChunkReader`]), on the CPU or through CUDA's device buffers.

use crate::loss::Loss;
use crate::memory::MemoryLimits;
use crate::solve::Objective;
use crate::stream::ChunkReader;
use kernels_gen::Precision;

/// What a chunked objective is built from besides the model and the data.
#[derive(Clone, Copy, Debug)]
// The CPU reads the loss only; CUDA all of it.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) struct ChunkedSpec {
    pub(crate) loss: Loss,
    pub(crate) f_scale: f64,
    pub(crate) precision: Precision,
    pub(crate) limits: MemoryLimits,
}

/// An objective over data read chunk by chunk: its reader also serves the CPU passes that
/// find the first non-finite point and the unweighted sum of squares.
pub(crate) trait ChunkedObjective<'s>: Objective {
    /// The chunk reader (statistics of the data, passes so far).
    fn reader_mut(&mut self) -> &mut ChunkReader<'s>;
}

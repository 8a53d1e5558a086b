//! Uploads of host data through pinned staging buffers. Host columns go to the device in
//! chunks of [`STAGE_POINTS`]: each chunk is converted (in parallel) into one of two
//! page-locked buffers while the other buffer's chunk is being copied, each buffer on its own
//! copy stream, so the host conversion of a chunk overlaps the DMA of the previous one and no
//! copy goes through the driver's pageable bounce buffers. The two buffers and streams are
//! allocated on the first large upload and kept by the [`Gpu`] for the process.

use super::chunked::{Real, convert};
use super::{Gpu, driver_error};
use crate::error::FitError;
use cudarc::driver::{CudaSlice, CudaStream, PinnedHostSlice};
use std::sync::Arc;

/// Points per staging buffer (8 MiB in f64).
pub const STAGE_POINTS: usize = 1 << 20;

/// Uploads smaller than this many values are one plain copy (pinning would not pay).
const DIRECT_POINTS: usize = 1 << 16;

/// Two pinned host buffers of [`STAGE_POINTS`] and their copy streams.
pub(crate) struct Pair<T> {
    bufs: [PinnedHostSlice<T>; 2],
    streams: [Arc<CudaStream>; 2],
}

/// The staging buffers of a device, one pair per element type, made on first use.
#[derive(Default)]
pub struct StagingBuffers {
    f64: Option<Pair<f64>>,
    f32: Option<Pair<f32>>,
}

/// Element types with staging buffers.
pub(crate) trait Staged: Real {
    /// This type's pair.
    fn pair(s: &mut StagingBuffers) -> &mut Option<Pair<Self>>;
}

impl Staged for f64 {
    fn pair(s: &mut StagingBuffers) -> &mut Option<Pair<f64>> {
        &mut s.f64
    }
}

impl Staged for f32 {
    fn pair(s: &mut StagingBuffers) -> &mut Option<Pair<f32>> {
        &mut s.f32
    }
}

fn err(what: &'static str) -> impl Fn(cudarc::driver::DriverError) -> FitError {
    move |e| driver_error(what, e)
}

impl<T: Staged> Pair<T> {
    fn new(gpu: &Gpu) -> Result<Self, FitError> {
        let alloc = || {
            // SAFETY: a chunk is written into the buffer before the buffer is copied, and only
            // the chunk's part of it is copied.
            unsafe { gpu.ctx.alloc_pinned::<T>(STAGE_POINTS) }
                .map_err(err("allocating pinned staging memory"))
        };
        let stream = || gpu.ctx.new_stream().map_err(err("creating a copy stream"));
        Ok(Pair {
            bufs: [alloc()?, alloc()?],
            streams: [stream()?, stream()?],
        })
    }
}

/// `columns`, one after another, converted to `T` in one new device buffer. The buffer is
/// ready for work on the device's stream when this returns (the stream waits for the copies).
pub(crate) fn upload_columns<T: Staged>(
    gpu: &Gpu,
    columns: &[&[f64]],
) -> Result<CudaSlice<T>, FitError> {
    let total: usize = columns.iter().map(|c| c.len()).sum();
    crate::profile::record_h2d((total * std::mem::size_of::<T>()) as u64);
    if total < DIRECT_POINTS {
        let flat: Vec<T> = columns
            .iter()
            .flat_map(|c| c.iter().map(|&v| T::from_f64(v)))
            .collect();
        return gpu.stream.clone_htod(&flat).map_err(err("uploading data"));
    }
    // SAFETY: every element is written by the copies below before any kernel reads it.
    let mut dst = unsafe { gpu.stream.alloc::<T>(total) }.map_err(err("uploading data"))?;
    let mut staging = gpu.staging.lock().map_err(|_| FitError::Backend {
        backend: "cuda".into(),
        message: "the staging buffers' lock is poisoned (a thread panicked mid-upload)".into(),
    })?;
    let slot = T::pair(&mut staging);
    if slot.is_none() {
        *slot = Some(Pair::new(gpu)?);
    }
    let Some(pair) = slot.as_mut() else {
        unreachable!("the pair was just made")
    };
    for s in &pair.streams {
        // The copies wait for the allocation (and anything before it) on the device's stream.
        s.join(&gpu.stream).map_err(err("ordering the upload"))?;
    }
    let mut at = 0;
    let chunks = columns.iter().flat_map(|c| c.chunks(STAGE_POINTS));
    for (turn, chunk) in chunks.enumerate() {
        stage_chunk(pair, turn % 2, chunk, &mut dst, at)?;
        at += chunk.len();
    }
    for s in &pair.streams {
        gpu.stream.join(s).map_err(err("ordering the upload"))?;
    }
    Ok(dst)
}

/// Converts `chunk` into buffer `b` (waiting for its previous copy) and copies it to
/// `dst[at..]` on stream `b`. A short (last) chunk is copied from a sub-slice, which cudarc
/// does not track, so its stream is synchronized before the buffer can be reused.
fn stage_chunk<T: Staged>(
    pair: &mut Pair<T>,
    b: usize,
    chunk: &[f64],
    dst: &mut CudaSlice<T>,
    at: usize,
) -> Result<(), FitError> {
    let len = chunk.len();
    let stream = &pair.streams[b];
    let host = pair.bufs[b]
        .as_mut_slice()
        .map_err(err("waiting for a staging buffer"))?;
    convert(&mut host[..len], chunk);
    let mut view = dst.slice_mut(at..at + len);
    if len == STAGE_POINTS {
        stream
            .memcpy_htod(&pair.bufs[b], &mut view)
            .map_err(err("copying data to the device"))?;
    } else {
        stream
            .memcpy_htod(&host[..len], &mut view)
            .map_err(err("copying data to the device"))?;
        stream
            .synchronize()
            .map_err(err("copying data to the device"))?;
    }
    Ok(())
}

//! Data resident on a wgpu device: uploaded once, reusable across fits and models.
//!
//! Data larger than one storage binding allows (`max_storage_buffer_binding_size`,
//! `max_buffer_size`) or than 32-bit indices reach is split into chunks, each with its own
//! buffers and dispatched on its own; the kernels' grid-stride loops keep every dispatch under
//! the 65535-workgroups-per-dimension limit, so `x_offset` stays 0.

use super::WgpuObjective;
use super::{Gpu, backend_error, to_bytes};
use crate::backend::DataShape;
use crate::data::FitData;
use crate::error::FitError;
use kernels_gen::Precision;
use kernels_gen::kernels::abi;
use std::sync::Arc;

/// Bytes written to the device per staging step of an upload.
const UPLOAD_STEP: usize = 64 << 20;

/// One chunk of points: its predictors (column-major, `K` columns of `len`), observations and
/// weights.
pub struct Chunk {
    /// `K · len` predictors, column after column.
    pub x: wgpu::Buffer,
    /// `len` observations.
    pub y: wgpu::Buffer,
    /// `len` weights, or a placeholder of one element when unweighted.
    pub w: wgpu::Buffer,
    /// Points in this chunk.
    pub len: usize,
}

/// Predictors, observations and weights on a wgpu device.
pub struct DeviceData {
    /// The device holding the data.
    pub gpu: Arc<Gpu>,
    /// The chunks, in point order.
    pub chunks: Vec<Chunk>,
    /// Its size, layout, precision and spread.
    pub shape: DataShape,
}

impl DeviceData {
    /// Uploads validated host data in `precision`, in chunks as large as the device allows.
    pub fn upload(
        gpu: &Arc<Gpu>,
        data: &FitData<'_>,
        precision: Precision,
    ) -> Result<Self, FitError> {
        Self::upload_chunked(gpu, data, precision, usize::MAX)
    }

    /// The largest chunk of points with `k` predictors the device binds at once.
    pub fn max_chunk_points(gpu: &Gpu, k: usize, precision: Precision) -> usize {
        let elem = Gpu::elem_bytes(precision);
        let binding = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size);
        let by_bytes = binding / (elem * k.max(1) as u64);
        let by_index = (u32::MAX as u64 / 2) / k.max(1) as u64;
        let m = by_bytes.min(by_index) as usize;
        (m / abi::WGSL_WORKGROUP as usize * abi::WGSL_WORKGROUP as usize).max(1)
    }

    /// Uploads in chunks of at most `max_chunk` points (and at most what the device binds).
    pub fn upload_chunked(
        gpu: &Arc<Gpu>,
        data: &FitData<'_>,
        precision: Precision,
        max_chunk: usize,
    ) -> Result<Self, FitError> {
        gpu.check_precision(precision)?;
        let n = data.len();
        let k = data.n_inputs();
        let m = Self::max_chunk_points(gpu, k, precision).min(max_chunk.max(1));
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let invalid = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut chunks = Vec::with_capacity(n.div_ceil(m));
        let mut start = 0;
        while start < n {
            let end = (start + m).min(n);
            let cols: Vec<&[f64]> = data.x.iter().map(|c| &c[start..end]).collect();
            let x = upload(gpu, "x", &cols, precision)?;
            let y = upload(gpu, "y", &[&data.y[start..end]], precision)?;
            let w = match &data.weights {
                Some(w) => upload(gpu, "w", &[&w[start..end]], precision)?,
                None => upload(gpu, "w (placeholder)", &[&[0.0, 0.0]], precision)?,
            };
            chunks.push(Chunk {
                x,
                y,
                w,
                len: end - start,
            });
            start = end;
        }
        gpu.wait()?;
        let invalid = pollster::block_on(invalid.pop());
        if let Some(e) = invalid {
            drop(scope);
            return Err(backend_error(format!(
                "uploading {n} points in {precision}: the device refused a buffer: {e}"
            )));
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(backend_error(format!(
                "uploading {n} points in {precision}: the device is out of memory ({e}); fit in f32, or on the CPU"
            )));
        }
        Ok(DeviceData {
            gpu: gpu.clone(),
            chunks,
            shape: DataShape::of(data, precision),
        })
    }
}

/// A storage buffer holding `cols` one after the other in `precision`.
fn upload(
    gpu: &Gpu,
    label: &str,
    cols: &[&[f64]],
    precision: Precision,
) -> Result<wgpu::Buffer, FitError> {
    let elem = Gpu::elem_bytes(precision);
    let len: usize = cols.iter().map(|c| c.len()).sum();
    let size = (len as u64 * elem).max(16);
    if size > gpu.limits.max_buffer_size {
        return Err(backend_error(format!(
            "a {label} buffer of {size} bytes exceeds the device's max_buffer_size of {} bytes",
            gpu.limits.max_buffer_size
        )));
    }
    let buf = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let step = UPLOAD_STEP / elem as usize;
    let mut offset = 0u64;
    for col in cols {
        for piece in col.chunks(step) {
            gpu.queue
                .write_buffer(&buf, offset, &to_bytes(piece, precision));
            offset += piece.len() as u64 * elem;
            if piece.len() == step {
                // Bound the staging memory of large uploads.
                gpu.queue.submit([]);
                gpu.wait()?;
            }
        }
    }
    Ok(buf)
}

resident_data!(DeviceData, WgpuObjective, |s| format!(
    "wgpu {}",
    s.gpu.describe()
));

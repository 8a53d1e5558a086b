//! The CUDA backend of batch fitting: the model's batch module (`Model::cuda_batch_source`),
//! built with NVRTC on first use and cached like the fit module, one launch for all fits.
//! Mapping (see the batch ABI in `kernels_gen::kernels::abi`): one thread per fit for fits of
//! at most [`abi::BATCH_THREAD_MAX_POINTS`] points, with equal-length fits' `y` staged through
//! shared memory; one warp per fit for longer fits. Equal-length batches stream `y` in chunks
//! of [`super::DEVICE_CHUNK_FITS`] fits (or [`super::BatchFit::device_chunk`]) over two streams,
//! with their per-fit p0: one chunk's conversion and upload overlap the previous chunk's kernel
//! and read-back.

use super::Outputs;
use super::lm::LmSettings;
use super::problem::{Layout, PerFit, Problem, Values, XData};
use super::result::FitState;
use crate::backend::cuda::{Gpu, driver_error};
use crate::error::FitError;
use crate::model::Model;
use cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use kernels_gen::Precision;
use kernels_gen::kernels::abi;
use rayon::prelude::*;
use std::sync::Arc;

/// The element types of the batch kernels.
trait Real: DeviceRepr + ValidAsZeroBits + Copy + Default + Send + Sync + Unpin + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// `v` itself when it already is of this type (no conversion copy).
    fn native(v: &[f64]) -> Option<&[Self]>;
    /// `v` itself when it already is of this type.
    fn native32(v: &[f32]) -> Option<&[Self]>;
    fn from_f32(v: f32) -> Self;
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn native(_: &[f64]) -> Option<&[Self]> {
        None
    }
    fn native32(v: &[f32]) -> Option<&[Self]> {
        Some(v)
    }
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn native(v: &[f64]) -> Option<&[Self]> {
        Some(v)
    }
    fn native32(_: &[f32]) -> Option<&[Self]> {
        None
    }
    fn from_f32(v: f32) -> Self {
        f64::from(v)
    }
}

fn convert<T: Real>(v: &[f64]) -> Vec<T> {
    v.par_iter().map(|&a| T::from_f64(a)).collect()
}

/// A per-fit array expanded to `stride` (`P` when either bound is per fit).
fn per_fit_values(a: &PerFit<'_, f64>, n_fits: usize, p: usize, stride: usize) -> Vec<f64> {
    if a.stride == stride {
        a.data.to_vec()
    } else {
        (0..n_fits)
            .flat_map(|i| a.of(i, p).iter().copied())
            .collect()
    }
}

/// Runs every fit of `problem` on `gpu` in `precision`, writing into `out`.
pub(crate) fn run<M: Model + ?Sized>(
    gpu: &Arc<Gpu>,
    model: &M,
    problem: &Problem<'_>,
    settings: LmSettings,
    precision: Precision,
    chunk: usize,
    out: &mut Outputs,
) -> Result<(), FitError> {
    match precision {
        Precision::F32 => run_typed::<f32, M>(gpu, model, problem, settings, chunk, out),
        Precision::F64 => run_typed::<f64, M>(gpu, model, problem, settings, chunk, out),
    }
}

/// One stream's buffers for a chunk of fits.
struct Slot<T: Real> {
    stream: Arc<CudaStream>,
    /// Conversion buffer of the chunk's y (unused when y needs no conversion).
    y_host: Vec<T>,
    y: CudaSlice<T>,
    /// The chunk's p0 (per-fit p0 only), converted and on the device.
    p0_host: Vec<T>,
    p0: CudaSlice<T>,
    params: CudaSlice<T>,
    chi2: CudaSlice<T>,
    states: CudaSlice<u8>,
    iterations: CudaSlice<u32>,
    cov: Option<CudaSlice<T>>,
}

/// What a chunk reads besides its `y`: uploaded once, viewed per chunk.
struct Inputs<T: Real> {
    x: CudaSlice<T>,
    x_mode: i32,
    w: Option<CudaSlice<T>>,
    offsets: Option<CudaSlice<u64>>,
    n_equal: u32,
    /// p0 given once for all fits (stride 0); per-fit p0 streams with `y` through the slots.
    p0_shared: Option<CudaSlice<T>>,
    p0_stride: usize,
    bounds: Option<(CudaSlice<T>, CudaSlice<T>)>,
    bounds_stride: usize,
    fixed: Option<CudaSlice<u8>>,
    fixed_stride: usize,
}

fn run_typed<T: Real, M: Model + ?Sized>(
    gpu: &Arc<Gpu>,
    model: &M,
    problem: &Problem<'_>,
    settings: LmSettings,
    chunk_fits: usize,
    out: &mut Outputs,
) -> Result<(), FitError> {
    let precision = if std::mem::size_of::<T>() == 4 {
        Precision::F32
    } else {
        Precision::F64
    };
    let (n_fits, p, k) = (problem.n_fits, problem.n_params, problem.n_inputs);
    u32::try_from(n_fits).map_err(|_| FitError::InvalidOption {
        option: "data".into(),
        reason: format!("{n_fits} fits exceed one CUDA batch (at most 2^32 - 1)"),
    })?;
    let module = gpu
        .lock_cache()?
        .batch_module(&gpu.ctx, &gpu.arch, model, precision)?;
    let max_len = match &problem.layout {
        Layout::Equal(n) => *n,
        Layout::Offsets(o) => o.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0),
    };
    let warp = max_len > abi::BATCH_THREAD_MAX_POINTS;
    let name = if warp {
        "nlsq_batch_lm_warp"
    } else {
        "nlsq_batch_lm"
    };
    let func = module
        .load_function(name)
        .map_err(|e| driver_error(&format!("loading {name}"), e))?;
    let inputs = upload_inputs::<T>(gpu, problem)?;
    // Equal lengths stream y in chunks; variable lengths go in one piece (absolute offsets).
    let (chunk, n_point) = match &problem.layout {
        Layout::Equal(n) => (chunk_fits.clamp(1, n_fits), *n),
        Layout::Offsets(_) => (n_fits, 0),
    };
    let chunk_points = match &problem.layout {
        Layout::Equal(n) => chunk * n,
        Layout::Offsets(_) => problem.y.len(),
    };
    let n_slots = if chunk < n_fits { 2 } else { 1 };
    let mut slots = Vec::with_capacity(n_slots);
    for _ in 0..n_slots {
        let stream = if n_slots == 1 {
            gpu.stream.clone()
        } else {
            gpu.ctx
                .new_stream()
                .map_err(|e| driver_error("creating a stream", e))?
        };
        let alloc_t = |len: usize| {
            stream
                .alloc_zeros::<T>(len.max(1))
                .map_err(|e| driver_error("allocating batch buffers", e))
        };
        slots.push(Slot {
            y_host: Vec::new(),
            y: alloc_t(chunk_points)?,
            p0_host: Vec::new(),
            p0: alloc_t(if inputs.p0_shared.is_some() {
                1
            } else {
                chunk * p
            })?,
            params: alloc_t(chunk * p)?,
            chi2: alloc_t(chunk)?,
            states: stream
                .alloc_zeros::<u8>(chunk)
                .map_err(|e| driver_error("allocating batch buffers", e))?,
            iterations: stream
                .alloc_zeros::<u32>(chunk)
                .map_err(|e| driver_error("allocating batch buffers", e))?,
            cov: out
                .covariance
                .as_ref()
                .map(|_| alloc_t(chunk * p * p))
                .transpose()?,
            stream,
        });
    }
    let launch = LaunchShape {
        warp,
        n_equal: inputs.n_equal,
        elem: std::mem::size_of::<T>(),
    };
    let scalars = Scalars {
        estimator: match problem.estimator {
            super::Estimator::Lse => 0,
            super::Estimator::PoissonMle => 1,
        },
        tolerance: T::from_f64(settings.tolerance),
        step_tolerance: T::from_f64(settings.step_tolerance),
        max_iterations: settings.max_iterations,
    };
    tracing::debug!(fits = n_fits, chunk, kernel = name, %precision, "batch launch");
    let n_chunks = n_fits.div_ceil(chunk);
    let mut pending: Option<(usize, usize)> = None;
    for c in 0..n_chunks {
        let f0 = c * chunk;
        let f1 = (f0 + chunk).min(n_fits);
        let slot = &mut slots[c % n_slots];
        let ys = match &problem.layout {
            Layout::Equal(_) => problem.y.slice(f0 * n_point..f1 * n_point),
            Layout::Offsets(_) => problem.y,
        };
        let native = match ys {
            Values::F64(v) => T::native(v),
            Values::F32(v) => T::native32(v),
        };
        let host: &[T] = match native {
            Some(native) => native,
            None => {
                slot.y_host.clear();
                match ys {
                    Values::F64(v) => slot
                        .y_host
                        .par_extend(v.par_iter().map(|&a| T::from_f64(a))),
                    Values::F32(v) => slot
                        .y_host
                        .par_extend(v.par_iter().map(|&a| T::from_f32(a))),
                }
                &slot.y_host
            }
        };
        slot.stream
            .memcpy_htod(host, &mut slot.y)
            .map_err(|e| driver_error("uploading y", e))?;
        if inputs.p0_shared.is_none() {
            let src = &problem.p0.data[f0 * p..f1 * p];
            let host: &[T] = match T::native(src) {
                Some(native) => native,
                None => {
                    slot.p0_host.clear();
                    slot.p0_host
                        .par_extend(src.par_iter().map(|&a| T::from_f64(a)));
                    &slot.p0_host
                }
            };
            slot.stream
                .memcpy_htod(host, &mut slot.p0)
                .map_err(|e| driver_error("uploading p0", e))?;
        }
        enqueue(&func, slot, &inputs, &scalars, &launch, f0, f1, n_point, k)?;
        // Read the previous chunk back while this one runs.
        if let Some((g0, g1)) = pending.take() {
            harvest(&slots[(c - 1) % n_slots], problem, out, g0, g1)?;
        }
        pending = Some((f0, f1));
    }
    if let Some((g0, g1)) = pending {
        harvest(&slots[(n_chunks - 1) % n_slots], problem, out, g0, g1)?;
    }
    Ok(())
}

fn upload_inputs<T: Real>(gpu: &Gpu, problem: &Problem<'_>) -> Result<Inputs<T>, FitError> {
    let (n_fits, p) = (problem.n_fits, problem.n_params);
    let s = &gpu.stream;
    let up = |what: &str, v: Vec<T>| {
        s.clone_htod(&v)
            .map_err(|e| driver_error(&format!("uploading {what}"), e))
    };
    let (x, x_mode) = match problem.x {
        XData::Index => (up("x", vec![T::default()])?, 0i32),
        XData::Shared(x) => (up("x", convert(x))?, 1),
        XData::PerFit(x) => (up("x", convert(x))?, 2),
    };
    let w = problem
        .weights
        .map(|w| up("weights", convert(w)))
        .transpose()?;
    let (offsets, n_equal) = match &problem.layout {
        Layout::Equal(n) => (
            None,
            u32::try_from(*n).map_err(|_| FitError::InvalidOption {
                option: "equal_length".into(),
                reason: "more than 2^32 - 1 points per fit".into(),
            })?,
        ),
        Layout::Offsets(o) => {
            let o64: Vec<u64> = o.iter().map(|&v| v as u64).collect();
            let d = s
                .clone_htod(&o64)
                .map_err(|e| driver_error("uploading offsets", e))?;
            (Some(d), 0)
        }
    };
    let p0_shared = if problem.p0.stride == 0 {
        Some(up("p0", convert(problem.p0.data))?)
    } else {
        None
    };
    let (bounds, bounds_stride) = match (&problem.lower, &problem.upper) {
        (Some(lo), Some(hi)) => {
            let stride = lo.stride.max(hi.stride);
            let l = per_fit_values(lo, n_fits, p, stride);
            let h = per_fit_values(hi, n_fits, p, stride);
            (
                Some((
                    up("lower bounds", convert(&l))?,
                    up("upper bounds", convert(&h))?,
                )),
                stride,
            )
        }
        _ => (None, 0),
    };
    let (fixed, fixed_stride) = match &problem.fixed {
        Some(f) => {
            let mask: Vec<u8> = f.data.iter().map(|&b| u8::from(b)).collect();
            let d = s
                .clone_htod(&mask)
                .map_err(|e| driver_error("uploading the fixed mask", e))?;
            (Some(d), f.stride)
        }
        None => (None, 0),
    };
    Ok(Inputs {
        x,
        x_mode,
        w,
        offsets,
        n_equal,
        p0_shared,
        p0_stride: problem.p0.stride,
        bounds,
        bounds_stride,
        fixed,
        fixed_stride,
    })
}

/// Launch shape of every chunk.
struct LaunchShape {
    warp: bool,
    n_equal: u32,
    elem: usize,
}

/// The scalar settings of the kernel.
struct Scalars<T: Real> {
    estimator: i32,
    tolerance: T,
    step_tolerance: T,
    max_iterations: u32,
}

/// Launches the kernel for fits `f0..f1` on the slot's stream (its `y` holds their points).
#[allow(clippy::too_many_arguments)]
fn enqueue<T: Real>(
    func: &CudaFunction,
    slot: &mut Slot<T>,
    inputs: &Inputs<T>,
    scalars: &Scalars<T>,
    shape: &LaunchShape,
    f0: usize,
    f1: usize,
    n_point: usize,
    k: usize,
) -> Result<(), FitError> {
    let n = f1 - f0;
    let n_u32 = n as u32;
    let null: u64 = 0;
    let block = abi::CUDA_BATCH_BLOCK;
    let stage_bytes = block as usize * shape.n_equal as usize * shape.elem;
    let stage =
        !shape.warp && inputs.offsets.is_none() && stage_bytes <= abi::BATCH_STAGE_MAX_BYTES;
    let threads = if shape.warp { n * 32 } else { n };
    let cfg = LaunchConfig {
        grid_dim: (threads.div_ceil(block as usize) as u32, 1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: if stage { stage_bytes as u32 } else { 0 },
    };
    let stage_flag = i32::from(stage);
    let (p0_stride, bounds_stride, fixed_stride) = (
        inputs.p0_stride as u32,
        inputs.bounds_stride as u32,
        inputs.fixed_stride as u32,
    );
    // Per-point inputs of this chunk start at its first point (equal lengths); per-fit ones
    // at its first fit.
    let x = if inputs.x_mode == 2 {
        inputs.x.slice(f0 * n_point * k..)
    } else {
        inputs.x.slice(..)
    };
    let w = inputs.w.as_ref().map(|w| w.slice(f0 * n_point..));
    let bounds = inputs.bounds.as_ref().map(|(l, h)| {
        (
            l.slice(f0 * inputs.bounds_stride..),
            h.slice(f0 * inputs.bounds_stride..),
        )
    });
    let fixed = inputs
        .fixed
        .as_ref()
        .map(|f| f.slice(f0 * inputs.fixed_stride..));
    let stream = slot.stream.clone();
    let mut b = stream.launch_builder(func);
    b.arg(&x).arg(&slot.y);
    match &w {
        Some(w) => b.arg(w),
        None => b.arg(&null),
    };
    match &inputs.offsets {
        Some(o) => b.arg(o),
        None => b.arg(&null),
    };
    b.arg(&inputs.n_equal)
        .arg(&inputs.x_mode)
        .arg(inputs.p0_shared.as_ref().unwrap_or(&slot.p0))
        .arg(&p0_stride);
    match &bounds {
        Some((l, h)) => b.arg(l).arg(h),
        None => b.arg(&null).arg(&null),
    };
    b.arg(&bounds_stride);
    match &fixed {
        Some(f) => b.arg(f),
        None => b.arg(&null),
    };
    b.arg(&fixed_stride)
        .arg(&scalars.estimator)
        .arg(&scalars.tolerance)
        .arg(&scalars.step_tolerance)
        .arg(&scalars.max_iterations)
        .arg(&n_u32)
        .arg(&stage_flag)
        .arg(&mut slot.params)
        .arg(&mut slot.states)
        .arg(&mut slot.chi2)
        .arg(&mut slot.iterations);
    match &mut slot.cov {
        Some(c) => b.arg(c),
        None => b.arg(&null),
    };
    // SAFETY: the arguments follow the batch ABI of `nlsq_batch_lm` / `nlsq_batch_lm_warp`
    // (kernels_gen::kernels::abi): the slot's y holds the chunk's points, every input view
    // starts at the chunk's first point or fit with the stride the ABI states, the outputs
    // hold `chunk` fits, absent optional buffers are null, and the dynamic shared memory
    // covers the staged y.
    unsafe { b.launch(cfg) }.map_err(|e| driver_error("launching the batch kernel", e))?;
    Ok(())
}

/// Reads fits `f0..f1` back from `slot` into `out` (waits for the slot's stream).
fn harvest<T: Real>(
    slot: &Slot<T>,
    problem: &Problem<'_>,
    out: &mut Outputs,
    f0: usize,
    f1: usize,
) -> Result<(), FitError> {
    let p = problem.n_params;
    let n = f1 - f0;
    let s = &slot.stream;
    let back = |what: &str, d: &CudaSlice<T>, len: usize| {
        let mut h = vec![T::default(); len];
        s.memcpy_dtoh(&d.slice(..len), &mut h)
            .and_then(|()| s.synchronize())
            .map_err(|e| driver_error(&format!("reading {what} back"), e))?;
        Ok::<_, FitError>(h)
    };
    let params = back("parameters", &slot.params, n * p)?;
    let chi2 = back("chi2", &slot.chi2, n)?;
    let mut states = vec![0u8; n];
    let mut iterations = vec![0u32; n];
    s.memcpy_dtoh(&slot.states.slice(..n), &mut states)
        .and_then(|()| s.memcpy_dtoh(&slot.iterations.slice(..n), &mut iterations))
        .and_then(|()| s.synchronize())
        .map_err(|e| driver_error("reading states back", e))?;
    for (o, v) in out.params[f0 * p..f1 * p].iter_mut().zip(&params) {
        *o = v.to_f64();
    }
    for l in 0..n {
        let i = f0 + l;
        let state = FitState::from_code(states[l]).ok_or_else(|| FitError::Backend {
            backend: "cuda".into(),
            message: format!("fit {i}: unknown state code {}", states[l]),
        })?;
        out.states[i] = state;
        out.chi2[i] = chi2[l].to_f64();
        out.iterations[i] = iterations[l];
        if matches!(state, FitState::InvalidInput | FitState::NonFinite) {
            // The exact p0, not its device rounding.
            out.params[i * p..(i + 1) * p].copy_from_slice(problem.p0.of(i, p));
            out.chi2[i] = f64::NAN;
        }
    }
    if let (Some(c), Some(host)) = (&slot.cov, out.covariance.as_mut()) {
        let cov = back("covariances", c, n * p * p)?;
        for (o, v) in host[f0 * p * p..f1 * p * p].iter_mut().zip(&cov) {
            *o = v.to_f64();
        }
    }
    Ok(())
}

//! The CUDA backend of batch fitting: the model's batch module (`Model::cuda_batch_source`),
//! built with NVRTC on first use and cached like the fit module, one launch for all fits.
//! Mapping (see the batch ABI in `kernels_gen::kernels::abi`): one thread per fit for fits of
//! at most [`abi::BATCH_THREAD_MAX_POINTS`] points, with equal-length fits' `y` staged through
//! shared memory; one warp per fit for longer fits.

use super::Outputs;
use super::lm::LmSettings;
use super::problem::{Layout, PerFit, Problem, XData};
use super::result::FitState;
use crate::backend::cuda::{Gpu, driver_error};
use crate::error::FitError;
use crate::model::Model;
use cudarc::driver::{CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits};
use kernels_gen::Precision;
use kernels_gen::kernels::abi;
use rayon::prelude::*;
use std::sync::Arc;

/// The element types of the batch kernels.
trait Real: DeviceRepr + ValidAsZeroBits + Copy + Default + Send + Sync + Unpin + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
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
    out: &mut Outputs,
) -> Result<(), FitError> {
    match precision {
        Precision::F32 => run_typed::<f32, M>(gpu, model, problem, settings, out),
        Precision::F64 => run_typed::<f64, M>(gpu, model, problem, settings, out),
    }
}

fn run_typed<T: Real, M: Model + ?Sized>(
    gpu: &Arc<Gpu>,
    model: &M,
    problem: &Problem<'_>,
    settings: LmSettings,
    out: &mut Outputs,
) -> Result<(), FitError> {
    let precision = if std::mem::size_of::<T>() == 4 {
        Precision::F32
    } else {
        Precision::F64
    };
    let (n_fits, p, k) = (problem.n_fits, problem.n_params, problem.n_inputs);
    let n_fits_u32 = u32::try_from(n_fits).map_err(|_| FitError::InvalidOption {
        option: "data".into(),
        reason: format!("{n_fits} fits exceed one CUDA batch launch (at most 2^32 - 1)"),
    })?;
    let module = gpu
        .cache
        .lock()
        .map_err(|_| FitError::Backend {
            backend: "cuda".into(),
            message: "kernel cache lock poisoned".into(),
        })?
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
    let s = &gpu.stream;
    let up = |what: &str, v: Vec<T>| {
        s.clone_htod(&v)
            .map_err(|e| driver_error(&format!("uploading {what}"), e))
    };
    let null: u64 = 0;
    let y = up("y", convert(problem.y))?;
    let (x, x_mode) = match problem.x {
        XData::Index => (up("x", vec![T::default()])?, 0i32),
        XData::Shared(x) => (up("x", convert(x))?, 1),
        XData::PerFit(x) => (up("x", convert(x))?, 2),
    };
    let w = problem
        .weights
        .map(|w| up("weights", convert(w)))
        .transpose()?;
    let (offsets, n_equal): (Option<CudaSlice<u64>>, u32) = match &problem.layout {
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
    let p0 = up("p0", convert(problem.p0.data))?;
    let p0_stride = problem.p0.stride as u32;
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
                stride as u32,
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
            (Some(d), f.stride as u32)
        }
        None => (None, 0),
    };
    let alloc_t = |len: usize| {
        s.alloc_zeros::<T>(len)
            .map_err(|e| driver_error("allocating results", e))
    };
    let mut params = alloc_t(n_fits * p)?;
    let mut chi2 = alloc_t(n_fits)?;
    let mut cov = out
        .covariance
        .as_ref()
        .map(|_| alloc_t(n_fits * p * p))
        .transpose()?;
    let mut states = s
        .alloc_zeros::<u8>(n_fits)
        .map_err(|e| driver_error("allocating results", e))?;
    let mut iterations = s
        .alloc_zeros::<u32>(n_fits)
        .map_err(|e| driver_error("allocating results", e))?;
    let block = abi::CUDA_BATCH_BLOCK;
    let stage_bytes = block as usize * n_equal as usize * std::mem::size_of::<T>();
    let stage = !warp && offsets.is_none() && stage_bytes <= abi::BATCH_STAGE_MAX_BYTES;
    let threads = if warp { n_fits * 32 } else { n_fits };
    let cfg = LaunchConfig {
        grid_dim: (threads.div_ceil(block as usize) as u32, 1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: if stage { stage_bytes as u32 } else { 0 },
    };
    let estimator: i32 = match problem.estimator {
        super::Estimator::Lse => 0,
        super::Estimator::PoissonMle => 1,
    };
    let tolerance = T::from_f64(settings.tolerance);
    let step_tolerance = T::from_f64(settings.step_tolerance);
    let stage_flag = i32::from(stage);
    let mut b = s.launch_builder(&func);
    b.arg(&x).arg(&y);
    match &w {
        Some(w) => b.arg(w),
        None => b.arg(&null),
    };
    match &offsets {
        Some(o) => b.arg(o),
        None => b.arg(&null),
    };
    b.arg(&n_equal).arg(&x_mode).arg(&p0).arg(&p0_stride);
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
        .arg(&estimator)
        .arg(&tolerance)
        .arg(&step_tolerance)
        .arg(&settings.max_iterations)
        .arg(&n_fits_u32)
        .arg(&stage_flag)
        .arg(&mut params)
        .arg(&mut states)
        .arg(&mut chi2)
        .arg(&mut iterations);
    match &mut cov {
        Some(c) => b.arg(c),
        None => b.arg(&null),
    };
    tracing::debug!(fits = n_fits, kernel = name, stage, %precision, "batch launch");
    // SAFETY: the arguments follow the batch ABI of `nlsq_batch_lm` / `nlsq_batch_lm_warp`
    // (kernels_gen::kernels::abi): every buffer holds what its stride and the fit count say,
    // absent optional buffers are null, and the dynamic shared memory covers the staged y.
    unsafe { b.launch(cfg) }.map_err(|e| driver_error(&format!("launching {name}"), e))?;
    let back = |what: &str, d: &CudaSlice<T>| {
        s.clone_dtoh(d)
            .map_err(|e| driver_error(&format!("reading {what} back"), e))
    };
    let params_h = back("parameters", &params)?;
    let chi2_h = back("chi2", &chi2)?;
    let states_h = s
        .clone_dtoh(&states)
        .map_err(|e| driver_error("reading states back", e))?;
    let iterations_h = s
        .clone_dtoh(&iterations)
        .map_err(|e| driver_error("reading iterations back", e))?;
    for (o, v) in out.params.iter_mut().zip(&params_h) {
        *o = v.to_f64();
    }
    for i in 0..n_fits {
        let state = FitState::from_code(states_h[i]).ok_or_else(|| FitError::Backend {
            backend: "cuda".into(),
            message: format!("fit {i}: unknown state code {}", states_h[i]),
        })?;
        out.states[i] = state;
        out.chi2[i] = chi2_h[i].to_f64();
        out.iterations[i] = iterations_h[i];
        if matches!(state, FitState::InvalidInput | FitState::NonFinite) {
            // The exact p0, not its device rounding.
            out.params[i * p..(i + 1) * p].copy_from_slice(problem.p0.of(i, p));
            out.chi2[i] = f64::NAN;
        }
    }
    if let (Some(c), Some(host)) = (&cov, out.covariance.as_mut()) {
        for (o, v) in host.iter_mut().zip(&back("covariances", c)?) {
            *o = v.to_f64();
        }
    }
    let _ = k;
    Ok(())
}

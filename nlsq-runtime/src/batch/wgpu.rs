//! The wgpu backend of batch fitting: the model's WGSL batch module
//! (`Model::wgsl_batch_source`), built on first use and cached with the fit pipelines, one
//! invocation per fit (see the batch ABI in `kernels_gen::kernels::abi`).
//!
//! Fits go to the device in chunks of at most [`super::BatchFit::device_chunk`] fits, fewer
//! where a chunk's buffers would exceed the device's storage-binding size or 32-bit indices:
//! each chunk's points (and per-point predictors and weights), its p0, bounds and fixed mask are
//! uploaded with offsets rebased to the chunk, one dispatch runs its fits (2-D beyond the
//! workgroups one dimension allows), and its parameters, χ², states, iterations and
//! covariances are read back. The kernels are deterministic per fit, so chunking and re-runs
//! do not change a bit.
//!
//! llvmpipe (Mesa's software Vulkan) silently ends all loops of a shader invocation after 65535
//! iterations in all; the kernel detects it (`abi::BATCH_CUT_SHORT`) and the batch fails with
//! an error naming the fits, never with their truncated results.

use super::Outputs;
use super::lm::LmSettings;
use super::problem::{Layout, PerFit, Problem, Values, XData};
use super::result::FitState;
use crate::backend::wgpu::objective::{buffer, read_back};
use crate::backend::wgpu::{BatchPipeline, Gpu, backend_error, from_bytes, to_bytes};
use crate::error::FitError;
use crate::model::Model;
use kernels_gen::Precision;
use kernels_gen::kernels::abi::{self, WgslBatchUniforms};
use std::sync::Arc;

type U = wgpu::BufferUsages;

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
    gpu.check_precision(precision)?;
    let pipe = gpu
        .cache
        .lock()
        .map_err(|_| backend_error("pipeline cache lock poisoned"))?
        .batch_pipeline(gpu, model, precision)?;
    let chunks = plan_chunks(gpu, problem, chunk, precision, out.covariance.is_some())?;
    let shared_x = match problem.x {
        XData::Shared(x) => Some(storage(gpu, "x (shared)", &to_bytes(x, precision))),
        _ => None,
    };
    let placeholder = storage(gpu, "placeholder", &[0u8; 16]);
    tracing::debug!(
        fits = problem.n_fits,
        chunks = chunks.len(),
        %precision,
        adapter = %gpu.info.name,
        "wgpu batch dispatch"
    );
    let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    for &(f0, f1) in &chunks {
        let x = shared_x.as_ref().unwrap_or(&placeholder);
        run_chunk(
            gpu,
            &pipe,
            problem,
            settings,
            precision,
            (f0, f1),
            x,
            &placeholder,
            out,
        )?;
    }
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(backend_error(format!(
            "batch of {} fits in {precision}: the device is out of memory ({e}); use a smaller device_chunk, f32, or the CPU",
            problem.n_fits
        )));
    }
    Ok(())
}

/// The points `start..end` of fits `f0..f1` in the flat data.
fn point_range(problem: &Problem<'_>, f0: usize, f1: usize) -> (usize, usize) {
    match &problem.layout {
        Layout::Equal(n) => (f0 * n, f1 * n),
        Layout::Offsets(o) => (o[f0], o[f1]),
    }
}

/// Splits the fits into chunks of at most `max_fits` fits whose buffers the device binds and
/// whose indices fit in 32 bits.
fn plan_chunks(
    gpu: &Gpu,
    problem: &Problem<'_>,
    max_fits: usize,
    precision: Precision,
    cov: bool,
) -> Result<Vec<(usize, usize)>, FitError> {
    let (n_fits, p, k) = (problem.n_fits, problem.n_params, problem.n_inputs.max(1));
    let elem = Gpu::elem_bytes(precision);
    let binding = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    let index = u64::from(u32::MAX / 2);
    // Per point: K predictors (per point), y, w. Per fit: outputs, p0 and bounds, the index.
    let max_points = (binding / (elem * k as u64)).min(index / k as u64);
    let out_per_fit = (p + 1 + if cov { p * p } else { 0 }) as u64;
    let max_by_fit = (binding / (elem * out_per_fit.max(3 * p as u64)))
        .min(binding / (4 * (p as u64 + 1)))
        .min(index / out_per_fit);
    let max_fits = (max_fits.max(1) as u64).min(max_by_fit).max(1) as usize;
    let mut chunks = Vec::new();
    let mut f0 = 0;
    while f0 < n_fits {
        let mut f1 = (f0 + max_fits).min(n_fits);
        while f1 > f0 + 1 && {
            let (s0, s1) = point_range(problem, f0, f1);
            (s1 - s0) as u64 > max_points
        } {
            f1 = f0 + (f1 - f0) / 2;
        }
        let (s0, s1) = point_range(problem, f0, f1);
        if (s1 - s0) as u64 > max_points {
            return Err(FitError::InvalidOption {
                option: "data".into(),
                reason: format!(
                    "fit {f0} has {} points: more than one wgpu binding holds ({max_points})",
                    s1 - s0
                ),
            });
        }
        chunks.push((f0, f1));
        f0 = f1;
    }
    Ok(chunks)
}

/// A storage buffer holding `bytes` (at least 16 bytes).
fn storage(gpu: &Gpu, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    let b = buffer(gpu, label, bytes.len() as u64, U::STORAGE | U::COPY_DST);
    if !bytes.is_empty() {
        gpu.queue.write_buffer(&b, 0, bytes);
    }
    b
}

/// Little-endian bytes of `v` in `precision`, converted once.
fn values_bytes(v: Values<'_>, precision: Precision) -> Vec<u8> {
    match (v, precision) {
        (Values::F64(v), _) => to_bytes(v, precision),
        (Values::F32(v), Precision::F32) => v.iter().flat_map(|a| a.to_le_bytes()).collect(),
        (Values::F32(v), Precision::F64) => {
            v.iter().flat_map(|&a| f64::from(a).to_le_bytes()).collect()
        }
    }
}

/// Fits `f0..f1` of a per-fit array (the array itself when one set serves every fit).
fn per_fit<'a, T>(a: &PerFit<'a, T>, f0: usize, f1: usize, p: usize) -> &'a [T] {
    if a.stride == 0 {
        a.data
    } else {
        &a.data[f0 * p..f1 * p]
    }
}

fn u32_of(v: usize, what: &str) -> Result<u32, FitError> {
    u32::try_from(v).map_err(|_| backend_error(format!("{what} ({v}) exceeds 32 bits")))
}

/// Uploads, dispatches and reads back fits `f0..f1`.
#[allow(clippy::too_many_arguments)]
fn run_chunk(
    gpu: &Gpu,
    pipe: &BatchPipeline,
    problem: &Problem<'_>,
    settings: LmSettings,
    precision: Precision,
    (f0, f1): (usize, usize),
    shared_x: &wgpu::Buffer,
    placeholder: &wgpu::Buffer,
    out: &mut Outputs,
) -> Result<(), FitError> {
    let (p, k) = (problem.n_params, problem.n_inputs);
    let n = f1 - f0;
    let (s0, s1) = point_range(problem, f0, f1);
    let elem = Gpu::elem_bytes(precision) as usize;
    let cov = out.covariance.is_some();
    // Per-point inputs of the chunk (rebased: the chunk's first point is point 0).
    let y = storage(gpu, "y", &values_bytes(problem.y.slice(s0..s1), precision));
    let x_per_point = match problem.x {
        XData::PerFit(x) => Some(storage(gpu, "x", &to_bytes(&x[s0 * k..s1 * k], precision))),
        _ => None,
    };
    let w = problem
        .weights
        .map(|w| storage(gpu, "weights", &to_bytes(&w[s0..s1], precision)));
    // Per-fit reals: tolerances, p0, lower, upper.
    let mut reals = vec![settings.tolerance, settings.step_tolerance];
    let p0_offset = reals.len();
    reals.extend_from_slice(per_fit(&problem.p0, f0, f1, p));
    let (mut lower_offset, mut upper_offset, mut bounds_stride) = (0, 0, 0);
    if let (Some(lo), Some(hi)) = (&problem.lower, &problem.upper) {
        // One stride for both: per fit when either is.
        bounds_stride = lo.stride.max(hi.stride);
        for (b, off) in [(lo, &mut lower_offset), (hi, &mut upper_offset)] {
            *off = reals.len();
            if b.stride == bounds_stride {
                reals.extend_from_slice(per_fit(b, f0, f1, p));
            } else {
                for _ in f0..f1 {
                    reals.extend_from_slice(b.data);
                }
            }
        }
    }
    let fit_params = storage(gpu, "fit parameters", &to_bytes(&reals, precision));
    // Per-fit indices: rebased offsets, then the fixed mask.
    let mut index: Vec<u32> = Vec::new();
    if let Layout::Offsets(o) = &problem.layout {
        for &v in &o[f0..=f1] {
            index.push(u32_of(v - s0, "a point offset")?);
        }
    }
    let fixed_offset = index.len();
    if let Some(f) = &problem.fixed {
        index.extend(per_fit(f, f0, f1, p).iter().map(|&b| u32::from(b)));
    }
    let index_bytes: Vec<u8> = index.iter().flat_map(|v| v.to_le_bytes()).collect();
    let fit_index = storage(gpu, "fit index", &index_bytes);
    let chi2_offset = n * p;
    let cov_offset = chi2_offset + n;
    let out_len = cov_offset + if cov { n * p * p } else { 0 };
    let uniforms = WgslBatchUniforms {
        n_fits: u32_of(n, "fits in one dispatch")?,
        n_equal: match &problem.layout {
            Layout::Equal(m) => u32_of(*m, "points per fit")?,
            Layout::Offsets(_) => 0,
        },
        x_mode: match problem.x {
            XData::Index => 0,
            XData::Shared(_) => 1,
            XData::PerFit(_) => 2,
        },
        estimator: match problem.estimator {
            super::Estimator::Lse => 0,
            super::Estimator::PoissonMle => 1,
        },
        p0_offset: u32_of(p0_offset, "p0 offset")?,
        p0_stride: u32_of(problem.p0.stride, "p0 stride")?,
        lower_offset: u32_of(lower_offset, "bounds offset")?,
        upper_offset: u32_of(upper_offset, "bounds offset")?,
        bounds_stride: u32_of(bounds_stride, "bounds stride")?,
        has_bounds: u32::from(problem.lower.is_some()),
        fixed_offset: u32_of(fixed_offset, "fixed offset")?,
        fixed_stride: problem.fixed.as_ref().map_or(0, |f| f.stride as u32),
        has_fixed: u32::from(problem.fixed.is_some()),
        has_weights: u32::from(problem.weights.is_some()),
        max_iterations: settings.max_iterations,
        want_cov: u32::from(cov),
        chi2_offset: u32_of(chi2_offset, "chi2 offset")?,
        cov_offset: u32_of(cov_offset, "covariance offset")?,
        has_offsets: u32::from(matches!(problem.layout, Layout::Offsets(_))),
        reserved: 0,
    };
    let uniform = buffer(gpu, "batch uniforms", 80, U::UNIFORM | U::COPY_DST);
    gpu.queue
        .write_buffer(&uniform, 0, &uniform_bytes(&uniforms));
    let out_bytes = (out_len * elem) as u64;
    let info_bytes = (n * 4) as u64;
    let results = buffer(gpu, "batch results", out_bytes, U::STORAGE | U::COPY_SRC);
    let info = buffer(
        gpu,
        "batch info",
        info_bytes,
        U::STORAGE | U::COPY_SRC | U::COPY_DST,
    );
    // No state code: a fit the kernel never finished reads back as an error, not as converged.
    gpu.queue
        .write_buffer(&info, 0, &vec![0xff; info_bytes as usize]);
    let results_host = buffer(
        gpu,
        "results readback",
        out_bytes,
        U::MAP_READ | U::COPY_DST,
    );
    let info_host = buffer(gpu, "info readback", info_bytes, U::MAP_READ | U::COPY_DST);
    let x = x_per_point.as_ref().unwrap_or(shared_x);
    let w = w.as_ref().unwrap_or(placeholder);
    let entries: Vec<wgpu::BindGroupEntry<'_>> =
        [x, &y, w, &fit_params, &fit_index, &uniform, &results, &info]
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
    let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("nlsq batch"),
        layout: &pipe.layout,
        entries: &entries,
    });
    let (gx, gy) = grid(gpu, n);
    let mut enc = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(&pipe.pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(gx, gy, 1);
    }
    enc.copy_buffer_to_buffer(&results, 0, &results_host, 0, out_bytes);
    enc.copy_buffer_to_buffer(&info, 0, &info_host, 0, info_bytes);
    gpu.queue.submit([enc.finish()]);
    let values = from_bytes(&read_back(gpu, &results_host, out_bytes)?, precision);
    let info: Vec<u32> = read_back(gpu, &info_host, info_bytes)?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    harvest(&gpu.describe(), problem, &values, &info, (f0, f1), out)
}

/// Workgroups `(x, y)` covering `n` fits (2-D beyond the per-dimension limit).
fn grid(gpu: &Gpu, n: usize) -> (u32, u32) {
    let groups = n.div_ceil(abi::WGSL_BATCH_WORKGROUP as usize).max(1);
    let max = gpu.limits.max_compute_workgroups_per_dimension.max(1) as usize;
    if groups <= max {
        (groups as u32, 1)
    } else {
        (max as u32, groups.div_ceil(max) as u32)
    }
}

fn uniform_bytes(u: &WgslBatchUniforms) -> Vec<u8> {
    [
        u.n_fits,
        u.n_equal,
        u.x_mode,
        u.estimator,
        u.p0_offset,
        u.p0_stride,
        u.lower_offset,
        u.upper_offset,
        u.bounds_stride,
        u.has_bounds,
        u.fixed_offset,
        u.fixed_stride,
        u.has_fixed,
        u.has_weights,
        u.max_iterations,
        u.want_cov,
        u.chi2_offset,
        u.cov_offset,
        u.has_offsets,
        u.reserved,
    ]
    .iter()
    .flat_map(|v| v.to_le_bytes())
    .collect()
}

/// Unpacks one chunk's results into `out`: NaN where a state or the covariance bit says the
/// value is undefined, the exact p0 for fits that never started.
fn harvest(
    name: &str,
    problem: &Problem<'_>,
    values: &[f64],
    info: &[u32],
    (f0, f1): (usize, usize),
    out: &mut Outputs,
) -> Result<(), FitError> {
    let p = problem.n_params;
    let n = f1 - f0;
    let chi2_offset = n * p;
    let cov_offset = chi2_offset + n;
    out.params[f0 * p..f1 * p].copy_from_slice(&values[..n * p]);
    let cut: Vec<usize> = (0..n)
        .filter(|&l| info[l] & 0xff == u32::from(abi::BATCH_CUT_SHORT))
        .map(|l| f0 + l)
        .collect();
    if !cut.is_empty() {
        return Err(backend_error(format!(
            "{} fits (e.g. {:?}) were cut short by the adapter {name}: it ends every shader loop \
             of an invocation after a fixed number of iterations in all (llvmpipe: 65535), fewer \
             than these fits need (points x iterations); lower max_iterations, fit in f64 (fewer \
             iterations), or use Backend::Cpu",
            cut.len(),
            &cut[..cut.len().min(8)]
        )));
    }
    for l in 0..n {
        let i = f0 + l;
        let code = (info[l] & 0xff) as u8;
        let state = FitState::from_code(code).ok_or_else(|| {
            backend_error(format!(
                "fit {i}: unknown state code {code} (the kernel did not run?)"
            ))
        })?;
        out.states[i] = state;
        out.chi2[i] = values[chi2_offset + l];
        out.iterations[i] = (info[l] >> 8) & 0x7f_ffff;
        if matches!(state, FitState::InvalidInput | FitState::NonFinite) {
            out.params[i * p..(i + 1) * p].copy_from_slice(problem.p0.of(i, p));
            out.chi2[i] = f64::NAN;
        }
        if let Some(c) = out.covariance.as_mut() {
            let dst = &mut c[i * p * p..(i + 1) * p * p];
            if info[l] >> 31 != 0 {
                dst.fill(f64::NAN);
            } else {
                let src = cov_offset + l * p * p;
                dst.copy_from_slice(&values[src..src + p * p]);
            }
        }
    }
    Ok(())
}

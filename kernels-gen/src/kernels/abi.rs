//! The kernel ABI: the one place that says what every generated kernel reads, writes and
//! expects at launch. Backends in `nlsq-runtime` follow this page; [`ABI_VERSION`] enters every
//! model hash, so changing anything here forces every cache to rebuild.
//!
//! # Common conventions
//!
//! * `P` = number of flattened parameters, `K` = number of predictors, `real` = the data and
//!   evaluation type (`double`/`f64` or `float`/`f32`, see [`Precision`](super::Precision)).
//! * Predictors are column-major: predictor `k` of point `i` is `x[k * x_stride + i]`
//!   (`x_stride >= n`; `x_stride = n` for a dense buffer).
//! * Residuals are `r_i = w_i * (f(x_i; p) - y_i)`, with `w_i = 1` when no weights are bound.
//!   `w_i` multiplies the residual: pass `1/sigma_i` for standard deviations `sigma_i`.
//! * Parameters: CUDA reads `P` doubles; WGSL reads `P + 1` reals, the last being `f_scale`.
//!
//! # Robust loss (selected at run time)
//!
//! `loss` codes are [`LOSS_LINEAR`] .. [`LOSS_ARCTAN`]. With `z = (r / f_scale)^2` and `rho` the
//! loss of scipy's `least_squares`, each point contributes `f_scale^2 rho(z)` to the cost sum
//! and its Jacobian row and residual are rescaled as scipy does: `s = sqrt(max(rho'(z) +
//! 2 z rho''(z), EPS))`, `J_i <- s J_i`, `r_i <- rho'(z) r_i / s`, so that `JᵀJ` is the
//! Gauss–Newton matrix of the robust cost and `Jᵀr` its exact gradient. For `linear`,
//! `rho(z) = z`, `s = 1`.
//!
//! # Fused pass: `nlsq_pass`
//!
//! One launch accumulates, over all `n` points, one reduction row of [`reduction_width`]`(P)`
//! doubles (CUDA) or reals (WGSL) per block / workgroup, laid out as:
//!
//! | index | content |
//! |---|---|
//! | `0` | `Σ f_scale² ρ(z_i)` (the cost is half of it) |
//! | `1 ..= T` | upper triangle of `JᵀJ`, row-major: `(0,0), (0,1) .. (0,P-1), (1,1) ..`, `T = P(P+1)/2` |
//! | `T+1 ..= T+P` | `Jᵀr` |
//! | `T+P+1` | number of points skipped because `r_i` or a `J_ij` was not finite |
//! | `T+P+2` | number of points accumulated |
//!
//! A point whose residual or Jacobian row is NaN or infinite is skipped and counted, never
//! summed: the host sees the count and reports the model's failure instead of a NaN fit.
//!
//! The two counts are integers in the kernels (exact), written into the row as doubles.
//!
//! Every block writes its own row (`partials[block * W ..]`); nothing is combined with
//! floating-point atomics, and rows are summed in block order (by `nlsq_reduce` or on the
//! host), so the same launch on the same device gives bit-identical sums.
//!
//! **CUDA** `nlsq_pass(const real* x, const real* y, const real* w /* or NULL */,
//! const double* params, unsigned long long n, unsigned long long x_stride, int loss,
//! double f_scale, double* partials)`. Launch with `blockDim.x =`
//! [`cuda_block_size`]`(P)` (required) and any `gridDim.x >= 1`; `partials` holds
//! `gridDim.x * W` doubles. Each thread evaluates `real`, accumulates in `double`.
//! For `P <=` [`REGISTER_PATH_MAX_P`] every thread keeps the whole row in registers over a
//! grid-stride loop and the block reduces with warp shuffles; above it, threads evaluate a tile
//! of points into shared memory and each thread owns a slice of the row (the correct path for
//! large `P`, tested to `P = 256`).
//!
//! **CUDA** `nlsq_pass_k(…, double* partials, unsigned int k_vectors)`: the K-vector pass of
//! multi-start searches, `nlsq_pass`'s arguments then `K`; `params` holds `K` vectors of `P`.
//! Launched with `gridDim.x = G · K`, block `b` does what block `b / K` of a `G`-block
//! `nlsq_pass` does at vector `b % K` and writes its row to `partials[((b % K) G + b / K) W ..]`:
//! vector `v`'s `G` rows are those of its single pass, bit for bit, summed by `nlsq_reduce` on
//! `partials + v G W`. The blocks of the `K` vectors that read the same points are adjacent in
//! launch order, so that they can share the L2 cache.
//!
//! **CUDA** `nlsq_reduce(const double* partials, unsigned int n_blocks, double* out)`: sums the
//! rows in block order into `out[0..W]`. Launch with at least `W` threads in total.
//!
//! **WGSL** entry point `nlsq_pass`, `@workgroup_size(`[`WGSL_WORKGROUP`]`)`, bindings in group 0:
//! `0: x`, `1: y`, `2: w` (bind any buffer of at least one element when unweighted),
//! `3: params` (`P` parameters then `f_scale`), `4: uniform` [`WgslUniforms`], `5: out` (`read_write`,
//! `num_workgroups.x * W` reals). The f32 variant accumulates each lane with Kahan compensation
//! and reduces the workgroup as a tree; the host sums the rows in f64.
//!
//! **WGSL** entry point `nlsq_pass_k`, the K-vector pass: the same bindings, `params` holding
//! `K` runs of `P` parameters and `f_scale`; dispatched as `(K, G, 1)` workgroups, workgroup
//! `(v, b)` does what workgroup `b` of a `G`-workgroup `nlsq_pass` does at vector `v` and writes
//! its row to `out[(v G + b) W ..]`: vector `v`'s `G` rows are those of its single pass, bit for
//! bit. The workgroups of the `K` vectors that read the same points are adjacent in dispatch
//! order.
//!
//! # Evaluation kernels
//!
//! * `nlsq_eval(x, params, n, x_stride, out)`: `out[i] = f(x_i; p)` (`real`).
//! * `nlsq_residuals(x, y, w, params, n, x_stride, out)`: `out[i] = w_i (f(x_i; p) - y_i)`.
//! * `nlsq_jacobian(x, w, params, n, x_stride, out)`: `out[i * P + j] = w_i ∂f/∂p_j (x_i; p)`.
//!
//! * CUDA `nlsq_data_check(x, y, n, x_stride, unsigned long long* first)`: the smallest index
//!   `i` whose `y_i` or any predictor is NaN or infinite, by `atomicMin` into `*first`, which
//!   the host sets to `u64::MAX` before the launch (left there when every point is finite).
//!   The device-side check of host data uploaded in `f64`.
//!
//! CUDA: any launch shape (grid-stride loops); arguments as for `nlsq_pass` (pointers in the
//! same order, then `n`, `x_stride`, then `out`). WGSL: entry points of the same names,
//! `@workgroup_size(WGSL_WORKGROUP)`, same bindings as the pass (`y` and `w` bound but unused by
//! `nlsq_eval`), writing `out`; dispatch `ceil(n / WGSL_WORKGROUP)` workgroups (at most 65535
//! per dimension; larger `n` uses `x_offset` windows).
//!
//! # Batch fits: `nlsq_batch_lm` (separate modules)
//!
//! Many independent fits of one model in one launch, each by the per-fit Levenberg–Marquardt
//! that `nlsq_runtime::batch::lm` documents and the CPU backend runs: Marquardt damping
//! `diag(H)·(1+λ)` from `λ =` [`BATCH_LAMBDA0`], `÷`/`×` [`BATCH_LAMBDA_FACTOR`] on accepted /
//! rejected steps, steps clamped into the bounds, accepted when `χ²` does not increase,
//! converged on an accepted step with `χ² - χ²' < tol · max(1, χ²')` and every parameter's
//! move `<= xtol (|p| + xtol)`. Per point (`f` the model, `w` the weight of the squared
//! residual): least squares (`estimator = 0`) `χ² += w (f-y)²`, `g += w (f-y) ∇f`,
//! `H += w ∇f∇fᵀ`; Poisson MLE (`1`) `χ² += 2(f-y) - 2 y ln(f/y)` (0 for `y = 0`),
//! `g += (1 - y/f) ∇f`, `H += (y/f²) ∇f∇fᵀ`, a point with `f <= 0` is not finite. Fixed
//! parameters get identity rows and a zero right-hand side. Covariance on request: least
//! squares `H⁻¹ χ²/(n - free)` (not available for `n <= free`), Poisson the inverse Fisher
//! information `(Σ ∇f∇fᵀ/f)⁻¹`; rows and columns of fixed parameters are zero.
//!
//! Per-fit checks, in order, each ending the fit in a state (codes [`BATCH_CONVERGED`] ..
//! [`BATCH_INVALID_INPUT`]): p0 not finite, a NaN bound, `lower > upper` or p0 outside the
//! bounds, fewer points than free parameters → invalid input; a non-finite weight →
//! non-finite; a negative weight → invalid input; non-finite `y` or `x` → non-finite; Poisson
//! and a negative `y` → invalid input; the model not finite at p0 → non-finite.
//!
//! Layouts: `y` flat, fit-major; fit `i` is `offsets[i] .. offsets[i+1]` or, without offsets,
//! `i*n_equal ..`. Predictors point-major (`K` per point): `x_mode = 0` point `q` of a fit is
//! at `x = q` (`K = 1`), `1` shared by all fits (`x[q*K + k]`), `2` per point of the flat data
//! (`x[(start+q)*K + k]`). Per-fit arrays (p0, bounds, fixed) have a stride: `P`, or 0 when one
//! set serves every fit. Models with more than [`BATCH_MAX_P`] parameters have no batch module.
//!
//! **CUDA** (`real` as in the module), kernels `nlsq_batch_lm` (one thread per fit) and
//! `nlsq_batch_lm_warp` (one warp per fit, for fits of more than [`BATCH_THREAD_MAX_POINTS`]
//! points): `(const real* x, const real* y, const real* w /* or NULL */, const unsigned long
//! long* offsets /* n_fits+1, or NULL */, unsigned int n_equal, int x_mode, const real* p0,
//! unsigned int p0_stride, const real* lower, const real* upper /* both or neither NULL */,
//! unsigned int bounds_stride, const unsigned char* fixed /* or NULL */, unsigned int
//! fixed_stride, int estimator, real tolerance, real step_tolerance /* +inf: none */, unsigned
//! int max_iterations, unsigned int n_fits, int stage, real* params_out /* n_fits*P */,
//! unsigned char* states_out, real* chi2_out, unsigned int* iterations_out, real* cov_out /*
//! n_fits*P*P, or NULL */)`. Block size [`CUDA_BATCH_BLOCK`]; thread kernel grid
//! `ceil(n_fits / block)`, warp kernel `ceil(32 n_fits / block)`. `stage = 1` (thread kernel,
//! equal lengths only) stages each block's `y` in dynamic shared memory: launch with
//! `block * n_equal * sizeof(real)` bytes of it (at most [`BATCH_STAGE_MAX_BYTES`]). Failed
//! fits keep p0 and get `chi2 = NaN`; covariances NaN when unavailable.
//!
//! **WGSL** entry point `nlsq_batch_lm`, `@workgroup_size(`[`WGSL_BATCH_WORKGROUP`]`)`, one
//! invocation per fit, fit index `(wid.y * nwg.x + wid.x) * WG + lid` (2-D dispatch beyond
//! 65535 workgroups). Bindings in group 0: `0: x`, `1: y`, `2: w` (placeholder when
//! unweighted), `3: fit_params` (reals: `[tolerance, step_tolerance]`, then p0, lower and
//! upper at the offsets of the uniforms), `4: fit_index` (`u32`: offsets when
//! `has_offsets`, the fixed mask as 0/1 at `fixed_offset`), `5: uniform`
//! [`WgslBatchUniforms`], `6: out` (`read_write` reals: parameters `n_fits * P` at 0, χ² at
//! `chi2_offset`, covariances at `cov_offset`), `7: info` (`read_write u32` per fit: state in
//! bits 0..8 ([`BATCH_CUT_SHORT`] when the implementation cut the invocation's loops short),
//! iterations in bits 8..31, bit 31 set when the covariance is unavailable). The
//! host writes NaN where a state or bit 31 says the value is undefined. "No bounds" is
//! `has_bounds = 0` (WGSL has no infinity literals).

/// Version of this ABI. Enters every model hash. (2: the CUDA module's `nlsq_data_check`.)
pub const ABI_VERSION: u32 = 2;

/// Loss code: plain least squares.
pub const LOSS_LINEAR: u32 = 0;
/// Loss code: `rho(z) = 2 (sqrt(1 + z) - 1)`.
pub const LOSS_SOFT_L1: u32 = 1;
/// Loss code: `rho(z) = z` for `z <= 1`, `2 sqrt(z) - 1` beyond.
pub const LOSS_HUBER: u32 = 2;
/// Loss code: `rho(z) = ln(1 + z)`.
pub const LOSS_CAUCHY: u32 = 3;
/// Loss code: `rho(z) = atan(z)`.
pub const LOSS_ARCTAN: u32 = 4;

/// Largest `P` served by the register (fast) pass path; larger models use the tiled path.
pub const REGISTER_PATH_MAX_P: usize = 10;

/// Threads per block of the CUDA register path.
pub const CUDA_REGISTER_BLOCK: u32 = 256;
/// Threads per block of the CUDA tiled path.
pub const CUDA_TILE_BLOCK: u32 = 128;
/// Shared memory the tiled path may use for its tile, in bytes.
pub const TILE_SHARED_BYTES: usize = 40 * 1024;

/// Invocations per workgroup of every WGSL kernel.
pub const WGSL_WORKGROUP: u32 = 256;
/// Workgroup memory the WGSL tiled path may use for its tile, in bytes (under the 16 KiB that
/// WebGPU guarantees).
pub const WGSL_TILE_SHARED_BYTES: usize = 12 * 1024;

/// Largest parameter count of the batch kernels (the system lives in registers).
pub const BATCH_MAX_P: usize = 16;
/// Threads per block of the CUDA batch kernels.
pub const CUDA_BATCH_BLOCK: u32 = 128;
/// Largest fit length served by one thread per fit; longer fits take a warp each.
pub const BATCH_THREAD_MAX_POINTS: usize = 64;
/// Dynamic shared memory the CUDA batch kernel may stage `y` in, in bytes.
pub const BATCH_STAGE_MAX_BYTES: usize = 48 * 1024;
/// Invocations per workgroup of the WGSL batch kernel.
pub const WGSL_BATCH_WORKGROUP: u32 = 64;
/// Initial Levenberg–Marquardt damping of batch fits.
pub const BATCH_LAMBDA0: f64 = 1e-3;
/// Damping factor of batch fits: divides `λ` on an accepted step, multiplies it on a rejected one.
pub const BATCH_LAMBDA_FACTOR: f64 = 10.0;
/// Batch state code: converged.
pub const BATCH_CONVERGED: u8 = 0;
/// Batch state code: iteration budget exhausted.
pub const BATCH_MAX_ITERATIONS: u8 = 1;
/// Batch state code: damped normal matrix not positive definite.
pub const BATCH_SINGULAR: u8 = 2;
/// Batch state code: non-finite data, weights or model at p0.
pub const BATCH_NON_FINITE: u8 = 3;
/// Batch state code: the fit's own inputs are unusable.
pub const BATCH_INVALID_INPUT: u8 = 4;

/// WGSL batch info code (not a fit state): the implementation ended the invocation's loops
/// early (llvmpipe stops all loops of an invocation after 65535 iterations in all), so the
/// fit's results are not those of the algorithm. The host turns it into an error.
pub const BATCH_CUT_SHORT: u8 = 254;

/// The uniform block of the WGSL batch kernel (20 `u32`, 80 bytes). Offsets count elements of
/// the buffer they index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WgslBatchUniforms {
    /// Number of fits.
    pub n_fits: u32,
    /// Points per fit when `has_offsets = 0`.
    pub n_equal: u32,
    /// 0: `x = q`; 1: shared predictors; 2: predictors per point.
    pub x_mode: u32,
    /// 0: least squares; 1: Poisson MLE.
    pub estimator: u32,
    /// Offset of p0 in `fit_params`.
    pub p0_offset: u32,
    /// Stride of p0 (`P`, or 0 for one set).
    pub p0_stride: u32,
    /// Offset of the lower bounds in `fit_params`.
    pub lower_offset: u32,
    /// Offset of the upper bounds in `fit_params`.
    pub upper_offset: u32,
    /// Stride of the bounds.
    pub bounds_stride: u32,
    /// 1 when bounds are given.
    pub has_bounds: u32,
    /// Offset of the fixed mask in `fit_index`.
    pub fixed_offset: u32,
    /// Stride of the fixed mask.
    pub fixed_stride: u32,
    /// 1 when a fixed mask is given.
    pub has_fixed: u32,
    /// 1 when `w` holds weights.
    pub has_weights: u32,
    /// Iteration budget.
    pub max_iterations: u32,
    /// 1 to compute covariances.
    pub want_cov: u32,
    /// Offset of χ² in `out`.
    pub chi2_offset: u32,
    /// Offset of the covariances in `out`.
    pub cov_offset: u32,
    /// 1 when `fit_index` starts with `n_fits + 1` offsets.
    pub has_offsets: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Length of one reduction row for `p` parameters: `1 + p(p+1)/2 + p + 2`.
pub const fn reduction_width(p: usize) -> usize {
    1 + p * (p + 1) / 2 + p + 2
}

/// Offset of `JᵀJ[j][k]` (`j <= k`) in a reduction row.
pub const fn jtj_index(p: usize, j: usize, k: usize) -> usize {
    1 + j * p - j * j.saturating_sub(1) / 2 + (k - j)
}

/// Offset of `(Jᵀr)[j]` in a reduction row.
pub const fn jtr_index(p: usize, j: usize) -> usize {
    1 + p * (p + 1) / 2 + j
}

/// Offset of the count of skipped non-finite points.
pub const fn nonfinite_index(p: usize) -> usize {
    1 + p * (p + 1) / 2 + p
}

/// Offset of the count of accumulated points.
pub const fn count_index(p: usize) -> usize {
    nonfinite_index(p) + 1
}

/// Whether a model with `p` parameters uses the register path.
pub const fn uses_register_path(p: usize) -> bool {
    p <= REGISTER_PATH_MAX_P
}

/// The block size `nlsq_pass` must be launched with on CUDA.
pub const fn cuda_block_size(p: usize) -> u32 {
    if uses_register_path(p) {
        CUDA_REGISTER_BLOCK
    } else {
        CUDA_TILE_BLOCK
    }
}

/// Rows per tile of the tiled path for a tile budget of `bytes` and element size `elem`.
pub const fn tile_rows(p: usize, bytes: usize, elem: usize, max: usize) -> usize {
    let rows = bytes / ((p + 2) * elem);
    if rows > max {
        max
    } else if rows == 0 {
        1
    } else {
        rows
    }
}

/// The uniform block of every WGSL kernel (8 `u32`, 32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WgslUniforms {
    /// Points in this dispatch.
    pub n: u32,
    /// Column stride of `x` in elements.
    pub x_stride: u32,
    /// Element offset of point 0 in `x`, `y` and `w` (windows over large buffers).
    pub x_offset: u32,
    /// Loss code.
    pub loss: u32,
    /// 1 when `w` holds weights, 0 when it is a placeholder.
    pub has_weights: u32,
    /// Reserved, zero.
    pub reserved: [u32; 3],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_layout_is_dense_and_ordered() {
        for p in 1..40 {
            let mut expect = 1;
            for j in 0..p {
                for k in j..p {
                    assert_eq!(jtj_index(p, j, k), expect, "p={p} j={j} k={k}");
                    expect += 1;
                }
            }
            assert_eq!(jtr_index(p, 0), expect);
            assert_eq!(count_index(p) + 1, reduction_width(p));
        }
    }
}

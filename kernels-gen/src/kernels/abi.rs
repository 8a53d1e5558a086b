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
//! **CUDA** `nlsq_reduce(const double* partials, unsigned int n_blocks, double* out)`: sums the
//! rows in block order into `out[0..W]`. Launch with at least `W` threads in total.
//!
//! **WGSL** entry point `nlsq_pass`, `@workgroup_size(`[`WGSL_WORKGROUP`]`)`, bindings in group 0:
//! `0: x`, `1: y`, `2: w` (bind any buffer of at least one element when unweighted),
//! `3: params` (`P` parameters then `f_scale`), `4: uniform` [`WgslUniforms`], `5: out` (`read_write`,
//! `num_workgroups.x * W` reals). The f32 variant accumulates each lane with Kahan compensation
//! and reduces the workgroup as a tree; the host sums the rows in f64.
//!
//! # Evaluation kernels
//!
//! * `nlsq_eval(x, params, n, x_stride, out)`: `out[i] = f(x_i; p)` (`real`).
//! * `nlsq_residuals(x, y, w, params, n, x_stride, out)`: `out[i] = w_i (f(x_i; p) - y_i)`.
//! * `nlsq_jacobian(x, w, params, n, x_stride, out)`: `out[i * P + j] = w_i ∂f/∂p_j (x_i; p)`.
//!
//! CUDA: any launch shape (grid-stride loops); arguments as for `nlsq_pass` (pointers in the
//! same order, then `n`, `x_stride`, then `out`). WGSL: entry points of the same names,
//! `@workgroup_size(WGSL_WORKGROUP)`, same bindings as the pass (`y` and `w` bound but unused by
//! `nlsq_eval`), writing `out`; dispatch `ceil(n / WGSL_WORKGROUP)` workgroups (at most 65535
//! per dimension; larger `n` uses `x_offset` windows).

/// Version of this ABI. Enters every model hash.
pub const ABI_VERSION: u32 = 1;

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

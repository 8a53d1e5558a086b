//! The CUDA C batch module of a model: many independent fits in one launch, each by the
//! per-fit Levenberg–Marquardt of the batch ABI (see [`super::abi`], "Batch fits"). A
//! separate module from [`super::cuda`], so that single fits' cold builds do not grow.
//!
//! Two kernels share one templated body: `nlsq_batch_lm` maps one thread to a fit (few points,
//! Gpufit's case; the fits' `y` staged through shared memory when lengths are equal), and
//! `nlsq_batch_lm_warp` one warp to a fit (many points: lanes split the points, a
//! butterfly of shuffles leaves the sums in every lane, and every lane then takes the same
//! step, so no broadcast is needed). The `P x P` system lives in registers (local memory as
//! the compiler sees fit), packed upper-triangular, solved by Cholesky; fixed parameters get
//! identity rows, which leaves the free block's factor bit for bit what it would be alone.

use super::Precision;
use super::abi;
use super::cuda::{PRELUDE, model_functions};
use crate::emit::cuda::Cuda;
use crate::model::ModelIr;

const BODY: &str = r#"
#define NLSQ_TP (NLSQ_P * (NLSQ_P + 1) / 2)
#define NLSQ_INF ((real)__longlong_as_double(0x7ff0000000000000ULL))
#define NLSQ_NAN ((real)__longlong_as_double(0x7ff8000000000000ULL))
#define NLSQ_CONVERGED 0
#define NLSQ_MAX_ITERATIONS 1
#define NLSQ_SINGULAR 2
#define NLSQ_NON_FINITE 3
#define NLSQ_INVALID_INPUT 4

// Offset of (j, k), j <= k, in a packed upper triangle.
__device__ __forceinline__ int nlsq_up(int j, int k) { return j * NLSQ_P - j * (j - 1) / 2 + (k - j); }

// One point's terms (see the batch ABI): false when not finite (Poisson: also f <= 0).
__device__ __forceinline__ bool nlsq_terms(int est, real f, real y, real w, real* c, real* gw, real* hw) {
    if (est == 0) {
        const real r = f - y;
        *c = w * r * r; *gw = w * r; *hw = w;
    } else {
        if (!(f > (real)0)) return false;
        // y / f and q / f from one reciprocal of f (the same bits as the divisions).
        const real rf = (real)1 / f;
        const real q = nlsq_div(y, f, rf);
        const real lt = y > (real)0 ? y * NLSQ_LOG(f / y) : (real)0;
        *c = (real)2 * (f - y) - (real)2 * lt; *gw = (real)1 - q; *hw = nlsq_div(q, f, rf);
    }
    return isfinite(*c) && isfinite(*gw) && isfinite(*hw);
}

__device__ __forceinline__ real nlsq_warp_sum(real v) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// chi2, g and the packed H at p over the fit's n points (x_mode: 0 index, 1 shared, 2 per
// point; xf already offset for mode 2). WARP: lanes take points lane, lane + 32, ... and the
// sums are combined across the warp. Returns false when a point or a sum is not finite.
template <bool WARP>
__device__ __forceinline__ bool nlsq_accumulate(const real* __restrict__ xf, const real* __restrict__ yf,
    const real* __restrict__ wf, unsigned int n, int x_mode, int est, bool fisher, const real* p,
    real* chi2, real* g, real* h) {
    real c2 = (real)0;
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) g[j] = (real)0;
#pragma unroll
    for (int e = 0; e < NLSQ_TP; ++e) h[e] = (real)0;
    bool ok = true;
    const unsigned int first = WARP ? (threadIdx.x & 31u) : 0u;
    const unsigned int step = WARP ? 32u : 1u;
    for (unsigned int q = first; q < n; q += step) {
        real xi[NLSQ_K];
#pragma unroll
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x_mode == 0 ? (real)q : xf[(unsigned long long)q * NLSQ_K + k];
        real grad[NLSQ_P];
        const real f = nlsq_model_grad(xi, p, grad);
        real c, gw, hw;
        if (!nlsq_terms(est, f, yf[q], wf ? wf[q] : (real)1, &c, &gw, &hw)) { ok = false; break; }
        if (fisher) hw = (real)1 / f;
        c2 += c;
        int e = 0;
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) {
            g[j] += gw * grad[j];
            const real hj = hw * grad[j];
#pragma unroll
            for (int k = j; k < NLSQ_P; ++k) h[e++] += hj * grad[k];
        }
    }
    if (WARP) {
        ok = __all_sync(0xffffffffu, ok);
        c2 = nlsq_warp_sum(c2);
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) g[j] = nlsq_warp_sum(g[j]);
#pragma unroll
        for (int e = 0; e < NLSQ_TP; ++e) h[e] = nlsq_warp_sum(h[e]);
    }
    *chi2 = c2;
    ok = ok && isfinite(c2);
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) ok = ok && isfinite(g[j]);
#pragma unroll
    for (int e = 0; e < NLSQ_TP; ++e) ok = ok && isfinite(h[e]);
    return ok;
}

// In-place Cholesky of a packed upper triangle (a[up(j,k)] becomes L[k][j]); false on a pivot
// <= 0 or not finite.
__device__ __forceinline__ bool nlsq_cholesky(real* a) {
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) {
        real d = a[nlsq_up(j, j)];
#pragma unroll
        for (int k = 0; k < j; ++k) d -= a[nlsq_up(k, j)] * a[nlsq_up(k, j)];
        if (!(d > (real)0) || !isfinite(d)) return false;
        d = sqrt(d);
        a[nlsq_up(j, j)] = d;
#pragma unroll
        for (int i = j + 1; i < NLSQ_P; ++i) {
            real s = a[nlsq_up(j, i)];
#pragma unroll
            for (int k = 0; k < j; ++k) s -= a[nlsq_up(k, i)] * a[nlsq_up(k, j)];
            a[nlsq_up(j, i)] = s / d;
        }
    }
    return true;
}

__device__ __forceinline__ void nlsq_cholesky_solve(const real* l, real* b) {
#pragma unroll
    for (int i = 0; i < NLSQ_P; ++i) {
        real s = b[i];
#pragma unroll
        for (int k = 0; k < i; ++k) s -= l[nlsq_up(k, i)] * b[k];
        b[i] = s / l[nlsq_up(i, i)];
    }
#pragma unroll
    for (int i = NLSQ_P - 1; i >= 0; --i) {
        real s = b[i];
#pragma unroll
        for (int k = i + 1; k < NLSQ_P; ++k) s -= l[nlsq_up(i, k)] * b[k];
        b[i] = s / l[nlsq_up(i, i)];
    }
}

// H with fixed rows and columns replaced by the identity, the diagonal of the free ones
// multiplied by 1 + lambda.
__device__ __forceinline__ void nlsq_damped(const real* h, const bool* fx, real lambda, real* a) {
    int e = 0;
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) {
#pragma unroll
        for (int k = j; k < NLSQ_P; ++k) {
            real v = h[e];
            if (fx[j] || fx[k]) v = j == k ? (real)1 : (real)0;
            else if (j == k) v *= (real)1 + lambda;
            a[e++] = v;
        }
    }
}

#define NLSQ_BATCH_SIGNATURE(name) name(const real* __restrict__ x, const real* __restrict__ y, \
    const real* __restrict__ w, const unsigned long long* __restrict__ offsets, unsigned int n_equal, \
    int x_mode, const real* __restrict__ p0, unsigned int p0_stride, const real* __restrict__ lower, \
    const real* __restrict__ upper, unsigned int bounds_stride, const unsigned char* __restrict__ fixed, \
    unsigned int fixed_stride, int estimator, real tolerance, real step_tolerance, \
    unsigned int max_iterations, unsigned int n_fits, int stage, real* __restrict__ params_out, \
    unsigned char* __restrict__ states_out, real* __restrict__ chi2_out, \
    unsigned int* __restrict__ iterations_out, real* __restrict__ cov_out)

extern __shared__ unsigned char nlsq_smem[];

template <bool WARP>
__device__ __forceinline__ void NLSQ_BATCH_SIGNATURE(nlsq_batch_fit) {
    const unsigned int gtid = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned int fit = WARP ? gtid >> 5 : gtid;
    const bool lead = !WARP || (threadIdx.x & 31u) == 0u;
    const real* yf;
    if (!WARP && stage) {
        // Equal lengths: the block's fits' y, contiguous, staged with coalesced loads.
        real* ys = (real*)nlsq_smem;
        const unsigned int first = blockIdx.x * blockDim.x;
        const unsigned int fits = first < n_fits ? min(blockDim.x, n_fits - first) : 0u;
        const real* src = y + (unsigned long long)first * n_equal;
        for (unsigned int i = threadIdx.x; i < fits * n_equal; i += blockDim.x) ys[i] = src[i];
        __syncthreads();
        yf = ys + (unsigned long long)threadIdx.x * n_equal;
    }
    if (fit >= n_fits) return;
    const unsigned long long start = offsets ? offsets[fit] : (unsigned long long)fit * n_equal;
    const unsigned int n = offsets ? (unsigned int)(offsets[fit + 1] - start) : n_equal;
    if (WARP || !stage) yf = y + start;
    const real* wf = w ? w + start : (const real*)0;
    const real* xf = x_mode == 2 ? x + start * NLSQ_K : x;

    real p[NLSQ_P], lo[NLSQ_P], hi[NLSQ_P];
    bool fx[NLSQ_P];
    bool bad = false;
    unsigned int n_free = 0;
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) {
        p[j] = p0[(unsigned long long)fit * p0_stride + j];
        lo[j] = lower ? lower[(unsigned long long)fit * bounds_stride + j] : -NLSQ_INF;
        hi[j] = upper ? upper[(unsigned long long)fit * bounds_stride + j] : NLSQ_INF;
        fx[j] = fixed ? fixed[(unsigned long long)fit * fixed_stride + j] != 0 : false;
        bad = bad || !isfinite(p[j]) || isnan(lo[j]) || isnan(hi[j]) || lo[j] > hi[j] || p[j] < lo[j] || p[j] > hi[j];
        n_free += fx[j] ? 0u : 1u;
    }
    unsigned char state = 255;
    if (bad || n < n_free) {
        state = NLSQ_INVALID_INPUT;
    } else {
        // The fit's own data, checked in the order of the CPU backend.
        bool nf_w = false, neg_w = false, nf_d = false, neg_y = false;
        const unsigned int first = WARP ? (threadIdx.x & 31u) : 0u;
        const unsigned int step = WARP ? 32u : 1u;
        for (unsigned int q = first; q < n; q += step) {
            if (wf) { nf_w = nf_w || !isfinite(wf[q]); neg_w = neg_w || wf[q] < (real)0; }
            nf_d = nf_d || !isfinite(yf[q]);
            neg_y = neg_y || yf[q] < (real)0;
            if (x_mode != 0) {
#pragma unroll
                for (int k = 0; k < NLSQ_K; ++k) nf_d = nf_d || !isfinite(xf[(unsigned long long)q * NLSQ_K + k]);
            }
        }
        if (WARP) {
            nf_w = __any_sync(0xffffffffu, nf_w); neg_w = __any_sync(0xffffffffu, neg_w);
            nf_d = __any_sync(0xffffffffu, nf_d); neg_y = __any_sync(0xffffffffu, neg_y);
        }
        if (nf_w) state = NLSQ_NON_FINITE;
        else if (neg_w) state = NLSQ_INVALID_INPUT;
        else if (nf_d) state = NLSQ_NON_FINITE;
        else if (estimator == 1 && neg_y) state = NLSQ_INVALID_INPUT;
    }
    real chi2 = NLSQ_NAN;
    unsigned int it = 0;
    real g[NLSQ_P], h[NLSQ_TP];
    if (state == 255) {
        if (!nlsq_accumulate<WARP>(xf, yf, wf, n, x_mode, estimator, false, p, &chi2, g, h)) {
            state = NLSQ_NON_FINITE;
            chi2 = NLSQ_NAN;
        }
    }
    if (state == 255) {
        real lambda = (real)NLSQ_LAMBDA0;
        state = NLSQ_MAX_ITERATIONS;
        while (it < max_iterations) {
            ++it;
            real a[NLSQ_TP], d[NLSQ_P];
            nlsq_damped(h, fx, lambda, a);
#pragma unroll
            for (int j = 0; j < NLSQ_P; ++j) d[j] = fx[j] ? (real)0 : -g[j];
            if (!nlsq_cholesky(a)) { state = NLSQ_SINGULAR; break; }
            nlsq_cholesky_solve(a, d);
            real pt[NLSQ_P];
            bool small = true;
#pragma unroll
            for (int j = 0; j < NLSQ_P; ++j) {
                real v = p[j] + d[j];
                v = v < lo[j] ? lo[j] : (v > hi[j] ? hi[j] : v);
                if (fx[j]) v = p[j];
                pt[j] = v;
                small = small && fabs(v - p[j]) <= step_tolerance * (fabs(p[j]) + step_tolerance);
            }
            real ct, gt[NLSQ_P], ht[NLSQ_TP];
            const bool fin = nlsq_accumulate<WARP>(xf, yf, wf, n, x_mode, estimator, false, pt, &ct, gt, ht);
            const bool accepted = fin && ct <= chi2;
            const bool conv = accepted && small && chi2 - ct < tolerance * (ct > (real)1 ? ct : (real)1);
            if (accepted) {
#pragma unroll
                for (int j = 0; j < NLSQ_P; ++j) { p[j] = pt[j]; g[j] = gt[j]; }
#pragma unroll
                for (int e = 0; e < NLSQ_TP; ++e) h[e] = ht[e];
                chi2 = ct;
                lambda /= (real)NLSQ_LAMBDA_FACTOR;
            } else {
                lambda *= (real)NLSQ_LAMBDA_FACTOR;
            }
            if (conv) { state = NLSQ_CONVERGED; break; }
        }
    }
    if (cov_out) {
        // Least squares: (JᵀWJ)⁻¹ χ²/(n - free); Poisson: the inverse Fisher information.
        real* c = cov_out + (unsigned long long)fit * NLSQ_P * NLSQ_P;
        bool ok = state == NLSQ_CONVERGED || state == NLSQ_MAX_ITERATIONS;
        real scale = (real)1;
        real a[NLSQ_TP];
        if (ok && estimator == 0) {
            scale = n > n_free ? chi2 / (real)(n - n_free) : NLSQ_INF;
#pragma unroll
            for (int e = 0; e < NLSQ_TP; ++e) a[e] = h[e];
        } else if (ok) {
            real dummy, gd[NLSQ_P];
            ok = nlsq_accumulate<WARP>(xf, yf, wf, n, x_mode, estimator, true, p, &dummy, gd, a);
        }
        if (ok) {
            real hd[NLSQ_TP];
#pragma unroll
            for (int e = 0; e < NLSQ_TP; ++e) hd[e] = a[e];
            nlsq_damped(hd, fx, (real)0, a);
            ok = nlsq_cholesky(a);
        }
        for (int col = 0; col < NLSQ_P; ++col) {
            real e[NLSQ_P];
#pragma unroll
            for (int r = 0; r < NLSQ_P; ++r) e[r] = r == col ? (real)1 : (real)0;
            if (ok) nlsq_cholesky_solve(a, e);
            if (lead) {
#pragma unroll
                for (int r = 0; r < NLSQ_P; ++r)
                    c[r * NLSQ_P + col] = !ok ? NLSQ_NAN : (fx[r] || fx[col]) ? (real)0 : e[r] * scale;
            }
        }
    }
    if (lead) {
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) params_out[(unsigned long long)fit * NLSQ_P + j] = p[j];
        states_out[fit] = state;
        chi2_out[fit] = chi2;
        iterations_out[fit] = it;
    }
}

extern "C" __global__ void __launch_bounds__(NLSQ_BATCH_BLOCK) NLSQ_BATCH_SIGNATURE(nlsq_batch_lm) {
    nlsq_batch_fit<false>(x, y, w, offsets, n_equal, x_mode, p0, p0_stride, lower, upper, bounds_stride,
        fixed, fixed_stride, estimator, tolerance, step_tolerance, max_iterations, n_fits, stage,
        params_out, states_out, chi2_out, iterations_out, cov_out);
}

extern "C" __global__ void __launch_bounds__(NLSQ_BATCH_BLOCK) NLSQ_BATCH_SIGNATURE(nlsq_batch_lm_warp) {
    nlsq_batch_fit<true>(x, y, w, offsets, n_equal, x_mode, p0, p0_stride, lower, upper, bounds_stride,
        fixed, fixed_stride, estimator, tolerance, step_tolerance, max_iterations, n_fits, 0,
        params_out, states_out, chi2_out, iterations_out, cov_out);
}
"#;

/// The CUDA batch module of `model` for `precision`, or `None` when the model has more than
/// [`abi::BATCH_MAX_P`] parameters (the batch kernels keep the system in registers).
pub fn module_source(model: &ModelIr, precision: Precision) -> Option<String> {
    let p = model.n_params();
    if p > abi::BATCH_MAX_P {
        return None;
    }
    let d = Cuda(precision);
    let (real, log) = match precision {
        Precision::F64 => ("double", "log"),
        Precision::F32 => ("float", "logf"),
    };
    Some(format!(
        "// Generated by kernels-gen {version} (kernel ABI v{abi}): do not edit.\n\
         // Batch fits of a model with {p} parameters and {k} predictor(s), {precision}.\n\
         typedef {real} real;\n\
         #define NLSQ_P {p}\n#define NLSQ_K {k}\n#define NLSQ_LOG {log}\n\
         #define NLSQ_BATCH_BLOCK {block}\n#define NLSQ_LAMBDA0 {lambda0:?}\n\
         #define NLSQ_LAMBDA_FACTOR {factor:?}\n{PRELUDE}\n{model_fns}{BODY}",
        version = env!("CARGO_PKG_VERSION"),
        abi = abi::ABI_VERSION,
        k = model.n_inputs(),
        block = abi::CUDA_BATCH_BLOCK,
        lambda0 = abi::BATCH_LAMBDA0,
        factor = abi::BATCH_LAMBDA_FACTOR,
        model_fns = model_functions(model, &d),
    ))
}

/// Names of the kernels of every batch module.
pub const KERNEL_NAMES: [&str; 2] = ["nlsq_batch_lm", "nlsq_batch_lm_warp"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_module_has_both_kernels_and_refuses_large_p() {
        let m = crate::parse::model_from_expr("a * exp(-b * x) + c", None).unwrap();
        let src = module_source(&m, Precision::F32).unwrap();
        for k in KERNEL_NAMES {
            assert!(src.contains(&format!("{k})")), "{k} missing");
        }
        assert!(src.contains("typedef float real;") && src.contains("#define NLSQ_LOG logf"));
        let big = crate::parse::model_from_source(
            "fn f(x: f64, c: [f64; 17]) -> f64 { let mut s = 0.0; for i in 0..17 { s += c[i] * x; } s }",
        )
        .unwrap();
        assert!(module_source(&big, Precision::F64).is_none());
    }
}

//! The CUDA C module of a model: prelude, model device functions, and the kernels of
//! [`abi`] (`nlsq_pass`, `nlsq_reduce`, `nlsq_eval`, `nlsq_residuals`,
//! `nlsq_jacobian`). Compiled at run time with NVRTC; needs no headers.

use super::Precision;
use super::abi;
use crate::emit::cuda::Cuda;
use crate::emit::{emit_body, indent, leaves, operand};
use crate::model::ModelIr;

pub(super) const PRELUDE: &str = r#"
#define NLSQ_DBL_EPSILON 2.220446049250313e-16

// Binary exponentiation: the algorithm of Rust's powi (compiler-rt __powidf2).
__device__ __forceinline__ real nlsq_powi(real a, int n) {
    const bool recip = n < 0;
    unsigned int m = recip ? 0u - (unsigned int)n : (unsigned int)n;
    real r = (real)1;
    while (true) {
        if (m & 1u) r *= a;
        m >>= 1;
        if (m == 0u) break;
        a *= a;
    }
    return recip ? (real)1 / r : r;
}

// scipy's robust losses: returns f_scale^2 rho(z); *s = sqrt(max(rho' + 2 z rho'', EPS)) scales
// the Jacobian row and *rs = rho' r / s is the scaled residual.
__device__ __forceinline__ double nlsq_loss(int loss, double f_scale, double r, double* s, double* rs) {
    if (loss == 0) { *s = 1.0; *rs = r; return r * r; }
    const double zr = r / f_scale;
    const double z = zr * zr;
    double p0, p1, p2;
    if (loss == 1) {
        const double t = 1.0 + z, st = sqrt(t);
        p0 = 2.0 * (st - 1.0); p1 = 1.0 / st; p2 = -0.5 * p1 / t;
    } else if (loss == 2) {
        if (z <= 1.0) { p0 = z; p1 = 1.0; p2 = 0.0; }
        else { const double sz = sqrt(z); p0 = 2.0 * sz - 1.0; p1 = 1.0 / sz; p2 = -0.5 * p1 / z; }
    } else if (loss == 3) {
        const double t = 1.0 + z;
        p0 = log1p(z); p1 = 1.0 / t; p2 = -1.0 / (t * t);
    } else {
        const double t = 1.0 + z * z;
        p0 = atan(z); p1 = 1.0 / t; p2 = -2.0 * z / (t * t);
    }
    double js = p1 + 2.0 * p2 * z;
    if (js < NLSQ_DBL_EPSILON) js = NLSQ_DBL_EPSILON;
    const double sq = sqrt(js);
    *s = sq;
    *rs = r * p1 / sq;
    return f_scale * f_scale * p0;
}
"#;

/// The model's two device functions: value, and value with gradient.
pub(super) fn model_functions(model: &ModelIr, d: &Cuda) -> String {
    let g = &model.graph;
    let mut out = String::new();
    for (name, schedule, with_grad) in [
        ("nlsq_model_value", model.value_schedule(), false),
        ("nlsq_model_grad", model.schedule(), true),
    ] {
        let (xs, ps) = leaves(g, &schedule);
        let mut lines: Vec<String> = xs
            .iter()
            .map(|k| format!("const real x{k} = x[{k}];"))
            .chain(ps.iter().map(|j| format!("const real p{j} = p[{j}];")))
            .collect();
        lines.extend(emit_body(g, &schedule, d));
        if with_grad {
            for (j, &dj) in model.gradient.iter().enumerate() {
                lines.push(format!("grad[{j}] = {};", operand(g, d, dj)));
            }
        }
        lines.push(format!("return {};", operand(g, d, model.value)));
        let grad_arg = if with_grad {
            ", real* __restrict__ grad"
        } else {
            ""
        };
        out.push_str(&format!(
            "__device__ __forceinline__ real {name}(const real* __restrict__ x, const real* __restrict__ p{grad_arg}) {{\n{}}}\n\n",
            indent(&lines, 4)
        ));
    }
    out
}

const LOAD_PARAMS: &str = "    real p[NLSQ_P];\n#pragma unroll\n    for (int j = 0; j < NLSQ_P; ++j) p[j] = (real)params[j];\n";

/// Loads point `i` into `xi`, evaluates value and gradient, forms the weighted residual `r` and
/// Jacobian row `J` in double, and sets `ok` when all are finite.
const EVAL_POINT: &str = r#"        real xi[NLSQ_K];
#pragma unroll
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x[k * x_stride + i];
        real g[NLSQ_P];
        const real f = nlsq_model_grad(xi, p, g);
        const double wi = w ? (double)w[i] : 1.0;
        const double r = ((double)f - (double)y[i]) * wi;
        bool ok = isfinite(r);
        double J[NLSQ_P];
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) { J[j] = (double)g[j] * wi; ok = ok && isfinite(J[j]); }
"#;

const PASS_SIGNATURE: &str = "nlsq_pass(const real* __restrict__ x, const real* __restrict__ y, const real* __restrict__ w,\n    const double* __restrict__ params, unsigned long long n, unsigned long long x_stride,\n    int loss, double f_scale, double* __restrict__ partials)";

fn register_pass() -> String {
    format!(
        r#"// Register path: each thread keeps the whole reduction row over a grid-stride loop.
#define NLSQ_BLOCK {block}
extern "C" __global__ void __launch_bounds__(NLSQ_BLOCK) {PASS_SIGNATURE} {{
{LOAD_PARAMS}    double acc[NLSQ_W];
#pragma unroll
    for (int e = 0; e < NLSQ_W; ++e) acc[e] = 0.0;
    const unsigned long long stride = (unsigned long long)gridDim.x * NLSQ_BLOCK;
    for (unsigned long long i = (unsigned long long)blockIdx.x * NLSQ_BLOCK + threadIdx.x; i < n; i += stride) {{
{EVAL_POINT}        if (!ok) {{ acc[NLSQ_W - 2] += 1.0; continue; }}
        double s, rs;
        acc[0] += nlsq_loss(loss, f_scale, r, &s, &rs);
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) J[j] *= s;
        int e = 1;
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) {{
#pragma unroll
            for (int k = j; k < NLSQ_P; ++k) acc[e++] += J[j] * J[k];
        }}
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) acc[1 + NLSQ_T + j] += J[j] * rs;
        acc[NLSQ_W - 1] += 1.0;
    }}
    // Warp shuffles, then warps in order: a fixed reduction tree.
    __shared__ double sh[NLSQ_BLOCK / 32][NLSQ_W];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int e = 0; e < NLSQ_W; ++e) {{
        double v = acc[e];
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (lane == 0) sh[warp][e] = v;
    }}
    __syncthreads();
    for (int e = threadIdx.x; e < NLSQ_W; e += NLSQ_BLOCK) {{
        double v = 0.0;
        for (int q = 0; q < NLSQ_BLOCK / 32; ++q) v += sh[q][e];
        partials[(unsigned long long)blockIdx.x * NLSQ_W + e] = v;
    }}
}}
"#,
        block = abi::CUDA_REGISTER_BLOCK,
    )
}

fn tile_pass(p: usize) -> String {
    let tile = abi::tile_rows(p, abi::TILE_SHARED_BYTES, 8, abi::CUDA_TILE_BLOCK as usize);
    format!(
        r#"// Tiled path: threads evaluate a tile of points into shared memory; each thread owns a
// slice of the reduction row and adds the tile's contribution to it in point order.
#define NLSQ_BLOCK {block}
#define NLSQ_TILE {tile}
#define NLSQ_ROW (NLSQ_P + 2)
__device__ __forceinline__ void nlsq_tri(int e, int* j, int* k) {{
    // Row j of the upper triangle starts at j*P - j*(j-1)/2.
    const double b = 2.0 * NLSQ_P + 1.0;
    int r = (int)((b - sqrt(b * b - 8.0 * (double)e)) * 0.5);
    while (r > 0 && r * NLSQ_P - r * (r - 1) / 2 > e) --r;
    while ((r + 1) * NLSQ_P - (r + 1) * r / 2 <= e) ++r;
    *j = r;
    *k = r + (e - (r * NLSQ_P - r * (r - 1) / 2));
}}
extern "C" __global__ void __launch_bounds__(NLSQ_BLOCK) {PASS_SIGNATURE} {{
    __shared__ double tile[NLSQ_TILE * NLSQ_ROW];
    __shared__ unsigned long long counts[2];
    double* out = partials + (unsigned long long)blockIdx.x * NLSQ_W;
    for (int e = threadIdx.x; e < NLSQ_W; e += NLSQ_BLOCK) out[e] = 0.0;
    if (threadIdx.x < 2) counts[threadIdx.x] = 0ull;
{LOAD_PARAMS}    unsigned long long bad = 0, used = 0;
    __syncthreads();
    for (unsigned long long base = (unsigned long long)blockIdx.x * NLSQ_TILE; base < n;
         base += (unsigned long long)gridDim.x * NLSQ_TILE) {{
        if (threadIdx.x < NLSQ_TILE) {{
            double* row = tile + threadIdx.x * NLSQ_ROW;
            const unsigned long long i = base + threadIdx.x;
            bool keep = false;
            if (i < n) {{
{EVAL_POINT}                if (ok) {{
                    double s, rs;
                    row[NLSQ_P + 1] = nlsq_loss(loss, f_scale, r, &s, &rs);
                    row[NLSQ_P] = rs;
                    for (int j = 0; j < NLSQ_P; ++j) row[j] = J[j] * s;
                    keep = true;
                    ++used;
                }} else {{
                    ++bad;
                }}
            }}
            if (!keep) for (int j = 0; j < NLSQ_ROW; ++j) row[j] = 0.0;
        }}
        __syncthreads();
        for (int e = threadIdx.x; e < NLSQ_W - 2; e += NLSQ_BLOCK) {{
            double s = 0.0;
            if (e == 0) {{
                for (int q = 0; q < NLSQ_TILE; ++q) s += tile[q * NLSQ_ROW + NLSQ_P + 1];
            }} else if (e <= NLSQ_T) {{
                int j, k;
                nlsq_tri(e - 1, &j, &k);
                for (int q = 0; q < NLSQ_TILE; ++q) s += tile[q * NLSQ_ROW + j] * tile[q * NLSQ_ROW + k];
            }} else {{
                const int j = e - 1 - NLSQ_T;
                for (int q = 0; q < NLSQ_TILE; ++q) s += tile[q * NLSQ_ROW + j] * tile[q * NLSQ_ROW + NLSQ_P];
            }}
            out[e] += s;
        }}
        __syncthreads();
    }}
    // Integer atomics commute exactly: the counts stay deterministic.
    atomicAdd(&counts[0], bad);
    atomicAdd(&counts[1], used);
    __syncthreads();
    if (threadIdx.x == 0) {{
        out[NLSQ_W - 2] = (double)counts[0];
        out[NLSQ_W - 1] = (double)counts[1];
    }}
}}
"#,
        block = abi::CUDA_TILE_BLOCK,
    )
}

const OTHER_KERNELS: &str = r#"
extern "C" __global__ void nlsq_reduce(const double* __restrict__ partials, unsigned int n_blocks, double* __restrict__ out) {
    const unsigned int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= NLSQ_W) return;
    double s = 0.0;
    for (unsigned int b = 0; b < n_blocks; ++b) s += partials[(unsigned long long)b * NLSQ_W + e];
    out[e] = s;
}

extern "C" __global__ void nlsq_eval(const real* __restrict__ x, const double* __restrict__ params,
    unsigned long long n, unsigned long long x_stride, real* __restrict__ out) {
    real p[NLSQ_P];
    for (int j = 0; j < NLSQ_P; ++j) p[j] = (real)params[j];
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        real xi[NLSQ_K];
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x[k * x_stride + i];
        out[i] = nlsq_model_value(xi, p);
    }
}

extern "C" __global__ void nlsq_residuals(const real* __restrict__ x, const real* __restrict__ y,
    const real* __restrict__ w, const double* __restrict__ params, unsigned long long n,
    unsigned long long x_stride, real* __restrict__ out) {
    real p[NLSQ_P];
    for (int j = 0; j < NLSQ_P; ++j) p[j] = (real)params[j];
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        real xi[NLSQ_K];
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x[k * x_stride + i];
        const real wi = w ? w[i] : (real)1;
        out[i] = (nlsq_model_value(xi, p) - y[i]) * wi;
    }
}

extern "C" __global__ void nlsq_jacobian(const real* __restrict__ x, const real* __restrict__ w,
    const double* __restrict__ params, unsigned long long n, unsigned long long x_stride,
    real* __restrict__ out) {
    real p[NLSQ_P];
    for (int j = 0; j < NLSQ_P; ++j) p[j] = (real)params[j];
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        real xi[NLSQ_K];
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x[k * x_stride + i];
        real g[NLSQ_P];
        (void)nlsq_model_grad(xi, p, g);
        const real wi = w ? w[i] : (real)1;
        for (int j = 0; j < NLSQ_P; ++j) out[i * NLSQ_P + j] = g[j] * wi;
    }
}
"#;

/// The complete CUDA C module of `model` for `precision`.
pub fn module_source(model: &ModelIr, precision: Precision) -> String {
    let p = model.n_params();
    let d = Cuda(precision);
    let real = match precision {
        Precision::F64 => "double",
        Precision::F32 => "float",
    };
    let pass = if abi::uses_register_path(p) {
        register_pass()
    } else {
        tile_pass(p)
    };
    format!(
        "// Generated by kernels-gen {version} (kernel ABI v{abi}): do not edit.\n\
         // Model with {p} parameters and {k} predictor(s), {precision} evaluation.\n\
         typedef {real} real;\n\
         #define NLSQ_P {p}\n#define NLSQ_K {k}\n#define NLSQ_T (NLSQ_P * (NLSQ_P + 1) / 2)\n\
         #define NLSQ_W (NLSQ_T + NLSQ_P + 3)\n{PRELUDE}\n{model_fns}{pass}{OTHER_KERNELS}",
        version = env!("CARGO_PKG_VERSION"),
        abi = abi::ABI_VERSION,
        k = model.n_inputs(),
        model_fns = model_functions(model, &d),
    )
}

/// Names of the kernels every module exports.
pub const KERNEL_NAMES: [&str; 5] = [
    "nlsq_pass",
    "nlsq_reduce",
    "nlsq_eval",
    "nlsq_residuals",
    "nlsq_jacobian",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_has_every_kernel_and_no_names() {
        let m = crate::parse::model_from_source(
            "fn my_model(x: f64, amp_q: f64, rate_q: f64) -> f64 { amp_q * (-rate_q * x).exp() }",
        )
        .unwrap();
        let src = module_source(&m, Precision::F64);
        for k in KERNEL_NAMES {
            assert!(src.contains(&format!("{k}(")), "{k} missing");
        }
        for name in ["my_model", "amp_q", "rate_q"] {
            assert!(
                !src.contains(name),
                "user name `{name}` leaked into the kernel"
            );
        }
        let f32src = module_source(&m, Precision::F32);
        assert!(f32src.contains("typedef float real;") && f32src.contains("expf("));
    }
}

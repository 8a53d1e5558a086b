//! The CUDA C module of a model: prelude, model device functions, and the kernels of
//! [`abi`] (`nlsq_pass`, `nlsq_reduce`, `nlsq_eval`, `nlsq_residuals`,
//! `nlsq_jacobian`, `nlsq_data_check`). Compiled at run time with NVRTC; needs no headers.

use super::Precision;
use super::abi;
use crate::emit::cuda::Cuda;
use crate::emit::{emit_body, indent, leaves, operand};
use crate::model::ModelIr;

pub(super) const PRELUDE: &str = r#"
#define NLSQ_DBL_EPSILON 2.220446049250313e-16

// a / b from rb = 1 / b, the one reciprocal of a denominator several divisions share (the batch
// kernel's Poisson terms; the pass kernels divide plainly, which measured faster), with the
// bits of a / b: the product is corrected as Markstein's theorem allows (q = a rb within an ulp,
// the residual a - b q exact by fma, q + (a - b q) rb rounded to nearest is a / b rounded to
// nearest) when a, b and q are far from the ends of the exponent range (tested on the exponent
// bits, in integer arithmetic); zeros, infinities, NaN and extreme exponents take the division.
__device__ __forceinline__ double nlsq_div(double a, double b, double rb) {
    const double q = a * rb;
    const unsigned int ea = ((unsigned int)__double2hiint(a) >> 20) & 0x7ffu;
    const unsigned int eb = ((unsigned int)__double2hiint(b) >> 20) & 0x7ffu;
    const unsigned int eq = ((unsigned int)__double2hiint(q) >> 20) & 0x7ffu;
    if (ea - 64u < 1920u && eb - 64u < 1920u && eq - 64u < 1920u) return fma(fma(-q, b, a), rb, q);
    return a / b;
}
__device__ __forceinline__ float nlsq_div(float a, float b, float rb) {
    const float q = a * rb;
    const unsigned int ea = (__float_as_uint(a) >> 23) & 0xffu;
    const unsigned int eb = (__float_as_uint(b) >> 23) & 0xffu;
    const unsigned int eq = (__float_as_uint(q) >> 23) & 0xffu;
    if (ea - 27u < 201u && eb - 27u < 201u && eq - 27u < 201u) return fmaf(fmaf(-q, b, a), rb, q);
    return a / b;
}

// The sign-less high word of a double: the value is finite when it is below 0x7ff00000, so the
// largest of several such words tests them all at once, in integer arithmetic.
__device__ __forceinline__ unsigned int nlsq_top(double v) {
    return (unsigned int)__double2hiint(v) & 0x7fffffffu;
}

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
    const double zr = nlsq_div(r, f_scale, 1.0 / f_scale);
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

/// Loads point `i` into `xi`, evaluates value and gradient, forms the residual `r` and Jacobian
/// row `J` in double (weighted when `w` is bound: unweighted points skip the exact `× 1`), and
/// sets `ok` when all are finite (one integer test of the largest high word).
const EVAL_POINT: &str = r#"        real xi[NLSQ_K];
#pragma unroll
        for (int k = 0; k < NLSQ_K; ++k) xi[k] = x[k * x_stride + i];
        real g[NLSQ_P];
        const real f = nlsq_model_grad(xi, p, g);
        double r = (double)f - (double)y[i];
        double J[NLSQ_P];
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) J[j] = (double)g[j];
        if (w) {
            const double wi = (double)w[i];
            r *= wi;
#pragma unroll
            for (int j = 0; j < NLSQ_P; ++j) J[j] *= wi;
        }
        unsigned int top = nlsq_top(r);
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) top = max(top, nlsq_top(J[j]));
        const bool ok = top < 0x7ff00000u;
"#;

const PASS_SIGNATURE: &str = "nlsq_pass(const real* __restrict__ x, const real* __restrict__ y, const real* __restrict__ w,\n    const double* __restrict__ params, unsigned long long n, unsigned long long x_stride,\n    int loss, double f_scale, double* __restrict__ partials)";

fn register_pass() -> String {
    format!(
        r#"// Register path: each thread keeps the whole reduction row over a grid-stride loop; the
// point counts are integers (exact, and off the FP64 pipe), widened when the row is written.
#define NLSQ_BLOCK {block}
// acc[0] += cost; the upper triangle of J Jᵀ and J rs into acc[1 ..].
__device__ __forceinline__ void nlsq_add_point(double* acc, double cost, const double* J, double rs) {{
    acc[0] += cost;
    int e = 1;
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) {{
#pragma unroll
        for (int k = j; k < NLSQ_P; ++k) acc[e++] += J[j] * J[k];
    }}
#pragma unroll
    for (int j = 0; j < NLSQ_P; ++j) acc[1 + NLSQ_T + j] += J[j] * rs;
}}
extern "C" __global__ void __launch_bounds__(NLSQ_BLOCK) {PASS_SIGNATURE} {{
{LOAD_PARAMS}    double acc[NLSQ_W - 2];
#pragma unroll
    for (int e = 0; e < NLSQ_W - 2; ++e) acc[e] = 0.0;
    unsigned long long bad = 0, used = 0;
    const unsigned long long stride = (unsigned long long)gridDim.x * NLSQ_BLOCK;
    for (unsigned long long i = (unsigned long long)blockIdx.x * NLSQ_BLOCK + threadIdx.x; i < n; i += stride) {{
{EVAL_POINT}        if (!ok) {{ ++bad; continue; }}
        ++used;
        if (loss == 0) {{
            // Linear loss: s = 1 and rs = r, so J is used as it is.
            nlsq_add_point(acc, r * r, J, r);
            continue;
        }}
        double s, rs;
        const double cost = nlsq_loss(loss, f_scale, r, &s, &rs);
#pragma unroll
        for (int j = 0; j < NLSQ_P; ++j) J[j] *= s;
        nlsq_add_point(acc, cost, J, rs);
    }}
    // Warp shuffles, then warps in order: a fixed reduction tree.
    __shared__ double sh[NLSQ_BLOCK / 32][NLSQ_W - 2];
    __shared__ unsigned long long shc[NLSQ_BLOCK / 32][2];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int e = 0; e < NLSQ_W - 2; ++e) {{
        double v = acc[e];
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (lane == 0) sh[warp][e] = v;
    }}
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {{
        bad += __shfl_down_sync(0xffffffffu, bad, off);
        used += __shfl_down_sync(0xffffffffu, used, off);
    }}
    if (lane == 0) {{ shc[warp][0] = bad; shc[warp][1] = used; }}
    __syncthreads();
    for (int e = threadIdx.x; e < NLSQ_W; e += NLSQ_BLOCK) {{
        double v = 0.0;
        if (e < NLSQ_W - 2) {{
            for (int q = 0; q < NLSQ_BLOCK / 32; ++q) v += sh[q][e];
        }} else {{
            unsigned long long c = 0;
            for (int q = 0; q < NLSQ_BLOCK / 32; ++q) c += shc[q][e - (NLSQ_W - 2)];
            v = (double)c;
        }}
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

/// The K-vector variant of a pass kernel's source `kernel` (the text from its `extern "C"` on):
/// `nlsq_pass_k(..., double* partials, unsigned int k_vectors)`, launched with
/// `gridDim.x = G · K`: block `b` runs block `b / K` of a `G`-block `nlsq_pass` at parameter
/// vector `b % K` (`params` holds K vectors of P, `partials` K runs of `G · W`): the blocks of
/// the K vectors that read the same points are adjacent in launch order, so that they can
/// share the L2 cache, and each vector's rows are those of its single pass, bit for bit.
fn k_vector_kernel(kernel: &str) -> String {
    let open = kernel.find('{').expect("a kernel has a body") + 1;
    let (head, body) = kernel.split_at(open);
    let head = head.replace("nlsq_pass(", "nlsq_pass_k(").replace(
        "double* __restrict__ partials)",
        "double* __restrict__ partials, unsigned int k_vectors)",
    );
    let body = body
        .replace("blockIdx.x", "nlsq_bid")
        .replace("gridDim.x", "nlsq_grid");
    format!(
        "{head}\n    const unsigned int nlsq_vec = blockIdx.x % k_vectors;\n    \
         const unsigned int nlsq_bid = blockIdx.x / k_vectors;\n    \
         const unsigned int nlsq_grid = gridDim.x / k_vectors;\n    \
         params += (unsigned long long)nlsq_vec * NLSQ_P;\n    \
         partials += (unsigned long long)nlsq_vec * nlsq_grid * NLSQ_W;{body}"
    )
}

/// A pass's helpers and kernel, then the kernel's K-vector variant.
fn with_k_variant(pass: String) -> String {
    let at = pass.find("extern \"C\"").expect("a pass has a kernel");
    let k = k_vector_kernel(&pass[at..]);
    format!("{pass}{k}")
}

const OTHER_KERNELS: &str = r#"
// The data check: the first point whose y or any predictor is not finite, by atomicMin into
// *first (set to ~0 before the launch; the minimum commutes, so the answer is deterministic).
extern "C" __global__ void nlsq_data_check(const real* __restrict__ x, const real* __restrict__ y,
    unsigned long long n, unsigned long long x_stride, unsigned long long* __restrict__ first) {
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        bool ok = isfinite(y[i]);
        for (int k = 0; k < NLSQ_K; ++k) ok = ok && isfinite(x[k * x_stride + i]);
        if (!ok) {
            atomicMin(first, i);
            return;
        }
    }
}
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
    let pass = with_k_variant(if abi::uses_register_path(p) {
        register_pass()
    } else {
        tile_pass(p)
    });
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
pub const KERNEL_NAMES: [&str; 7] = [
    "nlsq_pass",
    "nlsq_pass_k",
    "nlsq_reduce",
    "nlsq_eval",
    "nlsq_residuals",
    "nlsq_jacobian",
    "nlsq_data_check",
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

    #[test]
    fn the_k_vector_pass_is_the_single_pass_with_its_block_remapped() {
        // The register path (P = 2) and the tiled path (P = 12).
        for expr in [
            "a * exp(-b * x)",
            "a1*exp(-b1*x) + a2*exp(-b2*x) + a3*exp(-b3*x) + a4*exp(-b4*x) + a5*exp(-b5*x) \
             + a6*exp(-b6*x)",
        ] {
            let m = crate::parse::model_from_expr(expr, None).unwrap();
            let src = module_source(&m, Precision::F64);
            let single = &src[src.find("nlsq_pass(").unwrap()..src.find("nlsq_pass_k(").unwrap()];
            let k = &src[src.find("nlsq_pass_k(").unwrap()..];
            let k = &k[..k.find("\n}\n").unwrap()];
            assert!(
                k.contains("double* __restrict__ partials, unsigned int k_vectors)"),
                "{k}"
            );
            // The block and grid appear only in the remapping (which declares `nlsq_bid` and
            // `nlsq_grid` and offsets the partials by the grid); the rest is the single kernel's
            // text with them renamed.
            assert_eq!(k.matches("blockIdx.x").count(), 2, "{k}");
            assert_eq!(k.matches("gridDim.x").count(), 1, "{k}");
            let single_uses =
                single.matches("blockIdx.x").count() + single.matches("gridDim.x").count();
            assert!(single_uses >= 2);
            assert_eq!(
                k.matches("nlsq_bid").count() + k.matches("nlsq_grid").count(),
                single_uses + 3,
                "{k}"
            );
        }
    }

    #[test]
    fn the_pass_divides_plainly() {
        // The Gaussian's value and derivatives divide by 2 sigma^2: plain divisions, faster on
        // sm_90 than one corrected reciprocal (`nlsq_div`, kept for the batch kernel).
        let m = crate::parse::model_from_expr(
            "amp * exp(-((x - mu) * (x - mu)) / (2.0 * sigma * sigma))",
            None,
        )
        .unwrap();
        let src = module_source(&m, Precision::F64);
        let grad = &src[src.find("real nlsq_model_grad(").unwrap()..];
        let grad = &grad[..grad.find("\n}").unwrap()];
        assert!(
            !grad.contains("nlsq_div(") && grad.matches(" / ").count() >= 3,
            "{grad}"
        );
    }
}

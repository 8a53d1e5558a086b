//! The WGSL batch module of a model: one invocation per fit, the per-fit Levenberg–Marquardt
//! of the batch ABI (see [`super::abi`], "Batch fits"), the same algorithm as the CUDA
//! batch kernels and the CPU backend. Entry point `nlsq_batch_lm`.

use super::Precision;
use super::abi;
use super::wgsl::{MATH_F32, MATH_F64, erf_math, helpers, model_functions};
use crate::emit::wgsl::Wgsl;
use crate::model::ModelIr;

const BODY: &str = r#"
struct NlsqBatchUniforms {
    n_fits: u32,
    n_equal: u32,
    x_mode: u32,
    estimator: u32,
    p0_offset: u32,
    p0_stride: u32,
    lower_offset: u32,
    upper_offset: u32,
    bounds_stride: u32,
    has_bounds: u32,
    fixed_offset: u32,
    fixed_stride: u32,
    has_fixed: u32,
    has_weights: u32,
    max_iterations: u32,
    want_cov: u32,
    chi2_offset: u32,
    cov_offset: u32,
    has_offsets: u32,
    reserved: u32,
}
@group(0) @binding(0) var<storage, read> nlsq_x: array<real>;
@group(0) @binding(1) var<storage, read> nlsq_y: array<real>;
@group(0) @binding(2) var<storage, read> nlsq_w: array<real>;
@group(0) @binding(3) var<storage, read> nlsq_fit_params: array<real>;
@group(0) @binding(4) var<storage, read> nlsq_fit_index: array<u32>;
@group(0) @binding(5) var<uniform> nlsq_b: NlsqBatchUniforms;
@group(0) @binding(6) var<storage, read_write> nlsq_out: array<real>;
@group(0) @binding(7) var<storage, read_write> nlsq_info: array<u32>;

const NLSQ_CONVERGED: u32 = 0u;
const NLSQ_MAX_ITERATIONS: u32 = 1u;
const NLSQ_SINGULAR: u32 = 2u;
const NLSQ_NON_FINITE: u32 = 3u;
const NLSQ_INVALID_INPUT: u32 = 4u;
const NLSQ_RUN: u32 = 255u;

fn nlsq_up(j: u32, k: u32) -> u32 { return j * NLSQ_P - (j * (j - min(j, 1u))) / 2u + (k - j); }

struct NlsqTerms { ok: bool, c: real, gw: real, hw: real }
fn nlsq_terms(est: u32, f: real, y: real, w: real) -> NlsqTerms {
    var t: NlsqTerms;
    if (est == 0u) {
        let r = f - y;
        t = NlsqTerms(true, w * r * r, w * r, w);
    } else {
        if (!(f > real(0.0))) { return NlsqTerms(false, real(0.0), real(0.0), real(0.0)); }
        let q = y / f;
        var lt = real(0.0);
        if (y > real(0.0)) { lt = y * nlsq_ln(f / y); }
        t = NlsqTerms(true, real(2.0) * (f - y) - real(2.0) * lt, real(1.0) - q, q / f);
    }
    t.ok = nlsq_finite(t.c) && nlsq_finite(t.gw) && nlsq_finite(t.hw);
    return t;
}

struct NlsqFit { start: u32, n: u32 }
struct NlsqAcc { ok: bool, chi2: real, g: array<real, NLSQ_P>, h: array<real, NLSQ_TP> }

fn nlsq_point_x(fit: NlsqFit, q: u32) -> array<real, NLSQ_K> {
    var xi: array<real, NLSQ_K>;
    for (var k = 0u; k < NLSQ_K; k++) {
        if (nlsq_b.x_mode == 0u) {
            xi[k] = real(q);
        } else if (nlsq_b.x_mode == 1u) {
            xi[k] = nlsq_x[q * NLSQ_K + k];
        } else {
            xi[k] = nlsq_x[(fit.start + q) * NLSQ_K + k];
        }
    }
    return xi;
}

fn nlsq_weight_of(fit: NlsqFit, q: u32) -> real {
    if (nlsq_b.has_weights != 0u) { return nlsq_w[fit.start + q]; }
    return real(1.0);
}

fn nlsq_accumulate(fit: NlsqFit, p: array<real, NLSQ_P>, fisher: bool) -> NlsqAcc {
    var acc: NlsqAcc;
    acc.ok = true;
    acc.chi2 = real(0.0);
    for (var q = 0u; q < fit.n; q++) {
        var vg = nlsq_model_grad(nlsq_point_x(fit, q), p);
        let t = nlsq_terms(nlsq_b.estimator, vg.value, nlsq_y[fit.start + q], nlsq_weight_of(fit, q));
        if (!t.ok) {
            acc.ok = false;
            break;
        }
        var hw = t.hw;
        if (fisher) { hw = real(1.0) / vg.value; }
        acc.chi2 += t.c;
        nlsq_add_point(&acc, t.gw, hw, vg.grad);
    }
    acc.ok = acc.ok && nlsq_finite(acc.chi2);
    for (var j = 0u; j < NLSQ_P; j++) { acc.ok = acc.ok && nlsq_finite(acc.g[j]); }
    for (var e = 0u; e < NLSQ_TP; e++) { acc.ok = acc.ok && nlsq_finite(acc.h[e]); }
    return acc;
}

// H with fixed rows and columns replaced by the identity, the free diagonal times 1 + lambda.
fn nlsq_damped(h: array<real, NLSQ_TP>, fx: array<bool, NLSQ_P>, lambda: real) -> array<real, NLSQ_TP> {
    var a: array<real, NLSQ_TP>;
    var e = 0u;
    for (var j = 0u; j < NLSQ_P; j++) {
        for (var k = j; k < NLSQ_P; k++) {
            var v = h[e];
            if (fx[j] || fx[k]) {
                v = select(real(0.0), real(1.0), j == k);
            } else if (j == k) {
                v = v * (real(1.0) + lambda);
            }
            a[e] = v;
            e++;
        }
    }
    return a;
}

struct NlsqChol { ok: bool, l: array<real, NLSQ_TP> }
// Cholesky of a packed upper triangle (entry up(j, k) becomes L[k][j]).
fn nlsq_cholesky(a0: array<real, NLSQ_TP>) -> NlsqChol {
    var a = a0;
    for (var j = 0u; j < NLSQ_P; j++) {
        var d = a[nlsq_up(j, j)];
        for (var k = 0u; k < j; k++) { d -= a[nlsq_up(k, j)] * a[nlsq_up(k, j)]; }
        if (!(d > real(0.0)) || !nlsq_finite(d)) { return NlsqChol(false, a); }
        d = sqrt(d);
        a[nlsq_up(j, j)] = d;
        for (var i = j + 1u; i < NLSQ_P; i++) {
            var s = a[nlsq_up(j, i)];
            for (var k = 0u; k < j; k++) { s -= a[nlsq_up(k, i)] * a[nlsq_up(k, j)]; }
            a[nlsq_up(j, i)] = s / d;
        }
    }
    return NlsqChol(true, a);
}

fn nlsq_cholesky_solve(l: array<real, NLSQ_TP>, b0: array<real, NLSQ_P>) -> array<real, NLSQ_P> {
    var b = b0;
    for (var i = 0u; i < NLSQ_P; i++) {
        var s = b[i];
        for (var k = 0u; k < i; k++) { s -= l[nlsq_up(k, i)] * b[k]; }
        b[i] = s / l[nlsq_up(i, i)];
    }
    for (var ii = 0u; ii < NLSQ_P; ii++) {
        let i = NLSQ_P - 1u - ii;
        var s = b[i];
        for (var k = i + 1u; k < NLSQ_P; k++) { s -= l[nlsq_up(i, k)] * b[k]; }
        b[i] = s / l[nlsq_up(i, i)];
    }
    return b;
}

@compute @workgroup_size(NLSQ_WG)
fn nlsq_batch_lm(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>) {
    let fit_id = (wid.y * nwg.x + wid.x) * NLSQ_WG + lid;
    if (fit_id >= nlsq_b.n_fits) { return; }
    var fit: NlsqFit;
    if (nlsq_b.has_offsets != 0u) {
        fit.start = nlsq_fit_index[fit_id];
        fit.n = nlsq_fit_index[fit_id + 1u] - fit.start;
    } else {
        fit.start = fit_id * nlsq_b.n_equal;
        fit.n = nlsq_b.n_equal;
    }
    let tolerance = nlsq_fit_params[0];
    let step_tolerance = nlsq_fit_params[1];
    var p: array<real, NLSQ_P>;
    var lo: array<real, NLSQ_P>;
    var hi: array<real, NLSQ_P>;
    var fx: array<bool, NLSQ_P>;
    var bad = false;
    var n_free = 0u;
    for (var j = 0u; j < NLSQ_P; j++) {
        p[j] = nlsq_fit_params[nlsq_b.p0_offset + fit_id * nlsq_b.p0_stride + j];
        fx[j] = nlsq_b.has_fixed != 0u && nlsq_fit_index[nlsq_b.fixed_offset + fit_id * nlsq_b.fixed_stride + j] != 0u;
        bad = bad || !nlsq_finite(p[j]);
        if (nlsq_b.has_bounds != 0u) {
            lo[j] = nlsq_fit_params[nlsq_b.lower_offset + fit_id * nlsq_b.bounds_stride + j];
            hi[j] = nlsq_fit_params[nlsq_b.upper_offset + fit_id * nlsq_b.bounds_stride + j];
            bad = bad || nlsq_isnan(lo[j]) || nlsq_isnan(hi[j]) || lo[j] > hi[j] || p[j] < lo[j] || p[j] > hi[j];
        }
        n_free += select(1u, 0u, fx[j]);
    }
    var state = NLSQ_RUN;
    if (bad || fit.n < n_free) {
        state = NLSQ_INVALID_INPUT;
    } else {
        var nf_w = false;
        var neg_w = false;
        var nf_d = false;
        var neg_y = false;
        for (var q = 0u; q < fit.n; q++) {
            let wq = nlsq_weight_of(fit, q);
            nf_w = nf_w || !nlsq_finite(wq);
            neg_w = neg_w || wq < real(0.0);
            let yq = nlsq_y[fit.start + q];
            nf_d = nf_d || !nlsq_finite(yq);
            neg_y = neg_y || yq < real(0.0);
            if (nlsq_b.x_mode != 0u) {
                let xq = nlsq_point_x(fit, q);
                for (var k = 0u; k < NLSQ_K; k++) { nf_d = nf_d || !nlsq_finite(xq[k]); }
            }
        }
        if (nf_w) {
            state = NLSQ_NON_FINITE;
        } else if (neg_w) {
            state = NLSQ_INVALID_INPUT;
        } else if (nf_d) {
            state = NLSQ_NON_FINITE;
        } else if (nlsq_b.estimator == 1u && neg_y) {
            state = NLSQ_INVALID_INPUT;
        }
    }
    var chi2 = real(0.0);
    var it = 0u;
    var g: array<real, NLSQ_P>;
    var h: array<real, NLSQ_TP>;
    if (state == NLSQ_RUN) {
        let acc = nlsq_accumulate(fit, p, false);
        if (!acc.ok) {
            state = NLSQ_NON_FINITE;
        } else {
            chi2 = acc.chi2;
            g = acc.g;
            h = acc.h;
        }
    }
    if (state == NLSQ_RUN) {
        var lambda = real(NLSQ_LAMBDA0);
        state = NLSQ_MAX_ITERATIONS;
        loop {
            if (it >= nlsq_b.max_iterations) { break; }
            it++;
            let chol = nlsq_cholesky(nlsq_damped(h, fx, lambda));
            if (!chol.ok) {
                state = NLSQ_SINGULAR;
                break;
            }
            var rhs: array<real, NLSQ_P>;
            for (var j = 0u; j < NLSQ_P; j++) { rhs[j] = select(-g[j], real(0.0), fx[j]); }
            let d = nlsq_cholesky_solve(chol.l, rhs);
            var pt: array<real, NLSQ_P>;
            var small = true;
            for (var j = 0u; j < NLSQ_P; j++) {
                var v = p[j] + d[j];
                if (nlsq_b.has_bounds != 0u) {
                    if (v < lo[j]) { v = lo[j]; } else if (v > hi[j]) { v = hi[j]; }
                }
                if (fx[j]) { v = p[j]; }
                pt[j] = v;
                small = small && abs(v - p[j]) <= step_tolerance * (abs(p[j]) + step_tolerance);
            }
            let trial = nlsq_accumulate(fit, pt, false);
            let accepted = trial.ok && trial.chi2 <= chi2;
            let conv = accepted && small && chi2 - trial.chi2 < tolerance * max(trial.chi2, real(1.0));
            if (accepted) {
                p = pt;
                g = trial.g;
                h = trial.h;
                chi2 = trial.chi2;
                lambda = lambda / real(NLSQ_LAMBDA_FACTOR);
            } else {
                lambda = lambda * real(NLSQ_LAMBDA_FACTOR);
            }
            if (conv) {
                state = NLSQ_CONVERGED;
                break;
            }
        }
    }
    var cov_bad = 1u;
    if (nlsq_b.want_cov != 0u) {
        let base = nlsq_b.cov_offset + fit_id * NLSQ_P * NLSQ_P;
        var ok = state == NLSQ_CONVERGED || state == NLSQ_MAX_ITERATIONS;
        var scale = real(1.0);
        var a = h;
        if (ok && nlsq_b.estimator == 0u) {
            ok = fit.n > n_free;
            scale = chi2 / real(fit.n - min(n_free, fit.n - 1u));
        } else if (ok) {
            let fisher = nlsq_accumulate(fit, p, true);
            ok = fisher.ok;
            a = fisher.h;
        }
        var chol: NlsqChol;
        if (ok) {
            chol = nlsq_cholesky(nlsq_damped(a, fx, real(0.0)));
            ok = chol.ok;
        }
        for (var col = 0u; col < NLSQ_P; col++) {
            var e: array<real, NLSQ_P>;
            e[col] = real(1.0);
            if (ok) { e = nlsq_cholesky_solve(chol.l, e); }
            for (var r = 0u; r < NLSQ_P; r++) {
                nlsq_out[base + r * NLSQ_P + col] = select(e[r] * scale, real(0.0), !ok || fx[r] || fx[col]);
            }
        }
        cov_bad = select(1u, 0u, ok);
    }
    // llvmpipe (gallivm) silently ends every loop of an invocation once all its loops together
    // have run 65535 iterations (LP_MAX_TGSI_LOOP_ITERATIONS): a last loop that must run twice
    // (its bound unknown to the compiler) proves the fit above was not cut short.
    var sentinel = 0u;
    for (var z = 0u; z < 2u + nlsq_b.reserved; z++) { sentinel++; }
    if (sentinel != 2u) { state = NLSQ_CUT_SHORT; }
    for (var j = 0u; j < NLSQ_P; j++) { nlsq_out[fit_id * NLSQ_P + j] = p[j]; }
    nlsq_out[nlsq_b.chi2_offset + fit_id] = chi2;
    nlsq_info[fit_id] = state | (min(it, 0x7fffffu) << 8u) | (cov_bad << 31u);
}
"#;

/// `nlsq_add_point`: one point's gradient and Hessian terms, unrolled over the parameters
/// (`g[j] += gw ∇f_j`, `h[up(j, k)] += (hw ∇f_j) ∇f_k` for `k >= j`, in that order). Unrolled
/// because llvmpipe ends all loops of an invocation after 65535 iterations in all: the
/// per-point work then costs one loop iteration instead of `1 + P + P(P+1)/2`.
fn add_point(p: usize) -> String {
    let mut f = String::from(
        "fn nlsq_add_point(acc: ptr<function, NlsqAcc>, gw: real, hw: real, d: array<real, NLSQ_P>) {\n",
    );
    let mut e = 0;
    for j in 0..p {
        f += &format!("    (*acc).g[{j}] += gw * d[{j}];\n    let h{j} = hw * d[{j}];\n");
        for k in j..p {
            f += &format!("    (*acc).h[{e}] += h{j} * d[{k}];\n");
            e += 1;
        }
    }
    f + "}\n"
}

/// The WGSL batch module of `model` for `precision`, or `None` when the model has more than
/// [`abi::BATCH_MAX_P`] parameters.
pub fn module_source(model: &ModelIr, precision: Precision) -> Option<String> {
    let p = model.n_params();
    if p > abi::BATCH_MAX_P {
        return None;
    }
    let d = Wgsl(precision);
    let (real, eps, max, math, suffix) = match precision {
        Precision::F64 => (
            "f64",
            "2.220446049250313e-16lf",
            "1.7976931348623157e308lf",
            MATH_F64,
            "lf",
        ),
        Precision::F32 => ("f32", "1.1920929e-7f", "3.4028235e38f", MATH_F32, "f"),
    };
    Some(format!(
        "// Generated by kernels-gen {version} (kernel ABI v{abi}): do not edit.\n\
         // Batch fits of a model with {p} parameters and {k} predictor(s), {precision}.\n\
         alias real = {real};\n\
         const NLSQ_P: u32 = {p}u;\nconst NLSQ_K: u32 = {k}u;\nconst NLSQ_TP: u32 = {tp}u;\n\
         const NLSQ_WG: u32 = {wg}u;\nconst NLSQ_CUT_SHORT: u32 = {cut}u;\n\
         const NLSQ_EPS: real = {eps};\nconst NLSQ_MAX_REAL: real = {max};\n\
         const NLSQ_LAMBDA0: real = {lambda0:?}{suffix};\nconst NLSQ_LAMBDA_FACTOR: real = {factor:?}{suffix};\n\
         {math}{erf}\n{helpers}\n{model_fns}\n{BODY}\n{add_point}",
        version = env!("CARGO_PKG_VERSION"),
        abi = abi::ABI_VERSION,
        k = model.n_inputs(),
        tp = p * (p + 1) / 2,
        wg = abi::WGSL_BATCH_WORKGROUP,
        cut = abi::BATCH_CUT_SHORT,
        lambda0 = abi::BATCH_LAMBDA0,
        factor = abi::BATCH_LAMBDA_FACTOR,
        helpers = helpers(),
        model_fns = model_functions(model, &d),
        add_point = add_point(p),
        erf = erf_math(model, precision),
    ))
}

/// Names of the entry points of every batch module.
pub const ENTRY_POINTS: [&str; 1] = ["nlsq_batch_lm"];

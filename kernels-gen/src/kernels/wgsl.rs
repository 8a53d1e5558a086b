//! The WGSL module of a model: math prelude, model functions, and the entry points of
//! [`abi`] (`nlsq_pass`, `nlsq_pass_k`, `nlsq_eval`, `nlsq_residuals`, `nlsq_jacobian`).

use super::Precision;
use super::abi;
use crate::emit::wgsl::Wgsl;
use crate::emit::{emit_body, indent, leaves, operand};
use crate::ir::{Node, UnaryOp};
use crate::model::ModelIr;

/// Software f64 transcendentals (SPIR-V has none for 64-bit floats).
pub(super) const MATH_F64: &str = include_str!("../emit/wgsl_math_f64.wgsl");

/// The error functions `erf` and `erfc` over `real` (WGSL has neither), added by
/// [`erf_math`] to the modules of models that call one of them.
const MATH_ERF: &str = include_str!("../emit/wgsl_math_erf.wgsl");

/// What [`MATH_ERF`] needs from each precision: the split of its tail (`x` with its low
/// significand bits cleared, so that its square is exact), where its second tail
/// approximation starts (fdlibm's `1/0.35` boundary, as each precision's high word reads it),
/// and its `exp`: in f64 the prelude's; in f32 the builtin after a Cody–Waite reduction to
/// |r| <= ln 2 / 2, because WGSL only promises the f32 builtin to 3 + 2|x| ulp (lavapipe's is
/// ~100 ulp off at x = -78, where erfc(8.8) needs it).
const ERF_F64: &str = "
// erf's split: 24 leading bits (fdlibm clears the low word; see wgsl_math_f64.wgsl).
fn nlsq_h_erf_split(v: f64) -> f64 { return nlsq_h_hi(v); }
fn nlsq_h_erf_exp(v: f64) -> f64 { return nlsq_exp(v); }
const NLSQ_ERF_TAIL: f64 = 2.8571414947509766lf; // 0x4006db6d_00000000
";
const ERF_F32: &str = "
// erf's split: the low 13 significand bits cleared (fdlibm's s_erff.c).
fn nlsq_h_erf_split(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) & 0xffffe000u); }
// exp(v) for -104 < v < 1: 2^k exp(r), k = round(v / ln 2), r = v - k ln 2 in two parts
// (fdlibm's expf constants; k * 0.693145751953125 is exact for |k| < 2^12).
fn nlsq_h_erf_exp(v: f32) -> f32 {
    let k = round(v * 1.4426950216e+00f);
    let r = (v - k * 6.9314575195e-01f) - k * 1.4286067653e-06f;
    return ldexp(exp(r), i32(k));
}
const NLSQ_ERF_TAIL: f32 = 2.857142686843872f; // 0x4036db6d
";

/// The WGSL error functions when `model` calls `erf` or `erfc`, else nothing: modules of
/// models without them keep their text (and their hash).
pub(super) fn erf_math(model: &ModelIr, precision: Precision) -> String {
    let s = model.schedule();
    let uses = s.order.iter().any(|&id| {
        matches!(
            model.graph.node(id),
            Node::Unary(UnaryOp::Erf | UnaryOp::Erfc, _)
        )
    });
    if !uses {
        return String::new();
    }
    let split = match precision {
        Precision::F64 => ERF_F64,
        Precision::F32 => ERF_F32,
    };
    format!("{split}\n{MATH_ERF}")
}

/// f32 math: the builtins, plus the cases WGSL leaves undefined.
pub(super) const MATH_F32: &str = r#"
fn nlsq_exp(a: f32) -> f32 { return exp(a); }
fn nlsq_ln(a: f32) -> f32 { return log(a); }
fn nlsq_log2(a: f32) -> f32 { return log2(a); }
fn nlsq_log10(a: f32) -> f32 { return log2(a) * 0.30102999566398120f; }
fn nlsq_sin(a: f32) -> f32 { return sin(a); }
fn nlsq_cos(a: f32) -> f32 { return cos(a); }
fn nlsq_tan(a: f32) -> f32 { return tan(a); }
fn nlsq_asin(a: f32) -> f32 { return asin(a); }
fn nlsq_acos(a: f32) -> f32 { return acos(a); }
fn nlsq_atan(a: f32) -> f32 { return atan(a); }
fn nlsq_atan2(y: f32, x: f32) -> f32 { return atan2(y, x); }
fn nlsq_sinh(a: f32) -> f32 { return sinh(a); }
fn nlsq_cosh(a: f32) -> f32 { return cosh(a); }
fn nlsq_tanh(a: f32) -> f32 { return tanh(a); }
fn nlsq_cbrt(a: f32) -> f32 {
    if (a == 0.0f) { return a; }
    return sign(a) * exp2(log2(abs(a)) * (1.0f / 3.0f));
}
// Rust's powf: a negative base is defined for integer exponents.
fn nlsq_pow(a: f32, b: f32) -> f32 {
    if (b == 0.0f || a == 1.0f) { return 1.0f; }
    if (a < 0.0f && b == trunc(b)) {
        let m = pow(-a, b);
        return select(m, -m, fract(b * 0.5f) != 0.0f);
    }
    return pow(a, b);
}
fn nlsq_hypot(a: f32, b: f32) -> f32 {
    let u = abs(a);
    let v = abs(b);
    let m = max(u, v);
    if (m == 0.0f) { return 0.0f; }
    let q = min(u, v) / m;
    return m * sqrt(1.0f + q * q);
}
"#;

/// Helpers with one text for both precisions (`real` is aliased first).
const COMMON: &str = r#"
// NaN test with ordered comparisons only (naga lowers `!=` to an ordered not-equal, false
// for NaN): a NaN is neither <= nor > anything.
fn nlsq_isnan(v: real) -> bool {
    return !(abs(v) <= NLSQ_MAX_REAL) && !(abs(v) > NLSQ_MAX_REAL);
}
// Rust's min/max: a NaN argument yields the other argument.
fn nlsq_min(a: real, b: real) -> real {
    if (nlsq_isnan(b)) { return a; }
    return select(b, a, a < b);
}
fn nlsq_max(a: real, b: real) -> real {
    if (nlsq_isnan(b)) { return a; }
    return select(b, a, a > b);
}
// Binary exponentiation, the algorithm of Rust's powi.
fn nlsq_powi(a0: real, n: i32) -> real {
    var a = a0;
    var m = u32(abs(n));
    var r = real(1.0);
    loop {
        if ((m & 1u) != 0u) { r = r * a; }
        m = m >> 1u;
        if (m == 0u) { break; }
        a = a * a;
    }
    if (n < 0) { return real(1.0) / r; }
    return r;
}
// ln(1 + z), accurate for small z (Goldberg): the rounding of 1 + z cancels in the ratio.
fn nlsq_log1p(z: real) -> real {
    let u = real(1.0) + z;
    if (u == real(1.0)) { return z; }
    return nlsq_ln(u) * (z / (u - real(1.0)));
}
fn nlsq_finite(v: real) -> bool {
    return abs(v) <= NLSQ_MAX_REAL;
}
struct NlsqLoss { rho: real, s: real, rs: real }
// scipy's robust losses, as in the CUDA prelude (see the kernel ABI).
fn nlsq_loss(loss: u32, f_scale: real, r: real) -> NlsqLoss {
    if (loss == 0u) { return NlsqLoss(r * r, real(1.0), r); }
    let zr = r / f_scale;
    let z = zr * zr;
    var p0: real;
    var p1: real;
    var p2: real;
    if (loss == 1u) {
        let t = real(1.0) + z;
        let st = sqrt(t);
        // 2 (sqrt(1 + z) - 1) without the cancellation of small z (f32 keeps its digits).
        p0 = real(2.0) * z / (st + real(1.0));
        p1 = real(1.0) / st;
        p2 = real(-0.5) * p1 / t;
    } else if (loss == 2u) {
        if (z <= real(1.0)) {
            p0 = z;
            p1 = real(1.0);
            p2 = real(0.0);
        } else {
            let sz = sqrt(z);
            p0 = real(2.0) * sz - real(1.0);
            p1 = real(1.0) / sz;
            p2 = real(-0.5) * p1 / z;
        }
    } else if (loss == 3u) {
        let t = real(1.0) + z;
        p0 = nlsq_log1p(z);
        p1 = real(1.0) / t;
        p2 = real(-1.0) / (t * t);
    } else {
        let t = real(1.0) + z * z;
        p0 = nlsq_atan(z);
        p1 = real(1.0) / t;
        p2 = real(-2.0) * z / (t * t);
    }
    let sq = sqrt(max(p1 + real(2.0) * p2 * z, NLSQ_EPS));
    return NlsqLoss(f_scale * f_scale * p0, sq, r * p1 / sq);
}

struct NlsqUniforms {
    n: u32,
    x_stride: u32,
    x_offset: u32,
    loss: u32,
    has_weights: u32,
    reserved0: u32,
    reserved1: u32,
    reserved2: u32,
}
@group(0) @binding(0) var<storage, read> nlsq_x: array<real>;
@group(0) @binding(1) var<storage, read> nlsq_y: array<real>;
@group(0) @binding(2) var<storage, read> nlsq_w: array<real>;
@group(0) @binding(3) var<storage, read> nlsq_params: array<real>;
@group(0) @binding(4) var<uniform> nlsq_u: NlsqUniforms;
@group(0) @binding(5) var<storage, read_write> nlsq_out: array<real>;

fn nlsq_load_params() -> array<real, NLSQ_P> {
    return nlsq_load_params_at(0u);
}
// The parameters of vector `base / (NLSQ_P + 1)` of a K-vector pass.
fn nlsq_load_params_at(base: u32) -> array<real, NLSQ_P> {
    var p: array<real, NLSQ_P>;
    for (var j = 0u; j < NLSQ_P; j++) { p[j] = nlsq_params[base + j]; }
    return p;
}
fn nlsq_load_x(o: u32) -> array<real, NLSQ_K> {
    var xi: array<real, NLSQ_K>;
    for (var k = 0u; k < NLSQ_K; k++) { xi[k] = nlsq_x[k * nlsq_u.x_stride + o]; }
    return xi;
}
fn nlsq_weight(o: u32) -> real {
    if (nlsq_u.has_weights != 0u) { return nlsq_w[o]; }
    return real(1.0);
}

@compute @workgroup_size(NLSQ_WG)
fn nlsq_eval(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = nlsq_load_params();
    for (var i = gid.x; i < nlsq_u.n; i += nwg.x * NLSQ_WG) {
        nlsq_out[i] = nlsq_model_value(nlsq_load_x(nlsq_u.x_offset + i), p);
    }
}

@compute @workgroup_size(NLSQ_WG)
fn nlsq_residuals(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = nlsq_load_params();
    for (var i = gid.x; i < nlsq_u.n; i += nwg.x * NLSQ_WG) {
        let o = nlsq_u.x_offset + i;
        nlsq_out[i] = (nlsq_model_value(nlsq_load_x(o), p) - nlsq_y[o]) * nlsq_weight(o);
    }
}

@compute @workgroup_size(NLSQ_WG)
fn nlsq_jacobian(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = nlsq_load_params();
    for (var i = gid.x; i < nlsq_u.n; i += nwg.x * NLSQ_WG) {
        let o = nlsq_u.x_offset + i;
        var vg = nlsq_model_grad(nlsq_load_x(o), p);
        let wi = nlsq_weight(o);
        for (var j = 0u; j < NLSQ_P; j++) { nlsq_out[i * NLSQ_P + j] = vg.grad[j] * wi; }
    }
}
"#;

/// Evaluates point `i` (window offset applied) into `vg`, `wi`, `r`, `J` and `ok`.
const EVAL_POINT: &str = r#"        let o = nlsq_u.x_offset + i;
        var vg = nlsq_model_grad(nlsq_load_x(o), p);
        let wi = nlsq_weight(o);
        let r = (vg.value - nlsq_y[o]) * wi;
        var ok = nlsq_finite(r);
        var J: array<real, NLSQ_P>;
        for (var j = 0u; j < NLSQ_P; j++) {
            J[j] = vg.grad[j] * wi;
            ok = ok && nlsq_finite(J[j]);
        }
"#;

const PASS_HEAD: &str = "@compute @workgroup_size(NLSQ_WG)\nfn nlsq_pass(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,\n    @builtin(num_workgroups) nwg: vec3<u32>) {\n    let p = nlsq_load_params();\n    let f_scale = nlsq_params[NLSQ_P];\n    let n = nlsq_u.n;\n";

fn register_pass(precision: Precision) -> String {
    // f32 lanes accumulate with Kahan compensation; f64 lanes add plainly.
    let (decl, add, read) = match precision {
        Precision::F32 => (
            "    var acc: array<real, NLSQ_W>;\n    var comp: array<real, NLSQ_W>;\n",
            "{ let kv = (@V@) - comp[@E@]; let kt = acc[@E@] + kv; comp[@E@] = (kt - acc[@E@]) - kv; acc[@E@] = kt; }",
            "acc[e] - comp[e]",
        ),
        Precision::F64 => (
            "    var acc: array<real, NLSQ_W>;\n",
            "acc[@E@] += @V@;",
            "acc[e]",
        ),
    };
    let add = |e: &str, v: &str| add.replace("@E@", e).replace("@V@", v);
    format!(
        r#"// Register path: each invocation keeps the whole reduction row over a grid-stride loop,
// then the workgroup reduces each entry as a fixed tree.
var<workgroup> nlsq_red: array<real, NLSQ_WG>;
{PASS_HEAD}{decl}    for (var i = wid.x * NLSQ_WG + lid; i < n; i += nwg.x * NLSQ_WG) {{
{EVAL_POINT}        if (!ok) {{
            {bad}
            continue;
        }}
        let l = nlsq_loss(nlsq_u.loss, f_scale, r);
        {rho}
        for (var j = 0u; j < NLSQ_P; j++) {{ J[j] = J[j] * l.s; }}
        var e = 1u;
        for (var j = 0u; j < NLSQ_P; j++) {{
            for (var k = j; k < NLSQ_P; k++) {{
                {jtj}
                e++;
            }}
        }}
        for (var j = 0u; j < NLSQ_P; j++) {{
            {jtr}
        }}
        {count}
    }}
    for (var e = 0u; e < NLSQ_W; e++) {{
        nlsq_red[lid] = {read};
        workgroupBarrier();
        for (var s = NLSQ_WG / 2u; s > 0u; s = s >> 1u) {{
            if (lid < s) {{ nlsq_red[lid] = nlsq_red[lid] + nlsq_red[lid + s]; }}
            workgroupBarrier();
        }}
        if (lid == 0u) {{ nlsq_out[wid.x * NLSQ_W + e] = nlsq_red[0]; }}
        workgroupBarrier();
    }}
}}
"#,
        bad = add("NLSQ_W - 2u", "real(1.0)"),
        rho = add("0u", "l.rho"),
        jtj = add("e", "J[j] * J[k]"),
        jtr = add("1u + NLSQ_T + j", "J[j] * l.rs"),
        count = add("NLSQ_W - 1u", "real(1.0)"),
    )
}

fn tile_pass(p: usize, precision: Precision) -> String {
    let elem = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let tile = abi::tile_rows(
        p,
        abi::WGSL_TILE_SHARED_BYTES,
        elem,
        abi::WGSL_WORKGROUP as usize,
    );
    format!(
        r#"// Tiled path: invocations evaluate a tile of points into workgroup memory; each invocation
// owns a slice of the reduction row and adds the tile's contribution to it in point order.
const NLSQ_TILE: u32 = {tile}u;
const NLSQ_ROW: u32 = NLSQ_P + 2u;
var<workgroup> nlsq_tile: array<real, {tile_len}>;
var<workgroup> nlsq_counts: array<atomic<u32>, 2>;
fn nlsq_tri_row_start(r: u32) -> u32 {{ return r * NLSQ_P - (r * (r - min(r, 1u))) / 2u; }}
{PASS_HEAD}    let row_out = wid.x * NLSQ_W;
    for (var e = lid; e < NLSQ_W; e += NLSQ_WG) {{ nlsq_out[row_out + e] = real(0.0); }}
    if (lid < 2u) {{ atomicStore(&nlsq_counts[lid], 0u); }}
    workgroupBarrier();
    for (var base = wid.x * NLSQ_TILE; base < n; base += nwg.x * NLSQ_TILE) {{
        if (lid < NLSQ_TILE) {{
            let row = lid * NLSQ_ROW;
            let i = base + lid;
            var keep = false;
            if (i < n) {{
{EVAL_POINT}                if (ok) {{
                    let l = nlsq_loss(nlsq_u.loss, f_scale, r);
                    nlsq_tile[row + NLSQ_P + 1u] = l.rho;
                    nlsq_tile[row + NLSQ_P] = l.rs;
                    for (var j = 0u; j < NLSQ_P; j++) {{ nlsq_tile[row + j] = J[j] * l.s; }}
                    keep = true;
                    atomicAdd(&nlsq_counts[1], 1u);
                }} else {{
                    atomicAdd(&nlsq_counts[0], 1u);
                }}
            }}
            if (!keep) {{
                for (var j = 0u; j < NLSQ_ROW; j++) {{ nlsq_tile[row + j] = real(0.0); }}
            }}
        }}
        workgroupBarrier();
        for (var e = lid; e < NLSQ_W - 2u; e += NLSQ_WG) {{
            var s = real(0.0);
            if (e == 0u) {{
                for (var q = 0u; q < NLSQ_TILE; q++) {{ s += nlsq_tile[q * NLSQ_ROW + NLSQ_P + 1u]; }}
            }} else if (e <= NLSQ_T) {{
                let t = e - 1u;
                // Row of the upper triangle holding entry t, found by a short search.
                var j = 0u;
                while (nlsq_tri_row_start(j + 1u) <= t) {{ j++; }}
                let k = j + (t - nlsq_tri_row_start(j));
                for (var q = 0u; q < NLSQ_TILE; q++) {{
                    s += nlsq_tile[q * NLSQ_ROW + j] * nlsq_tile[q * NLSQ_ROW + k];
                }}
            }} else {{
                let j = e - 1u - NLSQ_T;
                for (var q = 0u; q < NLSQ_TILE; q++) {{
                    s += nlsq_tile[q * NLSQ_ROW + j] * nlsq_tile[q * NLSQ_ROW + NLSQ_P];
                }}
            }}
            nlsq_out[row_out + e] += s;
        }}
        workgroupBarrier();
    }}
    workgroupBarrier();
    if (lid == 0u) {{
        nlsq_out[row_out + NLSQ_W - 2u] = real(atomicLoad(&nlsq_counts[0]));
        nlsq_out[row_out + NLSQ_W - 1u] = real(atomicLoad(&nlsq_counts[1]));
    }}
}}
"#,
        tile_len = tile * (p + 2),
    )
}

/// The K-vector variant of a pass's entry point `pass` (the text from its `@compute` on):
/// `nlsq_pass_k`, dispatched as `(K, G, 1)` workgroups. Workgroup `(v, b)` runs workgroup `b`
/// of a `G`-workgroup `nlsq_pass` at parameter vector `v` (`params` holds K runs of `P`
/// parameters and `f_scale`) and writes its row to `out[(v G + b) W ..]`: each vector's rows
/// are those of its single pass, bit for bit, and the workgroups of the K vectors that read
/// the same points are adjacent in dispatch order.
fn k_vector_entry(pass: &str) -> String {
    let open = pass.find(") {\n").expect("an entry point has a body") + 4;
    let (head, body) = pass.split_at(open);
    let head = head.replace("fn nlsq_pass(", "fn nlsq_pass_k(");
    let body = body
        .replace("wid.x", "nlsq_bid")
        .replace("nwg.x", "nlsq_grid")
        .replace("nlsq_load_params()", "nlsq_load_params_at(nlsq_pbase)")
        .replace("nlsq_params[NLSQ_P]", "nlsq_params[nlsq_pbase + NLSQ_P]")
        .replace("nlsq_out[", "nlsq_out[nlsq_obase + ");
    format!(
        "{head}    let nlsq_bid = wid.y;\n    let nlsq_grid = nwg.y;\n    \
         let nlsq_pbase = wid.x * (NLSQ_P + 1u);\n    \
         let nlsq_obase = wid.x * nlsq_grid * NLSQ_W;\n{body}"
    )
}

/// A pass's declarations and entry point, then the entry point's K-vector variant.
fn with_k_variant(pass: String) -> String {
    let at = pass.find("@compute").expect("a pass has an entry point");
    let k = k_vector_entry(&pass[at..]);
    format!("{pass}{k}")
}

/// The helpers of [`COMMON`] without its bindings (for modules with other bindings).
pub(super) fn helpers() -> &'static str {
    COMMON
        .split_once("\nstruct NlsqUniforms")
        .map_or(COMMON, |(helpers, _)| helpers)
}

/// The model's value function and value-with-gradient function.
pub(super) fn model_functions(model: &ModelIr, d: &Wgsl) -> String {
    let g = &model.graph;
    let mut out = String::from("struct NlsqValueGrad { value: real, grad: array<real, NLSQ_P> }\n");
    for (name, schedule, with_grad) in [
        ("nlsq_model_value", model.value_schedule(), false),
        ("nlsq_model_grad", model.schedule(), true),
    ] {
        let (xs, ps) = leaves(g, &schedule);
        let mut lines: Vec<String> = xs
            .iter()
            .map(|k| format!("let x{k} = x[{k}];"))
            .chain(ps.iter().map(|j| format!("let p{j} = p[{j}];")))
            .collect();
        lines.extend(emit_body(g, &schedule, d));
        let value = operand(g, d, model.value);
        if with_grad {
            lines.push("var out: NlsqValueGrad;".into());
            lines.push(format!("out.value = {value};"));
            for (j, &dj) in model.gradient.iter().enumerate() {
                lines.push(format!("out.grad[{j}] = {};", operand(g, d, dj)));
            }
            lines.push("return out;".into());
        } else {
            lines.push(format!("return {value};"));
        }
        let ret = if with_grad { "NlsqValueGrad" } else { "real" };
        out.push_str(&format!(
            "fn {name}(x: array<real, NLSQ_K>, p: array<real, NLSQ_P>) -> {ret} {{\n{}}}\n",
            indent(&lines, 4)
        ));
    }
    out
}

/// The complete WGSL module of `model` for `precision`.
pub fn module_source(model: &ModelIr, precision: Precision) -> String {
    let p = model.n_params();
    let d = Wgsl(precision);
    let (real, eps, max, math) = match precision {
        Precision::F64 => (
            "f64",
            "2.220446049250313e-16lf",
            "1.7976931348623157e308lf",
            MATH_F64,
        ),
        Precision::F32 => ("f32", "1.1920929e-7f", "3.4028235e38f", MATH_F32),
    };
    let pass = if abi::uses_register_path(p) {
        register_pass(precision)
    } else {
        tile_pass(p, precision)
    };
    let pass = with_k_variant(pass);
    format!(
        "// Generated by kernels-gen {version} (kernel ABI v{abi}): do not edit.\n\
         // Model with {p} parameters and {k} predictor(s), {precision} evaluation.\n\
         alias real = {real};\n\
         const NLSQ_P: u32 = {p}u;\nconst NLSQ_K: u32 = {k}u;\n\
         const NLSQ_T: u32 = {t}u;\nconst NLSQ_W: u32 = {w}u;\nconst NLSQ_WG: u32 = {wg}u;\n\
         const NLSQ_EPS: real = {eps};\nconst NLSQ_MAX_REAL: real = {max};\n\
         {math}{erf}\n{COMMON}\n{model_fns}\n{pass}",
        version = env!("CARGO_PKG_VERSION"),
        abi = abi::ABI_VERSION,
        k = model.n_inputs(),
        t = p * (p + 1) / 2,
        w = abi::reduction_width(p),
        wg = abi::WGSL_WORKGROUP,
        model_fns = model_functions(model, &d),
        erf = erf_math(model, precision),
    )
}

/// Names of the entry points every module exports.
pub const ENTRY_POINTS: [&str; 5] = [
    "nlsq_pass",
    "nlsq_pass_k",
    "nlsq_eval",
    "nlsq_residuals",
    "nlsq_jacobian",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_k_vector_pass_is_the_single_pass_with_its_workgroup_remapped() {
        // The register path (P = 2) and the tiled path (P = 12), both precisions.
        for expr in [
            "a * exp(-b * x)",
            "a1*exp(-b1*x) + a2*exp(-b2*x) + a3*exp(-b3*x) + a4*exp(-b4*x) + a5*exp(-b5*x) \
             + a6*exp(-b6*x)",
        ] {
            let m = crate::parse::model_from_expr(expr, None).unwrap();
            for precision in Precision::ALL {
                let src = module_source(&m, precision);
                let single = &src[src.find("fn nlsq_pass(").unwrap()..];
                let single = &single[..single.find("\n}\n").unwrap()];
                let k = &src[src.find("fn nlsq_pass_k(").unwrap()..];
                let k = &k[..k.find("\n}\n").unwrap()];
                // The workgroup and the grid are read only by the remapping; the rest is the
                // single entry point's text with them, the parameters and the rows offset.
                assert_eq!(k.matches("wid.").count(), 3, "{k}");
                assert_eq!(k.matches("nwg.").count(), 1, "{k}");
                let renamed = single
                    .replace("fn nlsq_pass(", "fn nlsq_pass_k(")
                    .replace("wid.x", "nlsq_bid")
                    .replace("nwg.x", "nlsq_grid")
                    .replace("nlsq_load_params()", "nlsq_load_params_at(nlsq_pbase)")
                    .replace("nlsq_params[NLSQ_P]", "nlsq_params[nlsq_pbase + NLSQ_P]")
                    .replace("nlsq_out[", "nlsq_out[nlsq_obase + ");
                let remap_end = k.find("let nlsq_obase").unwrap();
                let remap_end = remap_end + k[remap_end..].find('\n').unwrap() + 1;
                let head_end = k.find(") {\n").unwrap() + 4;
                assert_eq!(
                    format!("{}{}", &k[..head_end], &k[remap_end..]),
                    renamed,
                    "{expr} ({precision})"
                );
            }
        }
    }
}

//! The model language, construct by construct: values and derivatives of small models
//! against hand-computed results, and rejections with their messages.

use kernels_gen::parse::{model_from_expr, model_from_source};

fn eval(src: &str, x: &[f64], p: &[f64]) -> (f64, Vec<f64>) {
    model_from_source(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .eval_with_gradient(x, p)
}

#[test]
fn let_mut_and_compound_assignment() {
    let (f, g) = eval(
        "fn m(x: f64, a: f64, b: f64) -> f64 { let mut s = a; s += b * x; s *= 2.0; s -= 1.0; s /= 4.0; s }",
        &[3.0],
        &[1.0, 2.0],
    );
    assert_eq!(f, ((1.0 + 2.0 * 3.0) * 2.0 - 1.0) / 4.0);
    assert_eq!(g, vec![0.5, 1.5]);
}

#[test]
fn if_statement_merges_assigned_variables() {
    let src = "fn m(x: f64, a: f64) -> f64 {
        let mut s = a;
        if x > 1.0 { s *= x; } else if x > 0.0 { s += x; } else { s = 0.0; }
        s
    }";
    assert_eq!(eval(src, &[2.0], &[3.0]), (6.0, vec![2.0]));
    assert_eq!(eval(src, &[0.5], &[3.0]), (3.5, vec![1.0]));
    assert_eq!(eval(src, &[-1.0], &[3.0]), (0.0, vec![0.0]));
}

#[test]
fn if_expression_with_logic() {
    let src = "fn m(x: f64, a: f64) -> f64 {
        let inside = x > -1.0 && !(x >= 1.0) || x == 5.0;
        if inside { a * x } else { a }
    }";
    assert_eq!(eval(src, &[0.5], &[2.0]), (1.0, vec![0.5]));
    assert_eq!(eval(src, &[5.0], &[2.0]), (10.0, vec![5.0]));
    assert_eq!(eval(src, &[2.0], &[2.0]), (2.0, vec![1.0]));
}

#[test]
fn loops_unroll_with_counters_indices_and_casts() {
    let src = "fn m(x: [f64; 2], c: [f64; 3]) -> f64 {
        let mut s = 0.0;
        for i in 0..3 {
            for j in 0..=1 {
                if i == 2 && j == 1 { s += 100.0; }
                s += c[i] * x[j] * (i as f64 + 1.0);
            }
        }
        s
    }";
    let (f, g) = eval(src, &[1.0, 2.0], &[1.0, 1.0, 1.0]);
    assert_eq!(f, 3.0 * (1.0 + 2.0 + 3.0) + 100.0);
    assert_eq!(g, vec![3.0, 6.0, 9.0]);
}

#[test]
fn constants_methods_and_path_calls() {
    let src = "fn m(x: f64, a: f64) -> f64 {
        use_pi(a) // not a call of an unknown fn: replaced below
    }";
    assert!(model_from_source(src).is_err());
    let src = "fn m(x: f64, a: f64) -> f64 {
        a * std::f64::consts::PI + f64::sqrt(x) + x.powi(-2) + core::f64::consts::E.ln() + x.hypot(a)
    }";
    let (f, g) = eval(src, &[4.0], &[3.0]);
    assert_eq!(f, 3.0 * std::f64::consts::PI + 2.0 + 1.0 / 16.0 + 1.0 + 5.0);
    assert!((g[0] - (std::f64::consts::PI + 3.0 / 5.0)).abs() < 1e-15);
}

#[test]
fn non_smooth_points_follow_rusts_branch() {
    let abs = "fn m(x: f64, a: f64) -> f64 { (a - x).abs() }";
    assert_eq!(eval(abs, &[1.0], &[1.0]).1, vec![1.0]);
    assert_eq!(eval(abs, &[2.0], &[1.0]).1, vec![-1.0]);
    let min = "fn m(x: f64, a: f64, b: f64) -> f64 { a.min(b) * x }";
    // A tie takes the second argument's branch.
    assert_eq!(eval(min, &[1.0], &[2.0, 2.0]).1, vec![0.0, 1.0]);
    assert_eq!(eval(min, &[1.0], &[1.0, 2.0]).1, vec![1.0, 0.0]);
}

#[test]
fn expression_strings() {
    let m = model_from_expr("amp * exp(-((x - mu) / w)^2)", None);
    let e = m.unwrap_err().to_string();
    assert!(e.contains("`^` is not a power"), "{e}");
    let m = model_from_expr(
        "a * pow(x[0], 2) + b * log(x[0]) + c * sin(pi * x[1])",
        None,
    )
    .unwrap();
    assert_eq!(m.param_names(), ["a", "b", "c"]);
    assert_eq!(m.n_inputs(), 2);
    let (f, _) = m.eval_with_gradient(&[2.0, 0.5], &[1.0, 1.0, 1.0]);
    assert!((f - (4.0 + 2f64.ln() + 1.0)).abs() < 1e-15);
    let m = model_from_expr("k * x", Some(&["k", "unused"])).unwrap();
    assert_eq!(m.n_params(), 2);
    assert_eq!(m.eval_with_gradient(&[3.0], &[2.0, 9.0]).1, vec![3.0, 0.0]);
    let e = model_from_expr("2 * x", None).unwrap_err().to_string();
    assert!(e.contains("no parameters"), "{e}");
}

#[test]
fn rejections_name_the_construct_and_point_at_it() {
    let cases = [
        (
            "fn m(x: f64, a: f64) -> f64 { loop {} }",
            "`loop` is not supported",
            1,
            31,
        ),
        (
            "fn m(x: f64, a: f64) -> f64 {\n    a * x.floor()\n}",
            "method `floor`",
            2,
            11,
        ),
        (
            "fn m(x: f64, a: i32) -> f64 { x }",
            "must be `f64` or `[f64; N]`",
            1,
            17,
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { let (b, c) = (a, x); b }",
            "plain name",
            1,
            35,
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { a * y }",
            "cannot find `y`",
            1,
            35,
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { let s = a; s += 1.0; s }",
            "not mutable",
            1,
            42,
        ),
    ];
    for (src, msg, line, col) in cases {
        let e = model_from_source(src).unwrap_err();
        assert!(e.to_string().contains(msg), "{src}: {e}");
        assert!(e.to_string().contains("a #[model] body may use"), "{e}");
        assert_eq!((e.line, e.column + 1), (line, col), "{src}: {e}");
    }
}

#[test]
fn shared_subexpressions_are_computed_once() {
    // exp(-b x) appears in the value and in all three derivatives: one node.
    let m = model_from_expr("a * exp(-b * x) + c", None).unwrap();
    let src = kernels_gen::emit::rust::source(&m);
    assert_eq!(src.matches(".exp()").count(), 2, "{src}"); // once per emitted function
    assert!(m.op_count() <= 8, "op count {}", m.op_count());
}

/// The value alone.
fn value(m: &kernels_gen::ModelIr, x: f64, p: &[f64]) -> f64 {
    m.eval_with_gradient(&[x], p).0
}

/// `erf` is an expression-string function: `libm::erf` in the interpreter, derivative
/// `(2/√π)·exp(−u²)`, and a clear rejection in a `fn` model.
#[test]
fn erf_in_expression_strings() {
    let m = model_from_expr("a * erf(b * x) + c", None).unwrap();
    assert_eq!(m.param_names(), ["a", "b", "c"]);
    let xs = [
        0.0, -0.0, 1e-300, -1e-20, 1e-9, 0.3, -0.5, 0.84375, 1.0, -1.1, 1.25, 2.0, -2.5, 2.857,
        3.5, -4.0, 5.0, 5.9, -6.0, 6.5, 27.0,
    ];
    for &x in &xs {
        let p = [1.5, 1.0, 0.25];
        let (f, g) = m.eval_with_gradient(&[x], &p);
        // The interpreter computes libm's erf, bit for bit.
        assert_eq!(f, 1.5 * libm::erf(x) + 0.25, "x = {x:e}");
        assert_eq!(g[0], libm::erf(x), "x = {x:e}");
        assert_eq!(g[2], 1.0);
        // d/db = a x (2/√π) exp(−(bx)²), against central differences.
        let want = 1.5 * x * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp();
        assert!((g[1] - want).abs() <= 1e-15 * (1.0 + want.abs()), "x = {x}");
        let h = 1e-6;
        let fd =
            (value(&m, x, &[1.5, 1.0 + h, 0.25]) - value(&m, x, &[1.5, 1.0 - h, 0.25])) / (2.0 * h);
        assert!(
            (g[1] - fd).abs() <= 1e-8 * (1.0 + fd.abs()),
            "x = {x}: {} vs {fd}",
            g[1]
        );
    }
    // Odd, saturating, tiny arguments linear.
    assert_eq!(
        value(&m, -0.7, &[1.0, 1.0, 0.0]),
        -value(&m, 0.7, &[1.0, 1.0, 0.0])
    );
    assert_eq!(value(&m, 7.0, &[1.0, 1.0, 0.0]), 1.0);
    assert!(value(&m, f64::NAN, &[1.0, 1.0, 0.0]).is_nan());
    // Constant arguments fold; the method and path forms are the same node.
    let k = model_from_expr("a * erf(1)", None).unwrap();
    assert_eq!(value(&k, 0.0, &[1.0]), libm::erf(1.0));
    let forms = ["a * erf(x)", "a * x.erf()", "a * f64::erf(x)"];
    let h: Vec<_> = forms
        .iter()
        .map(|s| kernels_gen::Compiled::new(model_from_expr(s, None).unwrap()).hash)
        .collect();
    assert!(h.iter().all(|&v| v == h[0]), "{forms:?}");
    // The step of a model library: value and gradient at a point.
    let step = model_from_expr("a / 2 * (1 + erf((x - mu) / (sqrt(2) * s))) + c", None).unwrap();
    assert_eq!(step.param_names(), ["a", "mu", "s", "c"]);
    let (f, _) = step.eval_with_gradient(&[1.0], &[2.0, 1.0, 0.5, 0.1]);
    assert_eq!(f, 1.1);
}

/// `erfc` is computed directly (`libm::erfc`), not as `1 − erf`: it keeps its digits in the
/// tail; derivative `−(2/√π)·exp(−u²)`.
#[test]
fn erfc_in_expression_strings() {
    let m = model_from_expr("a * erfc(b * x)", None).unwrap();
    for x in [
        0.0, -0.0, 1e-300, 1e-18, -0.2, 0.3, 0.84375, -1.0, 1.2, 2.0, -3.0, 5.0, 6.5, 10.0, 26.6,
        27.5, 28.0, -30.0,
    ] {
        let (f, g) = m.eval_with_gradient(&[x], &[1.0, 1.0]);
        assert_eq!(f.to_bits(), libm::erfc(x).to_bits(), "x = {x:e}");
        assert_eq!(g[0].to_bits(), f.to_bits());
        let want = -x * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp();
        assert!((g[1] - want).abs() <= 1e-15 * (1.0 + want.abs()), "x = {x}");
    }
    // Far in the tail, where 1 − erf(x) is 0: erfc(10) = 2.088487583762545e-45.
    assert_eq!(value(&m, 10.0, &[1.0, 1.0]), 2.088487583762545e-45);
    assert_eq!(value(&m, -10.0, &[1.0, 1.0]), 2.0);
    let d = model_from_expr("erfc(x) + erf(x) + a", None).unwrap();
    for x in [-3.0, -0.5, 0.0, 0.7, 2.0, 5.0] {
        assert!(
            (value(&d, x, &[0.0]) - 1.0).abs() <= 2.0 * f64::EPSILON,
            "x = {x}"
        );
    }
}

#[test]
fn erf_in_a_fn_model_is_rejected_naming_expression_strings() {
    for src in [
        "fn m(x: f64, a: f64) -> f64 { a * x.erf() }",
        "fn m(x: f64, a: f64) -> f64 { a * f64::erf(x) }",
    ] {
        let e = model_from_source(src).unwrap_err().to_string();
        assert!(
            e.contains("`erf` is only available in expression strings"),
            "{e}"
        );
        assert!(e.contains("model_from_expr"), "{e}");
    }
    let e = model_from_source("fn m(x: f64, a: f64) -> f64 { a * x.erfc() }").unwrap_err();
    assert!(
        e.to_string()
            .contains("`erfc` is only available in expression strings"),
        "{e}"
    );
}

#[test]
fn erf_is_emitted_for_every_target() {
    use kernels_gen::{Compiled, Precision};
    let c = Compiled::new(model_from_expr("a * erf(b * x)", None).unwrap());
    let rust = c.rust_source();
    assert!(rust.contains("libm::erf("), "{rust}");
    assert!(c.cuda_source(Precision::F64).contains(" erf(t"));
    assert!(c.cuda_source(Precision::F32).contains(" erff(t"));
    for p in Precision::ALL {
        let w = c.wgsl_source(p);
        assert!(
            w.contains("fn nlsq_erf(") && w.contains("nlsq_erf(t"),
            "{p}"
        );
        assert_eq!(w.matches("fn nlsq_h_erf_split(").count(), 1, "{p}");
        if let Some(b) = c.wgsl_batch_source(p) {
            assert!(b.contains("fn nlsq_erf("), "{p}");
        }
    }
    let block = kernels_gen::emit::rust::value_block_fn(&c.ir, "v", "::nlsq::block");
    assert!(block.contains("::nlsq::block::erf("), "{block}");
    let e = Compiled::new(model_from_expr("a * erfc(b * x)", None).unwrap());
    assert!(e.rust_source().contains("libm::erfc("));
    assert!(e.cuda_source(Precision::F64).contains(" erfc(t"));
    assert!(e.cuda_source(Precision::F32).contains(" erfcf(t"));
    for p in Precision::ALL {
        assert!(e.wgsl_source(p).contains("nlsq_erfc(t"), "{p}");
    }
    let block = kernels_gen::emit::rust::value_block_fn(&e.ir, "v", "::nlsq::block");
    assert!(block.contains("::nlsq::block::erfc("), "{block}");
    // Models without erf do not carry it (their modules, and hashes, are as before).
    let other = Compiled::new(model_from_expr("a * exp(b * x)", None).unwrap());
    for p in Precision::ALL {
        assert!(!other.wgsl_source(p).contains("nlsq_erf"), "{p}");
    }
}

/// The model library's `erf_step` formula (listed once the language has `erf`) compiles, with
/// its parameters in order, and is the Gaussian CDF step.
#[test]
fn the_library_erf_step_formula_compiles() {
    let m = model_from_expr(
        "offset + 0.5 * amp * (1 + erf((x - center) / (SQRT_2 * sigma)))",
        Some(&["amp", "center", "sigma", "offset"]),
    )
    .unwrap();
    let p = [2.0, 1.0, 0.5, 0.25];
    assert_eq!(value(&m, 1.0, &p), 1.25);
    let upper = value(&m, 1.5, &p); // one sigma above the centre: Φ(1) = 0.8413...
    assert!(
        (upper - (0.25 + 2.0 * 0.841_344_746_068_542_9)).abs() < 1e-15,
        "{upper}"
    );
}

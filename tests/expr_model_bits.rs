//! A model given at run time computes the bits of the `#[model]` of the same mathematics:
//! block values and gradients on every instruction set, over the whole model corpus, and the
//! block tapes against a point-by-point evaluation of random expression trees with the
//! functions the block code of `#[model]` calls.

use nlsq::block::{self, BLOCK, Simd};
use nlsq::kernels_gen::ModelIr;
use nlsq::kernels_gen::eval::apply_node;
use nlsq::kernels_gen::ir::UnaryOp;
use nlsq::kernels_gen::ir::apply_unary;
use nlsq::kernels_gen::parse::model_from_expr;
use nlsq::{ExprModel, Model};
use nlsq_testkit::corpus;
use proptest::prelude::*;

/// Equal bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

const SIMDS: [Simd; 3] = [Simd::Baseline, Simd::Avx2, Simd::Avx512];

/// `[value, ∂f/∂p_0, ...]` at every lane of one block.
fn block_outputs(m: &dyn Model, x: &[[f64; BLOCK]], p: &[f64]) -> Vec<[f64; BLOCK]> {
    let xs: Vec<&[f64; BLOCK]> = x.iter().collect();
    let mut value = [0.0; BLOCK];
    let mut grad = vec![[0.0; BLOCK]; p.len()];
    m.eval_with_gradient_block(&xs, p, &mut value, &mut grad);
    let mut only = [0.0; BLOCK];
    m.eval_block(&xs, p, &mut only);
    assert!(
        only.iter().zip(&value).all(|(a, b)| same(*a, *b)),
        "{}: the value alone differs from the value with the gradient",
        m.name()
    );
    std::iter::once(value).chain(grad).collect()
}

/// 64 points around a sample `x`: lane 0 the sample, the others spread by up to ±30 %, and
/// a few lanes at zero, one and large values.
fn lanes_around(x: &[f64]) -> Vec<[f64; BLOCK]> {
    x.iter()
        .map(|&xk| {
            let mut b = [xk; BLOCK];
            for (i, v) in b.iter_mut().enumerate().skip(1) {
                *v = xk * (1.0 + 0.3 * ((i as f64 * 0.618).fract() - 0.5) * 2.0);
            }
            (b[60], b[61], b[62], b[63]) = (0.0, 1.0, -xk, 1e3 * xk);
            b
        })
        .collect()
}

fn assert_same_blocks(name: &str, a: &[[f64; BLOCK]], b: &[[f64; BLOCK]], what: &str) {
    for (o, (ra, rb)) in a.iter().zip(b).enumerate() {
        for i in 0..BLOCK {
            assert!(
                same(ra[i], rb[i]),
                "{name} ({what}): output {o} lane {i}: {:e} vs {:e}",
                ra[i],
                rb[i]
            );
        }
    }
}

#[test]
fn every_corpus_model_given_at_run_time_has_the_bits_of_its_macro_model() {
    let names = corpus::names();
    assert_eq!(names.len(), corpus::COUNT);
    for name in names {
        let (compiled, _) = corpus::lookup(name).expect("in the dispatch table");
        let runtime = corpus::runtime_model(name).expect("the source compiles");
        assert_eq!(
            compiled.hash(),
            runtime.hash(),
            "{name}: not the same model"
        );
        let samples = corpus::samples::SAMPLES.iter().filter(|s| s.0 == name);
        let mut seen = 0;
        for &(_, x, p) in samples {
            seen += 1;
            let lanes = lanes_around(x);
            let want = block_outputs(compiled, &lanes, p);
            for simd in SIMDS {
                let m = runtime.clone().with_simd(simd);
                let got = block_outputs(&m, &lanes, p);
                assert_same_blocks(name, &want, &got, &format!("{simd:?}"));
            }
            // Single points: the interpreter against the macro's per-point functions.
            let mut g1 = vec![0.0; p.len()];
            let mut g2 = vec![0.0; p.len()];
            let f1 = compiled.eval_with_gradient(x, p, &mut g1);
            let f2 = runtime.eval_with_gradient(x, p, &mut g2);
            assert!(same(f1, f2) && g1.iter().zip(&g2).all(|(a, b)| same(*a, *b)));
            assert!(same(compiled.eval(x, p), runtime.eval(x, p)));
        }
        assert!(seen > 0, "{name}: no samples");
    }
}

/// Every node of `ir`'s graph at one point, with the functions of the emitted block code:
/// the block `exp`, `ln`, `erf` and `erfc`, and Rust's `f64` methods (compiler-rt's `powi`) for the rest.
fn reference(ir: &ModelIr, x: &[f64], p: &[f64]) -> Vec<f64> {
    let unary = |op: UnaryOp, a: f64| match op {
        UnaryOp::Exp => block::exp(a),
        UnaryOp::Ln => block::ln(a),
        UnaryOp::Erf => block::erf(a),
        UnaryOp::Erfc => block::erfc(a),
        op => apply_unary(op, a),
    };
    let mut v: Vec<f64> = Vec::with_capacity(ir.graph.len());
    for node in ir.graph.nodes() {
        let mut args = [0.0; 3];
        for (a, c) in args.iter_mut().zip(node.children()) {
            *a = v[c.index()];
        }
        v.push(apply_node(*node, args, x, p, unary));
    }
    ir.outputs().iter().map(|o| v[o.index()]).collect()
}

/// Random expressions in `x` and the parameters `a`, `b`, `c`.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        (-3.0f64..3.0).prop_map(|v| format!("({v})")),
    ];
    leaf.prop_recursive(6, 48, 2, |e| {
        let unary = [
            "exp", "ln", "sqrt", "sin", "cos", "tanh", "atan", "abs", "cbrt", "sinh", "erf", "erfc",
        ];
        let binary = ["min", "max", "hypot", "atan2", "pow"];
        prop_oneof![
            (e.clone(), e.clone(), 0..4usize)
                .prop_map(|(l, r, o)| { format!("({l} {} {r})", ["+", "-", "*", "/"][o]) }),
            (e.clone(), 0..unary.len()).prop_map(move |(a, f)| format!("{}({a})", unary[f])),
            (e.clone(), e.clone(), 0..binary.len())
                .prop_map(move |(l, r, f)| format!("{}({l}, {r})", binary[f])),
            (e.clone(), -4i32..6).prop_map(|(a, n)| format!("({a}).powi({n})")),
            e.prop_map(|a| format!("(-{a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn block_tapes_of_random_expressions_compute_the_emitted_operations(
        src in expression(),
        p in prop::array::uniform3(-2.0f64..2.0),
        x0 in -4.0f64..4.0,
    ) {
        let ir = model_from_expr(&src, Some(&["a", "b", "c"]));
        prop_assume!(ir.is_ok());
        let ir = ir.unwrap();
        let mut x = [0.0; BLOCK];
        for (i, v) in x.iter_mut().enumerate() {
            *v = x0 + 0.125 * i as f64 - 4.0;
        }
        let want: Vec<Vec<f64>> = x.iter().map(|&xi| reference(&ir, &[xi], &p)).collect();
        let m = ExprModel::from_ir(ir);
        for simd in SIMDS {
            let got = block_outputs(&m.clone().with_simd(simd), &[x], &p);
            for (i, w) in want.iter().enumerate() {
                for (o, &wo) in w.iter().enumerate() {
                    prop_assert!(
                        same(got[o][i], wo),
                        "{src} at x = {}, {simd:?}: output {o}: {:e} vs {:e}",
                        x[i], got[o][i], wo
                    );
                }
            }
        }
    }
}

/// Models with the error functions (expression strings only) on block tapes: values and
/// gradients on every instruction set are the bits of the point-by-point evaluation with the
/// block functions, at arguments over the tails (|u| to 6 and past), zero, tiny, negative;
/// the values are the interpreter's (`libm::erf`) bit for bit.
#[test]
fn erf_models_on_block_tapes_have_the_bits_of_the_interpreter() {
    let models = [
        "a / 2 * (1 + erf((x - mu) / (sqrt(2) * s))) + c",
        "a * erf(x) + erf(mu * x) * s + c",
        "erf(a * exp(-x * x / s)) + c * erf(erf(mu * x))",
        "a * erfc(x / s) + erfc(-mu * x * x) - c * erfc(erf(x))",
    ];
    let mut x = [0.0; BLOCK];
    for (i, v) in x.iter_mut().enumerate() {
        *v = -7.0 + 14.0 * i as f64 / (BLOCK - 1) as f64;
    }
    (x[0], x[1], x[2], x[3], x[4]) = (0.0, -0.0, 1e-300, -3e-9, 5e-324);
    let ps = [
        [2.5, 1.2, 0.35, -0.4],
        [1.0, 0.0, 1.0, 0.0],
        [-3.0, -1.5, 2.0, 0.7],
    ];
    for src in models {
        let ir = model_from_expr(src, Some(&["a", "mu", "s", "c"])).unwrap();
        let want_points: Vec<Vec<f64>> = ps
            .iter()
            .map(|p| x.iter().flat_map(|&xi| reference(&ir, &[xi], p)).collect())
            .collect();
        let m = ExprModel::from_ir(ir);
        for (p, want) in ps.iter().zip(&want_points) {
            let n_out = want.len() / BLOCK;
            for simd in SIMDS {
                let got = block_outputs(&m.clone().with_simd(simd), &[x], p);
                for i in 0..BLOCK {
                    for o in 0..n_out {
                        assert!(
                            same(got[o][i], want[i * n_out + o]),
                            "{src} at x = {:e}, p = {p:?}, {simd:?}: output {o}: {:e} vs {:e}",
                            x[i],
                            got[o][i],
                            want[i * n_out + o]
                        );
                    }
                    // Without exp in the value, the interpreter's own bits (the interpreter
                    // calls the system exp, the block code its own).
                    if !src.contains("exp") {
                        assert!(same(got[0][i], m.eval(&[x[i]], p)), "{src} at {:e}", x[i]);
                    }
                }
            }
        }
    }
}

/// Whole CPU passes (cost, JᵀJ, Jᵀr) and residuals of `compiled` and of `runtime` at 1000
/// points around sample `(x, p)`, unweighted and weighted, linear and robust, on every
/// instruction set: bit for bit.
fn check_passes<M: Model>(name: &str, compiled: M, runtime: &ExprModel, x: &[f64], p: &[f64]) {
    use nlsq::backend::CpuBackend;
    use nlsq::{FitData, Loss, NanPolicy};
    // 1000 points (15 blocks and a partial one) around the sample.
    let cols: Vec<Vec<f64>> = lanes_around(x)
        .iter()
        .map(|b| {
            (0..1000)
                .map(|i| b[i % 60] * (1.0 + 1e-4 * i as f64))
                .collect()
        })
        .collect();
    let y: Vec<f64> = (0..1000)
        .map(|i| {
            let xi: Vec<f64> = cols.iter().map(|c| c[i]).collect();
            compiled.eval(&xi, p) * (1.0 + 0.01 * ((i % 5) as f64 - 2.0))
        })
        .collect();
    let sigma: Vec<f64> = (0..1000).map(|i| 1.0 + (i % 3) as f64).collect();
    let xs: Vec<&[f64]> = cols.iter().map(|c| &c[..]).collect();
    for sigma in [None, Some(&sigma[..])] {
        let data =
            FitData::new(xs.clone(), &y, sigma, NanPolicy::Raise, xs.len()).expect("finite data");
        for loss in [Loss::Linear, Loss::SoftL1] {
            for simd in SIMDS {
                let a = CpuBackend::new(&compiled, &data, loss, 1.0).with_simd(simd);
                let rt = runtime.clone().with_simd(simd);
                let b = CpuBackend::new(&rt, &data, loss, 1.0).with_simd(simd);
                let (ra, rb) = (a.row(p), b.row(p));
                assert!(
                    ra.iter().zip(&rb).all(|(u, v)| same(*u, *v)),
                    "{name}, {loss:?}, {simd:?}: pass {ra:?} vs {rb:?}"
                );
                let (ra, rb) = (a.residuals(p), b.residuals(p));
                assert!(ra.iter().zip(&rb).all(|(u, v)| same(*u, *v)), "{name}");
            }
        }
    }
}

fn sample(name: &str) -> (&'static [f64], &'static [f64]) {
    let s = corpus::samples::SAMPLES
        .iter()
        .find(|s| s.0 == name)
        .expect("a sample");
    (s.1, s.2)
}

/// Every corpus model, its macro model called through `dyn Model`.
#[test]
fn passes_and_residuals_of_run_time_models_have_the_bits_of_macro_models() {
    for name in corpus::names() {
        let (compiled, _) = corpus::lookup(name).expect("in the dispatch table");
        let runtime = corpus::runtime_model(name).expect("the source compiles");
        let (x, p) = sample(name);
        check_passes(name, compiled, &runtime, x, p);
    }
}

/// Macro models as concrete types, so that their block code is inlined into, and compiled for,
/// the pass of each instruction set: a branch, powers, arrays past eight parameters, two
/// predictors.
#[test]
fn passes_have_the_bits_of_macro_models_compiled_into_the_pass() {
    use corpus::models;
    macro_rules! check {
        ($($name:literal => $model:expr),* $(,)?) => {$(
            let (x, p) = sample($name);
            let runtime = corpus::runtime_model($name).expect("the source compiles");
            check_passes($name, $model, &runtime, x, p);
        )*};
    }
    check!(
        "hahn1" => models::Hahn1,
        "gauss3" => models::Gauss3,
        "broken_power_law" => models::BrokenPowerLaw,
        "linear_plateau" => models::LinearPlateau,
        "multi_gaussian" => models::MultiGaussian,
        "gaussian_2d" => models::Gaussian2d,
        "log_normal" => models::LogNormal,
        "planck" => models::Planck,
    );
}

/// The run-time twins of the test models the benches compare against are the same models.
#[test]
fn test_models_given_at_run_time_are_the_macro_models() {
    use nlsq_testkit::models::{Decay, Gaussian, runtime_model};
    let same = |name: &str, h| runtime_model(name).map(|m| m.hash()) == Some(h);
    assert!(same("decay", Decay.hash()));
    assert!(same("gaussian", Gaussian.hash()));
    assert!(runtime_model("lorentzian").is_none());
}

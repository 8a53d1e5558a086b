//! One CPU pass (cost, JᵀJ, Jᵀr over all points) per instruction set, in ns per point, one
//! thread: what the vector paths of `backend::cpu_block` buy over the baseline, and how a model
//! given at run time (`ExprModel`, run on block tapes) compares with the `#[model]` of the same
//! source.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench cpu_pass` — the best of many repetitions, so that
//! other load on the machine shows as little as possible.

use nlsq::backend::{CpuBackend, Simd};
use nlsq::kernels_gen::parse::model_from_source;
use nlsq::{ExprModel, FitData, Loss, Model, NanPolicy};
use nlsq_testkit::corpus;
use nlsq_testkit::models::{Decay, Gaussian};
use std::hint::black_box;
use std::time::Instant;

/// Best time of one pass, in ns per point.
fn ns_per_point<M: Model>(m: M, data: &FitData<'_>, p: &[f64], loss: Loss, simd: Simd) -> f64 {
    let b = CpuBackend::new(m, data, loss, 1.0).with_simd(simd);
    let reps = (20_000_000 / data.len()).clamp(20, 2000);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        black_box(b.row(black_box(p)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e9 / data.len() as f64
}

/// A case: the `#[model]`, the same source as a run-time model, parameters, and how to make
/// the predictors of `n` points.
struct Case {
    name: &'static str,
    compiled: &'static dyn Model,
    runtime: ExprModel,
    p: Vec<f64>,
    loss: Loss,
    x: fn(usize) -> Vec<Vec<f64>>,
}

fn line(n: usize) -> Vec<Vec<f64>> {
    vec![(0..n).map(|i| 5.0 * i as f64 / n as f64).collect()]
}

fn positive(n: usize) -> Vec<Vec<f64>> {
    vec![(0..n).map(|i| 1.0 + 99.0 * i as f64 / n as f64).collect()]
}

fn runtime(src: &str) -> ExprModel {
    ExprModel::from_ir(model_from_source(src).expect("the source is a model"))
}

fn corpus_case(name: &'static str, p: &[f64], x: fn(usize) -> Vec<Vec<f64>>) -> Case {
    let (compiled, _) = corpus::lookup(name).expect("a corpus model");
    Case {
        name,
        compiled,
        runtime: corpus::runtime_model(name).expect("a corpus model"),
        p: p.to_vec(),
        loss: Loss::Linear,
        x,
    }
}

fn cases() -> Vec<Case> {
    let decay = "fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 { a * (-b * x).exp() + c }";
    let gaussian = "fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 { let d = x - mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() }";
    let p3 = vec![2.0, 1.0, 0.3];
    vec![
        Case {
            name: "decay",
            compiled: &Decay,
            runtime: runtime(decay),
            p: p3.clone(),
            loss: Loss::Linear,
            x: line,
        },
        Case {
            name: "gaussian",
            compiled: &Gaussian,
            runtime: runtime(gaussian),
            p: p3.clone(),
            loss: Loss::Linear,
            x: line,
        },
        Case {
            name: "decay, huber loss",
            compiled: &Decay,
            runtime: runtime(decay),
            p: p3,
            loss: Loss::Huber,
            x: line,
        },
        // Powers (powi) in a rational function, 7 parameters.
        corpus_case(
            "hahn1",
            &[1.08, -0.12, 4.1e-3, -1.4e-6, -5.8e-3, 1.5e-4, -1.2e-7],
            positive,
        ),
        // Branches (`if`), powf on both sides.
        corpus_case("broken_power_law", &[2.0, 40.0, 0.5, 1.5], positive),
        // Array parameters summed in a loop: 10 parameters, past the fixed-size fast path.
        corpus_case(
            "multi_gaussian",
            &[1.0, 0.5, 0.8, 1.0, 2.5, 4.0, 0.3, 0.5, 0.4, 0.1],
            line,
        ),
    ]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cases = cases();
    for c in &cases {
        assert_eq!(
            c.compiled.hash(),
            c.runtime.hash(),
            "{}: the same model",
            c.name
        );
    }
    println!("processor: {:?}", Simd::Auto.resolve());
    println!(
        "| N | pass | baseline #[model] | baseline ExprModel | AVX2 #[model] | AVX2 ExprModel | AVX2 ratio | AVX-512 #[model] | AVX-512 ExprModel | AVX-512 ratio |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [10_000usize, 1_000_000] {
        for c in &cases {
            let x = (c.x)(n);
            let y: Vec<f64> = (0..n)
                .map(|i| {
                    let xi: Vec<f64> = x.iter().map(|col| col[i]).collect();
                    c.compiled.eval(&xi, &c.p) * (1.0 + 0.01 * ((i % 7) as f64 - 3.0))
                })
                .collect();
            let cols: Vec<&[f64]> = x.iter().map(|c| &c[..]).collect();
            let data = FitData::new(cols, &y, None, NanPolicy::Raise, x.len()).expect("valid");
            let mut cells = Vec::new();
            for s in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
                if s.resolve() != s {
                    cells.extend(["n/a".to_string(), "n/a".to_string()]);
                    if s != Simd::Baseline {
                        cells.push("n/a".to_string());
                    }
                    continue;
                }
                let a = ns_per_point(c.compiled, &data, &c.p, c.loss, s);
                let rt = c.runtime.clone().with_simd(s);
                let b = ns_per_point(&rt, &data, &c.p, c.loss, s);
                cells.extend([format!("{a:.2}"), format!("{b:.2}")]);
                if s != Simd::Baseline {
                    cells.push(format!("{:.2}", b / a));
                }
            }
            println!("| {n:.0e} | {} | {} |", c.name, cells.join(" | "));
        }
    }
}

//! One CPU pass (cost, JᵀJ, Jᵀr over all points) per instruction set, in ns per point, one
//! thread: what the vector paths of `backend::cpu_block` buy over the baseline, and how a model
//! given at run time (`ExprModel`, run on block tapes) compares with the `#[model]` of the same
//! source.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench cpu_pass` — the best of many repetitions, so that
//! other load on the machine shows as little as possible, the two models of a row timed in
//! turn. `NLSQ_BENCH_ONLY=<pass>` runs one row's pass only (for profiling).

use nlsq::backend::{CpuBackend, Simd};
use nlsq::{ExprModel, FitData, Loss, Model, NanPolicy};
use nlsq_testkit::corpus;
use nlsq_testkit::models::{self, Decay, Gaussian};
use std::hint::black_box;
use std::time::Instant;

/// Best times of one pass of `a` and of `b`, in ns per point: the two passes in turn within
/// each repetition, so that a change in the machine's speed falls on both.
fn ns_per_point<A: Model, B: Model>(
    a: A,
    b: B,
    data: &FitData<'_>,
    p: &[f64],
    loss: Loss,
    simd: Simd,
) -> (f64, f64) {
    let a = CpuBackend::new(a, data, loss, 1.0).with_simd(simd);
    let b = CpuBackend::new(b, data, loss, 1.0).with_simd(simd);
    let reps = (40_000_000 / data.len()).clamp(50, 2000);
    let (mut best_a, mut best_b) = (f64::MAX, f64::MAX);
    let time = |backend: &dyn Fn() -> Vec<f64>| {
        let t = Instant::now();
        black_box(backend());
        t.elapsed().as_secs_f64()
    };
    for _ in 0..reps {
        best_a = best_a.min(time(&|| a.row(black_box(p))));
        best_b = best_b.min(time(&|| b.row(black_box(p))));
    }
    let per_point = |t: f64| t * 1e9 / data.len() as f64;
    (per_point(best_a), per_point(best_b))
}

fn line(n: usize) -> Vec<Vec<f64>> {
    vec![(0..n).map(|i| 5.0 * i as f64 / n as f64).collect()]
}

fn positive(n: usize) -> Vec<Vec<f64>> {
    vec![(0..n).map(|i| 1.0 + 99.0 * i as f64 / n as f64).collect()]
}

/// One table row: the `#[model]` `compiled` (a concrete type, so that its block code is
/// compiled into each instruction set's pass) and `runtime`, the same source given at run time.
fn row<M: Model + Copy>(
    n: usize,
    name: &str,
    compiled: M,
    runtime: &ExprModel,
    p: &[f64],
    loss: Loss,
    x: fn(usize) -> Vec<Vec<f64>>,
) {
    assert_eq!(compiled.hash(), runtime.hash(), "{name}: the same model");
    if std::env::var("NLSQ_BENCH_ONLY").is_ok_and(|only| only != name) {
        return;
    }
    let x = x(n);
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let xi: Vec<f64> = x.iter().map(|col| col[i]).collect();
            compiled.eval(&xi, p) * (1.0 + 0.01 * ((i % 7) as f64 - 3.0))
        })
        .collect();
    let cols: Vec<&[f64]> = x.iter().map(|c| &c[..]).collect();
    let data = FitData::new(cols, &y, None, NanPolicy::Raise, x.len()).expect("valid");
    let mut cells = Vec::new();
    for s in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
        if s.resolve() != s {
            cells.extend(["n/a", "n/a", "n/a"].map(String::from));
            continue;
        }
        let rt = runtime.clone().with_simd(s);
        let (a, b) = ns_per_point(compiled, &rt, &data, p, loss, s);
        cells.extend([
            format!("{a:.2}"),
            format!("{b:.2}"),
            format!("{:.2}", b / a),
        ]);
    }
    println!("| {n:.0e} | {name} | {} |", cells.join(" | "));
}

fn main() {
    use nlsq_testkit::corpus::models::{BrokenPowerLaw, Hahn1, MultiGaussian};
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let decay = models::runtime_model("decay").expect("a test model");
    let gaussian = models::runtime_model("gaussian").expect("a test model");
    let corpus_model = |name| corpus::runtime_model(name).expect("a corpus model");
    let (hahn1, broken, multi) = (
        corpus_model("hahn1"),
        corpus_model("broken_power_law"),
        corpus_model("multi_gaussian"),
    );
    let p3 = [2.0, 1.0, 0.3];
    let p_hahn1 = [1.08, -0.12, 4.1e-3, -1.4e-6, -5.8e-3, 1.5e-4, -1.2e-7];
    let p_broken = [2.0, 40.0, 0.5, 1.5];
    let p_multi = [1.0, 0.5, 0.8, 1.0, 2.5, 4.0, 0.3, 0.5, 0.4, 0.1];
    println!("processor: {:?}", Simd::Auto.resolve());
    println!(
        "| N | pass | baseline #[model] | baseline ExprModel | baseline ratio | AVX2 #[model] | AVX2 ExprModel | AVX2 ratio | AVX-512 #[model] | AVX-512 ExprModel | AVX-512 ratio |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [10_000usize, 1_000_000] {
        row(n, "decay", Decay, &decay, &p3, Loss::Linear, line);
        row(n, "gaussian", Gaussian, &gaussian, &p3, Loss::Linear, line);
        row(
            n,
            "decay, huber loss",
            Decay,
            &decay,
            &p3,
            Loss::Huber,
            line,
        );
        // Powers (powi) in a rational function, 7 parameters.
        row(n, "hahn1", Hahn1, &hahn1, &p_hahn1, Loss::Linear, positive);
        // Branches (`if`), powf on both sides.
        row(
            n,
            "broken_power_law",
            BrokenPowerLaw,
            &broken,
            &p_broken,
            Loss::Linear,
            positive,
        );
        // Array parameters summed in a loop: 10 parameters, past the fixed-size fast path.
        row(
            n,
            "multi_gaussian",
            MultiGaussian,
            &multi,
            &p_multi,
            Loss::Linear,
            line,
        );
    }
}

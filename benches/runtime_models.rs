//! Models given at run time against the `#[model]` of the same source, side by side in one
//! run, one thread: whole CPU fits, batch fits of Gpufit's standard case, and the cost of
//! compiling a model's block tapes. Every run-time fit must give the `#[model]`'s bits; the
//! bench stops if one does not.
//!
//! `cargo bench --bench runtime_models` (`NLSQ_BENCH_FITS` sets the batch size, default 1e5;
//! `NLSQ_BENCH_ONLY=<model>` runs that model's whole fits only, then the rest).

use nlsq::batch::{BatchFit, Estimator};
use nlsq::block::ModelTapes;
use nlsq::kernels_gen::parse::{model_from_expr, model_from_source};
use nlsq::{Backend, CurveFit, ExprModel, Method, Model};
use nlsq_testkit::corpus;
use nlsq_testkit::gpufit::{Gauss2d, MAX_ITERATIONS, TOLERANCE, grid, problems};
use nlsq_testkit::models::{self, Decay, Gaussian};
use nlsq_testkit::streaming::noise;
use std::hint::black_box;
use std::time::Instant;

/// Best of `reps` runs of `f`, in seconds, with its last result.
fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("at least one run"))
}

/// Times of `a` and `b` over `reps` rounds, the two run in turn within each round (so
/// that a change in the machine's load falls on both).
struct Pair<T> {
    /// Best time of `a` and its last result.
    a: (f64, T),
    /// Best time of `b` and its last result.
    b: (f64, T),
    /// `b`'s time over `a`'s, round by round, sorted.
    ratios: Vec<f64>,
}

impl<T> Pair<T> {
    /// The ratios' median and quartiles, as `median (q1–q3)`.
    fn spread(&self) -> String {
        let r = &self.ratios;
        let q = |f: f64| r[((r.len() - 1) as f64 * f).round() as usize];
        format!("{:.2} ({:.2}–{:.2})", q(0.5), q(0.25), q(0.75))
    }
}

fn best_pair<T>(reps: usize, mut a: impl FnMut() -> T, mut b: impl FnMut() -> T) -> Pair<T> {
    let (mut ta, mut tb) = (f64::INFINITY, f64::INFINITY);
    let (mut ra, mut rb) = (None, None);
    let mut ratios = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (t1, r) = best(1, &mut a);
        (ta, ra) = (ta.min(t1), Some(r));
        let (t2, r) = best(1, &mut b);
        (tb, rb) = (tb.min(t2), Some(r));
        ratios.push(t2 / t1);
    }
    ratios.sort_by(f64::total_cmp);
    Pair {
        a: (ta, ra.expect("ran")),
        b: (tb, rb.expect("ran")),
        ratios,
    }
}

fn line(n: usize) -> Vec<f64> {
    (0..n).map(|i| 5.0 * i as f64 / n as f64).collect()
}

fn positive(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 + 99.0 * i as f64 / n as f64).collect()
}

fn runtime(src: &str) -> ExprModel {
    ExprModel::from_ir(model_from_source(src).expect("a model"))
}

fn fit<M: Model>(m: M, p0: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    CurveFit::new(m)
        .p0(p0.to_vec())
        .method(Method::Lm)
        .fit(x, y)
        .expect("a valid fit")
        .popt
        .as_slice()
        .to_vec()
}

/// One row: whole fits of the `#[model]` `compiled` (a concrete type, so that its block code
/// is compiled into the vector passes) and of `runtime`, the same source given at run time,
/// on data made by the model at `truth` with 2 % noise, from `p0`.
fn whole_fit_row<M: Model + Copy>(
    n: usize,
    name: &str,
    compiled: M,
    runtime: &ExprModel,
    truth: &[f64],
    p0: &[f64],
    x: fn(usize) -> Vec<f64>,
) {
    assert_eq!(compiled.hash(), runtime.hash(), "{name}");
    if std::env::var("NLSQ_BENCH_ONLY").is_ok_and(|only| only != name) {
        return;
    }
    let e = noise(n, 12345);
    let x = x(n);
    let y: Vec<f64> = x
        .iter()
        .zip(&e)
        .map(|(&xi, ei)| compiled.eval(&[xi], truth) * (1.0 + 0.02 * ei))
        .collect();
    let reps = if n >= 1_000_000 { 21 } else { 201 };
    let pair = best_pair(
        reps,
        || fit(compiled, p0, &x, &y),
        || fit(runtime, p0, &x, &y),
    );
    let ((ta, pa), (tb, pb)) = (&pair.a, &pair.b);
    let same = pa.iter().zip(pb).all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same, "{name}: {pa:?} vs {pb:?}");
    println!(
        "| {n:.0e} | {name} | {:.3} | {:.3} | {:.2} | {} |",
        ta * 1e3,
        tb * 1e3,
        tb / ta,
        pair.spread()
    );
}

fn whole_fits() {
    use corpus::models::{BrokenPowerLaw, Hahn1, MultiGaussian};
    let decay = models::runtime_model("decay").expect("a test model");
    let gaussian = models::runtime_model("gaussian").expect("a test model");
    let corpus_model = |name| corpus::runtime_model(name).expect("a corpus model");
    let (hahn1, broken, multi) = (
        corpus_model("hahn1"),
        corpus_model("broken_power_law"),
        corpus_model("multi_gaussian"),
    );
    println!(
        "Whole fits (LM, default tolerances), one thread, 201 (N = 1e4) or 21 (1e6) rounds, the two fits in turn in each: best times, their ratio, and the median (quartiles) of the rounds' ratios:"
    );
    println!(
        "| N | model | #[model] best (ms) | ExprModel best (ms) | ratio of bests | ratio per round, median (q1–q3) |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for n in [10_000usize, 1_000_000] {
        whole_fit_row(
            n,
            "decay",
            Decay,
            &decay,
            &[2.5, 1.3, 0.4],
            &[1.0, 1.0, 0.0],
            line,
        );
        whole_fit_row(
            n,
            "gaussian",
            Gaussian,
            &gaussian,
            &[3.0, 2.4, 0.9],
            &[2.0, 2.0, 1.2],
            line,
        );
        whole_fit_row(
            n,
            "hahn1",
            Hahn1,
            &hahn1,
            &[1.08, -0.12, 4.1e-3, -1.4e-6, -5.8e-3, 1.5e-4, -1.2e-7],
            &[1.0, -0.1, 5e-3, -1e-6, -5e-3, 1e-4, -1e-7],
            positive,
        );
        whole_fit_row(
            n,
            "broken_power_law",
            BrokenPowerLaw,
            &broken,
            &[2.0, 40.0, 0.5, 1.5],
            &[1.8, 38.0, 0.45, 1.4],
            positive,
        );
        whole_fit_row(
            n,
            "multi_gaussian",
            MultiGaussian,
            &multi,
            &[1.0, 0.5, 0.8, 1.0, 2.5, 4.0, 0.3, 0.5, 0.4, 0.1],
            &[0.9, 0.6, 0.7, 1.1, 2.4, 4.1, 0.35, 0.45, 0.45, 0.12],
            line,
        );
    }
}

fn batch<M: Model>(m: M, est: Estimator, y: &[f64], x: &[f64], p0: &[f64]) -> Vec<f64> {
    BatchFit::new(m)
        .data(y)
        .equal_length(25)
        .x_shared(x)
        .p0(p0)
        .estimator(est)
        .tolerance(TOLERANCE)
        .max_iterations(MAX_ITERATIONS)
        .backend(Backend::Cpu)
        .fit()
        .expect("a valid batch")
        .params
}

fn batch_fits() {
    let n_fits: usize = std::env::var("NLSQ_BENCH_FITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let x = grid();
    let (y, p0) = problems(n_fits, 42);
    let runtime = runtime(
        "fn gauss2d(x: [f64; 2], amp: f64, x0: f64, y0: f64, s: f64, bg: f64) -> f64 { let dx = x[0] - x0; let dy = x[1] - y0; amp * (-(dx * dx + dy * dy) / (2.0 * s * s)).exp() + bg }",
    );
    assert_eq!(Gauss2d.hash(), runtime.hash());
    println!();
    println!(
        "Batch fits, Gpufit's standard case ({n_fits:.0e} fits, 2-D Gaussian 5x5), one thread, best of 5 rounds:"
    );
    println!("| estimator | #[model] (Mfits/s) | ExprModel (Mfits/s) | ratio of times |");
    println!("|---|---:|---:|---:|");
    for est in [Estimator::Lse, Estimator::PoissonMle] {
        let pair = best_pair(
            5,
            || batch(Gauss2d, est, &y, &x, &p0),
            || batch(&runtime, est, &y, &x, &p0),
        );
        let ((ta, pa), (tb, pb)) = (pair.a, pair.b);
        let same = pa.iter().zip(&pb).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(
            same,
            "batch {est:?}: the run-time model's parameters differ"
        );
        let rate = |t: f64| n_fits as f64 / t / 1e6;
        println!(
            "| {est:?} | {:.3} | {:.3} | {:.2} |",
            rate(ta),
            rate(tb),
            tb / ta
        );
    }
}

/// `sum_{i < terms} a_i exp(-b_i x)`, for compile-time figures.
fn sum_of_decays(terms: usize) -> String {
    (0..terms)
        .map(|i| format!("a{i} * exp(-b{i} * x)"))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn compile_times() {
    println!();
    println!("Compiling the block tapes (value, and value with gradient), best of 200:");
    println!("| model | operations | tape build (µs) | parse and kernels, for scale (µs) |");
    println!("|---|---:|---:|---:|");
    for terms in [4usize, 12, 25] {
        let src = sum_of_decays(terms);
        let ir = model_from_expr(&src, None).expect("a model");
        let ops = ir.op_count();
        let (t_tape, _) = best(200, || ModelTapes::new(&ir));
        let (t_all, _) = best(20, || ExprModel::parse(&src).expect("a model"));
        println!(
            "| {terms} decays | {ops} | {:.1} | {:.1} |",
            t_tape * 1e6,
            t_all * 1e6
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    println!("processor: {:?}", nlsq::block::Simd::Auto.resolve());
    pool.install(|| {
        whole_fits();
        batch_fits();
        compile_times();
    });
}

//! The K-vector pass of multi-start searches against K single passes on the CPU: K = 1, 8, 64
//! parameter vectors, N = 1e4 and 1e5 points, the decay and the Gaussian `#[model]`s, full
//! passes (cost, JᵀJ, Jᵀr: what lockstep solves use; on the CPU the screening costs are the
//! same passes' costs).
//!
//! `cargo bench --bench multistart_pass` prints first a side-by-side table: each cell is the
//! best of many repetitions of the K-pass and of K single passes timed in turn within each
//! repetition, so that a change in the machine's speed falls on both (the ratio is the number
//! to read on a noisy machine); then criterion's own measurements of the same work.
//! `NLSQ_BENCH_TABLE_ONLY=1` skips criterion. Built with `--features cuda` on a machine with a
//! CUDA device, the table also has the CUDA K-vector pass (`nlsq_pass_k`) against K single
//! CUDA passes at N = 1e6 and 1e7; built with `--features wgpu` where an adapter is present,
//! the wgpu K-vector pass (the same kernel in WGSL) in f32.

use criterion::{BenchmarkId, Criterion};
use nlsq::backend::CpuBackend;
use nlsq::solve::Objective;
use nlsq::{FitData, Loss, Model, NanPolicy};
use nlsq_testkit::models::{Decay, Gaussian};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `x` and noisy `y` for `model` at `p` over `n` points on `[lo, hi)`.
fn data<M: Model + ?Sized>(
    model: &M,
    n: usize,
    lo: f64,
    hi: f64,
    p: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / n as f64)
        .collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| model.eval(&[*x], p) * (1.0 + 0.01 * ((i % 7) as f64 - 3.0)))
        .collect();
    (x, y)
}

/// `k` parameter vectors around `p` (spread by a few percent, as starts late in a search).
fn vectors(p: &[f64], k: usize) -> Vec<Vec<f64>> {
    (0..k)
        .map(|i| {
            p.iter()
                .enumerate()
                .map(|(j, v)| v * (1.0 + 0.03 * (((i * 7 + j * 3) % 11) as f64 - 5.0) / 5.0))
                .collect()
        })
        .collect()
}

fn k_pass(obj: &mut dyn Objective, ps: &[&[f64]]) {
    black_box(obj.passes(black_box(ps)).unwrap());
}

fn singles(obj: &mut dyn Objective, ps: &[&[f64]]) {
    for p in ps {
        black_box(obj.pass(black_box(p)).unwrap());
    }
}

/// Best seconds of the K-pass and of K single passes, timed in turn.
fn side_by_side(cpu: &mut dyn Objective, ps: &[&[f64]], points: usize) -> (f64, f64) {
    let work = ps.len() * points;
    let reps = (200_000_000 / work.max(1)).clamp(5, 400);
    let (mut best_k, mut best_1) = (f64::MAX, f64::MAX);
    for _ in 0..reps {
        let t = Instant::now();
        k_pass(cpu, ps);
        best_k = best_k.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        singles(cpu, ps);
        best_1 = best_1.min(t.elapsed().as_secs_f64());
    }
    (best_k, best_1)
}

/// A side-by-side timing of one case: `(K-pass, K single passes)` in seconds.
type Timer<'t> = &'t mut dyn FnMut(&[&[f64]]) -> (f64, f64);

/// Runs `f` on the backend of each (model, N) case.
fn each_case(mut f: impl FnMut(&str, usize, Timer<'_>)) {
    let decay_p = [2.5, 1.3, 0.4];
    let gauss_p = [3.0, 0.4, 0.9];
    for n in [10_000, 100_000] {
        let (x, y) = data(&Decay, n, 0.0, 5.0, &decay_p);
        let d = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let mut cpu = CpuBackend::new(Decay, &d, Loss::Linear, 1.0);
        f("decay", n, &mut |ps| side_by_side(&mut cpu, ps, n));
        let (x, y) = data(&Gaussian, n, -5.0, 5.0, &gauss_p);
        let d = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let mut cpu = CpuBackend::new(Gaussian, &d, Loss::Linear, 1.0);
        f("gaussian", n, &mut |ps| side_by_side(&mut cpu, ps, n));
    }
    #[cfg(feature = "cuda")]
    cuda_cases(&mut f);
    #[cfg(feature = "wgpu")]
    wgpu_cases(&mut f);
}

/// A device case: its label, the model, the range of x and the parameters of the data.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
type Case<'m> = (&'m str, &'m dyn Model, f64, f64, [f64; 3]);

/// The decay and Gaussian cases on data `upload` puts on a device, at each of `sizes`, the
/// labels suffixed by `device`.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn device_cases<D: nlsq::backend::ResidentData>(
    device: &str,
    sizes: &[usize],
    upload: impl Fn(&FitData<'_>) -> D,
    f: &mut impl FnMut(&str, usize, Timer<'_>),
) {
    for &n in sizes {
        let cases: [Case<'_>; 2] = [
            ("decay", &Decay, 0.0, 5.0, [2.5, 1.3, 0.4]),
            ("gaussian", &Gaussian, -5.0, 5.0, [3.0, 0.4, 0.9]),
        ];
        for (name, model, lo, hi, p) in cases {
            let (x, y) = data(model, n, lo, hi, &p);
            let d = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
            let dev = upload(&d);
            let mut obj = dev.objective(model, Loss::Linear, 1.0).unwrap();
            let label = format!("{name} ({device})");
            f(&label, n, &mut |ps| side_by_side(obj.as_mut(), ps, n));
        }
    }
}

/// The cases on the CUDA device, where one is present (`--features cuda`), at sizes where a
/// pass is bound by reading the data: N = 1e6 and 1e7, f64.
#[cfg(feature = "cuda")]
fn cuda_cases(f: &mut impl FnMut(&str, usize, Timer<'_>)) {
    use nlsq::backend::cuda::{DeviceData, Gpu};
    let Ok(gpu) = Gpu::shared() else {
        println!("(no CUDA device: the CUDA rows are left out)");
        return;
    };
    let upload = |d: &FitData<'_>| DeviceData::upload(&gpu, d, nlsq::Precision::F64).unwrap();
    device_cases("cuda", &[1_000_000, 10_000_000], upload, f);
}

/// The cases on the wgpu adapter, where one is present (`--features wgpu`), f32 (what every
/// adapter runs): N = 1e5 and 1e6 on a software adapter (lavapipe), 1e6 and 1e7 on a GPU.
#[cfg(feature = "wgpu")]
fn wgpu_cases(f: &mut impl FnMut(&str, usize, Timer<'_>)) {
    use nlsq::backend::wgpu::{DeviceData, Gpu};
    let gpu = match Gpu::shared() {
        Ok(gpu) => gpu,
        Err(e) => {
            println!("(no wgpu adapter: the wgpu rows are left out: {e})");
            return;
        }
    };
    println!("wgpu adapter: {}", gpu.describe());
    let sizes: &[usize] = if gpu.is_software() {
        &[100_000, 1_000_000]
    } else {
        &[1_000_000, 10_000_000]
    };
    let upload = |d: &FitData<'_>| DeviceData::upload(&gpu, d, nlsq::Precision::F32).unwrap();
    device_cases("wgpu f32", sizes, upload, f);
}

fn table() {
    println!(
        "threads: {}; times are the best of repetitions, µs per call",
        rayon::current_num_threads()
    );
    println!(
        "| model | N | K | K-vector pass (µs) | K single passes (µs) | ratio | per vector (µs) |"
    );
    println!("|---|---|---|---|---|---|---|");
    each_case(|model, n, run| {
        let p = if model.starts_with("decay") {
            [2.5, 1.3, 0.4]
        } else {
            [3.0, 0.4, 0.9]
        };
        for k in [1, 8, 64] {
            let ps = vectors(&p, k);
            let views: Vec<&[f64]> = ps.iter().map(|p| p.as_slice()).collect();
            let (tk, t1) = run(&views);
            println!(
                "| {model} | {n:.0e} | {k} | {:.1} | {:.1} | {:.2} | {:.2} |",
                tk * 1e6,
                t1 * 1e6,
                tk / t1,
                tk * 1e6 / k as f64
            );
        }
    });
}

fn criterion_runs(c: &mut Criterion) {
    let decay_p = [2.5, 1.3, 0.4];
    for n in [10_000, 100_000] {
        let (x, y) = data(&Decay, n, 0.0, 5.0, &decay_p);
        let d = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let mut cpu = CpuBackend::new(Decay, &d, Loss::Linear, 1.0);
        let mut group = c.benchmark_group(format!("multistart_pass_decay_n{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for k in [1, 8, 64] {
            let ps = vectors(&decay_p, k);
            let views: Vec<&[f64]> = ps.iter().map(|p| p.as_slice()).collect();
            group.bench_function(BenchmarkId::new("k_pass", k), |b| {
                b.iter(|| k_pass(&mut cpu, &views))
            });
            group.bench_function(BenchmarkId::new("k_single_passes", k), |b| {
                b.iter(|| singles(&mut cpu, &views))
            });
        }
        group.finish();
    }
}

fn main() {
    table();
    if std::env::var("NLSQ_BENCH_TABLE_ONLY").is_err() {
        let mut c = Criterion::default().configure_from_args();
        criterion_runs(&mut c);
        c.final_summary();
    }
}

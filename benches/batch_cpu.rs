//! Batch fitting on the CPU, Gpufit's standard case (nlsq-testkit/src/gpufit.rs): fits per
//! second on one thread and on all of them, least squares and Poisson MLE. Plain harness
//! (`cargo bench --bench batch_cpu`); `NLSQ_BENCH_FITS` sets the number of fits (default 1e6).

use nlsq::Backend;
use nlsq::batch::{BatchFit, Estimator, FitState};
use nlsq_testkit::gpufit::{Gauss2d, MAX_ITERATIONS, TOLERANCE, grid, problems};
use std::time::Instant;

fn run(threads: usize, n_fits: usize, estimator: Estimator, y: &[f64], p0: &[f64], x: &[f64]) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let r = pool.install(|| {
            BatchFit::new(Gauss2d)
                .data(y)
                .equal_length(25)
                .x_shared(x)
                .p0(p0)
                .estimator(estimator)
                .tolerance(TOLERANCE)
                .max_iterations(MAX_ITERATIONS)
                .backend(Backend::Cpu)
                .fit()
                .expect("valid batch")
        });
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    let r = last.expect("ran");
    let mean_iter = r.iterations.iter().map(|&i| f64::from(i)).sum::<f64>() / n_fits as f64;
    println!(
        "| {estimator:?} | {threads} | {n_fits:.0e} | {:.3} | {:.3} | {:.3} | {:.1} % | {mean_iter:.2} |",
        best,
        n_fits as f64 / best / 1e6,
        n_fits as f64 / best / 1e6 / threads as f64,
        100.0 * r.count(FitState::Converged) as f64 / n_fits as f64,
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n_fits: usize = std::env::var("NLSQ_BENCH_FITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let x = grid();
    let (y, p0) = problems(n_fits, 42);
    println!(
        "Gpufit's standard case on the CPU: 2-D Gaussian 5x5, tolerance {TOLERANCE}, at most {MAX_ITERATIONS} iterations, f64; best of 3"
    );
    println!(
        "| estimator | threads | fits | seconds | Mfits/s | Mfits/s per thread | converged | mean iterations |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for est in [Estimator::Lse, Estimator::PoissonMle] {
        for threads in [1, all] {
            run(threads, n_fits, est, &y, &p0, &x);
            if all == 1 {
                break;
            }
        }
    }
}

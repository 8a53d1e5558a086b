//! On the GPU machine (feature `cuda`): Gpufit's standard case (nlsq-testkit/src/gpufit.rs:
//! 2-D Gaussian, 5 x 5 points, 5 parameters, tolerance 1e-4, at most 10 iterations) as batch
//! fits on CUDA, 1e6 and 1e7 fits, f32 and f64. Timed: the whole `BatchFit::fit` call from host
//! data to host results (host-to-device copies, the kernel, copies back; f32 batches take the
//! counts as f32, as Gpufit does; p0 as f64), warm
//! (the kernel is built in a first, untimed call), median of 5. Checked first: 10,000 fits
//! against the CPU backend.
//!
//! ```sh
//! cargo bench --features cuda --bench batch_cuda            # 1e6 and 1e7
//! cargo bench --features cuda --bench batch_cuda -- 1e6     # one size
//! ```
//! Prints a Markdown table and one `RESULT {...}` line per row.

use nlsq::batch::{BatchFit, BatchResult, FitState};
use nlsq::{Backend, Precision};
use nlsq_testkit::gpufit::{Gauss2d, MAX_ITERATIONS, TOLERANCE, grid, problems};
use std::time::Instant;

/// The observations as the user holds them: f64, or f32 counts for f32 batches (as Gpufit
/// takes them), converted before any timing.
#[derive(Clone, Copy)]
enum Y<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

fn fit(y: Y<'_>, p0: &[f64], x: &[f64], backend: Backend, precision: Precision) -> BatchResult {
    let b = BatchFit::new(Gauss2d);
    let b = match y {
        Y::F64(y) => b.data(y),
        Y::F32(y) => b.data_f32(y),
    };
    b.equal_length(25)
        .x_shared(x)
        .p0(p0)
        .tolerance(TOLERANCE)
        .max_iterations(MAX_ITERATIONS)
        .backend(backend)
        .precision(precision)
        .fit()
        .expect("batch fit")
}

fn check(x: &[f64]) {
    let (y, p0) = problems(10_000, 7);
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let cpu = fit(Y::F64(&y), &p0, x, Backend::Cpu, Precision::F64);
    for precision in Precision::ALL {
        let yp = match precision {
            Precision::F32 => Y::F32(&y32),
            Precision::F64 => Y::F64(&y),
        };
        let gpu = fit(yp, &p0, x, Backend::Cuda, precision);
        let same_state = (0..cpu.n_fits)
            .filter(|&i| cpu.states[i] == gpu.states[i])
            .count();
        let mut worst = 0.0f64;
        for i in 0..cpu.n_fits {
            if cpu.states[i] == FitState::Converged && gpu.states[i] == FitState::Converged {
                for j in 0..5 {
                    let (a, b) = (gpu.params_of(i)[j], cpu.params_of(i)[j]);
                    worst = worst.max((a - b).abs() / b.abs().max(1.0));
                }
            }
        }
        println!(
            "check {precision}: {same_state} of 10000 states as on the CPU, worst relative difference of converged fits {worst:.1e} ({})",
            gpu.reason
        );
        if precision == Precision::F64 {
            assert!(same_state >= 9_990, "f64 states differ from the CPU's");
            assert!(worst < 1e-6, "f64 parameters differ from the CPU's");
        }
    }
}

fn main() {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse::<f64>().ok())
            .map(|v| v as usize)
            .collect();
        if given.is_empty() {
            vec![1_000_000, 10_000_000]
        } else {
            given
        }
    };
    let x = grid();
    check(&x);
    println!("| precision | fits | median s | Mfits/s | converged | mean iterations |");
    println!("|---|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        let (y, p0) = problems(n, 42);
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        for precision in Precision::ALL {
            let yp = match precision {
                Precision::F32 => Y::F32(&y32),
                Precision::F64 => Y::F64(&y),
            };
            let _warm = fit(yp, &p0, &x, Backend::Cuda, precision);
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..5 {
                let t = Instant::now();
                let r = fit(yp, &p0, &x, Backend::Cuda, precision);
                times.push(t.elapsed().as_secs_f64());
                last = Some(r);
            }
            times.sort_by(f64::total_cmp);
            let med = times[2];
            let r = last.expect("ran");
            let conv = r.count(FitState::Converged) as f64 / n as f64;
            let iters = r.iterations.iter().map(|&i| f64::from(i)).sum::<f64>() / n as f64;
            println!(
                "| {precision} | {n:.0e} | {med:.4} | {:.1} | {:.1} % | {iters:.2} |",
                n as f64 / med / 1e6,
                100.0 * conv
            );
            println!(
                "RESULT {{\"bench\":\"batch_cuda\",\"precision\":\"{precision}\",\"fits\":{n},\"median_s\":{med},\"mfits_per_s\":{},\"converged\":{conv},\"mean_iterations\":{iters},\"backend\":\"{}\"}}",
                n as f64 / med / 1e6,
                r.reason
            );
        }
    }
}

//! Batch fitting on wgpu (feature `wgpu`), on any adapter, Mesa's lavapipe included: the
//! acceptance test of tests/batch.rs on the device in f64 (every batch fit equals its
//! single-fit CurveFit result to 1e-8), every per-fit state as the CPU batch backend gives it,
//! f32 within the tolerance of tests/batch_cuda.rs, bit-identical re-runs and chunked
//! dispatches, `Backend::Auto` passing over a software adapter, llvmpipe's loop limit and
//! models without batch kernels as clear errors. Without an adapter the
//! tests say they skipped, except under `CI=true`, where a missing adapter fails them.
//!
//! On lavapipe the whole file takes about 15 s in a debug build (2 cores).

#![cfg(feature = "wgpu")]

use nlsq::batch::{AUTO_GPU_MIN_FITS, BatchFit, Estimator, FitState};
use nlsq::{Backend, Model, Precision};
use nlsq_testkit::batch::cases::{Case, acceptance_cases, assert_same_states};
use nlsq_testkit::models::Decay;
use nlsq_testkit::suite::Device;
use nlsq_testkit::wgpu::{F32_SOFTWARE_ITERATIONS, f32_batch_iterations, gpu};

// f32: fits at the f32 floor never meet the 1e-12 tolerances and run their whole budget: on
// a software adapter (llvmpipe's loop limit, see `llvmpipe_loop_limit_is_an_error`) a budget
// of F32_SOFTWARE_ITERATIONS.
nlsq_testkit::testgen_batch! {
    device: Device { backend: Backend::Wgpu, name: "wgpu" },
    ready: nlsq_testkit::wgpu::ready,
    same_states: assert_same_states,
    f32_iterations: f32_batch_iterations(),
}

fn decay_data(n_fits: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
    let mut y = Vec::with_capacity(n_fits * n);
    for i in 0..n_fits {
        let b = 0.5 + 0.1 * i as f64;
        y.extend(x.iter().map(|t| 2.0 * (-b * t).exp() + 0.5));
    }
    (x, y)
}

#[test]
fn per_fit_problems_end_in_the_cpu_states() {
    let Some(g) = gpu() else { return };
    let precision = if g.has_f64 {
        Precision::F64
    } else {
        Precision::F32
    };
    // Equal lengths, shared x, weights, bounds, fixed: one problem per fit.
    let n = 12;
    let (x, mut y) = decay_data(8, n);
    y[2 * n + 3] = f64::NAN; // non-finite data
    let mut w = vec![1.0; 8 * n];
    w[3 * n] = -1.0; // negative weight
    w[4 * n + 1] = f64::INFINITY; // non-finite weight
    let mut p0 = [1.0, 1.0, 0.0].repeat(8);
    p0[5 * 3 + 1] = 5.0; // p0 above its upper bound
    p0[7 * 3] = f64::NAN; // p0 not finite
    let (lo, hi) = (vec![0.0, 0.0, -1.0], vec![10.0, 3.0, 1.0]);
    let mut fixed = vec![false; 24];
    fixed[6 * 3 + 2] = true; // offset held at 0: still converges, zero covariance row
    let run = |backend| {
        BatchFit::new(Decay)
            .data(&y)
            .equal_length(n)
            .x_shared(&x)
            .weights(&w)
            .p0(&p0)
            .bounds(&lo, &hi)
            .fixed(&fixed)
            .tolerance(1e-12)
            .max_iterations(200)
            .covariance(true)
            .backend(backend)
            .precision(precision)
            .fit()
            .unwrap()
    };
    let (cpu, dev) = (run(Backend::Cpu), run(Backend::Wgpu));
    assert_same_states("equal lengths", &cpu, &dev);
    println!("equal lengths: {:?}", dev.states);
    assert_eq!(dev.count(FitState::Converged), 3);
    // Variable lengths, per-point x: too few points, singular, fine, and the budget.
    let xs = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0];
    let ys = [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.2, 0.9, 0.8, 0.7];
    for max_iterations in [1, 100] {
        let run = |backend| {
            BatchFit::new(Decay)
                .data(&ys)
                .lengths(&[2, 4, 4])
                .x(&xs)
                .p0(&[1.0, 1.0, 0.0])
                .max_iterations(max_iterations)
                .covariance(true)
                .backend(backend)
                .precision(precision)
                .fit()
                .unwrap()
        };
        let (cpu, dev) = (run(Backend::Cpu), run(Backend::Wgpu));
        assert_same_states("variable lengths", &cpu, &dev);
        assert_eq!(cpu.iterations, dev.iterations);
        println!(
            "variable lengths, {max_iterations} iterations: {:?}",
            dev.states
        );
    }
    // Poisson: a negative count is invalid, a model <= 0 at p0 not finite; the index as x.
    let counts: Vec<f64> = (0..30)
        .map(|i| (10.0 * (-0.1 * f64::from(i % 10)).exp()).round())
        .collect();
    let mut bad = counts.clone();
    bad[11] = -1.0;
    let p0 = [8.0, 0.05, 1.0, 8.0, 0.05, 1.0, -8.0, 0.05, -1.0];
    let run = |backend| {
        BatchFit::new(Decay)
            .data(&bad)
            .equal_length(10)
            .p0(&p0)
            .estimator(Estimator::PoissonMle)
            .tolerance(1e-12)
            .max_iterations(200)
            .covariance(true)
            .backend(backend)
            .precision(precision)
            .fit()
            .unwrap()
    };
    let (cpu, dev) = (run(Backend::Cpu), run(Backend::Wgpu));
    assert_same_states("poisson", &cpu, &dev);
    println!("poisson: {:?}", dev.states);
}

#[test]
fn reruns_and_chunked_dispatches_are_bit_identical() {
    let Some(g) = gpu() else { return };
    // Variable lengths with per-point x and weights; bounds; per-fit fixed masks.
    let cases = acceptance_cases();
    for case in [&cases[0], &cases[1], &cases[3]] {
        reruns_and_chunks(&g, case);
    }
}

fn reruns_and_chunks(g: &nlsq::backend::wgpu::Gpu, case: &Case) {
    let precisions: Vec<Precision> = Precision::ALL
        .into_iter()
        .filter(|&p| g.has_f64 || p == Precision::F32)
        .collect();
    for precision in precisions {
        let run = |chunk: usize| {
            case.builder(Backend::Wgpu, precision)
                .max_iterations(F32_SOFTWARE_ITERATIONS)
                .device_chunk(chunk)
                .fit()
                .unwrap()
        };
        let one = run(usize::MAX);
        for chunk in [usize::MAX, 7, 640, 1000] {
            let r = run(chunk);
            assert_eq!(r.states, one.states, "{precision}, chunks of {chunk}");
            assert_eq!(
                r.iterations, one.iterations,
                "{precision}, chunks of {chunk}"
            );
            let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&r.params), bits(&one.params), "{precision}, {chunk}");
            assert_eq!(bits(&r.chi2), bits(&one.chi2), "{precision}, {chunk}");
            assert_eq!(
                bits(r.covariance.as_ref().unwrap()),
                bits(one.covariance.as_ref().unwrap()),
                "{precision}, chunks of {chunk}"
            );
        }
        println!(
            "{} {precision}: {} fits, re-runs and chunks of 7, 640, 1000 fits equal one dispatch bit for bit",
            case.name, one.n_fits
        );
    }
}

#[test]
fn auto_passes_over_a_software_adapter() {
    let Some(g) = gpu() else { return };
    let x: Vec<f64> = (0..10).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|t| 2.0 * (-0.3 * t).exp() + 0.5).collect();
    let many = y.repeat(AUTO_GPU_MIN_FITS);
    let r = BatchFit::new(Decay)
        .data(&many)
        .equal_length(10)
        .x_shared(&x)
        .p0(&[1.0, 1.0, 0.0])
        .fit()
        .unwrap();
    println!(
        "Auto with {AUTO_GPU_MIN_FITS} fits on {}: {}",
        g.describe(),
        r.reason
    );
    if g.is_software() {
        assert_eq!(r.backend, Backend::Cpu);
        assert!(r.reason.contains("software"), "{}", r.reason);
    } else if cfg!(not(feature = "cuda")) {
        assert_eq!(r.backend, Backend::Wgpu, "{}", r.reason);
    }
    assert_eq!(r.count(FitState::Converged), AUTO_GPU_MIN_FITS);
}

#[test]
#[ignore = "needs llvmpipe's loop limit (lavapipe, as CI has): run with --include-ignored"]
fn llvmpipe_loop_limit_is_an_error() {
    let Some(g) = gpu() else { return };
    assert!(
        g.is_software(),
        "{} is not a software adapter",
        g.describe()
    );
    // 200 points that never meet a zero step tolerance in f32, 1000 iterations: more loop
    // iterations than llvmpipe runs in one invocation (65535 over all loops).
    let (x, y) = decay_data(4, 200);
    let r = BatchFit::new(Decay)
        .data(&y)
        .equal_length(200)
        .x_shared(&x)
        .p0(&[1.0, 1.0, 0.0])
        .tolerance(0.0)
        .max_iterations(1000)
        .backend(Backend::Wgpu)
        .precision(Precision::F32)
        .fit();
    match r {
        Err(nlsq::FitError::Backend { backend, message }) => {
            assert_eq!(backend, "wgpu");
            assert!(message.contains("cut short"), "{message}");
            println!("{message}");
        }
        other => panic!("expected the loop-limit error, got {other:?}"),
    }
}

#[test]
fn models_without_batch_kernels_are_an_error_on_wgpu() {
    let Some(_g) = gpu() else { return };
    // 17 parameters: more than the batch kernels take (BATCH_MAX_P = 16).
    let expr = (1..=17)
        .map(|j| format!("a{j} * x.powi({})", j - 1))
        .collect::<Vec<_>>()
        .join(" + ");
    let model = nlsq::ExprModel::parse(&expr).unwrap();
    assert_eq!(model.n_params(), 17);
    let x: Vec<f64> = (0..20).map(|i| f64::from(i) / 20.0).collect();
    let y: Vec<f64> = x.iter().map(|t| 1.0 + t).collect();
    let fit = |backend| {
        BatchFit::new(&model)
            .data(&y)
            .equal_length(20)
            .x_shared(&x)
            .p0(&[0.5; 17])
            .backend(backend)
            .fit()
    };
    match fit(Backend::Wgpu) {
        Err(nlsq::FitError::Backend { backend, message }) => {
            assert_eq!(backend, "wgpu");
            assert!(message.contains("no WGSL batch module"), "{message}");
            println!("{message}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(fit(Backend::Cpu).unwrap().backend, Backend::Cpu);
}

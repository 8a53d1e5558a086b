//! Batch fitting on CUDA. Without a GPU: `Backend::Cuda` is a clear error and `Backend::Auto`
//! falls back to the CPU. With `NLSQ_TEST_CUDA=1` (on a GPU machine): the acceptance test of
//! tests/batch.rs on the device, f64 (1e-8 against single fits) and f32 (states and a
//! looser agreement), and every per-fit state as the CPU gives it.

#[path = "common/batch_cases.rs"]
mod batch_cases;
#[path = "common/batch_support.rs"]
mod batch_support;

use batch_cases::{Case, acceptance_cases, compare_with_single_fits};
use batch_support::Decay;
use nlsq::batch::{AUTO_GPU_MIN_FITS, BatchFit, FitState};
use nlsq::{Backend, FitError, Precision};

fn cuda_requested() -> bool {
    std::env::var("NLSQ_TEST_CUDA").is_ok_and(|v| v == "1")
}

#[test]
fn without_a_device_cuda_is_an_error_and_auto_is_the_cpu() {
    if cuda_requested() {
        eprintln!("SKIPPED: NLSQ_TEST_CUDA=1 (a device is expected)");
        return;
    }
    let x: Vec<f64> = (0..10).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|t| 2.0 * (-0.3 * t).exp() + 0.5).collect();
    let fit = |backend| {
        BatchFit::new(Decay)
            .data(&y)
            .equal_length(10)
            .x_shared(&x)
            .p0(&[1.0, 1.0, 0.0])
            .backend(backend)
            .fit()
    };
    match fit(Backend::Cuda) {
        Err(FitError::Backend { backend, message }) => {
            assert_eq!(backend, "cuda");
            println!("Backend::Cuda without a device: {message}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    let r = fit(Backend::Auto).unwrap();
    assert_eq!(r.backend, Backend::Cpu);
    assert!(r.reason.starts_with("cpu (auto"), "{}", r.reason);
    // Many fits: Auto would take a GPU, finds none (or no CUDA support), says so.
    let many: Vec<f64> = y.repeat(AUTO_GPU_MIN_FITS);
    let r = BatchFit::new(Decay)
        .data(&many)
        .equal_length(10)
        .x_shared(&x)
        .p0(&[1.0, 1.0, 0.0])
        .fit()
        .unwrap();
    assert_eq!(r.backend, Backend::Cpu);
    println!("Auto with {AUTO_GPU_MIN_FITS} fits: {}", r.reason);
    assert_eq!(r.count(FitState::Converged), AUTO_GPU_MIN_FITS);
}

#[test]
fn cuda_batch_fits_equal_single_fits() {
    if !cuda_requested() {
        eprintln!("SKIPPED: set NLSQ_TEST_CUDA=1 on a GPU machine to run the CUDA batch fits");
        return;
    }
    let cases = acceptance_cases();
    assert_eq!(cases.iter().map(Case::n_fits).sum::<usize>(), 10_000);
    let bad: usize = cases
        .iter()
        .map(|c| compare_with_single_fits(c, Backend::Cuda, Precision::F64))
        .sum();
    assert_eq!(bad, 0, "CUDA f64 batch fits differ from single fits");
}

#[test]
fn cuda_matches_the_cpu_state_for_state_and_in_f32() {
    if !cuda_requested() {
        eprintln!("SKIPPED: set NLSQ_TEST_CUDA=1 on a GPU machine to run the CUDA batch fits");
        return;
    }
    for case in acceptance_cases() {
        let cpu = case.batch(Backend::Cpu, Precision::F64);
        let gpu64 = case.batch(Backend::Cuda, Precision::F64);
        assert_eq!(cpu.states, gpu64.states, "{}", case.name);
        // f32: the same optimum to single-precision accuracy for well-converged fits.
        let gpu32 = case.batch(Backend::Cuda, Precision::F32);
        let p = cpu.n_params;
        let mut worst = 0.0f64;
        let mut converged = 0;
        for i in 0..cpu.n_fits {
            if gpu32.states[i] != FitState::Converged && gpu32.states[i] != FitState::MaxIterations
            {
                continue;
            }
            converged += 1;
            for j in 0..p {
                let (a, b) = (gpu32.params_of(i)[j], cpu.params_of(i)[j]);
                // In units of the standard error: f32 data cannot do better than ~1e-3 of it.
                // Fixed parameters (no standard error) hold p0 rounded to f32.
                let se = cpu.perr_of(i).unwrap()[j];
                if se == 0.0 {
                    assert!((a - b).abs() <= 1e-6 * b.abs(), "fit {i}: fixed {a} vs {b}");
                    continue;
                }
                let e = (a - b).abs() / se;
                worst = worst.max(e);
            }
        }
        println!(
            "{}: f32 on CUDA, {converged} of {} fits usable, worst difference {worst:.1e} standard errors",
            case.name, cpu.n_fits
        );
        assert!(converged * 100 >= cpu.n_fits * 99);
        assert!(
            worst < 0.05,
            "{}: f32 fits off by {worst} standard errors",
            case.name
        );
    }
}

#[test]
fn chunked_device_batches_equal_one_launch() {
    if !cuda_requested() {
        eprintln!("SKIPPED: set NLSQ_TEST_CUDA=1 on a GPU machine to run the CUDA batch fits");
        return;
    }
    // Equal lengths stream in chunks over two streams; the chunking must not change a bit.
    let case = &acceptance_cases()[2];
    for precision in Precision::ALL {
        let run = |chunk: usize| {
            BatchFit::new(case.model)
                .data(&case.y)
                .equal_length(25)
                .x_shared(&case.x)
                .p0(&case.p0)
                .covariance(true)
                .backend(Backend::Cuda)
                .precision(precision)
                .device_chunk(chunk)
                .fit()
                .unwrap()
        };
        let one = run(usize::MAX);
        for chunk in [777, 1000, 2499] {
            let r = run(chunk);
            assert_eq!(r.states, one.states, "{precision}, chunks of {chunk}");
            assert_eq!(r.params, one.params, "{precision}, chunks of {chunk}");
            assert_eq!(r.iterations, one.iterations);
            let (a, b) = (
                r.covariance.unwrap(),
                one.covariance.as_ref().unwrap().clone(),
            );
            assert!(
                a.iter()
                    .zip(&b)
                    .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            );
        }
        println!("{precision}: chunks of 777, 1000, 2499 fits equal one launch bit for bit");
    }
}

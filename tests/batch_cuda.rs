//! Batch fitting on CUDA. Without a GPU: `Backend::Cuda` is a clear error and `Backend::Auto`
//! falls back to the CPU. On a GPU (ignored here; on the GPU machine `cargo test --features
//! cuda --test batch_cuda -- --ignored`): the acceptance test of tests/batch.rs on the device,
//! f64 (1e-8 against single fits) and f32 (states and a looser agreement), and every per-fit
//! state as the CPU gives it (the suite shared with wgpu, `nlsq_testkit::testgen_batch!`), and
//! chunked launches bit for bit.

use nlsq::batch::{AUTO_GPU_MIN_FITS, BatchFit, FitState};
use nlsq::{Backend, FitError, Precision};
use nlsq_testkit::batch::cases::{Case, acceptance_cases, assert_equal_states};
use nlsq_testkit::models::Decay;
use nlsq_testkit::suite::Device;

nlsq_testkit::testgen_batch! {
    device: Device { backend: Backend::Cuda, name: "cuda" },
    #[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
    ready: |_| true,
    same_states: assert_equal_states,
    f32_iterations: Case::MAX_ITERATIONS,
}

#[test]
fn without_a_device_cuda_is_an_error_and_auto_is_the_cpu() {
    #[cfg(feature = "cuda")]
    if nlsq::backend::cuda::Gpu::shared().is_ok() {
        eprintln!("a CUDA device is present: the no-device paths are not exercised here");
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
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn chunked_device_batches_equal_one_launch() {
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

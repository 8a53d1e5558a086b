//! Profiling and checkpoints on the CUDA backend (feature `cuda`; needs an NVIDIA GPU: ignored
//! here, run on the GPU machine with `cargo test --features cuda --test profile_cuda --
//! --ignored`). One test in its own binary, so that the process-wide byte and kernel counters
//! see no other fit.

#![cfg(feature = "cuda")]

use kernels_gen::kernels::abi;
use nlsq::{Backend, CurveFit, Every, Method, Precision};
use nlsq_testkit::models::Decay;

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn cuda_profile_counts_bytes_and_kernels_and_checkpoints_resume() {
    let n = 300_000;
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, x)| 2.5 * (-1.3 * x).exp() + 0.4 + 1e-3 * ((i % 13) as f64 - 6.0))
        .collect();
    let fit = || {
        CurveFit::new(Decay)
            .p0([1.0, 0.5, 0.0])
            .backend(Backend::Cuda)
            .precision(Precision::F64)
            .method(Method::Trf)
            .profile(true)
    };
    let first = fit().fit(&x, &y).unwrap();
    let p = first.profile.clone().unwrap();
    println!("{p}");
    assert_eq!(p.passes as usize, first.nfev);
    let np = 3;
    let width = abi::reduction_width(np) as u64;
    // x and y once and the device-side data check's index (8 bytes each way), then the
    // parameters to the device and one reduction row back per pass.
    assert_eq!(p.bytes_h2d, 2 * 8 * n as u64 + 8 + p.passes * 8 * np as u64);
    assert_eq!(p.bytes_d2h, 8 + p.passes * 8 * width);
    assert_eq!(p.kernel_builds + p.disk_cache_hits + p.memory_cache_hits, 1);

    // The second fit of the same model finds its kernels in memory.
    let path = std::env::temp_dir().join(format!("nlsq-cuda-{}.ckpt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    assert!(first.iterations >= 3, "{first}");
    let stop = first.iterations / 2 + 1;
    let cut = fit()
        .checkpoint(&path, Every::Iterations(1))
        .callback(move |i| {
            if i.iteration == stop {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })
        .fit(&x, &y)
        .unwrap();
    let p = cut.profile.unwrap();
    assert_eq!((p.kernel_builds, p.memory_cache_hits), (0, 1));
    assert!(p.checkpoint_writes >= 1 && p.checkpoint_failures == 0);
    let resumed = fit().resume_from(&path).fit(&x, &y).unwrap();
    for (a, b) in resumed.popt.iter().zip(&first.popt) {
        assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
    }
    assert_eq!(
        (resumed.nfev, resumed.iterations),
        (first.nfev, first.iterations)
    );
    std::fs::remove_file(&path).unwrap();
}

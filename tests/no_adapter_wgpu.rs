//! The wgpu backend on a machine without an adapter (feature `wgpu`): `Backend::Wgpu` is a
//! clear error and `Backend::Auto` falls back to the CPU and says why, for single and batch
//! fits. The adapter is hidden
//! with wgpu's own `WGPU_BACKEND` (DX12 and Metal, absent on Linux), set before the first
//! device is opened: this binary holds this one test alone.

#![cfg(feature = "wgpu")]

use nlsq::batch::{AUTO_GPU_MIN_FITS, BatchFit, FitState};
use nlsq::{Backend, CurveFit, FitError};
use nlsq_testkit::models::Decay;

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "hiding every adapter with WGPU_BACKEND=dx12,metal needs Linux"
)]
fn without_an_adapter_wgpu_is_an_error_and_auto_falls_back_to_the_cpu() {
    // SAFETY: the only test of this binary sets the variable before anything reads it.
    unsafe { std::env::set_var("WGPU_BACKEND", "dx12,metal") };
    let n = nlsq::backend::AUTO_GPU_MIN_POINTS;
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let y: Vec<f64> = x.iter().map(|x| 2.5 * (-1.3 * x).exp() + 0.4).collect();
    let e = CurveFit::new(Decay)
        .backend(Backend::Wgpu)
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(e, FitError::Backend { ref backend, ref message } if backend == "wgpu" && message.contains("no wgpu adapter")),
        "{e}"
    );
    println!("Backend::Wgpu: {e}");
    let r = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    assert!(
        r.backend.starts_with("cpu (auto: no usable GPU") && r.backend.contains("no wgpu adapter"),
        "{}",
        r.backend
    );
    assert!((r.popt[1] - 1.3).abs() < 1e-8);
    println!("Backend::Auto: {}", r.backend);
    // Batch fits: the same.
    let xs: Vec<f64> = (0..10).map(f64::from).collect();
    let ys: Vec<f64> = xs.iter().map(|t| 2.0 * (-0.3 * t).exp() + 0.5).collect();
    let many = ys.repeat(AUTO_GPU_MIN_FITS);
    let batch = |backend| {
        BatchFit::new(Decay)
            .data(&many)
            .equal_length(10)
            .x_shared(&xs)
            .p0(&[1.0, 1.0, 0.0])
            .backend(backend)
            .fit()
    };
    let e = batch(Backend::Wgpu).unwrap_err();
    assert!(
        matches!(e, FitError::Backend { ref backend, ref message } if backend == "wgpu" && message.contains("no wgpu adapter")),
        "{e}"
    );
    println!("batch, Backend::Wgpu: {e}");
    let r = batch(Backend::Auto).unwrap();
    assert_eq!(r.backend, Backend::Cpu);
    assert!(
        r.reason.starts_with("cpu (auto: no usable GPU") && r.reason.contains("no wgpu adapter"),
        "{}",
        r.reason
    );
    assert_eq!(r.count(FitState::Converged), AUTO_GPU_MIN_FITS);
    println!("batch, Backend::Auto: {}", r.reason);
}

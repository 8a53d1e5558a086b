//! The CUDA backend against the CPU and NIST (feature `cuda`). The execution tests need an
//! NVIDIA GPU: they are ignored here and run on the GPU machine with `cargo test --features cuda
//! --test fit_cuda -- --ignored`; without a driver the error paths are tested instead. The
//! suites shared with wgpu come from `nlsq_testkit::suite`.

#![cfg(feature = "cuda")]

use nlsq::backend::cuda::{Gpu, KernelCache};
use nlsq::{Backend, CurveFit, FitError, Precision};
use nlsq_testkit::models::{Decay, decay_data};
use nlsq_testkit::suite::Device;

const CUDA: Device = Device {
    backend: Backend::Cuda,
    name: "cuda",
};

nlsq_testkit::testgen_fit! {
    device: CUDA,
    #[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
    ready: |_| true,
    data: (1_000_000, 0.05),
    tolerances: (popt: 1e-10, pcov: 1e-8),
}

nlsq_testkit::testgen_nist! {
    device: CUDA,
    #[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
    ready: |_| true,
}

#[test]
fn without_a_device_cuda_is_an_error_and_auto_falls_back() {
    if Gpu::shared().is_ok() {
        eprintln!("a CUDA device is present: the no-device paths are not exercised here");
        return;
    }
    let (x, y, _) = decay_data(300_000, 0.05);
    let e = CurveFit::new(Decay)
        .backend(Backend::Cuda)
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(e, FitError::Backend { ref backend, .. } if backend == "cuda"),
        "{e}"
    );
    let r = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    assert!(
        r.backend.starts_with("cpu (auto: no usable GPU"),
        "{}",
        r.backend
    );
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn cuda_f32_agrees_with_f64_and_auto_takes_the_gpu() {
    let (x, y, _) = decay_data(1_000_000, 0.05);
    // f32 data, accumulated in f64, agrees to single-precision accuracy.
    let f32fit = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .backend(Backend::Cuda)
        .precision(Precision::F32)
        .fit(&x, &y)
        .unwrap();
    let f64fit = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .backend(Backend::Cpu)
        .fit(&x, &y)
        .unwrap();
    for j in 0..3 {
        assert!(((f32fit.popt[j] - f64fit.popt[j]) / f64fit.popt[j]).abs() < 1e-4);
    }
    // Auto takes the GPU for a large problem and says so.
    let auto = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    assert!(
        auto.backend.contains("auto: 1000000 points"),
        "{}",
        auto.backend
    );
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn kernel_cache_builds_once_then_hits_memory_and_disk_and_rebuilds_corrupt_entries() {
    let gpu = Gpu::shared().unwrap();
    let dir = std::env::temp_dir().join(format!("nlsq-kernels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cache = KernelCache::new(Some(dir.clone()));
    cache
        .module(&gpu.ctx, &gpu.arch, &Decay, Precision::F64)
        .unwrap();
    cache
        .module(&gpu.ctx, &gpu.arch, &Decay, Precision::F64)
        .unwrap();
    let s = cache.stats();
    assert_eq!((s.builds, s.memory_hits), (1, 1));
    // A fresh process-level cache finds the cubin on disk.
    let mut fresh = KernelCache::new(Some(dir.clone()));
    fresh
        .module(&gpu.ctx, &gpu.arch, &Decay, Precision::F64)
        .unwrap();
    assert_eq!((fresh.stats().builds, fresh.stats().disk_hits), (0, 1));
    // Truncate the entry: it is rejected and rebuilt, not trusted.
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let mut third = KernelCache::new(Some(dir.clone()));
    third
        .module(&gpu.ctx, &gpu.arch, &Decay, Precision::F64)
        .unwrap();
    let s = third.stats();
    assert_eq!((s.builds, s.disk_rejected), (1, 1));
    assert_eq!(
        std::fs::read(&entry).unwrap(),
        bytes,
        "the rebuilt entry is written back"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

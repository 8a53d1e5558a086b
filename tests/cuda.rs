//! The CUDA backend against the CPU and NIST (feature `cuda`). Needs an NVIDIA GPU: runs with
//! `NLSQ_TEST_CUDA=1` (on the GPU machine) and says it skipped otherwise; without a driver the
//! error paths are tested instead.

#![cfg(feature = "cuda")]
#![allow(clippy::too_many_arguments)]

#[path = "../kernels-gen/tests/corpus/models.rs"]
mod models;

#[path = "common/corpus_dispatch.rs"]
mod corpus_dispatch;

#[path = "common/nist.rs"]
mod nist;

#[path = "common/cuda_support.rs"]
mod cuda_support;

use cuda_support::{Decay, data, gpu_tests_enabled};
use nlsq::backend::cuda::{Gpu, KernelCache};
use nlsq::{Backend, CurveFit, FitError, Loss, Method, Precision};

#[test]
fn without_a_device_cuda_is_an_error_and_auto_falls_back() {
    if Gpu::shared().is_ok() {
        eprintln!("a CUDA device is present: the no-device paths are not exercised here");
        return;
    }
    let (x, y, _) = data(300_000);
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
fn cuda_fits_equal_cpu_fits() {
    if !gpu_tests_enabled() {
        return;
    }
    let (x, y, sigma) = data(1_000_000);
    for loss in [Loss::Linear, Loss::Huber, Loss::Cauchy] {
        for method in [Method::Lm, Method::Trf] {
            let fit = |backend| {
                CurveFit::new(Decay)
                    .p0([1.0, 1.0, 0.0])
                    .sigma(&sigma)
                    .loss(loss)
                    .f_scale(0.5)
                    .method(method)
                    .backend(backend)
                    .fit(&x, &y)
                    .unwrap()
            };
            let (cpu, gpu) = (fit(Backend::Cpu), fit(Backend::Cuda));
            assert!(gpu.backend.starts_with("cuda"), "{}", gpu.backend);
            for j in 0..3 {
                let rel = ((gpu.popt[j] - cpu.popt[j]) / cpu.popt[j]).abs();
                assert!(
                    rel < 1e-10,
                    "{loss} {method}: p{j} GPU {} CPU {}",
                    gpu.popt[j],
                    cpu.popt[j]
                );
                let relc = ((gpu.pcov[j][j] - cpu.pcov[j][j]) / cpu.pcov[j][j]).abs();
                assert!(relc < 1e-8, "{loss} {method}: pcov{j}");
            }
            // Re-runs on the device are bit-identical.
            let again = fit(Backend::Cuda);
            assert_eq!(
                gpu.popt.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                again.popt.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
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
fn nist_strd_on_cuda_all_54_per_method() {
    if !gpu_tests_enabled() {
        return;
    }
    let mut ok = [0usize; 2];
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>7}",
        "problem", "LM s1", "LM s2", "TRF s1", "TRF s2"
    );
    for name in nist::NAMES {
        let p = nist::load(name);
        let (model, _) = corpus_dispatch::lookup(&p.model_fn).unwrap();
        let mut row = Vec::new();
        for (m, method) in [Method::Lm, Method::Trf].into_iter().enumerate() {
            for start in &p.starts {
                let r = CurveFit::new(model)
                    .p0(start.clone())
                    .method(method)
                    .tol(1e-15)
                    .max_nfev(10_000)
                    .backend(Backend::Cuda)
                    .fit(&p.x, &p.y)
                    .unwrap();
                assert!(r.backend.starts_with("cuda"));
                let lre = nist::lre(&r.popt, &p.certified);
                ok[m] += usize::from(lre >= 6.0);
                row.push(lre);
            }
        }
        println!(
            "{name:<10} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
            row[0], row[1], row[2], row[3]
        );
    }
    println!("CUDA f64, LRE >= 6: LM {}/54, TRF {}/54", ok[0], ok[1]);
    assert_eq!(ok, [54, 54]);
}

#[test]
fn kernel_cache_builds_once_then_hits_memory_and_disk_and_rebuilds_corrupt_entries() {
    if !gpu_tests_enabled() {
        return;
    }
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

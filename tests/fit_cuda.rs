//! The CUDA backend against the CPU and NIST (feature `cuda`). The execution tests need an
//! NVIDIA GPU: they are ignored here and run on the GPU machine with `cargo test --features cuda
//! --test fit_cuda -- --ignored`; without a driver the error paths are tested instead. The
//! suites shared with wgpu come from `nlsq_testkit::suite`.

#![cfg(feature = "cuda")]

use nlsq::backend::cuda::data::DeviceBuffer;
use nlsq::backend::cuda::staging::STAGE_POINTS;
use nlsq::backend::cuda::{DeviceData, Gpu, KernelCache};
use nlsq::{
    Backend, CudaDevices, CurveFit, DataMode, FitData, FitError, FitResult, Loss, Precision, model,
};
use nlsq_testkit::models::{Decay, decay_data};
use nlsq_testkit::suite::Device;
use std::borrow::Cow;

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

#[model]
fn plane(x: [f64; 2], a: f64, b: f64, c: f64) -> f64 {
    a * x[0] + b * x[1] + c
}

/// Two predictor columns and y of `n` points, more than two staging buffers' worth when `n`
/// is large (so the uploads take full chunks, alternate buffers and end on a short chunk).
fn plane_data(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x0: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 1e-3).collect();
    let x1: Vec<f64> = (0..n).map(|i| ((i * 7) % 999) as f64 * 1e-3).collect();
    let y = x0.iter().zip(&x1).map(|(a, b)| 2.0 * a - b + 0.5).collect();
    (x0, x1, y)
}

/// The error a fit of `(x0, x1, y)` on `backend` ends with.
fn plane_error(backend: Backend, x0: &[f64], x1: &[f64], y: &[f64]) -> FitError {
    CurveFit::new(Plane)
        .p0([1.0, 1.0, 0.0])
        .backend(backend)
        .fit(&[x0, x1], y)
        .unwrap_err()
}

#[test]
fn nonfinite_data_is_reported_as_on_the_cpu_with_or_without_a_device() {
    // On the GPU machine the CUDA fit finds the point on the device (nlsq_data_check); here,
    // without a driver, the host check still comes before the backend's error.
    let (x0, mut x1, mut y) = plane_data(1000);
    y[700] = f64::NAN;
    x1[400] = f64::NEG_INFINITY;
    for (x1, y) in [
        (&x1, &plane_data(1000).2),
        (&plane_data(1000).1, &y),
        (&x1, &y),
    ] {
        let cpu = plane_error(Backend::Cpu, &x0, x1, y);
        let cuda = plane_error(Backend::Cuda, &x0, x1, y);
        assert!(matches!(cpu, FitError::NonFiniteData { .. }), "{cpu}");
        assert_eq!(
            format!("{cuda:?}"),
            format!("{cpu:?}"),
            "NaN values compare as text"
        );
    }
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn device_data_check_finds_the_cpu_error_across_staging_chunks() {
    let n = 2 * STAGE_POINTS + 12_345;
    let (x0, mut x1, mut y) = plane_data(n);
    for (what, index) in [("y", n - 3), ("x[1]", STAGE_POINTS + 5), ("y", 17)] {
        if what == "y" {
            y[index] = f64::INFINITY;
        } else {
            x1[index] = f64::NAN;
        }
        let cpu = plane_error(Backend::Cpu, &x0, &x1, &y);
        let cuda = plane_error(Backend::Cuda, &x0, &x1, &y);
        assert!(
            matches!(cpu, FitError::NonFiniteData { index: i, what: ref w, .. } if i == index && w == what),
            "{cpu}"
        );
        assert_eq!(
            format!("{cuda:?}"),
            format!("{cpu:?}"),
            "the device check reports the host's error"
        );
    }
    // Clean data fits, and the device check of the uploaded data finds nothing.
    let (x0, x1, y) = plane_data(n);
    let fit = CurveFit::new(Plane)
        .p0([1.0, 1.0, 0.0])
        .backend(Backend::Cuda)
        .fit(&[&x0[..], &x1[..]], &y)
        .unwrap();
    for (got, want) in fit.popt.iter().zip([2.0, -1.0, 0.5]) {
        assert!((got - want).abs() < 1e-9, "{:?}", fit.popt);
    }
    let data = FitData::new(vec![&x0, &x1], &y, None, nlsq::NanPolicy::Raise, 2).unwrap();
    let dev = DeviceData::upload(&Gpu::shared().unwrap(), &data, Precision::F64).unwrap();
    assert_eq!(dev.first_nonfinite(&Plane).unwrap(), None);
    println!("nlsq_data_check: the CPU's errors over {n} points in three staging chunks");
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn staged_uploads_copy_every_value_in_both_precisions() {
    let gpu = Gpu::shared().unwrap();
    let n = 2 * STAGE_POINTS + 777;
    let (x0, mut x1, y) = plane_data(n);
    x1[n - 1] = f64::NAN; // uploaded as it is: unchecked data goes to the device unchanged
    let sigma: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let w: Vec<f64> = sigma.iter().map(|s| 1.0 / s).collect();
    let data = FitData {
        x: vec![Cow::Borrowed(&x0[..]), Cow::Borrowed(&x1[..])],
        y: Cow::Borrowed(&y[..]),
        weights: Some(w.clone()),
        omitted: 0,
    };
    let host_x: Vec<f64> = x0.iter().chain(&x1).copied().collect();
    for precision in [Precision::F64, Precision::F32] {
        let dev = DeviceData::upload(&gpu, &data, precision).unwrap();
        let back = |b: &DeviceBuffer| -> Vec<f64> {
            match b {
                DeviceBuffer::F64(s) => gpu.stream.clone_dtoh(s).unwrap(),
                DeviceBuffer::F32(s) => gpu
                    .stream
                    .clone_dtoh(s)
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect(),
            }
        };
        let round = |v: &[f64]| -> Vec<u64> {
            v.iter()
                .map(|&a| match precision {
                    Precision::F64 => a.to_bits(),
                    Precision::F32 => (a as f32 as f64).to_bits(),
                })
                .collect()
        };
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<u64>>();
        assert_eq!(bits(back(&dev.x)), round(&host_x), "{precision}: x");
        assert_eq!(bits(back(&dev.y)), round(&y), "{precision}: y");
        assert_eq!(
            bits(back(dev.w.as_ref().unwrap())),
            round(&w),
            "{precision}: w"
        );
        assert_eq!(
            dev.first_nonfinite(&Plane).unwrap(),
            Some(n - 1),
            "{precision}"
        );
    }
    println!("staged uploads: {n} points x 4 columns, f64 and f32, every value");
}

/// The relative difference of two values (absolute below 1e-300).
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// A decay fit of `(x, y, sigma)` on CUDA over `devices`, soft_l1 with sigma.
fn decay_on(devices: CudaDevices, x: &[f64], y: &[f64], s: &[f64]) -> FitResult {
    CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .sigma(s)
        .loss(Loss::SoftL1)
        .f_scale(0.1)
        .backend(Backend::Cuda)
        .cuda_devices(devices)
        .fit(x, y)
        .unwrap()
}

#[test]
fn cuda_device_settings_are_checked_before_the_data() {
    let (x, y, _) = decay_data(1000, 0.05);
    let invalid = |fit: CurveFit<'_, Decay>| match fit.fit(&x, &y).unwrap_err() {
        FitError::InvalidOption { option, reason } => {
            assert_eq!(option, "cuda_devices");
            reason
        }
        e => panic!("{e}"),
    };
    let r = invalid(CurveFit::new(Decay).cuda_devices(CudaDevices::List(vec![])));
    assert!(r.contains("empty"), "{r}");
    let r = invalid(
        CurveFit::new(Decay)
            .backend(Backend::Cpu)
            .cuda_devices(CudaDevices::All),
    );
    assert!(r.contains("Cpu backend"), "{r}");
    if Gpu::shared().is_ok() {
        eprintln!("a CUDA device is present: the no-device paths are not exercised here");
        return;
    }
    let (x, y, _) = decay_data(300_000, 0.05);
    for devices in [CudaDevices::All, CudaDevices::List(vec![0, 1])] {
        let e = CurveFit::new(Decay)
            .backend(Backend::Cuda)
            .cuda_devices(devices.clone())
            .fit(&x, &y)
            .unwrap_err();
        assert!(
            matches!(e, FitError::Backend { ref backend, .. } if backend == "cuda"),
            "{e}"
        );
        // Auto still falls back to the CPU.
        let r = CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .cuda_devices(devices)
            .fit(&x, &y)
            .unwrap();
        assert!(r.backend.starts_with("cpu (auto"), "{}", r.backend);
    }
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn one_dataset_split_over_devices_equals_the_single_device_fit() {
    let (x, y, s) = decay_data(1_000_000, 0.05);
    let one = decay_on(CudaDevices::First, &x, &y, &s);
    let cpu = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .sigma(&s)
        .loss(Loss::SoftL1)
        .f_scale(0.1)
        .backend(Backend::Cpu)
        .fit(&x, &y)
        .unwrap();
    // Shares on one device, listed twice and three times, and every visible device.
    for devices in [
        CudaDevices::List(vec![0, 0]),
        CudaDevices::List(vec![0, 0, 0]),
        CudaDevices::All,
    ] {
        let split = decay_on(devices.clone(), &x, &y, &s);
        assert!(
            split.backend.contains("on CUDA device 0: "),
            "{}",
            split.backend
        );
        for j in 0..3 {
            assert!(
                rel(split.popt[j], one.popt[j]) < 1e-12,
                "{devices}: popt[{j}]"
            );
            assert!(
                rel(split.popt[j], cpu.popt[j]) < 1e-10,
                "{devices}: popt[{j}] vs cpu"
            );
            for k in 0..3 {
                let (a, b) = (split.pcov[j][k], one.pcov[j][k]);
                assert!(rel(a, b) < 1e-10, "{devices}: pcov[{j},{k}] {a} {b}");
            }
        }
        assert_eq!(
            split.cost.to_bits(),
            decay_on(devices, &x, &y, &s).cost.to_bits()
        );
        eprintln!(
            "{}: popt {:?}, {} passes",
            split.backend, split.popt, split.nfev
        );
    }
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn data_beyond_one_devices_budget_is_split_in_memory_or_chunked_on_the_first() {
    let (x, y, _) = decay_data(1_000_000, 0.05);
    // 16 MB of f64 data: over a 10 MB budget on one device, 8 MB shares on two.
    let fit = |devices: CudaDevices, budget: u64| {
        CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .backend(Backend::Cuda)
            .max_device_bytes(budget)
            .cuda_devices(devices)
            .fit(&x, &y)
            .unwrap()
    };
    let one = fit(CudaDevices::First, 10_000_000);
    assert_eq!(one.data_plan.mode, DataMode::Chunked);
    let two = fit(CudaDevices::List(vec![0, 0]), 10_000_000);
    assert_eq!(
        two.data_plan.mode,
        DataMode::InMemory,
        "{}",
        two.data_plan.reason
    );
    let chunked = fit(CudaDevices::List(vec![0, 0]), 5_000_000);
    assert_eq!(chunked.data_plan.mode, DataMode::Chunked);
    assert!(
        chunked
            .data_plan
            .reason
            .contains("chunked on the first device"),
        "{}",
        chunked.data_plan.reason
    );
    for j in 0..3 {
        assert!(rel(two.popt[j], one.popt[j]) < 1e-12);
        assert!(rel(chunked.popt[j], one.popt[j]) < 1e-12);
    }
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn a_nonfinite_point_in_a_later_share_is_named_as_on_the_cpu() {
    let (x0, x1, mut y) = plane_data(100_000);
    y[77_777] = f64::NAN;
    let cpu = plane_error(Backend::Cpu, &x0, &x1, &y);
    let split = CurveFit::new(Plane)
        .p0([1.0, 1.0, 0.0])
        .backend(Backend::Cuda)
        .cuda_devices(CudaDevices::List(vec![0, 0, 0]))
        .fit(&[&x0[..], &x1[..]], &y)
        .unwrap_err();
    assert!(matches!(cpu, FitError::NonFiniteData { .. }), "{cpu}");
    assert_eq!(format!("{split:?}"), format!("{cpu:?}"));
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn the_k_vector_pass_equals_k_single_passes_bit_for_bit() {
    let gpu = Gpu::shared().unwrap();
    // The register path (P = 3), weighted, linear and robust losses; more vectors than one
    // launch holds.
    let (x, y, s) = decay_data(300_000, 0.05);
    let data = FitData::new(vec![&x], &y, Some(&s), nlsq::NanPolicy::Raise, 1).unwrap();
    for precision in [Precision::F64, Precision::F32] {
        let dev = DeviceData::upload(&gpu, &data, precision).unwrap();
        for loss in [Loss::Linear, Loss::SoftL1] {
            let mut obj = nlsq::backend::cuda::CudaObjective::new(&Decay, &dev, loss, 0.5).unwrap();
            nlsq_testkit::suite::k_pass_equals_single_passes(
                &mut obj,
                &[2.0, 1.3, 0.4],
                &[1, 2, 7, 64, 65],
            );
        }
    }
    // The tiled path (P = 12 > REGISTER_PATH_MAX_P).
    let peaks = nlsq::ExprModel::parse(
        "a1*exp(-pow(x-c1, 2)*w1) + a2*exp(-pow(x-c2, 2)*w2) + a3*exp(-pow(x-c3, 2)*w3) \
         + a4*exp(-pow(x-c4, 2)*w4)",
    )
    .unwrap();
    let x: Vec<f64> = (0..200_000).map(|i| i as f64 * 1e-4).collect();
    let y: Vec<f64> = x.iter().map(|x| (-(x - 5.0) * (x - 5.0)).exp()).collect();
    let data = FitData::new(vec![&x], &y, None, nlsq::NanPolicy::Raise, 1).unwrap();
    let dev = DeviceData::upload(&gpu, &data, Precision::F64).unwrap();
    let mut obj = nlsq::backend::cuda::CudaObjective::new(&peaks, &dev, Loss::Linear, 1.0).unwrap();
    let p: Vec<f64> = (0..12).map(|j| 1.0 + 0.5 * j as f64).collect();
    nlsq_testkit::suite::k_pass_equals_single_passes(&mut obj, &p, &[1, 3, 8]);
    println!("nlsq_pass_k: every row equals the single pass's, bit for bit");
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn a_multistart_search_on_cuda_finds_the_cpus_minimum() {
    let (x, y, _) = decay_data(300_000, 0.05);
    let search = |backend| {
        CurveFit::new(Decay)
            .p0([20.0, 10.0, 5.0])
            .backend(backend)
            .multistart(nlsq::MultiStart::new(64).seed(1))
            .fit(&x, &y)
            .unwrap()
    };
    let (gpu, cpu) = (search(Backend::Cuda), search(Backend::Cpu));
    assert!(gpu.backend.starts_with("cuda"), "{}", gpu.backend);
    for (g, c) in gpu.popt.iter().zip(&cpu.popt) {
        assert!(rel(*g, *c) < 1e-9, "{:?} / {:?}", gpu.popt, cpu.popt);
    }
    let (gs, cs) = (gpu.search.unwrap(), cpu.search.unwrap());
    assert!(rel(gs.minima[0].cost, cs.minima[0].cost) < 1e-9);
    println!(
        "multistart on CUDA: {} K-passes over {} vectors (CPU: {} over {})",
        gs.k_passes, gs.vectors, cs.k_passes, cs.vectors
    );
}

//! On the GPU machine (feature `cuda`): fused-pass time against the device's copy bandwidth,
//! whole resident fits, and first fits in this process (kernel build or disk cache).
//!
//! ```sh
//! cargo bench --features cuda --bench cuda_roofline -- [N]      # default N = 1e8
//! ```
//! Prints a table and one JSON line (`RESULT {...}`).

use nlsq::backend::cuda::{CudaObjective, DeviceData, Gpu};
use nlsq::solve::Objective;
use nlsq::{Backend, CurveFit, FitData, Loss, Method, NanPolicy, Precision};
use nlsq_testkit::models::{Decay, Gaussian};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<f64>().ok())
        .map_or(100_000_000, |v| v as usize);
    let cold = Instant::now();
    let gpu = Gpu::shared().expect("a CUDA device");
    let open_s = cold.elapsed().as_secs_f64();
    // Copy bandwidth: device-to-device copies of 16 N bytes; bandwidth counts read + write.
    let bytes = 16 * n;
    let src = gpu.stream.alloc_zeros::<u8>(bytes).unwrap();
    let mut dst = gpu.stream.alloc_zeros::<u8>(bytes).unwrap();
    let mut copies = Vec::new();
    for i in 0..12 {
        gpu.stream.synchronize().unwrap();
        let t = Instant::now();
        gpu.stream.memcpy_dtod(&src, &mut dst).unwrap();
        gpu.stream.synchronize().unwrap();
        if i >= 2 {
            copies.push(t.elapsed().as_secs_f64());
        }
    }
    drop((src, dst));
    let copy_s = median(copies);
    let bandwidth = 2.0 * bytes as f64 / copy_s;
    let floor_s = bytes as f64 / bandwidth;
    println!("{} ({}), N = {n}", gpu.name, gpu.arch);
    println!(
        "device copy: {:.3} ms for {} MB -> {:.2} TB/s (read + write); pass floor 16 N / bw = {:.3} ms",
        copy_s * 1e3,
        bytes / 1_000_000,
        bandwidth / 1e12,
        floor_s * 1e3
    );
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut json = vec![format!(
        "\"n\":{n},\"copy_tb_s\":{:.4},\"floor_ms\":{:.5}",
        bandwidth / 1e12,
        floor_s * 1e3
    )];
    for which in ["decay", "gaussian"] {
        let y: Vec<f64> = x
            .iter()
            .map(|x| match which {
                "decay" => 2.5 * (-1.3 * x).exp() + 0.4,
                _ => 3.0 * (-(x - 2.4) * (x - 2.4) / (2.0 * 0.9 * 0.9)).exp(),
            })
            .collect();
        let host = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let t = Instant::now();
        let dev = DeviceData::upload(&gpu, &host, Precision::F64).unwrap();
        gpu.stream.synchronize().unwrap();
        let upload_s = t.elapsed().as_secs_f64();
        let p = [2.0, 1.0, 0.3];
        let pass_s = {
            let t = Instant::now();
            let times: Vec<f64> = if which == "decay" {
                let mut obj = CudaObjective::new(&Decay, &dev, Loss::Linear, 1.0).unwrap();
                let first = t.elapsed().as_secs_f64();
                println!(
                    "{which}: first objective (kernel build or cache) {:.1} ms",
                    first * 1e3
                );
                (0..25)
                    .map(|i| {
                        let t = Instant::now();
                        std::hint::black_box(obj.pass(&p).unwrap());
                        let e = t.elapsed().as_secs_f64();
                        if i < 2 {
                            eprintln!("  pass {i}: {:.3} ms", e * 1e3);
                        }
                        e
                    })
                    .skip(5)
                    .collect()
            } else {
                let mut obj = CudaObjective::new(&Gaussian, &dev, Loss::Linear, 1.0).unwrap();
                (0..25)
                    .map(|_| {
                        let t = Instant::now();
                        std::hint::black_box(obj.pass(&[1.0, 2.0, 1.0]).unwrap());
                        t.elapsed().as_secs_f64()
                    })
                    .skip(5)
                    .collect()
            };
            median(times)
        };
        eprintln!("  {which}: pass timed, fitting");
        let fits: Vec<(f64, usize)> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let r = if which == "decay" {
                    CurveFit::new(Decay)
                        .p0([1.0, 1.0, 0.0])
                        .method(Method::Lm)
                        .fit_resident(&dev)
                } else {
                    CurveFit::new(Gaussian)
                        .p0([1.0, 2.0, 1.0])
                        .method(Method::Lm)
                        .fit_resident(&dev)
                }
                .unwrap();
                assert!(r.success, "{}", r.message);
                (t.elapsed().as_secs_f64(), r.nfev)
            })
            .collect();
        let fit_s = median(fits.iter().map(|f| f.0).collect());
        println!(
            "{which}: upload {:.1} ms; pass {:.3} ms = {:.2} x floor ({:.0}% of copy bandwidth); whole resident fit {:.2} ms ({} passes)",
            upload_s * 1e3,
            pass_s * 1e3,
            pass_s / floor_s,
            100.0 * floor_s / pass_s,
            fit_s * 1e3,
            fits[0].1
        );
        json.push(format!(
            "\"{which}\":{{\"pass_ms\":{:.5},\"pass_over_floor\":{:.3},\"fit_ms\":{:.3},\"nfev\":{},\"upload_ms\":{:.2}}}",
            pass_s * 1e3,
            pass_s / floor_s,
            fit_s * 1e3,
            fits[0].1,
            upload_s * 1e3
        ));
    }
    // A whole host-data fit through Backend::Cuda (upload included), N = 1e6.
    let m = 1_000_000usize;
    let xs: Vec<f64> = (0..m).map(|i| 5.0 * i as f64 / m as f64).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 2.5 * (-1.3 * x).exp() + 0.4).collect();
    let warm: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            CurveFit::new(Decay)
                .p0([1.0, 1.0, 0.0])
                .backend(Backend::Cuda)
                .fit(&xs, &ys)
                .unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "host data, N = 1e6, Backend::Cuda, warm: {:.2} ms (upload included)",
        median(warm.clone()) * 1e3
    );
    println!("process: device open {:.1} ms", open_s * 1e3);
    let stats = gpu.cache.lock().unwrap().stats();
    println!("kernel cache: {stats:?}");
    json.push(format!(
        "\"warm_fit_1e6_ms\":{:.3},\"open_ms\":{:.1}",
        median(warm) * 1e3,
        open_s * 1e3
    ));
    println!("RESULT {{{}}}", json.join(","));
}

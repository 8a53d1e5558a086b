//! wgpu (feature `wgpu`): fused-pass time over resident data against the device's copy
//! bandwidth, in f32 and (where the adapter has SHADER_F64) f64, for a decay and a Gaussian.
//!
//! ```sh
//! cargo bench --features wgpu --bench wgpu_roofline -- [N]      # default N = 1e8
//! ```
//! The floor of a pass is the time to copy the bytes it reads (`(x, y)`: 2·N elements) with a
//! buffer-to-buffer copy, measured in the same run; a pass includes its dispatch, the copy of the
//! per-workgroup rows back to the host and their f64 sum. Prints a table and one JSON line
//! (`RESULT {...}`).

use nlsq::backend::wgpu::{DeviceData, Gpu, WgpuObjective};
use nlsq::solve::Objective;
use nlsq::{FitData, Loss, Model, NanPolicy, Precision, model};
use std::time::Instant;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

#[model]
fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
    let d = x - mu;
    amp * (-(d * d) / (2.0 * sigma * sigma)).exp()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median time of a device copy of `bytes` bytes (read `bytes`, write `bytes`).
fn copy_time(gpu: &Gpu, bytes: u64) -> f64 {
    use nlsq::backend::wgpu::wgpu;
    let make = |label| {
        gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    };
    let (src, dst) = (make("copy src"), make("copy dst"));
    let times = (0..12)
        .map(|_| {
            gpu.wait().unwrap();
            let t = Instant::now();
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            enc.copy_buffer_to_buffer(&src, 0, &dst, 0, bytes);
            gpu.queue.submit([enc.finish()]);
            gpu.wait().unwrap();
            t.elapsed().as_secs_f64()
        })
        .skip(2)
        .collect();
    median(times)
}

fn pass_time(model: &dyn Model, dev: &DeviceData, p: &[f64]) -> (f64, f64) {
    let t = Instant::now();
    let mut obj = WgpuObjective::new(model, dev, Loss::Linear, 1.0).unwrap();
    let first = t.elapsed().as_secs_f64();
    let times = (0..25)
        .map(|_| {
            let t = Instant::now();
            let pass = obj.pass(p).unwrap();
            assert_eq!(pass.n_points as usize, dev.shape.n);
            std::hint::black_box(pass);
            t.elapsed().as_secs_f64()
        })
        .skip(5)
        .collect();
    (median(times), first)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<f64>().ok())
        .map_or(100_000_000, |v| v as usize);
    let cold = Instant::now();
    let gpu = Gpu::shared().expect("a wgpu adapter");
    println!(
        "{} ({:?}, {:?}), f64: {}, N = {n}; device opened in {:.0} ms",
        gpu.info.name,
        gpu.info.backend,
        gpu.info.device_type,
        gpu.has_f64,
        cold.elapsed().as_secs_f64() * 1e3
    );
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut json = vec![format!(
        "\"n\":{n},\"adapter\":\"{}\",\"backend\":\"{:?}\"",
        gpu.info.name.replace('"', "'"),
        gpu.info.backend
    )];
    let precisions: &[Precision] = if gpu.has_f64 {
        &[Precision::F32, Precision::F64]
    } else {
        &[Precision::F32]
    };
    for &precision in precisions {
        let bytes = 2 * n as u64 * Gpu::elem_bytes(precision);
        let copy_s = copy_time(&gpu, bytes);
        let bandwidth = 2.0 * bytes as f64 / copy_s;
        let floor_s = bytes as f64 / bandwidth;
        println!(
            "{precision}: device copy of {} MB in {:.3} ms -> {:.1} GB/s (read + write); pass floor {:.3} ms",
            bytes / 1_000_000,
            copy_s * 1e3,
            bandwidth / 1e9,
            floor_s * 1e3
        );
        let mut entries = vec![format!(
            "\"copy_gb_s\":{:.2},\"floor_ms\":{:.5}",
            bandwidth / 1e9,
            floor_s * 1e3
        )];
        for which in ["decay", "gaussian"] {
            let (model, p, y): (&dyn Model, [f64; 3], Vec<f64>) = match which {
                "decay" => (
                    &Decay,
                    [2.0, 1.0, 0.3],
                    x.iter().map(|x| 2.5 * (-1.3 * x).exp() + 0.4).collect(),
                ),
                _ => (
                    &Gaussian,
                    [1.0, 2.0, 1.0],
                    x.iter()
                        .map(|x| 3.0 * (-(x - 2.4) * (x - 2.4) / (2.0 * 0.9 * 0.9)).exp())
                        .collect(),
                ),
            };
            let host = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
            let t = Instant::now();
            let dev = DeviceData::upload(&gpu, &host, precision).unwrap();
            let upload_s = t.elapsed().as_secs_f64();
            let (pass_s, first_s) = pass_time(model, &dev, &p);
            println!(
                "{precision} {which}: upload {:.1} ms ({} chunk(s)); pipelines {:.0} ms; pass {:.3} ms = {:.2} x floor ({:.0}% of copy bandwidth)",
                upload_s * 1e3,
                dev.chunks.len(),
                first_s * 1e3,
                pass_s * 1e3,
                pass_s / floor_s,
                100.0 * floor_s / pass_s
            );
            entries.push(format!(
                "\"{which}\":{{\"pass_ms\":{:.5},\"pass_over_floor\":{:.3},\"upload_ms\":{:.2},\"first_objective_ms\":{:.1}}}",
                pass_s * 1e3,
                pass_s / floor_s,
                upload_s * 1e3,
                first_s * 1e3
            ));
        }
        json.push(format!("\"{precision}\":{{{}}}", entries.join(",")));
    }
    println!("RESULT {{{}}}", json.join(","));
}

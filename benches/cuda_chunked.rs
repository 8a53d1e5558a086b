//! On the GPU machine (feature `cuda`): the chunked driver against the host-to-device copy
//! bandwidth, measured in the same run.
//!
//! 1. A plain pinned copy: one page-locked host buffer copied again and again into a device
//!    buffer on one stream (the bandwidth a chunked pass can at best reach).
//! 2. A chunked pass over `N` points of f32 data (default 1e9: 8 GB of x and y) with the
//!    device budget set below the data size: the data is staged once in pinned host blocks,
//!    then every pass streams them through two device buffers, copies overlapped with the
//!    passes. Throughput = data bytes per pass / pass time (median of warm passes).
//! 3. Correctness first: a whole chunked fit against the in-memory device fit of the same f32
//!    data (when the device holds it), and the true parameters.
//!
//! ```sh
//! cargo bench --features cuda --bench cuda_chunked -- 1e9 2147483648
//! ```
//! (points, device budget in bytes). Prints `RESULT {...}` last.

use nlsq::backend::cuda::{ChunkedConfig, ChunkedCudaObjective, Gpu};
use nlsq::solve::Objective;
use nlsq::stream::{ChunkReader, SliceSource};
use nlsq::{Backend, CurveFit, DataMode, Loss, Method, NanPolicy, Precision, model};
use std::time::Instant;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Host-to-device bandwidth of a plain pinned copy, bytes per second.
fn pinned_copy_bandwidth(gpu: &Gpu, bytes: usize) -> f64 {
    let n = bytes / 4;
    let stream = gpu.ctx.new_stream().expect("stream");
    // SAFETY: the contents are never read; only the copy is timed.
    let host = unsafe { gpu.ctx.alloc_pinned::<f32>(n) }.expect("pinned");
    let mut dev = stream.alloc_zeros::<f32>(n).expect("device buffer");
    let reps = 20;
    for _ in 0..3 {
        stream.memcpy_htod(&host, &mut dev).expect("copy");
    }
    stream.synchronize().expect("sync");
    let times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                stream.memcpy_htod(&host, &mut dev).expect("copy");
            }
            stream.synchronize().expect("sync");
            t.elapsed().as_secs_f64()
        })
        .collect();
    (reps * n * 4) as f64 / median(times)
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<f64>().ok());
    let n = args.next().map_or(1_000_000_000, |v| v as usize);
    let device_budget = args.next().map_or(2u64 << 30, |v| v as u64);
    let gpu = Gpu::shared().expect("a CUDA device");
    let t = Instant::now();
    let x: Vec<f64> = (0..n).map(|i| 10.0 * i as f64 / n as f64).collect();
    let mut s: u64 = 12345;
    let y: Vec<f64> = x
        .iter()
        .map(|x| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            2.5 * (-1.3 * x).exp() + 0.4 + 0.02 * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect();
    eprintln!("data generated in {:.1} s", t.elapsed().as_secs_f64());
    let data_bytes = n as u64 * 8; // f32 x and y
    assert!(
        device_budget < data_bytes,
        "the device budget must be below the data size"
    );

    // 1. Correctness: a whole chunked fit.
    let t = Instant::now();
    let chunked = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .method(Method::Lm)
        .backend(Backend::Cuda)
        .precision(Precision::F32)
        .max_device_bytes(device_budget)
        .fit(&x, &y)
        .expect("chunked fit");
    let fit_s = t.elapsed().as_secs_f64();
    assert_eq!(chunked.data_plan.mode, DataMode::Chunked);
    println!("{chunked}");
    for (j, truth) in [2.5, 1.3, 0.4].into_iter().enumerate() {
        assert!(
            (chunked.popt[j] - truth).abs() < 1e-3,
            "p{j} = {} far from {truth}",
            chunked.popt[j]
        );
    }
    let free = gpu.ctx.mem_get_info().map(|(f, _)| f as u64).unwrap_or(0);
    let vs_memory = if free > 2 * data_bytes {
        let memory = CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .method(Method::Lm)
            .backend(Backend::Cuda)
            .precision(Precision::F32)
            .fit(&x, &y)
            .expect("in-memory fit");
        let worst = (0..3)
            .map(|j| ((chunked.popt[j] - memory.popt[j]) / memory.popt[j]).abs())
            .fold(0.0, f64::max);
        println!("chunked vs in-memory device fit: worst relative difference of popt {worst:e}");
        assert!(worst < 1e-6);
        Some(worst)
    } else {
        None
    };

    // 2. Pass throughput against the plain pinned copy.
    let mut source = SliceSource::new(vec![&x[..]], &y);
    let reader = ChunkReader::new(&mut source, NanPolicy::Raise, 1 << 24);
    let host_budget = nlsq::memory::host_memory().available / 2;
    let mut obj = ChunkedCudaObjective::new(
        &Decay,
        &gpu,
        reader,
        Precision::F32,
        Loss::Linear,
        1.0,
        ChunkedConfig {
            device_budget,
            host_budget,
            n_hint: Some(n as u64),
        },
    )
    .expect("objective");
    let p = chunked.popt.clone();
    let t = Instant::now();
    obj.pass(&p).expect("first pass (staging)");
    let staging_s = t.elapsed().as_secs_f64();
    let passes: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(obj.pass(&p).expect("pass"));
            t.elapsed().as_secs_f64()
        })
        .collect();
    let pass_s = median(passes);
    let throughput = data_bytes as f64 / pass_s;
    let capacity = obj.capacity();
    drop(obj);
    let copy_bw = pinned_copy_bandwidth(&gpu, (capacity * 8).min(1 << 30));
    let ratio = throughput / copy_bw;
    println!(
        "| N | device budget | buffer points | pass (ms) | pass GB/s | pinned copy GB/s | ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n| {n:.0e} | {device_budget} | {capacity} | {:.2} | {:.2} | {:.2} | {:.3} |",
        pass_s * 1e3,
        throughput / 1e9,
        copy_bw / 1e9,
        ratio
    );
    println!(
        "RESULT {{\"n\": {n}, \"device_budget\": {device_budget}, \"buffer_points\": {capacity}, \"chunks_per_pass\": {}, \"fit_s\": {fit_s:.3}, \"staging_pass_s\": {staging_s:.3}, \"pass_s\": {pass_s:.5}, \"pass_gbps\": {:.3}, \"pinned_copy_gbps\": {:.3}, \"ratio\": {ratio:.4}, \"vs_in_memory_popt\": {}, \"popt\": {:?}, \"device\": \"{}\"}}",
        chunked.data_plan.chunks_per_pass,
        throughput / 1e9,
        copy_bw / 1e9,
        vs_memory.map_or("null".to_string(), |w| format!("{w:e}")),
        chunked.popt,
        gpu.name
    );
}

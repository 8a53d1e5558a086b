//! Executes the generated CUDA kernels on a GPU and checks them against a CPU evaluation of
//! the same model: fused-pass sums (register and tiled paths, every loss, weights, f32 and
//! f64), non-finite counting, bit-identical re-runs, and the eval / residual / Jacobian kernels.
//!
//! Needs an NVIDIA GPU: ignored here, with that reason; on the GPU machine `cargo test -p
//! kernels-gen --test cuda_exec -- --ignored`.

#![cfg(feature = "nvrtc")]

mod support;

use cudarc::driver::{CudaContext, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use kernels_gen::kernels::abi;
use kernels_gen::{Compiled, Precision, nvrtc};
use std::sync::Arc;
use support::pass::{Problem, cases, compare, cpu_row, problem};

struct Gpu {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
}

impl Gpu {
    fn upload(&self, v: &[f64], precision: Precision) -> Buf {
        match precision {
            Precision::F64 => Buf::F64(self.stream.clone_htod(v).unwrap()),
            Precision::F32 => {
                let f: Vec<f32> = v.iter().map(|&a| a as f32).collect();
                Buf::F32(self.stream.clone_htod(&f).unwrap())
            }
        }
    }
}

enum Buf {
    F32(CudaSlice<f32>),
    F64(CudaSlice<f64>),
}

macro_rules! push_buf {
    ($b:expr, $buf:expr) => {
        match $buf {
            Buf::F32(s) => $b.arg(s),
            Buf::F64(s) => $b.arg(s),
        }
    };
}

/// Runs nlsq_pass + nlsq_reduce; returns the reduced row.
#[allow(clippy::too_many_arguments)]
fn gpu_row(
    gpu: &Gpu,
    c: &Compiled,
    pr: &Problem,
    precision: Precision,
    code: u32,
    f_scale: f64,
    weighted: bool,
    grid: u32,
) -> Vec<f64> {
    let np = c.ir.n_params();
    let cubin = nvrtc::compile_cubin(c.cuda_source(precision), "sm_90", &c.ir.name).unwrap();
    let module = gpu.ctx.load_module(Ptx::from_binary(cubin)).unwrap();
    let pass = module.load_function("nlsq_pass").unwrap();
    let reduce = module.load_function("nlsq_reduce").unwrap();
    let x = gpu.upload(&pr.x, precision);
    let y = gpu.upload(&pr.y, precision);
    let w = gpu.upload(&pr.w, precision);
    let params = gpu.stream.clone_htod(&pr.p).unwrap();
    let width = abi::reduction_width(np);
    let mut partials = gpu
        .stream
        .alloc_zeros::<f64>(grid as usize * width)
        .unwrap();
    let mut out = gpu.stream.alloc_zeros::<f64>(width).unwrap();
    let (n, stride, loss_code) = (pr.n as u64, pr.n as u64, code as i32);
    let null: u64 = 0;
    let mut b = gpu.stream.launch_builder(&pass);
    push_buf!(b, &x);
    push_buf!(b, &y);
    if weighted {
        push_buf!(b, &w);
    } else {
        b.arg(&null);
    }
    b.arg(&params)
        .arg(&n)
        .arg(&stride)
        .arg(&loss_code)
        .arg(&f_scale)
        .arg(&mut partials);
    let cfg = LaunchConfig {
        grid_dim: (grid, 1, 1),
        block_dim: (abi::cuda_block_size(np), 1, 1),
        shared_mem_bytes: 0,
    };
    unsafe { b.launch(cfg) }.unwrap();
    let n_blocks = grid;
    let mut r = gpu.stream.launch_builder(&reduce);
    r.arg(&partials).arg(&n_blocks).arg(&mut out);
    unsafe { r.launch(LaunchConfig::for_num_elems(width as u32)) }.unwrap();
    gpu.stream.clone_dtoh(&out).unwrap()
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn fused_pass_matches_cpu_on_every_path_loss_and_precision() {
    let ctx = CudaContext::new(0).unwrap();
    let gpu = Gpu {
        stream: ctx.default_stream(),
        ctx,
    };
    let mut checked = 0;
    for (seed, (m, n, xr, p)) in cases().into_iter().enumerate() {
        let name = m.name.clone();
        let pr = problem(&m, n, xr, p, seed as u64 + 1);
        let c = Compiled::new(m);
        for precision in Precision::ALL {
            let tol = match precision {
                Precision::F64 => 1e-13,
                Precision::F32 => 1e-5,
            };
            for code in abi::LOSS_LINEAR..=abi::LOSS_ARCTAN {
                let weighted = code % 2 == 0;
                let f_scale = 0.3;
                let g = gpu_row(&gpu, &c, &pr, precision, code, f_scale, weighted, 97);
                let mut pw = Problem {
                    x: pr.x.clone(),
                    y: pr.y.clone(),
                    w: pr.w.clone(),
                    p: pr.p.clone(),
                    n: pr.n,
                };
                if !weighted {
                    pw.w = vec![1.0; pr.n];
                }
                let cpu = cpu_row(&c.ir, &pw, precision, code, f_scale);
                compare(&name, &format!("{precision} loss {code}"), &g, &cpu, tol);
                checked += 1;
            }
        }
        println!("{name}: fused pass agrees with the CPU (f32, f64; 5 losses)");
    }
    println!("{checked} fused passes checked on the GPU");
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn non_finite_points_are_counted_and_reruns_are_bit_identical() {
    let ctx = CudaContext::new(0).unwrap();
    let gpu = Gpu {
        stream: ctx.default_stream(),
        ctx,
    };
    for (m, n, xr, p) in cases().into_iter().take(5) {
        let np = m.n_params();
        let mut pr = problem(&m, n, xr, p, 42);
        pr.y[17] = f64::NAN;
        pr.y[n - 1] = f64::INFINITY;
        let c = Compiled::new(m);
        let a = gpu_row(
            &gpu,
            &c,
            &pr,
            Precision::F64,
            abi::LOSS_HUBER,
            1.0,
            true,
            131,
        );
        let b = gpu_row(
            &gpu,
            &c,
            &pr,
            Precision::F64,
            abi::LOSS_HUBER,
            1.0,
            true,
            131,
        );
        assert_eq!(a[abi::nonfinite_index(np)], 2.0, "{}", c.ir.name);
        assert_eq!(a[abi::count_index(np)], (n - 2) as f64);
        assert!(a.iter().all(|v| v.is_finite()));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{}: re-run differs", c.ir.name);
    }
}

#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn eval_residual_and_jacobian_kernels_match_cpu() {
    let ctx = CudaContext::new(0).unwrap();
    let gpu = Gpu {
        stream: ctx.default_stream(),
        ctx,
    };
    for (m, _, xr, p) in cases().into_iter().take(5) {
        let n = 5_000;
        let np = m.n_params();
        let pr = problem(&m, n, xr, p, 7);
        let c = Compiled::new(m);
        let cubin =
            nvrtc::compile_cubin(c.cuda_source(Precision::F64), "sm_90", &c.ir.name).unwrap();
        let module = gpu.ctx.load_module(Ptx::from_binary(cubin)).unwrap();
        let x = gpu.stream.clone_htod(&pr.x).unwrap();
        let y = gpu.stream.clone_htod(&pr.y).unwrap();
        let w = gpu.stream.clone_htod(&pr.w).unwrap();
        let params = gpu.stream.clone_htod(&pr.p).unwrap();
        let mut f = gpu.stream.alloc_zeros::<f64>(n).unwrap();
        let mut r = gpu.stream.alloc_zeros::<f64>(n).unwrap();
        let mut jac = gpu.stream.alloc_zeros::<f64>(n * np).unwrap();
        let (nn, stride) = (n as u64, n as u64);
        let cfg = LaunchConfig {
            grid_dim: (40, 1, 1),
            block_dim: (128, 1, 1),
            shared_mem_bytes: 0,
        };
        let k_eval = module.load_function("nlsq_eval").unwrap();
        let k_res = module.load_function("nlsq_residuals").unwrap();
        let k_jac = module.load_function("nlsq_jacobian").unwrap();
        unsafe {
            let mut b = gpu.stream.launch_builder(&k_eval);
            b.arg(&x).arg(&params).arg(&nn).arg(&stride).arg(&mut f);
            b.launch(cfg).unwrap();
            let mut b = gpu.stream.launch_builder(&k_res);
            b.arg(&x)
                .arg(&y)
                .arg(&w)
                .arg(&params)
                .arg(&nn)
                .arg(&stride)
                .arg(&mut r);
            b.launch(cfg).unwrap();
            let mut b = gpu.stream.launch_builder(&k_jac);
            b.arg(&x)
                .arg(&w)
                .arg(&params)
                .arg(&nn)
                .arg(&stride)
                .arg(&mut jac);
            b.launch(cfg).unwrap();
        }
        let (f, r, jac) = (
            gpu.stream.clone_dtoh(&f).unwrap(),
            gpu.stream.clone_dtoh(&r).unwrap(),
            gpu.stream.clone_dtoh(&jac).unwrap(),
        );
        let k = c.ir.n_inputs();
        for i in 0..n {
            let xi: Vec<f64> = (0..k).map(|col| pr.x[col * n + i]).collect();
            let (v, g) = c.ir.eval_with_gradient(&xi, &pr.p);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
            assert!(close(f[i], v), "{}: eval {i}", c.ir.name);
            assert!(
                close(r[i], (v - pr.y[i]) * pr.w[i]),
                "{}: residual {i}",
                c.ir.name
            );
            for j in 0..np {
                assert!(
                    close(jac[i * np + j], g[j] * pr.w[i]),
                    "{}: jacobian {i},{j}",
                    c.ir.name
                );
            }
        }
    }
}

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
use kernels_gen::{Compiled, ModelIr, Precision, nvrtc};
use std::sync::Arc;

/// Deterministic pseudo-random numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Problem {
    x: Vec<f64>, // column-major, K columns of n
    y: Vec<f64>,
    w: Vec<f64>,
    p: Vec<f64>,
    n: usize,
}

fn problem(m: &ModelIr, n: usize, x_range: (f64, f64), p: Vec<f64>, seed: u64) -> Problem {
    let mut rng = Lcg(seed);
    let k = m.n_inputs();
    let mut x = vec![0.0; k * n];
    for v in x.iter_mut() {
        *v = x_range.0 + (x_range.1 - x_range.0) * rng.next();
    }
    let tape = m.tape();
    let mut scratch = Vec::new();
    let mut out = vec![0.0; m.n_params() + 1];
    let mut y = vec![0.0; n];
    let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.next()).collect();
    for i in 0..n {
        let xi: Vec<f64> = (0..k).map(|c| x[c * n + i]).collect();
        tape.eval_into(&xi, &p, &mut scratch, &mut out);
        // Perturb so residuals are not all zero, with a few outliers for the robust losses.
        let noise = 0.05 * (rng.next() - 0.5) + if i % 97 == 0 { 3.0 } else { 0.0 };
        y[i] = out[0] * (1.0 + noise) + noise;
    }
    Problem { x, y, w, p, n }
}

/// scipy's robust loss: (f_scale^2 rho, s, scaled residual).
fn loss(code: u32, f_scale: f64, r: f64) -> (f64, f64, f64) {
    if code == abi::LOSS_LINEAR {
        return (r * r, 1.0, r);
    }
    let z = (r / f_scale).powi(2);
    let (p0, p1, p2) = match code {
        abi::LOSS_SOFT_L1 => {
            let t = 1.0 + z;
            (2.0 * (t.sqrt() - 1.0), t.powf(-0.5), -0.5 * t.powf(-1.5))
        }
        abi::LOSS_HUBER if z <= 1.0 => (z, 1.0, 0.0),
        abi::LOSS_HUBER => (2.0 * z.sqrt() - 1.0, z.powf(-0.5), -0.5 * z.powf(-1.5)),
        abi::LOSS_CAUCHY => ((1.0 + z).ln(), 1.0 / (1.0 + z), -1.0 / (1.0 + z).powi(2)),
        _ => (
            z.atan(),
            1.0 / (1.0 + z * z),
            -2.0 * z / (1.0 + z * z).powi(2),
        ),
    };
    let s = (p1 + 2.0 * p2 * z).max(f64::EPSILON).sqrt();
    (f_scale * f_scale * p0, s, r * p1 / s)
}

/// The reduction row, computed on the CPU in f64 from data rounded to `precision`, and the
/// same row summing absolute values of the terms (the scale rounding errors are relative to).
fn cpu_row(
    m: &ModelIr,
    pr: &Problem,
    precision: Precision,
    code: u32,
    f_scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let round = |v: f64| match precision {
        Precision::F32 => v as f32 as f64,
        Precision::F64 => v,
    };
    let np = m.n_params();
    let k = m.n_inputs();
    let tape = m.tape();
    let mut scratch = Vec::new();
    let mut out = vec![0.0; np + 1];
    let mut row = vec![0.0; abi::reduction_width(np)];
    let mut abs = vec![0.0; abi::reduction_width(np)];
    let p: Vec<f64> = pr.p.iter().map(|&v| round(v)).collect();
    for i in 0..pr.n {
        let xi: Vec<f64> = (0..k).map(|c| round(pr.x[c * pr.n + i])).collect();
        tape.eval_into(&xi, &p, &mut scratch, &mut out);
        let wi = round(pr.w[i]);
        let r = (out[0] - round(pr.y[i])) * wi;
        let jac: Vec<f64> = out[1..].iter().map(|g| g * wi).collect();
        if !r.is_finite() || jac.iter().any(|v| !v.is_finite()) {
            row[abi::nonfinite_index(np)] += 1.0;
            continue;
        }
        let (rho, s, rs) = loss(code, f_scale, r);
        let mut add = |e: usize, v: f64| {
            row[e] += v;
            abs[e] += v.abs();
        };
        add(0, rho);
        for a in 0..np {
            for b in a..np {
                add(abi::jtj_index(np, a, b), jac[a] * s * jac[b] * s);
            }
            add(abi::jtr_index(np, a), jac[a] * s * rs);
        }
        add(abi::count_index(np), 1.0);
    }
    (row, abs)
}

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

/// Every entry within `tol` of the sum of the absolute values of its terms.
fn compare(name: &str, what: &str, gpu: &[f64], cpu: &(Vec<f64>, Vec<f64>), tol: f64) {
    for (e, ((g, c), a)) in gpu.iter().zip(&cpu.0).zip(&cpu.1).enumerate() {
        let err = (g - c).abs() / a.max(f64::MIN_POSITIVE);
        assert!(
            err <= tol || g == c,
            "{name} {what}: entry {e}: GPU {g} vs CPU {c} (error {err:.2e} of the term magnitude)"
        );
    }
}

/// A model, its point count, the x range and the true parameters.
type Case = (ModelIr, usize, (f64, f64), Vec<f64>);

fn cases() -> Vec<Case> {
    let extra = support::extra_models();
    let corpus = support::corpus();
    let find = |n: &str| corpus.iter().find(|m| m.name == n).unwrap().clone();
    vec![
        (extra[2].clone(), 200_003, (0.0, 5.0), vec![2.0, 0.7, 0.3]),
        (find("gaussian"), 100_000, (-3.0, 3.0), vec![1.5, 0.2, 0.8]),
        (find("nelson"), 50_000, (1.0, 40.0), vec![2.5, 5.6e-3, 0.05]),
        (
            find("multi_gaussian"),
            60_000,
            (-5.0, 5.0),
            vec![1.0, 0.5, 0.8, -2.0, 0.0, 2.5, 0.6, 0.9, 1.2, 0.1],
        ),
        (
            extra[0].clone(),
            40_000,
            (-1.0, 1.0),
            (0..12).map(|i| 1.0 / (1.0 + i as f64)).collect(),
        ),
        (
            extra[1].clone(),
            3_000,
            (0.0, 3.0),
            (0..256).map(|i| ((i % 7) as f64 - 3.0) * 0.1).collect(),
        ),
    ]
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

//! The generated CUDA pass module executed without a GPU: each model's module
//! (`kernels::cuda::module_source`) is compiled for the host with g++ behind a small CUDA shim
//! (`cuda_host/shim.h`: blocks of std::threads, warp shuffles through barriers) and run by
//! `cuda_host/driver.cpp`. Checks, on the host, what `cuda_exec.rs` checks on a GPU:
//!
//! * `nlsq_div` (one reciprocal shared by the divisions of a denominator, then corrected) gives
//!   the bits of the division, in f64 and f32, over random, extreme and special operands;
//! * `nlsq_pass` + `nlsq_reduce` (register and tiled paths, every loss, weights, f32 and f64)
//!   agree with the CPU row of the model's tape, and count non-finite points exactly;
//! * `nlsq_data_check` finds the first point whose `x` or `y` is not finite.
//!
//! Needs a C++ compiler (`c++`, e.g. g++): without one the tests fail, saying so (CI has one),
//! rather than pass without running the kernels.

mod support;

use kernels_gen::kernels::{abi, cuda};
use kernels_gen::{ModelIr, Precision};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::pass::{Lcg, Problem, cases, compare, cpu_row, problem};

const SHIM: &str = include_str!("cuda_host/shim.h");
const DRIVER: &str = include_str!("cuda_host/driver.cpp");

/// Blocks of a host launch: enough for the grid-stride loops to wrap.
const GRID: u32 = 3;

fn work_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nlsq-cuda-host-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}

/// Compiles the pass module of `model` in `precision` with the shim and driver.
fn build(model: &ModelIr, precision: Precision, dir: &Path, tag: &str) -> PathBuf {
    let src = cuda::module_source(model, precision);
    let cpp = dir.join(format!("{tag}.cpp"));
    std::fs::write(&cpp, format!("{SHIM}\n{src}\n{DRIVER}")).expect("write the source");
    let bin = dir.join(tag);
    let out = Command::new("c++")
        .args([
            "-O1",
            "-std=c++20",
            "-pthread",
            "-w",
            "-ffp-contract=off",
            "-o",
        ])
        .arg(&bin)
        .arg(&cpp)
        .output()
        .unwrap_or_else(|e| {
            panic!("no C++ compiler (`c++`: {e}): install g++ to run the CUDA module on the host")
        });
    assert!(
        out.status.success(),
        "g++ rejected the CUDA module of {}:\n{}",
        model.name,
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

fn write_f64(path: &Path, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|d| d.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write the input");
}

fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .expect("read the output")
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Runs the driver in `mode` on `input`; returns its output.
fn run(bin: &Path, mode: &str, input: &[f64], dir: &Path, tag: &str) -> Vec<f64> {
    let (inp, outp) = (
        dir.join(format!("{tag}.in")),
        dir.join(format!("{tag}.out")),
    );
    write_f64(&inp, input);
    let out = Command::new(bin)
        .arg(mode)
        .arg(&inp)
        .arg(&outp)
        .output()
        .expect("run the host kernel");
    assert!(
        out.status.success(),
        "host kernel failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_f64(&outp)
}

/// The driver's input: header, x, y, weights when `weighted`, parameters.
fn input(pr: &Problem, k: usize, loss: u32, f_scale: f64, weighted: bool) -> Vec<f64> {
    let mut v = vec![
        pr.n as f64,
        k as f64,
        loss as f64,
        f_scale,
        if weighted { 1.0 } else { 0.0 },
        GRID as f64,
    ];
    v.extend(&pr.x);
    v.extend(&pr.y);
    if weighted {
        v.extend(&pr.w);
    }
    v.extend(&pr.p);
    v
}

/// Operands for the division test: random bit patterns, random normal values, exponents on
/// both sides of `nlsq_div`'s thresholds, quotients near the ends of the range, specials.
fn division_operands(count: usize) -> Vec<f64> {
    let mut rng = Lcg(12345);
    let mut bits =
        || ((rng.next() * 2f64.powi(32)) as u64) << 32 | (rng.next() * 2f64.powi(32)) as u64;
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        f64::MAX,
        5e-324,
        f32::MAX as f64,
        f32::MIN_POSITIVE as f64,
        1e-40,
    ];
    let mut v = Vec::with_capacity(2 * count);
    for a in special {
        for b in special {
            v.extend([a, b]);
        }
    }
    for i in 0..count {
        let (a, b) = match i % 4 {
            // Any bits at all.
            0 => (f64::from_bits(bits()), f64::from_bits(bits())),
            // Ordinary magnitudes, mantissas random.
            1 => {
                let m =
                    |r: u64| f64::from_bits((r & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
                let e = |r: u64| 2f64.powi((r % 200) as i32 - 100);
                let (ra, rb) = (bits(), bits());
                (m(ra) * e(ra >> 52), -m(rb) * e(rb >> 40))
            }
            // Exponents around the double thresholds (biased 64 and 1983).
            2 => {
                let r = bits();
                let exp = [60u64, 63, 64, 65, 1982, 1983, 1984, 1990, 1023, 900][(r % 10) as usize];
                let a = f64::from_bits((exp << 52) | (r & 0x000f_ffff_ffff_ffff));
                let b =
                    f64::from_bits((((r >> 20) % 2047) << 52) | (bits() & 0x000f_ffff_ffff_ffff));
                (a, b)
            }
            // Float-range operands around the f32 thresholds (biased 27 and 227).
            _ => {
                let r = bits();
                let ea = [25i32, 27, 28, 100, 126, 226, 227, 228][(r % 8) as usize] - 127;
                let eb = ((r >> 8) % 250) as i32 - 125;
                let m = |r: u64| 1.0 + (r & 0xffffff) as f64 / 16777216.0;
                (m(r >> 16) * 2f64.powi(ea), m(r >> 40) * 2f64.powi(eb))
            }
        };
        v.extend([a, b]);
    }
    v
}

#[test]
fn shared_reciprocal_division_has_the_bits_of_the_division() {
    let dir = work_dir("div");
    let m = kernels_gen::parse::model_from_expr("a * exp(-b * x) + c", None).expect("a model");
    let operands = division_operands(400_000);
    for precision in Precision::ALL {
        let bin = build(&m, precision, &dir, &format!("div_{precision}"));
        let out = run(&bin, "div", &operands, &dir, &format!("div_{precision}"));
        assert_eq!(out.len(), operands.len(), "one (nlsq_div, a / b) per pair");
        let mut fast = 0;
        for (pair, got) in operands.chunks_exact(2).zip(out.chunks_exact(2)) {
            let (q, d) = (got[0], got[1]);
            assert!(
                q.to_bits() == d.to_bits() || (q.is_nan() && d.is_nan()),
                "{precision}: nlsq_div({:e}, {:e}) = {q:e} ({:#x}) but the division gives {d:e} ({:#x})",
                pair[0],
                pair[1],
                q.to_bits(),
                d.to_bits()
            );
            fast += usize::from(q.is_normal());
        }
        println!(
            "{precision}: nlsq_div equals the division to the bit on {} operand pairs ({fast} normal quotients)",
            out.len() / 2
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fused_pass_on_the_host_matches_cpu_on_every_path_loss_and_precision() {
    let dir = work_dir("pass");
    let mut checked = 0;
    for (seed, (m, n, xr, p)) in cases().into_iter().enumerate() {
        let name = m.name.clone();
        let mut pr = problem(&m, n.min(20_000), xr, p, seed as u64 + 1);
        if seed == 0 {
            // Points the pass must skip and count: a non-finite y, and a residual that is.
            pr.y[7] = f64::NAN;
            pr.y[1000] = f64::INFINITY;
        }
        let k = m.n_inputs();
        for precision in Precision::ALL {
            let tol = match precision {
                Precision::F64 => 1e-13,
                Precision::F32 => 1e-5,
            };
            let bin = build(&m, precision, &dir, &format!("{name}_{precision}"));
            for code in abi::LOSS_LINEAR..=abi::LOSS_ARCTAN {
                let weighted = code % 2 == 0;
                let f_scale = 0.3;
                let row = run(
                    &bin,
                    "pass",
                    &input(&pr, k, code, f_scale, weighted),
                    &dir,
                    &format!("{name}_{precision}_{code}"),
                );
                let pw = Problem {
                    x: pr.x.clone(),
                    y: pr.y.clone(),
                    w: if weighted {
                        pr.w.clone()
                    } else {
                        vec![1.0; pr.n]
                    },
                    p: pr.p.clone(),
                    n: pr.n,
                };
                let cpu = cpu_row(&m, &pw, precision, code, f_scale);
                compare(&name, &format!("{precision} loss {code}"), &row, &cpu, tol);
                let np = m.n_params();
                if seed == 0 {
                    assert_eq!(row[abi::nonfinite_index(np)], 2.0, "{name}: skipped points");
                }
                assert_eq!(
                    row[abi::nonfinite_index(np)] + row[abi::count_index(np)],
                    pr.n as f64,
                    "{name}: every point counted once"
                );
                checked += 1;
            }
        }
        println!(
            "{name} (P = {}, {} path): the host-compiled pass agrees with the CPU (f32, f64; 5 losses)",
            m.n_params(),
            if abi::uses_register_path(m.n_params()) {
                "register"
            } else {
                "tiled"
            }
        );
    }
    println!("{checked} host-compiled passes checked");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn data_check_finds_the_first_nonfinite_point() {
    let dir = work_dir("check");
    let corpus = support::corpus();
    let m = corpus
        .iter()
        .find(|m| m.n_inputs() == 2)
        .expect("a corpus model with two predictors")
        .clone();
    let p = vec![0.5; m.n_params()];
    let n = 5000;
    for precision in Precision::ALL {
        let bin = build(&m, precision, &dir, &format!("check_{precision}"));
        let mut pr = problem(&m, n, (0.1, 1.0), p.clone(), 7);
        let first = |pr: &Problem, tag: &str| {
            run(&bin, "check", &input(pr, 2, 0, 1.0, false), &dir, tag)[0]
        };
        assert_eq!(first(&pr, "clean"), -1.0, "{precision}: all finite");
        pr.y[4321] = f64::INFINITY;
        assert_eq!(first(&pr, "y"), 4321.0, "{precision}: y");
        pr.x[n + 777] = f64::NAN; // second predictor
        assert_eq!(first(&pr, "x1"), 777.0, "{precision}: second predictor");
        pr.x[3] = f64::NEG_INFINITY;
        assert_eq!(first(&pr, "x0"), 3.0, "{precision}: first predictor");
    }
    println!("nlsq_data_check: first non-finite x or y found (f32, f64)");
    std::fs::remove_dir_all(&dir).ok();
}

//! The CUDA batch kernel's logic, executed without a GPU: each model's batch module
//! (`Model::cuda_batch_source`) is compiled for the host with g++ behind a small CUDA shim
//! (tests/batch_host/shim.h) and its one-thread-per-fit kernel run fit by fit
//! (tests/batch_host/driver.cpp), and its one-warp-per-fit kernel with 32 threads as lanes.
//! Their results must be those of the CPU backend: same states, iterations and parameters (to
//! rounding: the shim gives the kernel the CPU backend's block `exp`; the warp kernel sums in
//! another order), on acceptance problems, per-fit failures, fixed parameters, bounds, weights,
//! variable lengths, Poisson MLE and covariances; with equal lengths also with `y` staged in
//! shared memory by whole blocks of threads. The launcher itself needs the device
//! (tests/batch_cuda.rs, on the GPU machine). Needs a C++ compiler (`c++`, e.g. g++): without
//! one the tests fail, saying so (CI installs one), rather than pass without running the kernel.

use nlsq::batch::{BatchResult, Estimator, FitState};
use nlsq::{Backend, Model, Precision};
use nlsq_testkit::batch::cases::{Case, acceptance_cases};
use nlsq_testkit::batch::support::{Decay, Gauss2d, Rng, decay, gauss2d_poisson, grid5};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fits per case run with staged y: a block of 128 and a partial block.
const STAGED_FITS: usize = 200;

/// Fits per case run by the (slow) warp emulation.
const WARP_FITS: usize = 12;

const SHIM: &str = include_str!("batch_host/shim.h");
const DRIVER: &str = include_str!("batch_host/driver.cpp");

fn work_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("nlsq-batch-host-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}

/// Compiles the batch module of `model` for the host (a failure when there is no compiler).
fn build(model: &dyn Model, precision: Precision, dir: &Path, tag: &str) -> PathBuf {
    let src = model
        .cuda_batch_source(precision)
        .expect("the model has a batch module");
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
            panic!("no C++ compiler (`c++`: {e}): install g++ to run the batch kernel on the host")
        });
    assert!(
        out.status.success(),
        "g++ rejected the batch module of {}:\n{}",
        model.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// The kernel's results for `case`: (params, states, chi2, iterations, covariances).
type KernelOut = (Vec<f64>, Vec<u8>, Vec<f64>, Vec<f64>, Vec<f64>);

fn run(bin: &Path, case: &Case, dir: &Path, tag: &str, mode: &str) -> KernelOut {
    let p = case.model.n_params();
    let n_fits = case.n_fits();
    let equal = case.lengths.iter().all(|&l| l == case.lengths[0]);
    let mut v: Vec<f64> = vec![
        n_fits as f64,
        if equal { case.lengths[0] as f64 } else { 0.0 },
        if case.x_shared { 1.0 } else { 2.0 },
        p as f64,
        p as f64,
        p as f64,
        match case.estimator {
            Estimator::Lse => 0.0,
            Estimator::PoissonMle => 1.0,
        },
        Case::TOLERANCE,
        Case::STEP_TOLERANCE,
        f64::from(Case::MAX_ITERATIONS),
        1.0,
    ];
    fn push(v: &mut Vec<f64>, a: &[f64]) {
        v.push(a.len() as f64);
        v.extend_from_slice(a);
    }
    push(&mut v, &case.x);
    push(&mut v, &case.y);
    push(&mut v, case.w.as_deref().unwrap_or(&[]));
    let offsets: Vec<f64> = if equal {
        vec![]
    } else {
        std::iter::once(0.0)
            .chain(case.lengths.iter().scan(0usize, |s, &l| {
                *s += l;
                Some(*s as f64)
            }))
            .collect()
    };
    push(&mut v, &offsets);
    push(&mut v, &case.p0);
    match &case.bounds {
        Some((lo, hi)) => {
            v.push(lo.len() as f64);
            v.extend_from_slice(lo);
            v.extend_from_slice(hi);
        }
        None => v.push(0.0),
    }
    let fixed: Vec<f64> = case
        .fixed
        .as_ref()
        .map(|f| f.iter().map(|&b| f64::from(u8::from(b))).collect())
        .unwrap_or_default();
    push(&mut v, &fixed);
    let input = dir.join(format!("{tag}.in"));
    let output = dir.join(format!("{tag}.out"));
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&input, bytes).expect("write the input");
    let mut child = Command::new(bin)
        .arg(&input)
        .arg(&output)
        .arg(mode)
        .spawn()
        .expect("run the kernel");
    // A warp whose lanes disagree on a shuffle deadlocks the emulation: fail, do not hang.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the kernel") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "{}: the {mode} kernel did not finish (lanes out of step?)",
                case.name
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "the host kernel failed");
    let raw = std::fs::read(&output).expect("read the output");
    let all: Vec<f64> = raw
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let (params, rest) = all.split_at(n_fits * p);
    let (states, rest) = rest.split_at(n_fits);
    let (chi2, rest) = rest.split_at(n_fits);
    let (iterations, cov) = rest.split_at(n_fits);
    (
        params.to_vec(),
        states.iter().map(|&s| s as u8).collect(),
        chi2.to_vec(),
        iterations.to_vec(),
        cov.to_vec(),
    )
}

/// Compares the kernel with the CPU backend; returns the worst relative parameter difference.
/// With `same_order` (the thread kernel sums as the CPU does) iteration counts must agree too;
/// the warp kernel's other summation order may take an iteration more or less at the end.
fn compare(
    case: &Case,
    cpu: &BatchResult,
    k: &KernelOut,
    params_tol: f64,
    same_order: bool,
) -> f64 {
    let p = cpu.n_params;
    let (params, states, chi2, iterations, cov) = k;
    let mut worst = 0.0f64;
    let mut iteration_differences = 0;
    for i in 0..cpu.n_fits {
        let state = FitState::from_code(states[i]).expect("a known state code");
        assert_eq!(state, cpu.states[i], "{} fit {i}: states differ", case.name);
        if matches!(state, FitState::InvalidInput | FitState::NonFinite) {
            assert!(chi2[i].is_nan(), "{} fit {i}", case.name);
            continue;
        }
        let other_count = iterations[i] != f64::from(cpu.iterations[i]);
        iteration_differences += usize::from(other_count);
        // A fit stopped an iteration earlier or later (rounding decided the last test of
        // `tolerance = 1e-12` on χ²) may sit elsewhere in a flat direction, by about the
        // square root of the tolerance.
        let tol = if other_count {
            params_tol.max(1e-6)
        } else {
            params_tol
        };
        for j in 0..p {
            let (a, b) = (params[i * p + j], cpu.params_of(i)[j]);
            let e = (a - b).abs() / b.abs().max(1.0);
            assert!(
                e <= tol,
                "{} fit {i} param {j}: {a} vs {b} (iterations {} vs {})",
                case.name,
                iterations[i],
                cpu.iterations[i],
            );
            worst = worst.max(e);
        }
        let c = cpu.covariance_of(i).expect("covariance requested");
        for e in 0..p * p {
            let (r, s) = (e / p, e % p);
            let scale = (c[r * p + r] * c[s * p + s]).sqrt();
            let (a, b) = (cov[i * p * p + e], c[e]);
            assert!(
                (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-6 * scale,
                "{} fit {i} covariance[{e}]: {a} vs {b}",
                case.name
            );
        }
    }
    assert!(
        !same_order || iteration_differences * 100 <= cpu.n_fits,
        "{}: {iteration_differences} fits took other iteration counts",
        case.name
    );
    worst
}

/// Per-fit failures, fixed parameters and bounds among good fits, variable lengths.
fn states_case() -> Case {
    let mut rng = Rng::new(3);
    let (mut lengths, mut x, mut y, mut w, mut p0) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..40 {
        let n = if i == 5 { 2 } else { 10 + i % 7 };
        for q in 0..n {
            let t = q as f64 * 0.4;
            x.push(t);
            y.push(decay(t, 2.0 + 0.01 * i as f64, 0.7, 0.5) + 0.01 * rng.normal());
            w.push(1e4);
        }
        lengths.push(n);
        p0.extend([1.5, 1.0, 0.2]);
    }
    let start = |i: usize| lengths[..i].iter().sum::<usize>();
    y[start(1) + 2] = f64::NAN; // fit 1: non-finite data
    w[start(2)] = -1.0; // fit 2: negative weight
    w[start(3) + 1] = f64::INFINITY; // fit 3: non-finite weight
    p0[4 * 3 + 1] = 9.0; // fit 4: p0 above its bound; fit 5: too few points
    x[start(6)] = f64::NAN; // fit 6: non-finite predictor
    let mut fixed = vec![false; 120];
    fixed[7 * 3 + 2] = true; // fit 7: offset held at 0.2
    fixed[8 * 3] = true; // fit 8: amplitude held at 1.5
    let lo = [0.0, 0.0, -1.0].repeat(40);
    let mut hi = [10.0, 5.0, 1.0].repeat(40);
    hi[9 * 3 + 1] = 0.6; // fit 9: the rate (0.7) ends on its upper bound
    p0[9 * 3 + 1] = 0.5;
    Case {
        name: "states",
        model: &Decay,
        lengths,
        x_shared: false,
        x,
        y,
        w: Some(w),
        p0,
        bounds: Some((lo, hi)),
        fixed: Some(fixed),
        estimator: Estimator::Lse,
    }
}

fn poisson_case() -> Case {
    let (y, p0) = gauss2d_poisson(&mut Rng::new(11), 300, |rng| {
        [
            rng.uniform(30.0, 80.0),
            rng.uniform(1.7, 2.3),
            rng.uniform(1.7, 2.3),
            rng.uniform(0.8, 1.2),
            rng.uniform(3.0, 6.0),
        ]
    });
    let x = grid5();
    Case {
        name: "poisson",
        model: &Gauss2d,
        lengths: vec![25; 300],
        x_shared: true,
        x,
        y,
        w: None,
        p0,
        bounds: None,
        fixed: None,
        estimator: Estimator::PoissonMle,
    }
}

/// The first `n` fits of a case.
fn head(c: &Case, n: usize) -> Case {
    let c = c.clone();
    let p = c.model.n_params();
    let k = c.model.n_inputs();
    let n = n.min(c.n_fits());
    let points: usize = c.lengths[..n].iter().sum();
    let per_fit = |v: Vec<f64>| v[..n * p].to_vec();
    Case {
        name: c.name,
        lengths: c.lengths[..n].to_vec(),
        x: if c.x_shared {
            c.x
        } else {
            c.x[..points * k].to_vec()
        },
        y: c.y[..points].to_vec(),
        w: c.w.map(|w| w[..points].to_vec()),
        p0: per_fit(c.p0),
        bounds: c.bounds.map(|(l, h)| (per_fit(l), per_fit(h))),
        fixed: c.fixed.map(|f| f[..n * p].to_vec()),
        model: c.model,
        x_shared: c.x_shared,
        estimator: c.estimator,
    }
}

#[test]
fn the_cuda_batch_kernel_run_on_the_host_equals_the_cpu_backend() {
    let dir = work_dir();
    let mut cases: Vec<Case> = acceptance_cases()
        .into_iter()
        .map(|c| head(&c, 400))
        .collect();
    cases.push(states_case());
    cases.push(poisson_case());
    let mut bins: Vec<(String, PathBuf)> = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let name = case.model.name().to_string();
        let bin = match bins.iter().find(|(m, _)| *m == name) {
            Some((_, b)) => b.clone(),
            None => {
                let b = build(case.model, Precision::F64, &dir, &format!("{name}_f64"));
                bins.push((name, b.clone()));
                b
            }
        };
        let cpu = case.batch(Backend::Cpu, Precision::F64);
        let k = run(&bin, case, &dir, &format!("case{n}"), "thread");
        let worst = compare(case, &cpu, &k, 1e-9, true);
        // Equal lengths: the same kernel with y staged through shared memory, bit for bit.
        let staged = case.lengths.iter().all(|&l| l == case.lengths[0]);
        if staged {
            // One full block and a partial one.
            let sc = head(case, STAGED_FITS);
            let kt = run(&bin, &sc, &dir, &format!("case{n}t"), "thread");
            let ks = run(&bin, &sc, &dir, &format!("case{n}s"), "stage");
            assert_eq!(ks.0, kt.0, "{}: staged parameters differ", case.name);
            assert_eq!(ks.1, kt.1, "{}: staged states differ", case.name);
        }
        // The warp kernel sums in another order: the same fits to rounding. Its emulation
        // (32 threads meeting at a barrier for every shuffle) is slow: the first fits only.
        let few = head(case, WARP_FITS);
        let cpu_few = few.batch(Backend::Cpu, Precision::F64);
        let kw = run(&bin, &few, &dir, &format!("case{n}w"), "warp");
        let worst_warp = compare(&few, &cpu_few, &kw, 1e-7, false);
        println!(
            "{}: kernels on the host vs CPU backend: states equal, worst parameter difference {worst:.1e} ({} fits, thread per fit{}), {worst_warp:.1e} ({} fits, warp per fit)",
            case.name,
            case.n_fits(),
            if staged {
                "; staged y identical on 200"
            } else {
                ""
            },
            few.n_fits()
        );
    }
    let states = cases
        .iter()
        .find(|c| c.name == "states")
        .expect("states case");
    let cpu = states.batch(Backend::Cpu, Precision::F64);
    let expect = [
        (1, FitState::NonFinite),
        (2, FitState::InvalidInput),
        (3, FitState::NonFinite),
        (4, FitState::InvalidInput),
        (5, FitState::InvalidInput),
        (6, FitState::NonFinite),
    ];
    for (i, s) in expect {
        assert_eq!(cpu.states[i], s, "fit {i}");
    }
    assert_eq!(cpu.params_of(9)[1], 0.6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_f32_kernel_run_on_the_host_reaches_the_f64_optimum() {
    let dir = work_dir().join("f32");
    std::fs::create_dir_all(&dir).expect("a directory");
    for (n, full) in acceptance_cases().iter().enumerate() {
        let case = head(full, 300);
        let tag = format!("{}_f32_{n}", case.model.name());
        let bin = build(case.model, Precision::F32, &dir, &tag);
        let cpu = case.batch(Backend::Cpu, Precision::F64);
        let (params, states, ..) = run(&bin, &case, &dir, &tag, "thread");
        let p = cpu.n_params;
        let mut worst = 0.0f64;
        for i in 0..case.n_fits() {
            // f32 cannot meet the f64 tolerances: the budget ends it, the best step kept.
            let s = FitState::from_code(states[i]).expect("a state");
            assert!(
                matches!(s, FitState::Converged | FitState::MaxIterations),
                "fit {i}: {s}"
            );
            let perr = cpu.perr_of(i).unwrap();
            for j in 0..p {
                if perr[j] > 0.0 {
                    worst = worst.max((params[i * p + j] - cpu.params_of(i)[j]).abs() / perr[j]);
                }
            }
        }
        println!(
            "{} f32 kernel on the host: worst difference {worst:.1e} standard errors from f64",
            case.name
        );
        assert!(worst < 0.05, "{}", case.name);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

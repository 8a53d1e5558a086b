//! The backend-generic suites, written once: [`testgen_fit!`](crate::testgen_fit),
//! [`testgen_nist!`](crate::testgen_nist) and [`testgen_batch!`](crate::testgen_batch)
//! instantiate them for a backend in its test file (`tests/fit_cuda.rs`, `tests/fit_wgpu.rs`,
//! `tests/nist.rs`, `tests/nist_wgpu.rs`, `tests/batch_cuda.rs`, `tests/batch_wgpu.rs`), with
//! the backend's gate and tolerances; the test bodies are the functions here.

use crate::batch::cases::{compare_with_single_fits, ten_thousand_cases};
use crate::models::{Decay, decay_data};
use nlsq::batch::{BatchResult, FitState};
use nlsq::{Backend, CurveFit, Loss, Method, Precision};

/// The reason of CUDA execution tests' `#[ignore]`, for the macros' documentation (the
/// attribute itself needs the literal).
pub const NEEDS_CUDA_GPU: &str = "needs a CUDA GPU: on the GPU machine, run with -- --ignored";

/// One backend under test: what it is, and what its fit results say they ran on.
#[derive(Clone, Copy, Debug)]
pub struct Device {
    pub backend: Backend,
    /// The start of its results' `backend` string (`"cpu"`, `"cuda"`, `"wgpu"`).
    pub name: &'static str,
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|a| a.to_bits()).collect()
}

/// Weighted decay fits of `points` points with noise `noise` ([`decay_data`]), for linear,
/// Huber and Cauchy losses with LM and TRF, on the device against the CPU: parameters to
/// `popt_tol`, the covariance diagonal to `pcov_tol` (relative); re-runs on the device are
/// bit-identical.
pub fn fits_equal_cpu_fits(dev: Device, points: usize, noise: f64, popt_tol: f64, pcov_tol: f64) {
    let (x, y, sigma) = decay_data(points, noise);
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
            let (cpu, got) = (fit(Backend::Cpu), fit(dev.backend));
            assert!(got.backend.starts_with(dev.name), "{}", got.backend);
            for j in 0..3 {
                assert!(
                    rel(got.popt[j], cpu.popt[j]) < popt_tol,
                    "{loss} {method}: p{j} {} {} CPU {}",
                    dev.name,
                    got.popt[j],
                    cpu.popt[j]
                );
                assert!(
                    rel(got.pcov[j][j], cpu.pcov[j][j]) < pcov_tol,
                    "{loss} {method}: pcov{j}"
                );
            }
            // Re-runs on the device are bit-identical.
            let again = fit(dev.backend);
            assert_eq!(bits(&got.popt), bits(&again.popt), "{loss} {method}");
        }
    }
}

/// NIST StRD in f64 on the backend, tolerances 1e-15: LRE >= 6 on all 54 fits per method.
pub fn nist_strd_f64_all_54_per_method(dev: Device) {
    let title = format!("NIST StRD on {}, f64, ftol = xtol = gtol = 1e-15", dev.name);
    let (_, ok) = crate::nist::table(&title, dev.backend, dev.name, Precision::F64, true);
    assert_eq!(ok, [54, 54]);
}

/// The 10,000 problems of tests/batch.rs in f64 on the device: every batch fit equals its
/// single-fit CurveFit result (1e-8 parameters, 1e-6 covariances).
pub fn batch_fits_equal_single_fits(dev: Device) {
    let bad: usize = ten_thousand_cases()
        .iter()
        .map(|c| compare_with_single_fits(c, dev.backend, Precision::F64))
        .sum();
    assert_eq!(
        bad, 0,
        "{} f64 batch fits differ from single fits",
        dev.name
    );
}

/// The 10,000 problems on the device against the CPU batch backend: in f64 (when `f64`) the
/// states as `same_states` compares them; in f32, with at most `f32_iterations`, 99 % of the
/// fits usable and within 0.05 standard errors of the CPU's parameters.
pub fn batch_matches_the_cpu_state_for_state_and_in_f32(
    dev: Device,
    same_states: fn(&str, &BatchResult, &BatchResult),
    f64: bool,
    f32_iterations: u32,
) {
    for case in ten_thousand_cases() {
        let cpu = case.batch(Backend::Cpu, Precision::F64);
        if f64 {
            let got = case.batch(dev.backend, Precision::F64);
            same_states(case.name, &cpu, &got);
        }
        // f32: the same optimum to single-precision accuracy for well-converged fits. Fits at
        // the f32 floor never meet the 1e-12 tolerances and run their whole budget.
        let dev32 = case
            .builder(dev.backend, Precision::F32)
            .max_iterations(f32_iterations)
            .fit()
            .unwrap();
        let p = cpu.n_params;
        let (mut worst, mut usable) = (0.0f64, 0);
        for i in 0..cpu.n_fits {
            if !matches!(
                dev32.states[i],
                FitState::Converged | FitState::MaxIterations
            ) {
                continue;
            }
            usable += 1;
            for j in 0..p {
                let (a, b) = (dev32.params_of(i)[j], cpu.params_of(i)[j]);
                // In units of the standard error: f32 data cannot do better than ~1e-3 of it.
                // Fixed parameters (no standard error) hold p0 rounded to f32.
                let se = cpu.perr_of(i).unwrap()[j];
                if se == 0.0 {
                    assert!((a - b).abs() <= 1e-6 * b.abs(), "fit {i}: fixed {a} vs {b}");
                    continue;
                }
                let e = (a - b).abs() / se;
                worst = worst.max(e);
            }
        }
        println!(
            "{}: f32 on {} ({f32_iterations} iterations at most), {usable} of {} fits usable, worst difference {worst:.1e} standard errors",
            case.name, dev.name, cpu.n_fits
        );
        assert!(usable * 100 >= cpu.n_fits * 99, "{}", case.name);
        assert!(
            worst < 0.05,
            "{}: f32 fits off by {worst} standard errors",
            case.name
        );
    }
}

/// Generates a device backend's fit test against the CPU, [`fits_equal_cpu_fits`].
/// `ready(precision)` says whether the test can run (e.g. `wgpu::ready`); `gate`
/// attributes go on every test (CUDA's `#[ignore = "..."]`, the reason [`NEEDS_CUDA_GPU`]).
///
/// ```ignore
/// nlsq_testkit::testgen_fit! {
///     device: Device { backend: Backend::Cuda, name: "cuda" },
///     #[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
///     ready: |_| true,
///     data: (1_000_000, 0.05),
///     tolerances: (popt: 1e-10, pcov: 1e-8),
/// }
/// ```
#[macro_export]
macro_rules! testgen_fit {
    (
        device: $dev:expr,
        $(#[$gate:meta])*
        ready: $ready:expr,
        data: ($points:expr, $noise:expr),
        tolerances: (popt: $popt:expr, pcov: $pcov:expr) $(,)?
    ) => {
        /// f64 fits with every loss and method equal the CPU's; re-runs are bit-identical.
        #[test]
        $(#[$gate])*
        fn f64_fits_equal_cpu_fits() {
            if ($ready)(::nlsq::Precision::F64) {
                $crate::suite::fits_equal_cpu_fits($dev, $points, $noise, $popt, $pcov);
            }
        }
    };
}

/// Generates a backend's NIST StRD test in f64, [`nist_strd_f64_all_54_per_method`] (the CPU
/// included); `ready` and `gate` as in [`testgen_fit!`](crate::testgen_fit).
#[macro_export]
macro_rules! testgen_nist {
    (
        device: $dev:expr,
        $(#[$gate:meta])*
        ready: $ready:expr $(,)?
    ) => {
        /// NIST StRD in f64 at tolerances 1e-15: 54/54 at LRE >= 6 per method.
        #[test]
        $(#[$gate])*
        fn nist_strd_f64_all_54_per_method() {
            if ($ready)(::nlsq::Precision::F64) {
                $crate::suite::nist_strd_f64_all_54_per_method($dev);
            }
        }
    };
}

/// Generates a device backend's batch suite: [`batch_fits_equal_single_fits`] and
/// [`batch_matches_the_cpu_state_for_state_and_in_f32`]. `ready` and `gate` as in
/// [`testgen_fit!`](crate::testgen_fit); `same_states` compares the f64 states with the
/// CPU's ([`crate::batch::cases::assert_equal_states`] or the stricter
/// [`crate::batch::cases::assert_same_states`]); `f32_iterations` is evaluated in the test.
#[macro_export]
macro_rules! testgen_batch {
    (
        device: $dev:expr,
        $(#[$gate:meta])*
        ready: $ready:expr,
        same_states: $same_states:expr,
        f32_iterations: $f32_iterations:expr $(,)?
    ) => {
        /// The 10,000 problems of tests/batch.rs in f64 equal single fits (1e-8).
        #[test]
        $(#[$gate])*
        fn batch_fits_equal_single_fits() {
            if ($ready)(::nlsq::Precision::F64) {
                $crate::suite::batch_fits_equal_single_fits($dev);
            }
        }

        /// The CPU's states in f64; f32 within 0.05 standard errors of the CPU.
        #[test]
        $(#[$gate])*
        fn batch_matches_the_cpu_state_for_state_and_in_f32() {
            if ($ready)(::nlsq::Precision::F32) {
                let f64 = ($ready)(::nlsq::Precision::F64);
                $crate::suite::batch_matches_the_cpu_state_for_state_and_in_f32(
                    $dev,
                    $same_states,
                    f64,
                    $f32_iterations,
                );
            }
        }
    };
}

/// `passes` of `K` vectors spread around `p` by a few percent, against one `pass` each, bit
/// for bit (cost, JᵀJ, Jᵀr, counts).
pub fn k_pass_equals_single_passes(obj: &mut dyn nlsq::solve::Objective, p: &[f64], ks: &[usize]) {
    for &k in ks {
        let vectors: Vec<Vec<f64>> = (0..k)
            .map(|v| {
                p.iter()
                    .enumerate()
                    .map(|(j, pj)| pj * (1.0 + 0.01 * ((v * 7 + j * 3) % 11) as f64))
                    .collect()
            })
            .collect();
        let views: Vec<&[f64]> = vectors.iter().map(Vec::as_slice).collect();
        let together = obj.passes(&views).unwrap();
        let costs = obj.costs(&views).unwrap();
        assert_eq!(together.len(), k);
        for (v, (q, pass)) in views.iter().zip(&together).enumerate() {
            let alone = obj.pass(q).unwrap();
            assert_eq!(
                pass.cost.to_bits(),
                alone.cost.to_bits(),
                "K {k}, vector {v}"
            );
            assert_eq!(
                costs[v].to_bits(),
                alone.cost.to_bits(),
                "K {k}, vector {v}"
            );
            assert_eq!(
                bits(pass.jtj.as_slice()),
                bits(alone.jtj.as_slice()),
                "K {k}, vector {v}"
            );
            assert_eq!(
                bits(pass.gradient.as_slice()),
                bits(alone.gradient.as_slice()),
                "K {k}, vector {v}"
            );
            assert_eq!(
                (pass.n_points, pass.n_nonfinite),
                (alone.n_points, alone.n_nonfinite),
                "K {k}, vector {v}"
            );
        }
    }
}

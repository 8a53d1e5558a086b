//! Global (multi-dataset) fits on the CPU: three datasets sharing one parameter equal the fit
//! of the concatenated problem written by hand, and scipy's fit of it, to 1e-9 — in memory,
//! chunked and streamed, with weights and with a robust loss; per-dataset reports; every
//! error a typed one.

use nlsq::fit::global::{Dataset, GlobalFit};
use nlsq::stream::SliceSource;
use nlsq::{Backend, ExprModel, FitError, FitResult, Loss};
use nlsq_testkit::global::{NAMES, Setup, assert_agree, fit_concatenated, fit_global, reference};
use nlsq_testkit::streaming::rel;

const CPU: Setup = Setup {
    backend: Backend::Cpu,
    chunk_points: None,
    source: false,
};

#[test]
fn a_global_fit_equals_the_concatenated_fit_and_scipy() {
    let r = reference();
    let got = fit_global(&r, [CPU; 3], None);
    assert_eq!(got.param_names, NAMES);
    let hand = fit_concatenated(&r, None);
    assert_agree(
        "global vs concatenated",
        &got,
        &hand.popt,
        &hand.pcov,
        1e-9,
        1e-6,
    );
    assert_agree("global vs scipy", &got, &r.popt, &r.pcov, 1e-9, 1e-6);
    assert!(
        rel(got.cost, hand.cost) < 1e-12,
        "{} vs {}",
        got.cost,
        hand.cost
    );
    assert_eq!((got.n_points, got.dof), (hand.n_points, hand.dof));
    for (a, b) in [
        (got.chi2, hand.chi2),
        (got.r_squared, hand.r_squared),
        (got.aic, hand.aic),
        (got.rmse, hand.rmse),
    ] {
        assert!(rel(a, b) < 1e-9, "statistic {a} vs {b}");
    }
}

#[test]
fn chunked_and_streamed_datasets_give_the_in_memory_fit() {
    let r = reference();
    let memory = fit_global(&r, [CPU; 3], None);
    let setups = [
        // In-memory slices cut into chunks of 7 points.
        Setup {
            chunk_points: Some(7),
            ..CPU
        },
        // A source with sigma, streamed in chunks of 8.
        Setup {
            chunk_points: Some(8),
            source: true,
            ..CPU
        },
        // A source read into memory.
        Setup {
            source: true,
            ..CPU
        },
    ];
    let got = fit_global(&r, setups, None);
    assert_agree(
        "streamed vs in memory",
        &got,
        &memory.popt,
        &memory.pcov,
        1e-9,
        1e-6,
    );
    assert_eq!(got.data_plan.mode, nlsq::DataMode::Chunked);
    let reason = &got.data_plan.reason;
    assert!(
        reason.contains("0: chunked")
            && reason.contains("1: streaming")
            && reason.contains("2: in-memory"),
        "{reason}"
    );
    assert_eq!(got.data_plan.chunks_per_pass, 6 + 4 + 1, "{reason}");
}

#[test]
fn a_robust_global_fit_equals_the_robust_concatenated_fit() {
    let r = reference();
    let loss = Some((Loss::SoftL1, 0.5));
    let got = fit_global(&r, [CPU; 3], loss);
    let hand = fit_concatenated(&r, loss);
    assert_agree("soft_l1", &got, &hand.popt, &hand.pcov, 1e-9, 1e-6);
    assert!(rel(got.chi2, hand.chi2) < 1e-9);
}

#[test]
fn each_dataset_reports_its_part() {
    let r = reference();
    let got = fit_global(&r, [CPU; 3], None);
    let sizes: Vec<usize> = got.datasets.iter().map(|d| d.n_points).collect();
    assert_eq!(sizes, [40, 30, 50]);
    let labels: Vec<&str> = got.datasets.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["0", "1", "2"]);
    let sum: f64 = got.datasets.iter().map(|d| d.cost).sum();
    assert!(rel(sum, got.cost) < 1e-12, "{sum} vs {}", got.cost);
    assert_eq!(got.datasets[1].params, [3, 1, 4]);
    assert_eq!(got.datasets[2].popt(&got), [got.popt[5], got.popt[1]]);
    assert_eq!(got.datasets[2].model, "expr");
    let json = serde_json::to_string(&got).unwrap();
    let back: FitResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.datasets, got.datasets);
    assert!(got.model.starts_with("global("), "{}", got.model);
}

#[test]
fn labels_name_the_datasets_parameters_and_shared_bounds_intersect() {
    let m = ExprModel::parse("a * exp(-k * x)").unwrap();
    let x: Vec<f64> = (0..30).map(|i| f64::from(i) * 0.1).collect();
    let y1: Vec<f64> = x.iter().map(|x| 2.0 * (-0.5 * x).exp()).collect();
    let y2: Vec<f64> = x.iter().map(|x| 3.0 * (-0.5 * x).exp()).collect();
    let fit = GlobalFit::new()
        .dataset(
            Dataset::new(&m, &x, &y1)
                .label("cold")
                .p0([1.0, 0.3])
                .bounds([0.0, 0.0], [10.0, 0.45]),
        )
        .dataset(
            Dataset::new(&m, &x, &y2)
                .label("hot")
                .p0([1.0, 0.3])
                .bounds([0.0, 0.1], [10.0, 5.0]),
        )
        .shared(["k"])
        .fit()
        .unwrap();
    assert_eq!(fit.param_names, ["a[cold]", "k", "a[hot]"]);
    // k is held by the tighter upper bound of `cold`.
    assert!(rel(fit.popt[1], 0.45) < 1e-12, "{}", fit.popt[1]);
    assert_eq!(fit.active_mask[1], 1);
}

fn global_error(f: GlobalFit<'_>) -> FitError {
    f.fit().expect_err("the fit should fail")
}

#[test]
fn bad_global_fits_are_typed_errors() {
    let m = ExprModel::parse("a * exp(-k * x)").unwrap();
    let x = [0.0, 1.0, 2.0, 3.0];
    let y = [2.0, 1.2, 0.7, 0.4];
    let d = || Dataset::new(&m, &x[..], &y);
    let e = global_error(GlobalFit::new());
    assert!(e.to_string().contains("at least one dataset"), "{e}");
    let e = global_error(
        GlobalFit::new()
            .dataset(d().label("a"))
            .dataset(d().label("a")),
    );
    assert!(
        e.to_string().contains("two datasets are labelled `a`"),
        "{e}"
    );
    let e = global_error(GlobalFit::new().dataset(d().label("a[1]")));
    assert!(e.to_string().contains("without `[`"), "{e}");
    let e = global_error(GlobalFit::new().dataset(d()).shared(["q"]));
    assert!(e.to_string().contains("`q` is not a parameter"), "{e}");
    let e = global_error(
        GlobalFit::new()
            .dataset(d().p0([1.0, 0.5]).bounds([0.0, 0.0], [9.0, 1.0]))
            .dataset(d().p0([1.0, 0.5]).bounds([0.0, 2.0], [9.0, 3.0]))
            .shared(["k"]),
    );
    assert!(
        matches!(e, FitError::BadBounds { ref name, .. } if name == "k"),
        "{e}"
    );
    let e = global_error(GlobalFit::new().dataset(d()).dataset(d().p0([1.0])));
    assert!(e.to_string().contains("dataset 1"), "{e}");
    let e = global_error(GlobalFit::new().dataset(d()).x_scale([1.0]));
    assert!(e.to_string().contains("one per global parameter"), "{e}");
    let e = global_error(GlobalFit::new().dataset(d()).f_scale(-1.0));
    assert!(e.to_string().contains("f_scale"), "{e}");
    let nan = [0.0, f64::NAN, 2.0, 3.0];
    let e = global_error(
        GlobalFit::new()
            .dataset(d())
            .dataset(Dataset::new(&m, &nan[..], &y)),
    );
    assert!(matches!(e, FitError::NonFiniteData { .. }), "{e}");
    let all_nan = [f64::NAN; 4];
    let e = global_error(
        GlobalFit::new()
            .dataset(d())
            .dataset(Dataset::new(&m, &x[..], &all_nan).nan_policy(nlsq::NanPolicy::Omit)),
    );
    assert!(e.to_string().contains("no finite points"), "{e}");
    let two = ExprModel::parse("a * x[0] + k * x[1]").unwrap();
    let mut source = SliceSource::new(vec![&x[..]], &y);
    let e = global_error(GlobalFit::new().dataset(Dataset::from_source(&two, &mut source)));
    assert!(matches!(e, FitError::LengthMismatch { .. }), "{e}");
}

/// Two decays sharing `k`, with the global options `opts` applied.
fn two_decays<'a>(
    m: &'a ExprModel,
    x: &'a [f64],
    ys: &'a [Vec<f64>; 2],
    opts: impl FnOnce(GlobalFit<'a>) -> GlobalFit<'a>,
) -> Result<FitResult, FitError> {
    let fit = GlobalFit::new()
        .dataset(Dataset::new(m, x, &ys[0]).p0([1.0, 0.3, 0.0]))
        .dataset(Dataset::new(m, x, &ys[1]).p0([1.0, 0.3, 0.0]))
        .shared(["k"])
        .method(nlsq::Method::Trf);
    opts(fit).fit()
}

#[test]
fn a_global_fit_resumes_from_its_checkpoint_bit_for_bit() {
    let m = ExprModel::parse("a * exp(-k * x) + c").unwrap();
    let x: Vec<f64> = (0..60).map(|i| f64::from(i) * 0.1).collect();
    let wiggle = |i: usize| 0.01 * ((i * 7919 % 100) as f64 / 50.0 - 1.0);
    let ys = [
        x.iter()
            .enumerate()
            .map(|(i, x)| 2.0 * (-0.7 * x).exp() + 0.1 + wiggle(i))
            .collect(),
        x.iter()
            .enumerate()
            .map(|(i, x)| 5.0 * (-0.7 * x).exp() - wiggle(i))
            .collect(),
    ];
    let full = two_decays(&m, &x, &ys, |f| f).unwrap();
    assert!(full.iterations >= 4, "{} iterations", full.iterations);
    let path = std::env::temp_dir().join(format!("nlsq-global-{}.ckpt", std::process::id()));
    let cut = two_decays(&m, &x, &ys, |f| {
        f.checkpoint(&path, nlsq::Every::Iterations(1))
            .callback(|i| {
                if i.iteration == 3 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            })
    })
    .unwrap();
    assert_eq!(cut.status, nlsq::Status::Stopped);
    let resumed = two_decays(&m, &x, &ys, |f| f.resume_from(&path)).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed.popt), bits(&full.popt));
    assert_eq!(
        (resumed.nfev, resumed.iterations),
        (full.nfev, full.iterations)
    );
    // Another dataset's data is another fit: the checkpoint is refused.
    let mut other = ys.clone();
    other[1][7] += 1.0;
    let e = two_decays(&m, &x, &other, |f| f.resume_from(&path)).unwrap_err();
    assert!(e.to_string().contains("checkpoint"), "{e}");
    let _ = std::fs::remove_file(&path);
}

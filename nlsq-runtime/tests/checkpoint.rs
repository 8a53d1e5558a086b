//! Checkpoints through the public API: a fit stopped part-way and resumed from its last
//! checkpoint reaches the uninterrupted result bit for bit (lm, trf with bounds, dogbox with
//! bounds); checkpoints of other fits and damaged files are refused with typed errors; a
//! failed write is reported and the fit goes on; the profile counts the fit's passes.

use nlsq_runtime::checkpoint::{self, CheckpointError};
use nlsq_runtime::{CurveFit, Every, ExprModel, FitError, FitResult, Method};
use std::ops::ControlFlow;
use std::path::PathBuf;

const EXPR: &str = "a * exp(-b * x) + c * exp(-d * x)";

fn data() -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..120).map(|i| i as f64 * 0.25).collect();
    let y = x
        .iter()
        .map(|x| 3.0 * (-0.5 * x).exp() + 1.5 * (-0.05 * x).exp() + 0.01 * (7.0 * x).sin())
        .collect();
    (x, y)
}

fn model() -> ExprModel {
    ExprModel::parse(EXPR).unwrap()
}

fn fit(method: Method) -> CurveFit<'static, ExprModel> {
    let f = CurveFit::new(model())
        .p0([1.0, 1.0, 1.0, 0.01])
        .method(method);
    match method {
        Method::Lm => f,
        _ => f.bounds([0.0, 0.0, 0.0, 0.0], [10.0, 10.0, 10.0, 0.2]),
    }
}

/// A file in the temporary directory, unique to this process and `tag`, removed first.
fn temp_path(tag: &str) -> PathBuf {
    let name = format!("nlsq-ckpt-it-{}-{tag}.ckpt", std::process::id());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    path
}

fn assert_same(a: &FitResult, b: &FitResult) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.popt), bits(&b.popt), "{:?} vs {:?}", a.popt, b.popt);
    assert_eq!(a.cost.to_bits(), b.cost.to_bits());
    assert_eq!(a.pcov, b.pcov);
    assert_eq!(
        (a.nfev, a.njev, a.iterations, a.status),
        (b.nfev, b.njev, b.iterations, b.status)
    );
}

/// Stops a checkpointed fit at iteration `stop` (its last checkpoint is after `stop - 1`).
fn interrupted(method: Method, path: &PathBuf, stop: usize) -> FitResult {
    fit(method)
        .checkpoint(path, Every::Iterations(1))
        .callback(move |i| {
            if i.iteration == stop {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .fit(&data().0, &data().1)
        .unwrap()
}

#[test]
fn resumed_fits_reach_the_uninterrupted_result_bit_for_bit() {
    let (x, y) = data();
    for method in [Method::Lm, Method::Trf, Method::Dogbox] {
        let full = fit(method).fit(&x, &y).unwrap();
        assert!(full.success, "{method}: {}", full.message);
        assert!(
            full.iterations >= 6,
            "{method}: {} iterations",
            full.iterations
        );
        assert!(full.checkpoint.is_none());
        for stop in [2, full.iterations / 2, full.iterations - 1] {
            let path = temp_path(&format!("{method}-{stop}"));
            let cut = interrupted(method, &path, stop);
            assert_eq!(cut.status, nlsq_runtime::Status::Stopped);
            let report = cut.checkpoint.unwrap();
            assert_eq!(report.failed, 0);
            assert_eq!(report.last_iteration, Some(stop - 1), "{method}");
            let saved = checkpoint::read(&path).unwrap();
            assert_eq!(saved.state.iteration(), stop - 1);
            assert_eq!(saved.data_cursor, 0, "in-memory fits have no cursor");

            let resumed = fit(method).resume_from(&path).fit(&x, &y).unwrap();
            assert_same(&resumed, &full);
            // Resuming while checkpointing to the same file works too.
            let again = fit(method)
                .resume_from(&path)
                .checkpoint(&path, Every::Iterations(2))
                .fit(&x, &y)
                .unwrap();
            assert_same(&again, &full);
            println!(
                "{method}: resumed after {} of {} iterations",
                stop - 1,
                full.iterations
            );
            std::fs::remove_file(&path).unwrap();
        }
    }
}

fn refusal(err: FitError) -> CheckpointError {
    match err {
        FitError::Checkpoint(e) => e,
        other => panic!("expected a checkpoint error, got {other}"),
    }
}

#[test]
fn checkpoints_of_other_fits_and_damaged_files_are_refused() {
    let (x, y) = data();
    let path = temp_path("refusals");
    interrupted(Method::Trf, &path, 4);

    let other_model = ExprModel::parse("a * exp(-b * x) + c / (1 + d * x)").unwrap();
    let err = CurveFit::new(other_model)
        .p0([1.0, 1.0, 1.0, 0.01])
        .bounds([0.0; 4], [10.0, 10.0, 10.0, 0.2])
        .resume_from(&path)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::OtherModel { .. }));

    let err = fit(Method::Dogbox)
        .resume_from(&path)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::OtherMethod { .. }));

    let err = fit(Method::Trf)
        .ftol(1e-10)
        .resume_from(&path)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::OtherOptions { .. }));

    let mut y2 = y.clone();
    y2[77] += 1e-12;
    let err = fit(Method::Trf)
        .resume_from(&path)
        .fit(&x, &y2)
        .unwrap_err();
    let err = refusal(err);
    assert!(matches!(err, CheckpointError::OtherData { .. }));
    println!("{err}");
    let err = fit(Method::Trf)
        .resume_from(&path)
        .fit(&x[1..], &y[1..])
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::OtherData { .. }));

    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    let damaged = temp_path("damaged");
    std::fs::write(&damaged, &bytes).unwrap();
    let err = fit(Method::Trf)
        .resume_from(&damaged)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::Corrupt { .. }));
    std::fs::write(&damaged, &bytes[..bytes.len() - 5]).unwrap();
    let err = fit(Method::Trf)
        .resume_from(&damaged)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::Corrupt { .. }));

    let missing = temp_path("missing");
    let err = fit(Method::Trf)
        .resume_from(&missing)
        .fit(&x, &y)
        .unwrap_err();
    let err = refusal(err);
    assert!(matches!(err, CheckpointError::Missing { .. }));
    assert!(err.to_string().contains("no such file"));

    // A file that is not a checkpoint is neither resumed from nor overwritten.
    let user = temp_path("user-data");
    std::fs::write(&user, "x,y\n").unwrap();
    let err = fit(Method::Trf).resume_from(&user).fit(&x, &y).unwrap_err();
    assert!(matches!(
        refusal(err),
        CheckpointError::NotACheckpoint { .. }
    ));
    let err = fit(Method::Trf)
        .checkpoint(&user, Every::Iterations(1))
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(
        refusal(err),
        CheckpointError::NotACheckpoint { .. }
    ));
    assert_eq!(std::fs::read_to_string(&user).unwrap(), "x,y\n");

    for p in [path, damaged, user] {
        std::fs::remove_file(p).unwrap();
    }
}

#[test]
fn a_failed_write_is_reported_and_the_fit_goes_on() {
    let (x, y) = data();
    let plain = fit(Method::Lm).fit(&x, &y).unwrap();
    let nowhere = std::env::temp_dir()
        .join(format!("nlsq-no-such-dir-{}", std::process::id()))
        .join("fit.ckpt");
    let failures = || nlsq_runtime::profile::counters().checkpoint_failures;
    let before = failures();
    let r = fit(Method::Lm)
        .checkpoint(&nowhere, Every::Iterations(1))
        .callback(move |i| {
            // Give the writer time to fail on the first checkpoint before the fit goes on.
            let start = std::time::Instant::now();
            while i.iteration == 2 && failures() == before && start.elapsed().as_secs() < 30 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            ControlFlow::Continue(())
        })
        .fit(&x, &y)
        .unwrap();
    assert_same(&r, &plain);
    let report = r.checkpoint.unwrap();
    assert_eq!(report.written, 0);
    assert!(report.failed >= 1);
    assert!(report.last_error.unwrap().contains("no-such-dir"));
}

#[test]
fn the_profile_counts_this_fits_passes_and_checkpoints() {
    let (x, y) = data();
    let path = temp_path("profile");
    let r = fit(Method::Trf)
        .profile(true)
        .checkpoint(&path, Every::Iterations(1))
        .fit(&x, &y)
        .unwrap();
    let p = r.profile.clone().unwrap();
    assert_eq!(p.passes as usize, r.nfev);
    assert!(p.pass_time_s > 0.0 && p.pass_time_max_s <= p.pass_time_s);
    assert!(p.wall_time_s >= p.pass_time_s);
    let c = r.checkpoint.clone().unwrap();
    assert_eq!((p.checkpoint_writes, p.checkpoint_failures), (c.written, 0));
    // One per iteration but the last: written, or replaced by a newer one before the writer
    // got to it, or dropped at the end of the converged fit.
    assert!(c.written + c.skipped + 1 >= r.iterations as u64);
    // The CPU moves nothing to or from a device.
    assert_eq!((p.bytes_h2d, p.bytes_d2h, p.kernel_builds), (0, 0, 0));
    // The report survives JSON.
    let json = serde_json::to_string(&r).unwrap();
    let back: FitResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.profile, r.profile);
    assert_eq!(back.checkpoint, r.checkpoint);

    // A resumed fit counts only its own passes.
    let cut = interrupted(Method::Trf, &path, 3);
    let resumed = fit(Method::Trf)
        .profile(true)
        .resume_from(&path)
        .fit(&x, &y)
        .unwrap();
    let from = checkpoint::read(&path).unwrap().state.nfev();
    assert_eq!(
        resumed.profile.unwrap().passes as usize,
        resumed.nfev - from
    );
    assert!(cut.nfev > from);
    std::fs::remove_file(&path).unwrap();
}

/// With the `progress` feature: the bar changes nothing in the fit (and draws nothing when
/// stderr is not a terminal, as under `cargo test`'s capture).
#[cfg(feature = "progress")]
#[test]
fn a_fit_with_a_progress_bar_is_the_same_fit() {
    let (x, y) = data();
    let plain = fit(Method::Dogbox).fit(&x, &y).unwrap();
    let shown = fit(Method::Dogbox).progress(true).fit(&x, &y).unwrap();
    assert_same(&shown, &plain);
}

#[test]
fn checkpoints_by_time_and_bad_schedules() {
    let (x, y) = data();
    let path = temp_path("seconds");
    // Every 0 s: after every iteration, like Every::Iterations(1).
    let r = fit(Method::Lm)
        .checkpoint(&path, Every::Seconds(0.0))
        .callback(|i| {
            if i.iteration == 4 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .fit(&x, &y)
        .unwrap();
    assert_eq!(r.checkpoint.unwrap().last_iteration, Some(3));
    // Every hour: none during a short fit.
    let _ = std::fs::remove_file(&path);
    let r = fit(Method::Lm)
        .checkpoint(&path, Every::Seconds(3600.0))
        .fit(&x, &y)
        .unwrap();
    let report = r.checkpoint.unwrap();
    assert_eq!((report.written, report.skipped), (0, 0));
    assert!(!path.exists());
    for every in [Every::Iterations(0), Every::Seconds(f64::INFINITY)] {
        let err = fit(Method::Lm)
            .checkpoint(&path, every)
            .fit(&x, &y)
            .unwrap_err();
        assert!(matches!(err, FitError::InvalidOption { .. }), "{err}");
    }
}

/// Streamed fits (a source larger than the host budget, read once per pass) checkpoint and
/// resume like in-memory ones; a checkpoint of other streamed data is refused.
#[test]
fn streamed_fits_resume_bit_for_bit() {
    use nlsq_runtime::stream::SliceSource;
    let (x, y) = data();
    let streamed = |f: CurveFit<'static, ExprModel>| {
        let mut source = SliceSource::new(vec![&x[..]], &y);
        f.max_host_bytes(1024).fit_source(&mut source).unwrap()
    };
    let full = streamed(fit(Method::Trf));
    assert_eq!(
        full.data_plan.mode.to_string(),
        "streaming",
        "{}",
        full.data_plan
    );
    let path = temp_path("streamed");
    let cut = streamed(
        fit(Method::Trf)
            .checkpoint(&path, Every::Iterations(1))
            .callback(|i| {
                if i.iteration == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            }),
    );
    assert_eq!(cut.status, nlsq_runtime::Status::Stopped);
    assert_eq!(cut.checkpoint.unwrap().last_iteration, Some(2));
    let resumed = streamed(fit(Method::Trf).resume_from(&path));
    assert_same(&resumed, &full);
    // Other data: refused.
    let y2: Vec<f64> = y.iter().map(|v| v * 1.001).collect();
    let mut other = SliceSource::new(vec![&x[..]], &y2);
    let err = fit(Method::Trf)
        .max_host_bytes(1024)
        .resume_from(&path)
        .fit_source(&mut other)
        .unwrap_err();
    assert!(matches!(refusal(err), CheckpointError::OtherData { .. }));
    std::fs::remove_file(&path).unwrap();
}

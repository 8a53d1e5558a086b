//! Crash safety: a fit in a child process is killed with SIGKILL after it wrote a checkpoint;
//! the fit resumed from that checkpoint reaches the uninterrupted result (to 1e-12, and in
//! fact bit for bit, with the same pass and iteration counts).
//!
//! The test re-executes its own binary as the child (selected by an environment variable).
//! The child's callback sleeps a little per iteration and, from iteration `HOLD`, for ever, so
//! the kill always lands in the middle of the fit however loaded the machine is; the parent
//! kills it as soon as a checkpoint of iteration `KILL_AFTER` or later is on disk.

use nlsq_runtime::{CurveFit, Every, ExprModel, FitResult, Method, checkpoint};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "NLSQ_CHECKPOINT_CRASH_CHILD";
const KILL_AFTER: usize = 3;
const HOLD: usize = 5;
const TIMEOUT: Duration = Duration::from_secs(120);

fn data() -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..2000).map(|i| i as f64 * 0.02).collect();
    let y = x
        .iter()
        .map(|x| 3.0 * (-0.5 * x).exp() + 1.5 * (-0.05 * x).exp() + 0.01 * (7.0 * x).sin())
        .collect();
    (x, y)
}

fn fit() -> CurveFit<'static, ExprModel> {
    CurveFit::new(ExprModel::parse("a * exp(-b * x) + c * exp(-d * x)").unwrap())
        .p0([1.0, 1.0, 1.0, 0.01])
        .bounds([0.0, 0.0, 0.0, 0.0], [10.0, 10.0, 10.0, 0.2])
        .method(Method::Trf)
}

/// The child: the fit, checkpointed every iteration, held for ever from iteration `HOLD`.
fn child(path: &Path) {
    let (x, y) = data();
    let r = fit()
        .checkpoint(path, Every::Iterations(1))
        .callback(|info| {
            std::thread::sleep(Duration::from_millis(10));
            if info.iteration >= HOLD {
                // Held until the parent kills the process.
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            ControlFlow::Continue(())
        })
        .fit(&x, &y);
    // Only reached if the fit ends before `HOLD` iterations, which the parent reports.
    eprintln!("child fit ended: {r:?}");
}

/// Waits until the checkpoint at `path` records iteration `KILL_AFTER` or later.
fn wait_for_checkpoint(path: &Path, child: &mut std::process::Child) -> usize {
    let start = Instant::now();
    loop {
        match checkpoint::read(path) {
            Ok(c) if c.state.iteration() >= KILL_AFTER => return c.state.iteration(),
            Ok(_) | Err(checkpoint::CheckpointError::Missing { .. }) => {}
            // Writes are atomic: a reader never sees a partial file.
            Err(e) => panic!("a checkpoint that cannot be read: {e}"),
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child ended before the kill: {status}");
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("no checkpoint of iteration {KILL_AFTER} within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn close(a: &FitResult, b: &FitResult) {
    for (p, q) in a.popt.iter().zip(&b.popt) {
        assert!(
            (p - q).abs() <= 1e-12 * q.abs(),
            "{:?} vs {:?}",
            a.popt,
            b.popt
        );
    }
    assert_eq!(
        (a.nfev, a.njev, a.iterations, a.status),
        (b.nfev, b.njev, b.iterations, b.status)
    );
}

#[test]
fn a_fit_killed_after_a_checkpoint_resumes_to_the_uninterrupted_result() {
    if let Some(path) = std::env::var_os(CHILD) {
        child(Path::new(&path));
        return;
    }
    let dir = std::env::temp_dir().join(format!("nlsq-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("fit.ckpt");
    let _ = std::fs::remove_file(&path);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_fit_killed_after_a_checkpoint_resumes_to_the_uninterrupted_result",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seen = wait_for_checkpoint(&path, &mut child);
    // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no final checkpoint.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status}");

    let saved = checkpoint::read(&path).unwrap();
    let at = saved.state.iteration();
    assert!((seen..HOLD).contains(&at), "checkpoint of iteration {at}");
    let (x, y) = data();
    let resumed = fit().resume_from(&path).fit(&x, &y).unwrap();
    let full = fit().fit(&x, &y).unwrap();
    assert!(full.success && full.iterations > HOLD, "{full}");
    close(&resumed, &full);
    assert_eq!(resumed.popt, full.popt);
    println!(
        "killed after iteration {at} of {}; resumed: {:?}",
        full.iterations, resumed.popt
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

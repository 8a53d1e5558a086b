//! `NLSQ_PROFILE=1` turns profiling on for every fit and prints the report to stderr at the
//! end of each. The variable is read once per process, so the test runs a child process (its
//! own binary) with it set and reads the child's stderr.

use nlsq_runtime::{CurveFit, ExprModel};
use std::process::Command;

const CHILD: &str = "NLSQ_PROFILE_ENV_CHILD";

#[test]
fn nlsq_profile_reports_every_fit_on_stderr() {
    if std::env::var_os(CHILD).is_some() {
        let x: Vec<f64> = (0..50).map(|i| i as f64 * 0.1).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.0 * (-0.7 * x).exp() + 0.1).collect();
        let r = CurveFit::new(ExprModel::parse("a * exp(-b * x) + c").unwrap())
            .fit(&x, &y)
            .unwrap();
        let p = r.profile.expect("NLSQ_PROFILE=1 attaches a profile");
        assert_eq!(p.passes as usize, r.nfev);
        eprintln!("child nfev {}", r.nfev);
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "nlsq_profile_reports_every_fit_on_stderr",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("NLSQ_PROFILE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    let nfev: String = stderr
        .lines()
        .find_map(|l| l.strip_prefix("child nfev "))
        .expect("the child's fit ran")
        .to_string();
    assert!(stderr.contains("nlsq profile"), "{stderr}");
    assert!(
        stderr.contains(&format!("passes            {nfev} in")),
        "{stderr}"
    );
    println!("{stderr}");
}

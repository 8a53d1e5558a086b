//! What `nlsq fit` writes: the summary, JSON with every `FitResult` field (non-finite as
//! `null`) and the correlation matrix, the curve CSV with its confidence and prediction bands, PNG and SVG plots (decoded and checked),
//! checkpoints that a second run resumes from.

mod common;
use common::*;

const MODEL: &str = "a*exp(-b*x)+c";

#[test]
fn summary_json_and_curve() {
    let dir = scratch("outputs");
    let (x, y) = decay(200);
    let data = dir.join("d.csv");
    std::fs::write(&data, csv(&["t", "v"], &[&x, &y])).unwrap();
    let report = dir.join("r.json");
    let curve = dir.join("curve.csv");
    let stdout = run_ok(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", MODEL, "--p0", "a=1,b=1,c=0", "--json"])
            .arg(&report)
            .arg("--curve")
            .arg(&curve),
        0,
    );
    assert!(
        stdout.contains("parameter") && stdout.contains("95% confidence"),
        "{stdout}"
    );
    let r = json(&std::fs::read_to_string(&report).unwrap());
    for field in [
        "model",
        "param_names",
        "popt",
        "pcov",
        "perr",
        "ci95",
        "cost",
        "chi2",
        "reduced_chi2",
        "r_squared",
        "rmse",
        "aic",
        "bic",
        "n_points",
        "dof",
        "nfev",
        "status",
        "message",
        "success",
        "method",
        "loss",
        "backend",
        "data_plan",
        "predictors",
        "observations",
    ] {
        assert!(r.get(field).is_some(), "{field} missing");
    }
    assert_eq!(r["param_names"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(r["model"], MODEL);
    let p = popt(&r);

    // The curve: one row per point; fit and residual consistent; the band brackets the fit
    // and is narrow where the data determine the curve.
    let text = std::fs::read_to_string(&curve).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("t,v,fit,residual,band_lower,band_upper,prediction_lower,prediction_upper")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 200);
    for (i, r) in rows.iter().enumerate() {
        let f = p[0] * (-p[1] * x[i]).exp() + p[2];
        assert!((r[0] - x[i]).abs() == 0.0 && (r[1] - y[i]).abs() == 0.0);
        assert!((r[2] - f).abs() <= 1e-12 * f.abs(), "fit {} vs {f}", r[2]);
        assert!((r[3] - (y[i] - r[2])).abs() <= 1e-15);
        assert!(r[4] < r[2] && r[2] < r[5] && r[5] - r[4] < 0.02, "{r:?}");
        assert!(r[6] < r[4] && r[5] < r[7], "{r:?}");
    }
    curve_matches_the_runtime(&r, &rows, &x);
}

/// The report's correlation matrix, and the curve's bands equal the runtime's of the reported
/// result.
fn curve_matches_the_runtime(report: &serde_json::Value, rows: &[Vec<f64>], x: &[f64]) {
    let fit: nlsq::FitResult = serde_json::from_value(report.clone()).unwrap();
    let corr = fit.correlation();
    for (i, row) in corr.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            assert_eq!(report["correlation"][i][j].as_f64(), Some(*c));
        }
    }
    let model = nlsq::ExprModel::parse(MODEL).unwrap();
    let mut bands = nlsq::Bands::new(&model, &fit).unwrap();
    for (r, &xi) in rows.iter().zip(x) {
        let b = bands.at(&[xi]);
        let want = [
            b.confidence.0,
            b.confidence.1,
            b.prediction.0,
            b.prediction.1,
        ];
        for (got, want) in r[4..8].iter().zip(want) {
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} vs {want}");
        }
    }
}

#[test]
fn non_finite_numbers_are_null_in_json() {
    let dir = scratch("null");
    let (x, y) = decay(100);
    let data = dir.join("d.csv");
    std::fs::write(&data, csv(&["x", "y"], &[&x, &y])).unwrap();
    // `d` has no influence: its variance is infinite.
    let r = json(&run_ok(
        nlsq().arg("fit").arg(&data).args([
            "-m",
            "a*exp(-b*x)+c+0*d",
            "--p0",
            "a=1,b=1,c=0,d=1",
            "-q",
            "--json",
        ]),
        0,
    ));
    assert!(r["perr"][3].is_null(), "{}", r["perr"]);
    assert!(r["pcov"][3][3].is_null());
    assert!(r["perr"][0].is_f64());
    assert_eq!(r["covariance_indeterminate"], true);
}

fn png_pixels(path: &std::path::Path) -> image::RgbImage {
    image::open(path).expect("a PNG").to_rgb8()
}

#[test]
fn plots_draw_data_fit_band_residuals_and_table() {
    let dir = scratch("plots");
    let (x, y) = decay(300);
    let data = dir.join("d.csv");
    std::fs::write(&data, csv(&["time", "signal"], &[&x, &y])).unwrap();
    let png = dir.join("fit.png");
    let svg = dir.join("fit.svg");
    for out in [&png, &svg] {
        run_ok(
            nlsq()
                .arg("fit")
                .arg(&data)
                .args(["-m", MODEL, "--p0", "a=1,b=1,c=0", "-q", "--plot"])
                .arg(out),
            0,
        );
    }
    let img = png_pixels(&png);
    assert_eq!(img.dimensions(), (1200, 800));
    let count = |f: &dyn Fn(&image::Rgb<u8>) -> bool| img.pixels().filter(|p| f(p)).count();
    let white = count(&|p| p.0 == [255, 255, 255]);
    let blue = count(&|p| p.0[2] > 150 && p.0[0] < 150 && p.0[1] < 150);
    let red = count(&|p| p.0[0] > 200 && p.0[1] < 80 && p.0[2] < 80);
    let dark = count(&|p| p.0.iter().all(|c| *c < 60));
    println!("png: {white} white, {blue} data, {red} fit, {dark} text and axes pixels");
    assert!(white < 1200 * 800 * 98 / 100, "blank");
    assert!(blue > 1000, "data points drawn: {blue}");
    assert!(red > 500, "fit drawn: {red}");
    assert!(dark > 2000, "axes and text drawn: {dark}");
    // The residual panel (lower 30%) has data points too.
    let lower_blue = img
        .enumerate_pixels()
        .filter(|(_, y, p)| *y > 600 && p.0[2] > 150 && p.0[0] < 150 && p.0[1] < 150)
        .count();
    assert!(lower_blue > 300, "residuals drawn: {lower_blue}");

    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..50]);
    assert!(
        text.matches("<circle").count() >= 600,
        "data and residual points"
    );
    assert!(
        text.contains("<polyline") || text.contains("<path"),
        "fit line"
    );
    for label in ["time", "signal", "residual", "a = ", "R² = "] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", MODEL, "--plot"])
            .arg(dir.join("fit.gif")),
    );
    assert!(e.contains(".png or .svg"), "{e}");
}

#[test]
fn a_killed_fit_resumes_from_its_checkpoint() {
    let dir = scratch("checkpoint");
    let (x, y) = decay(1_000_000);
    let rows: Vec<f64> = x.iter().zip(&y).flat_map(|(a, b)| [*a, *b]).collect();
    let data = dir.join("d.npy");
    std::fs::write(&data, npy_bytes(&[1_000_000, 2], false, false, &rows)).unwrap();
    let ck = dir.join("fit.ckpt");
    let args = ["-m", MODEL, "--p0", "a=10,b=0.1,c=3", "-q", "--json"];
    let reference = json(&run_ok(nlsq().arg("fit").arg(&data).args(args), 0));
    // The same fit with a checkpoint after every iteration, killed once one is on disk.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nlsq"))
        .arg("fit")
        .arg(&data)
        .args(args)
        .arg("--checkpoint")
        .arg(&ck)
        .args(["--checkpoint-every", "1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ck.exists() && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ck.exists(), "no checkpoint was written");
    let resumed = json(&run_ok(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(args)
            .arg("--resume")
            .arg(&ck),
        0,
    ));
    assert_eq!(popt(&resumed), popt(&reference));
    // A checkpoint of another model is refused.
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", "a*exp(-b*x)", "--resume"])
            .arg(&ck),
    );
    assert!(e.contains("checkpoint"), "{e}");
}

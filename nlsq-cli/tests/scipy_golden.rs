//! `nlsq fit` against scipy's `curve_fit` (`tests/scipy/curve_fit_reference.json` of the
//! workspace: data, options and scipy's popt and pcov): each case is written as a CSV file and
//! fitted by the binary; its JSON report must agree with scipy as the library does
//! (`tests/scipy_agreement.rs`): popt to 1e-6 relative, pcov to 1e-4 of
//! `sqrt(pcov_jj pcov_kk)`. Cases with a 2-D sigma (a covariance) are not expressible as a
//! column and are left to the library's test.

mod common;
use common::*;

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn assign(names: &[String], values: &[f64]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn agrees_with_scipy_curve_fit() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/scipy/curve_fit_reference.json"
    );
    let reference = json(&std::fs::read_to_string(path).expect("scipy reference"));
    let dir = scratch("scipy");
    let mut checked = 0;
    for c in reference["cases"].as_array().expect("cases") {
        let name = c["name"].as_str().expect("name");
        if c.get("sigma").is_some_and(|s| s[0].is_array()) {
            continue;
        }
        let names: Vec<String> = c["params"]
            .as_array()
            .expect("params")
            .iter()
            .map(|v| v.as_str().expect("name").to_string())
            .collect();
        let x: Vec<Vec<f64>> = c["x"].as_array().expect("x").iter().map(floats).collect();
        let y = floats(&c["y"]);
        let mut header: Vec<String> = (0..x.len()).map(|k| format!("x{k}")).collect();
        header.push("y".into());
        let mut cols: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        cols.push(&y);
        let sigma = c.get("sigma").map(floats);
        if let Some(s) = &sigma {
            header.push("s".into());
            cols.push(s);
        }
        let h: Vec<&str> = header.iter().map(String::as_str).collect();
        let data = dir.join(format!("{name}.csv"));
        std::fs::write(&data, csv(&h, &cols)).expect("write");
        let mut cmd = nlsq();
        cmd.arg("fit")
            .arg(&data)
            .args(["-m", c["expr"].as_str().expect("expr")]);
        for k in 0..x.len() {
            cmd.args(["--x", &format!("x{k}")]);
        }
        cmd.args(["--y", "y", "--p0", &assign(&names, &floats(&c["p0"]))]);
        cmd.args([
            "--ftol", "1e-12", "--xtol", "1e-12", "--gtol", "1e-12", "--json", "-",
        ]);
        if let (Some(lo), Some(hi)) = (c.get("lower"), c.get("upper")) {
            let b: Vec<String> = names
                .iter()
                .zip(floats(lo).iter().zip(floats(hi)))
                .map(|(n, (l, h))| format!("{n}={l:?}:{h:?}"))
                .collect();
            cmd.args(["--bounds", &b.join(",")]);
        }
        if let Some(m) = c.get("method") {
            cmd.args(["--method", m.as_str().expect("method")]);
        }
        if let Some(l) = c.get("loss") {
            cmd.args(["--loss", l.as_str().expect("loss")]);
            cmd.args(["--f-scale", &c["f_scale"].to_string()]);
        }
        if sigma.is_some() {
            cmd.args(["--sigma", "s"]);
        }
        if c.get("absolute_sigma").and_then(|a| a.as_bool()) == Some(true) {
            cmd.arg("--absolute-sigma");
        }
        let r = json(&run_ok(&mut cmd, 0));
        let got = popt(&r);
        let want = floats(&c["popt"]);
        let pcov: Vec<Vec<f64>> = c["pcov"]
            .as_array()
            .expect("pcov")
            .iter()
            .map(floats)
            .collect();
        let rpcov: Vec<Vec<f64>> = r["pcov"]
            .as_array()
            .expect("pcov")
            .iter()
            .map(floats)
            .collect();
        for j in 0..want.len() {
            let rel = ((got[j] - want[j]) / want[j]).abs();
            assert!(
                rel <= 1e-6,
                "{name}: popt[{j}] {} vs scipy {} ({rel:.1e})",
                got[j],
                want[j]
            );
            for k in 0..want.len() {
                let scale = (pcov[j][j] * pcov[k][k]).sqrt();
                let err = (rpcov[j][k] - pcov[j][k]).abs() / scale;
                assert!(err <= 1e-4, "{name}: pcov[{j}][{k}] ({err:.1e})");
            }
        }
        checked += 1;
        println!("{name}: the binary's JSON agrees with scipy");
    }
    assert!(checked >= 10, "{checked} cases");
}

//! Agreement with scipy's `curve_fit` on cases covering bounds (active and inactive), every
//! robust loss, 1-D and 2-D sigma, absolute_sigma, two predictors, and all three methods.
//! Reference values: `tests/scipy/curve_fit_reference.py` (scipy 1.17.1), stored beside it.

use nlsq::{CurveFit, ExprModel, Loss, Method};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn popt_and_pcov_agree_with_scipy() {
    let text = include_str!("scipy/curve_fit_reference.json");
    let root: Value = serde_json::from_str(text).unwrap();
    let cases = root["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let params: Vec<String> = c["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let names: Vec<&str> = params.iter().map(String::as_str).collect();
        let model = ExprModel::parse_with_params(c["expr"].as_str().unwrap(), &names).unwrap();
        let x: Vec<Vec<f64>> = c["x"].as_array().unwrap().iter().map(floats).collect();
        let y = floats(&c["y"]);
        let mut fit = CurveFit::new(&model).p0(floats(&c["p0"])).tol(1e-12);
        if let (Some(lo), Some(hi)) = (c.get("lower"), c.get("upper")) {
            fit = fit.bounds(floats(lo), floats(hi));
        }
        if let Some(m) = c.get("method") {
            fit = fit.method(m.as_str().unwrap().parse::<Method>().unwrap());
        }
        if let Some(l) = c.get("loss") {
            fit = fit.loss(l.as_str().unwrap().parse::<Loss>().unwrap());
            fit = fit.f_scale(c["f_scale"].as_f64().unwrap());
        }
        if let Some(s) = c.get("sigma") {
            let rows = s.as_array().unwrap();
            if rows[0].is_array() {
                let m: Vec<Vec<f64>> = rows.iter().map(floats).collect();
                let n = m.len();
                fit = fit.sigma_covariance(nalgebra::DMatrix::from_fn(n, n, |i, j| m[i][j]));
            } else {
                fit = fit.sigma(&floats(s));
            }
        }
        if let Some(a) = c.get("absolute_sigma") {
            fit = fit.absolute_sigma(a.as_bool().unwrap());
        }
        let r = fit.fit(&x, &y).unwrap_or_else(|e| panic!("{name}: {e}"));
        let popt = floats(&c["popt"]);
        let pcov: Vec<Vec<f64>> = c["pcov"].as_array().unwrap().iter().map(floats).collect();
        for j in 0..popt.len() {
            let rel = ((r.popt[j] - popt[j]) / popt[j]).abs();
            assert!(
                rel <= 1e-6,
                "{name}: popt[{j}] {} vs scipy {} ({rel:.1e})",
                r.popt[j],
                popt[j]
            );
            for k in 0..popt.len() {
                let scale = (pcov[j][j] * pcov[k][k]).sqrt();
                let err = (r.pcov[j][k] - pcov[j][k]).abs() / scale;
                assert!(
                    err <= 1e-4,
                    "{name}: pcov[{j}][{k}] {} vs scipy {} ({err:.1e} of sqrt(pcov_jj pcov_kk))",
                    r.pcov[j][k],
                    pcov[j][k]
                );
            }
        }
        println!(
            "{name}: popt and pcov agree with scipy ({} passes, {})",
            r.nfev, r.message
        );
    }
}

//! `nlsq batch`: a 2-D `.npy` (fits × points) with a shared grid, a long table with a group
//! column, results as CSV, `.npy` and JSON, a summary of states, exit status 1 when some fits
//! did not converge.

mod common;
use common::*;

/// 50 decays `a exp(−b x)` with known a, b on x = 0..19.
fn problems() -> (Vec<[f64; 2]>, Vec<f64>) {
    let truth: Vec<[f64; 2]> = (0..50)
        .map(|i| [1.0 + 0.04 * i as f64, 0.1 + 0.004 * i as f64])
        .collect();
    let y = truth
        .iter()
        .flat_map(|[a, b]| (0..20).map(move |j| a * (-b * j as f64).exp()))
        .collect();
    (truth, y)
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn matrix_and_long_table() {
    let dir = scratch("batch");
    let (truth, y) = problems();
    let m = dir.join("m.npy");
    std::fs::write(&m, npy_bytes(&[50, 20], false, false, &y)).unwrap();
    let out = run_ok(
        nlsq().arg("batch").arg(&m).args([
            "-m",
            "a*exp(-b*x)",
            "--p0",
            "a=1,b=0.2",
            "--tol",
            "1e-14",
        ]),
        0,
    );
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 50);
    for (r, [a, b]) in rows.iter().zip(&truth) {
        assert_eq!(r[1], "Converged");
        let (fa, fb): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        assert!((fa - a).abs() < 1e-8 && (fb - b).abs() < 1e-8, "{r:?}");
    }

    // The same problems as a long table, groups interleaved; a shared grid file.
    let mut long = String::from("id,t,v\n");
    for j in 0..20 {
        for (i, _) in truth.iter().enumerate() {
            long.push_str(&format!("spot {},{j},{:?}\n", 100 + i, y[i * 20 + j]));
        }
    }
    let table = dir.join("long.csv");
    std::fs::write(&table, long).unwrap();
    let json_out = dir.join("r.json");
    run_ok(
        nlsq()
            .arg("batch")
            .arg(&table)
            .args([
                "-m",
                "a*exp(-b*x)",
                "--p0",
                "a=1,b=0.2",
                "--tol",
                "1e-14",
                "--group",
                "id",
                "--x",
                "t",
                "--y",
                "v",
                "-o",
            ])
            .arg(&json_out),
        0,
    );
    let r = json(&std::fs::read_to_string(&json_out).unwrap());
    let fits = r["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 50);
    for (f, [a, b]) in fits.iter().zip(&truth) {
        assert!((f["params"]["a"].as_f64().unwrap() - a).abs() < 1e-8);
        assert!((f["params"]["b"].as_f64().unwrap() - b).abs() < 1e-8);
    }
    assert_eq!(fits[0]["fit"], "spot 100");

    // .npy output: (fits, 2P + 3).
    let npy_out = dir.join("r.npy");
    run_ok(
        nlsq()
            .arg("batch")
            .arg(&m)
            .args(["-m", "a*exp(-b*x)", "--p0", "a=1,b=0.2", "-q", "-o"])
            .arg(&npy_out),
        0,
    );
    let bytes = std::fs::read(&npy_out).unwrap();
    let header = String::from_utf8_lossy(&bytes[10..bytes.len().min(128)]).to_string();
    assert!(header.contains("'shape': (50, 7)"), "{header}");
    assert_eq!(bytes.len() % 64, (50 * 7 * 8) % 64);
}

#[test]
fn states_and_exit_status() {
    let dir = scratch("batch-states");
    let (_, mut y) = problems();
    // Fit 3 has a NaN: its state is NonFinite, the others converge; exit status 1.
    y[3 * 20 + 5] = f64::NAN;
    let m = dir.join("m.npy");
    std::fs::write(&m, npy_bytes(&[50, 20], false, false, &y)).unwrap();
    let out = nlsq()
        .arg("batch")
        .arg(&m)
        .args(["-m", "a*exp(-b*x)", "--p0", "a=1,b=0.2", "--tol", "1e-14"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = csv_rows(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(rows[3][1], "NonFinite");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("49 Converged") && stderr.contains("1 NonFinite"),
        "{stderr}"
    );

    let e = run_bad(
        nlsq()
            .arg("batch")
            .arg(dir.join("nope.csv"))
            .args(["-m", "a*x"]),
    );
    assert!(e.contains("--group"), "{e}");
    let e = run_bad(
        nlsq()
            .arg("batch")
            .arg(&m)
            .args(["-m", "a*x", "-o"])
            .arg(dir.join("r.xlsx")),
    );
    assert!(e.contains(".xlsx"), "{e}");
}

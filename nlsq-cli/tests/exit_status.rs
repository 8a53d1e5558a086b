//! Exit status 0 for a converged fit, 1 for a fit that did not converge, 2 for bad input or
//! usage, with messages that name the file, line and column; outputs never overwrite inputs.

mod common;
use common::*;

const MODEL: &str = "a*exp(-b*x)+c";

#[test]
fn converged_not_converged_and_bad_input() {
    let dir = scratch("exit");
    let (x, y) = decay(200);
    let data = dir.join("d.csv");
    std::fs::write(&data, csv(&["x", "y"], &[&x, &y])).unwrap();
    let fit = || {
        let mut c = nlsq();
        c.arg("fit")
            .arg(&data)
            .args(["-m", MODEL, "--p0", "a=1,b=1,c=0", "-q"]);
        c
    };
    run_ok(&mut fit(), 0);
    run_ok(fit().args(["--max-nfev", "2"]), 1);

    let e = run_bad(nlsq().args(["fit", "missing.csv", "-m", MODEL]));
    assert!(e.contains("missing.csv"), "{e}");
    let e = run_bad(fit().args(["--y", "z"]));
    assert!(e.contains("no column is named `z`"), "{e}");
    let e = run_bad(nlsq().arg("fit").arg(&data).args(["-m", "a*exp(-b*x"]));
    assert!(e.contains("model"), "{e}");
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", MODEL, "--p0", "q=1"]),
    );
    assert!(e.contains("no parameter `q`"), "{e}");
    let e = run_bad(fit().args(["--bounds", "a=2:1"]));
    assert!(e.contains("below"), "{e}");
    let e = run_bad(fit().args(["--method", "newton"]));
    assert!(e.contains("newton"), "{e}");
    let e = run_bad(nlsq().arg("fit"));
    assert!(e.contains("Usage"), "{e}");
    let e = run_bad(fit().args(["--max-host-bytes", "12Q"]));
    assert!(e.contains("unit"), "{e}");
    let e = run_bad(fit().args(["--cuda-devices", "0,x"]));
    assert!(e.contains("`x` is not a device ordinal"), "{e}");
    let e = run_bad(fit().args(["--backend", "cpu", "--cuda-devices", "all"]));
    assert!(
        e.contains("cuda_devices") && e.contains("Cpu backend"),
        "{e}"
    );
}

#[test]
fn malformed_files_name_line_and_column() {
    let dir = scratch("malformed");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "x,y\n0,1\n1,2\n2,abc\n3,4\n").unwrap();
    let e = run_bad(nlsq().arg("fit").arg(&bad).args(["-m", MODEL]));
    assert!(
        e.contains("bad.csv") && e.contains("line 4, column 2") && e.contains("`abc`"),
        "{e}"
    );
    let ragged = dir.join("ragged.txt");
    std::fs::write(&ragged, "# t y\n0 1\n1 2\n2\n").unwrap();
    let e = run_bad(nlsq().arg("fit").arg(&ragged).args(["-m", MODEL]));
    assert!(
        e.contains("ragged.txt") && e.contains("line 4") && e.contains("1 fields"),
        "{e}"
    );
    let npy = dir.join("short.npy");
    let mut bytes = npy_bytes(&[10, 2], false, false, &[1.0; 20]);
    bytes.truncate(bytes.len() - 8);
    std::fs::write(&npy, bytes).unwrap();
    let e = run_bad(nlsq().arg("fit").arg(&npy).args(["-m", MODEL]));
    assert!(e.contains("short.npy") && e.contains("bytes"), "{e}");
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let e = run_bad(nlsq().arg("fit").arg(&empty).args(["-m", MODEL]));
    assert!(e.contains("no data"), "{e}");
    let nan = dir.join("nan.csv");
    std::fs::write(&nan, "x,y\n0,1\n1,\n2,3\n3,4\n4,5\n").unwrap();
    let e = run_bad(nlsq().arg("fit").arg(&nan).args(["-m", "a*x+b"]));
    assert!(e.to_lowercase().contains("finite"), "{e}");
    run_ok(
        nlsq()
            .arg("fit")
            .arg(&nan)
            .args(["-m", "a*x+b", "-q", "--nan-policy", "omit"]),
        0,
    );
}

#[test]
fn outputs_never_overwrite_the_data() {
    let dir = scratch("overwrite");
    let (x, y) = decay(50);
    let data = dir.join("d.csv");
    let text = csv(&["x", "y"], &[&x, &y]);
    std::fs::write(&data, &text).unwrap();
    for flag in ["--curve", "--json", "--plot"] {
        let e = run_bad(
            nlsq()
                .arg("fit")
                .arg(&data)
                .args(["-m", MODEL, flag])
                .arg(&data),
        );
        assert!(e.contains("would be written over"), "{flag}: {e}");
    }
    assert_eq!(std::fs::read_to_string(&data).unwrap(), text);
}

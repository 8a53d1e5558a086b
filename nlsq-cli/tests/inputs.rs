//! Every input format gives the same fit: CSV by header name, TSV, whitespace text with
//! comments, `.npy` in every layout, `.npz` arrays by name, raw f64, standard input (text and
//! `.npy`); f32 storage agrees to f32 precision. A file larger than the memory budget is
//! streamed, with the in-memory result.

mod common;
use common::*;
use std::path::Path;

const MODEL: &str = "a*exp(-b*x)+c";

fn fit_json(args: &[&str], data: &Path) -> serde_json::Value {
    let mut cmd = nlsq();
    cmd.arg("fit")
        .arg(data)
        .args(["-m", MODEL, "-q", "--json", "-", "--p0", "a=1,b=1,c=0"]);
    cmd.args(args);
    json(&run_ok(&mut cmd, 0))
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1e-3))
}

#[test]
fn every_format_gives_the_same_fit() {
    let dir = scratch("formats");
    let (x, y) = decay(300);
    let (_, noise) = decay(300);
    let sigma: Vec<f64> = noise.iter().map(|v| 0.01 + 0.001 * v).collect();
    let p = |n: &str| dir.join(n);
    std::fs::write(p("d.csv"), csv(&["t", "signal", "err"], &[&x, &y, &sigma])).unwrap();
    let reference = popt(&fit_json(&["--x", "t", "--y", "signal"], &p("d.csv")));
    assert!((reference[1] - 1.3).abs() < 0.01, "{reference:?}");

    // TSV, by index; whitespace with comments and blank lines; no header.
    let tsv: String = x
        .iter()
        .zip(&y)
        .map(|(a, b)| format!("{a:?}\t{b:?}\n"))
        .collect();
    std::fs::write(p("d.tsv"), &tsv).unwrap();
    let text = format!("# decay data\n\n{}", tsv.replace('\t', "   "));
    std::fs::write(p("d.txt"), &text).unwrap();
    // .npy as (N, 2), (2, N), Fortran (N, 2); f4.
    let rows: Vec<f64> = x.iter().zip(&y).flat_map(|(a, b)| [*a, *b]).collect();
    let cols: Vec<f64> = x.iter().chain(&y).copied().collect();
    std::fs::write(p("rows.npy"), npy_bytes(&[300, 2], false, false, &rows)).unwrap();
    std::fs::write(p("cols.npy"), npy_bytes(&[2, 300], false, false, &cols)).unwrap();
    std::fs::write(p("fort.npy"), npy_bytes(&[300, 2], true, false, &cols)).unwrap();
    std::fs::write(p("d32.npy"), npy_bytes(&[300, 2], false, true, &rows)).unwrap();
    // Raw f64 rows.
    let raw: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(p("d.f64"), &raw).unwrap();
    std::fs::write(p("d.bin"), &raw).unwrap();
    for (file, args) in [
        ("d.tsv", &[][..]),
        ("d.txt", &[][..]),
        ("d.csv", &["--x", "0", "--y", "1"][..]),
        ("rows.npy", &[][..]),
        ("cols.npy", &[][..]),
        ("fort.npy", &[][..]),
        ("d.f64", &[][..]),
        ("d.bin", &["--format", "f64", "--columns", "2"][..]),
    ] {
        let got = popt(&fit_json(args, &p(file)));
        assert!(
            close(&got, &reference, 1e-10),
            "{file}: {got:?} vs {reference:?}"
        );
    }
    let got = popt(&fit_json(&[], &p("d32.npy")));
    assert!(
        close(&got, &reference, 1e-4),
        "f4: {got:?} vs {reference:?}"
    );

    // Standard input: text, and .npy recognised by its magic string.
    for (bytes, what) in [
        (tsv.into_bytes(), "text"),
        (npy_bytes(&[300, 2], false, false, &rows), "npy"),
    ] {
        let mut cmd = nlsq();
        cmd.args([
            "fit",
            "-",
            "-m",
            MODEL,
            "-q",
            "--json",
            "-",
            "--p0",
            "a=1,b=1,c=0",
        ]);
        cmd.write_stdin(bytes);
        let got = popt(&json(&run_ok(&mut cmd, 0)));
        assert!(close(&got, &reference, 1e-10), "stdin {what}: {got:?}");
    }

    // Sigma by column name changes the fit (weights) like the library does.
    let weighted = fit_json(
        &["--x", "t", "--y", "signal", "--sigma", "err"],
        &p("d.csv"),
    );
    assert!(!close(&popt(&weighted), &reference, 1e-12));
    assert_eq!(weighted["observations"], "signal");
    assert_eq!(weighted["predictors"][0], "t");
}

#[test]
fn npz_arrays_by_name() {
    let dir = scratch("npz");
    let (x, y) = decay(200);
    let path = dir.join("d.npz");
    let file = std::fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in [("time", &x), ("counts", &y)] {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        std::io::Write::write_all(&mut zip, &npy_bytes(&[200], false, false, data)).unwrap();
    }
    // Arrays of another type or length are left out.
    zip.start_file("ids.npy", opts).unwrap();
    let ints = npy_bytes(&[200], false, false, &x);
    let at = ints.windows(3).position(|w| w == b"<f8").unwrap();
    let mut ints = ints.clone();
    ints[at..at + 3].copy_from_slice(b"<i8");
    std::io::Write::write_all(&mut zip, &ints).unwrap();
    zip.start_file("meta.npy", opts).unwrap();
    std::io::Write::write_all(&mut zip, &npy_bytes(&[3], false, false, &[1.0, 2.0, 3.0])).unwrap();
    zip.finish().unwrap();
    let r = fit_json(&["--x", "time", "--y", "counts"], &path);
    assert!((popt(&r)[1] - 1.3).abs() < 0.01);
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&path)
            .args(["-m", MODEL, "--x", "t", "--y", "counts"]),
    );
    assert!(
        e.contains("no column is named `t`") && e.contains("time, counts"),
        "{e}"
    );
}

#[test]
fn larger_than_the_budget_streams_with_the_same_result() {
    let dir = scratch("stream");
    let (x, y) = decay(200_000);
    let rows: Vec<f64> = x.iter().zip(&y).flat_map(|(a, b)| [*a, *b]).collect();
    let npy = dir.join("big.npy");
    std::fs::write(&npy, npy_bytes(&[200_000, 2], false, false, &rows)).unwrap();
    let text = dir.join("big.csv");
    std::fs::write(&text, csv(&["x", "y"], &[&x, &y])).unwrap();
    let memory = fit_json(&[], &npy);
    assert_eq!(
        memory["data_plan"]["mode"], "InMemory",
        "{}",
        memory["data_plan"]
    );
    for file in [&npy, &text] {
        let streamed = fit_json(&["--max-host-bytes", "1M"], file);
        assert_eq!(
            streamed["data_plan"]["mode"], "Streaming",
            "{}",
            streamed["data_plan"]
        );
        assert_eq!(popt(&streamed), popt(&memory), "{}", file.display());
    }
}

//! `mpirun -n K nlsq fit …` (feature `mpi`): at 1, 2 and 4 ranks the fit of a `.npy` file and
//! of a CSV file equals the single-process `nlsq fit` of the same file (popt, pcov, cost) to
//! 1e-12, and bit for bit with `--reduction chunk` on the `.npy` file (with `--profile`, a
//! fitted curve and starting values estimated from the data too); only rank 0 prints. A NaN
//! in the last rank's rows, or a bad field in its lines, ends every rank with exit status 2,
//! the error printed by rank 0 and by the failing rank, with the file's line. Standard input,
//! and a rank whose part holds no row, are refused before the fit.
//! Ignored with the reason by default (they need `mpirun`); CI runs them with
//! `--include-ignored`, and there they fail if `mpirun` is missing.

#![cfg(feature = "mpi")]

mod common;
use common::*;
use std::path::Path;
use std::process::Output;
use std::sync::Mutex;

const MODEL: &str = "a*exp(-b*x)+c";
const P0: &str = "a=1,b=1,c=0";
/// Three whole chunks of the CPU pass and a remainder: four ranks of `--reduction chunk` hold
/// one chunk each, the last the remainder.
const N: usize = 3 * 4096 + 123;

/// The launcher's options (OpenMPI's or MPICH's), shared with the library's MPI tests.
#[path = "../../nlsq-testkit/src/mpirun.rs"]
#[allow(dead_code)]
mod mpirun;

/// One `mpirun` at a time (OpenMPI's session directories, and the cores).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `nlsq args…` on `ranks` ranks, each rank's exit status printed after it as
/// `rank R exit S` on stdout.
fn mpirun(ranks: usize, args: &[&str]) -> Output {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    mpirun::command()
        .args(["-n", &ranks.to_string(), "sh", "-c"])
        .arg(format!(
            r#""$0" "$@"; echo "rank {} exit $?""#,
            mpirun::RANK_IN_SHELL
        ))
        .arg(env!("CARGO_BIN_EXE_nlsq"))
        .args(args)
        .output()
        .expect("mpirun starts")
}

fn show(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The exit status of every rank, in rank order.
fn statuses(out: &Output, ranks: usize) -> Vec<i32> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    (0..ranks)
        .map(|r| {
            let tag = format!("rank {r} exit ");
            let line = stdout.lines().find_map(|l| l.strip_prefix(tag.as_str()));
            line.and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| panic!("no status of rank {r}: {}", show(out)))
        })
        .collect()
}

/// The JSON report on stdout before the ranks' statuses: the one thing any rank printed.
fn report(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text: String = stdout
        .lines()
        .filter(|l| !l.starts_with("rank "))
        .collect::<Vec<_>>()
        .join("\n");
    json(&text)
}

/// popt, pcov (flattened) and cost of a report.
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    let mut out = popt(v);
    for row in v["pcov"].as_array().expect("pcov") {
        for x in row.as_array().expect("a pcov row") {
            out.push(x.as_f64().expect("finite pcov"));
        }
    }
    out.push(v["cost"].as_f64().expect("cost"));
    out
}

/// The single-process fit of `data`, by the same binary without `mpirun`.
fn single(data: &Path) -> Vec<f64> {
    let out = nlsq()
        .arg("fit")
        .arg(data)
        .args(["-m", MODEL, "--p0", P0, "-q", "--json", "-"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", show(&out));
    numbers(&json(&String::from_utf8_lossy(&out.stdout)))
}

/// The fit of `data` on `ranks` ranks with `extra` options; every rank exits 0.
fn distributed(ranks: usize, data: &Path, extra: &[&str]) -> Vec<f64> {
    let data = data.to_str().expect("a UTF-8 path");
    let mut args = vec!["fit", data, "-m", MODEL, "--p0", P0, "--json", "-"];
    args.extend_from_slice(extra);
    let out = mpirun(ranks, &args);
    assert!(out.status.success(), "{ranks} ranks: {}", show(&out));
    assert_eq!(statuses(&out, ranks), vec![0; ranks], "{}", show(&out));
    let v = report(&out);
    assert_eq!(v["n_points"].as_u64(), Some(N as u64), "{}", show(&out));
    numbers(&v)
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs(),
            "{what}: {got:?} against {want:?}"
        );
    }
}

/// The decay data as a `(N, 2)` `.npy` file and a CSV file with a header.
fn write_data(dir: &Path, x: &[f64], y: &[f64]) {
    let rows: Vec<f64> = x.iter().zip(y).flat_map(|(a, b)| [*a, *b]).collect();
    std::fs::write(dir.join("d.npy"), npy_bytes(&[N, 2], false, false, &rows)).unwrap();
    std::fs::write(dir.join("d.csv"), csv(&["x", "y"], &[x, y])).unwrap();
}

#[test]
#[ignore = "needs mpirun (OpenMPI or MPICH): run with --include-ignored where it is installed (CI does)"]
fn distributed_fits_equal_the_single_process_fit() {
    assert!(mpirun::available(), "mpirun is not installed");
    let dir = scratch("mpi-fit");
    let (x, y) = decay(N);
    write_data(&dir, &x, &y);
    let (npy, csv) = (dir.join("d.npy"), dir.join("d.csv"));
    let want = single(&npy);
    assert!((want[1] - 1.3).abs() < 0.01, "{want:?}");
    assert_close(&single(&csv), &want, "csv in one process");
    for ranks in [1, 2, 4] {
        assert_close(&distributed(ranks, &npy, &[]), &want, "npy");
        assert_close(&distributed(ranks, &csv, &[]), &want, "csv");
        let exact = distributed(ranks, &npy, &["--reduction", "chunk"]);
        assert_eq!(exact, want, "npy, chunk order, {ranks} ranks: bit for bit");
    }
}

#[test]
#[ignore = "needs mpirun (OpenMPI or MPICH): run with --include-ignored where it is installed (CI does)"]
fn profiles_curves_and_estimated_starts_equal_the_single_process_ones() {
    assert!(mpirun::available(), "mpirun is not installed");
    let dir = scratch("mpi-profile");
    let (x, y) = decay(N);
    write_data(&dir, &x, &y);
    let npy = dir.join("d.npy");
    let npy = npy.to_str().unwrap();
    // A library model without --p0: rank 0 estimates the start from the whole file.
    let args = |curve: &str| -> Vec<String> {
        [
            "fit",
            npy,
            "-m",
            "exp_decay",
            "--profile",
            "tau",
            "--json",
            "-",
            "--curve",
            curve,
        ]
        .map(String::from)
        .to_vec()
    };
    let one = dir.join("one.csv");
    let out = nlsq()
        .args(args(one.to_str().unwrap()))
        .arg("-q")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", show(&out));
    let want = json(&String::from_utf8_lossy(&out.stdout));
    assert!(want["profile"][0]["lower"].as_f64().is_some(), "{want}");
    for ranks in [2, 4] {
        let curve = dir.join(format!("{ranks}.csv"));
        let mut args = args(curve.to_str().unwrap());
        args.extend(["-q", "--reduction", "chunk"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = mpirun(ranks, &args);
        assert_eq!(statuses(&out, ranks), vec![0; ranks], "{}", show(&out));
        let got = report(&out);
        for key in ["popt", "pcov", "cost", "profile", "n_points"] {
            assert_eq!(got[key], want[key], "{key} on {ranks} ranks");
        }
        assert_eq!(
            std::fs::read(&curve).unwrap(),
            std::fs::read(&one).unwrap(),
            "the fitted curve on {ranks} ranks"
        );
    }
}

#[test]
#[ignore = "needs mpirun (OpenMPI or MPICH): run with --include-ignored where it is installed (CI does)"]
fn bad_data_in_one_rank_ends_every_rank() {
    assert!(mpirun::available(), "mpirun is not installed");
    let dir = scratch("mpi-fail");
    let (x, mut y) = decay(N);
    y[N - 5] = f64::NAN;
    write_data(&dir, &x, &y);
    let mut text = std::fs::read_to_string(dir.join("d.csv")).unwrap();
    // Line N − 4 of the file (after the header) holds point N − 5.
    let at = text.rfind(",NaN").expect("the NaN row");
    text.replace_range(at..at + 4, ",oops");
    std::fs::write(dir.join("d.csv"), text).unwrap();
    for ranks in [2, 4] {
        let npy = dir.join("d.npy");
        let out = mpirun(
            ranks,
            &["fit", npy.to_str().unwrap(), "-m", MODEL, "--p0", P0],
        );
        assert_eq!(statuses(&out, ranks), vec![2; ranks], "{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = ranks - 1;
        // The last rank's rows, and the NaN's index among them.
        let start = last * (N / ranks) + last.min(N % ranks);
        let nan = format!("y[{}] is NaN", N - 5 - start);
        // Rank 0 names the failed rank; the failed rank prints its own error and its rows.
        let from_0 = format!("nlsq: error: distributed fit: rank {last}: failed: {nan}");
        let own = format!("nlsq: error: rank {last} (rows {start}..{N} of the file): {nan}");
        assert!(stderr.contains(&from_0), "{from_0}: {}", show(&out));
        assert!(stderr.contains(&own), "{own}: {}", show(&out));

        let csv = dir.join("d.csv");
        let out = mpirun(
            ranks,
            &["fit", csv.to_str().unwrap(), "-m", MODEL, "--p0", P0],
        );
        assert_eq!(statuses(&out, ranks), vec![2; ranks], "{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let place = format!("d.csv`: line {}, column 2: `oops` is not a number", N - 3);
        assert!(
            stderr.contains(&format!(
                "nlsq: error: rank {last} (the lines starting in bytes "
            )) && stderr.contains(&place),
            "{place}: {}",
            show(&out)
        );
    }
}

#[test]
#[ignore = "needs mpirun (OpenMPI or MPICH): run with --include-ignored where it is installed (CI does)"]
fn inputs_that_cannot_be_split_are_refused() {
    assert!(mpirun::available(), "mpirun is not installed");
    let dir = scratch("mpi-refused");
    let (x, y) = decay(N);
    // Standard input reaches rank 0 alone.
    let out = mpirun(2, &["fit", "-", "-m", MODEL, "--p0", P0]);
    assert_eq!(statuses(&out, 2), vec![2, 2], "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = "nlsq: error: standard input cannot be split over MPI ranks";
    assert_eq!(stderr.matches(message).count(), 1, "{}", show(&out));
    // Three rows over four ranks: a rank without a row is refused before the fit, by name.
    let tiny = dir.join("tiny.csv");
    std::fs::write(&tiny, csv(&["x", "y"], &[&x[..3], &y[..3]])).unwrap();
    let out = mpirun(4, &["fit", tiny.to_str().unwrap(), "-m", MODEL, "--p0", P0]);
    assert_eq!(statuses(&out, 4), vec![2; 4], "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("its part of the file (the lines starting in bytes ")
            && stderr.contains("holds no data row: too few rows for 4 ranks"),
        "{}",
        show(&out)
    );
}

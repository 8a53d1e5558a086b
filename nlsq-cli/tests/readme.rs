//! The README's command-line examples work as pasted: each `nlsq ...` line of its `sh` block
//! runs from the repository root (outputs redirected to a scratch directory) and exits 0.

mod common;
use common::*;

/// Splits a shell line into words (double quotes group; no other shell syntax is used).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn readme_examples_run() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README");
    let dir = scratch("readme");
    let lines: Vec<&str> = readme
        .lines()
        .filter(|l| {
            ["nlsq fit ", "nlsq global ", "nlsq batch "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    for line in lines {
        let w = words(line);
        let mut cmd = nlsq();
        cmd.current_dir(root);
        let mut output_next = false;
        for arg in &w[1..] {
            if output_next {
                // Outputs go to the scratch directory, not into the repository.
                cmd.arg(dir.join(arg));
            } else {
                cmd.arg(arg);
            }
            output_next = matches!(arg.as_str(), "--json" | "--plot" | "--curve" | "--output");
        }
        let stdout = run_ok(&mut cmd, 0);
        println!(
            "{line}\n{}",
            stdout.lines().take(3).collect::<Vec<_>>().join("\n")
        );
    }
    for out in ["peaks.json", "peaks.png", "fits.csv"] {
        assert!(dir.join(out).exists(), "{out}");
    }
}

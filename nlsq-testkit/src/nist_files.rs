//! NIST StRD nonlinear regression problems: parsing the `.dat` files and scoring fits.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One NIST problem as published.
pub struct Problem {
    /// The dataset name, e.g. `Misra1a`.
    pub name: String,
    /// The corpus function implementing its model.
    pub model_fn: String,
    /// Start 1 and Start 2.
    pub starts: [Vec<f64>; 2],
    /// Certified parameter values.
    pub certified: Vec<f64>,
    /// Certified standard deviations.
    pub certified_sd: Vec<f64>,
    /// Certified residual sum of squares.
    pub rss: f64,
    /// Predictor columns.
    pub x: Vec<Vec<f64>>,
    /// The fitted response (for Nelson, `ln y`).
    pub y: Vec<f64>,
}

/// The folder of the `.dat` files: `tests/data/nist-strd` of the workspace (found from the
/// crate being tested, or from the working directory when a test binary runs elsewhere, as
/// on the GPU machine).
pub fn data_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("tests/data/nist-strd"),
        manifest.join("../tests/data/nist-strd"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
    .unwrap_or_else(|| PathBuf::from("tests/data/nist-strd"))
}

/// The 27 problem names, in NIST's order of difficulty.
pub const NAMES: [&str; 27] = [
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43",
    "Bennett5",
];

fn snake(name: &str) -> String {
    match name {
        "BoxBOD" => "box_bod".into(),
        "DanWood" => "dan_wood".into(),
        other => other.to_lowercase(),
    }
}

fn numbers(line: &str) -> Vec<f64> {
    line.split_whitespace()
        .filter_map(|t| t.parse::<f64>().ok())
        .collect()
}

impl Problem {
    /// The predictors point by point (rows), rather than as columns.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        (0..self.y.len())
            .map(|i| self.x.iter().map(|c| c[i]).collect())
            .collect()
    }
}

/// Parses `<name>.dat`.
pub fn load(name: &str) -> Problem {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.dat")))
        .unwrap_or_else(|e| panic!("{name}.dat: {e}"));
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut starts = [Vec::new(), Vec::new()];
    let mut certified = Vec::new();
    let mut certified_sd = Vec::new();
    let mut rss = f64::NAN;
    for l in &lines[..60] {
        let t = l.trim_start();
        if t.starts_with('b') && t.contains('=') {
            let v = numbers(&t[t.find('=').unwrap() + 1..]);
            assert_eq!(v.len(), 4, "{name}: {l}");
            starts[0].push(v[0]);
            starts[1].push(v[1]);
            certified.push(v[2]);
            certified_sd.push(v[3]);
        }
        if t.starts_with("Residual Sum of Squares:") {
            rss = numbers(t)[0];
        }
    }
    let rows: Vec<Vec<f64>> = lines[60..]
        .iter()
        .map(|l| numbers(l))
        .filter(|v| !v.is_empty())
        .collect();
    let k = rows[0].len() - 1;
    let mut y: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    if name == "Nelson" {
        y = y.iter().map(|v| v.ln()).collect();
    }
    let x = (0..k)
        .map(|c| rows.iter().map(|r| r[c + 1]).collect())
        .collect();
    Problem {
        name: name.to_string(),
        model_fn: snake(name),
        starts,
        certified,
        certified_sd,
        rss,
        x,
        y,
    }
}

/// Log relative error of the worst parameter: correct significant digits (capped at 11, the
/// digits NIST certifies). Non-finite estimates score 0.
pub fn lre(estimate: &[f64], certified: &[f64]) -> f64 {
    estimate
        .iter()
        .zip(certified)
        .map(|(&e, &c)| {
            if !e.is_finite() {
                return 0.0;
            }
            let rel = ((e - c) / c).abs();
            if rel == 0.0 {
                11.0
            } else {
                (-rel.log10()).clamp(0.0, 11.0)
            }
        })
        .fold(f64::INFINITY, f64::min)
}

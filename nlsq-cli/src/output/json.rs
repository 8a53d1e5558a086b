//! `--json`: everything in the `FitResult` and its correlation matrix, with non-finite
//! numbers as `null`.

use crate::error::CliError;
use nlsq::FitResult;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// The fields of a `FitResult` that hold numbers which may be non-finite.
const FLOAT_FIELDS: &[&str] = &[
    "popt",
    "pcov",
    "perr",
    "ci95",
    "cost",
    "sum_rho",
    "chi2",
    "reduced_chi2",
    "r_squared",
    "rmse",
    "aic",
    "bic",
    "optimality",
    "f_scale",
];

/// The result as JSON, with its `correlation` matrix (`null` for fixed or undetermined
/// parameters) and `extra` fields merged in at the top level.
pub fn value(fit: &FitResult, extra: Vec<(&str, Value)>) -> Result<Value, CliError> {
    let mut v = serde_json::to_value(fit)
        .map_err(|e| CliError::usage(format!("cannot serialize the result: {e}")))?;
    if let Value::Object(map) = &mut v {
        for key in FLOAT_FIELDS {
            if let Some(field) = map.get_mut(*key) {
                nonfinite_to_null(field);
            }
        }
        map.insert("correlation".into(), Value::from(fit.correlation()));
        for (k, x) in extra {
            map.insert(k.to_string(), x);
        }
    }
    Ok(v)
}

/// The library writes non-finite floats as `"inf"`, `"-inf"`, `"nan"` (so they round-trip);
/// JSON readers expect `null`.
fn nonfinite_to_null(v: &mut Value) {
    match v {
        Value::String(s) if matches!(s.as_str(), "inf" | "-inf" | "nan") => *v = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(nonfinite_to_null),
        _ => {}
    }
}

/// Creates `path` for writing, refusing to write through a directory.
pub fn create(path: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::create(path).map_err(|e| CliError::io(path, e))
}

/// Writes `v` to `path`, or to stdout for `-`.
pub fn write(path: &Path, v: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| CliError::usage(format!("cannot serialize the result: {e}")))?;
    if path == Path::new("-") {
        println!("{text}");
        return Ok(());
    }
    let mut f = create(path)?;
    writeln!(f, "{text}").map_err(|e| CliError::io(path, e))
}

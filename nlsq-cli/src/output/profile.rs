//! `--profile`: the profile-likelihood intervals in the summary and in the JSON report.

use nlsq::conf_interval::ProfileInterval;
use nlsq::result::format_g;
use serde_json::{Value, json};
use std::fmt::Write;

/// The summary's table of the intervals, after the fit's.
pub fn summary(intervals: &[ProfileInterval]) -> String {
    let w = intervals
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(9);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "profile-likelihood 95% intervals (lmfit's F-test: the ends are where Δχ² = {}, \
         χ²_min = {}; the profiled parameter's bounds lifted):",
        format_g(intervals[0].threshold),
        format_g(intervals[0].chi2_min)
    );
    let _ = writeln!(
        s,
        "{:<w$}  {:>14}  {:>31}",
        "parameter", "value", "95% profile interval"
    );
    for c in intervals {
        let _ = writeln!(
            s,
            "{:<w$}  {:>14}  [{:>14}, {:>14}]",
            c.name,
            format_g(c.value),
            format_g(c.lower),
            format_g(c.upper)
        );
    }
    s
}

/// The intervals as JSON, in the order asked: `[{name, value, lower, upper, chi2_min,
/// threshold}]`, an unbounded end as `null`.
pub fn json(intervals: &[ProfileInterval]) -> Value {
    let num = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    intervals
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "value": num(c.value),
                "lower": num(c.lower),
                "upper": num(c.upper),
                "chi2_min": num(c.chi2_min),
                "threshold": num(c.threshold),
            })
        })
        .collect()
}

//! `nlsq global`: several data sets fitted together, some parameters shared (a global fit on
//! [`nlsq::fit::global::GlobalFit`]).

use crate::cli::{GlobalArgs, MethodArg, NanPolicyArg};
use crate::error::{CliError, EXIT_NOT_CONVERGED, EXIT_OK};
use crate::fit_cmd::{backend, file_spec, library_estimate, loss, precision, same_file};
use crate::input::{self, Dataset};
use crate::model::{self, ModelChoice};
use crate::output;
use crate::params::{number, range};
use nlsq::fit::global::{Dataset as GlobalDataset, GlobalFit};
use nlsq::{Method, NanPolicy};
use std::path::Path;

/// Runs `nlsq global`; the exit status.
pub fn run(args: &GlobalArgs) -> Result<u8, CliError> {
    let n = args.data.len();
    guard_output(args)?;
    let labels = labels(args)?;
    if args.model.len() != 1 && args.model.len() != n {
        return Err(CliError::usage(format!(
            "--model is given {} times for {n} data sets: give it once, or once per data set",
            args.model.len()
        )));
    }
    let choices = args
        .model
        .iter()
        .map(|m| model::resolve(m))
        .collect::<Result<Vec<_>, _>>()?;
    let choice = |i: usize| &choices[if choices.len() == 1 { 0 } else { i }];
    let p0 = Keyed::parse(args.p0.as_deref(), "--p0")?;
    let bounds = Keyed::parse(args.bounds.as_deref(), "--bounds")?;
    for keyed in [&p0, &bounds] {
        keyed.check(&labels, |i| &choice(i).names)?;
    }
    let mut data = args
        .data
        .iter()
        .map(|p| input::open(&file_spec(p, &args.columns)))
        .collect::<Result<Vec<Dataset>, _>>()?;
    let mut starts = Vec::with_capacity(n);
    let mut ranges = Vec::with_capacity(n);
    for (i, d) in data.iter_mut().enumerate() {
        starts.push(start(args, choice(i), &p0, &labels[i], d)?);
        ranges.push(bounds.ranges(&choice(i).names, &labels[i])?);
    }
    let mut fit = global(args);
    for (i, d) in data.iter_mut().enumerate() {
        let (lo, hi) = &ranges[i];
        let dataset = GlobalDataset::from_source(choice(i).fitted(), &mut *d.source)
            .label(labels[i].clone())
            .p0(starts[i].clone())
            .bounds(lo.clone(), hi.clone())
            .nan_policy(nan_policy(args.nan_policy))
            .backend(backend(args.engine.backend))
            .precision(precision(args.engine.precision));
        fit = fit.dataset(match args.max_host_bytes {
            Some(b) => dataset.max_host_bytes(b),
            None => dataset,
        });
    }
    let mut result = fit.fit()?;
    result.model = format!("global fit of {n} data sets: {}", args.model.join("; "));
    for d in &mut result.datasets {
        if let Some(i) = labels.iter().position(|l| *l == d.label) {
            d.model
                .clone_from(&args.model[if args.model.len() == 1 { 0 } else { i }]);
        }
    }
    report(args, &result)?;
    Ok(if result.success {
        EXIT_OK
    } else {
        EXIT_NOT_CONVERGED
    })
}

/// The global fit's own options.
fn global(args: &GlobalArgs) -> GlobalFit<'_> {
    let mut fit = GlobalFit::new()
        .shared(args.shared.iter().map(|s| s.trim().to_string()))
        .loss(loss(args.loss))
        .f_scale(args.f_scale)
        .absolute_sigma(args.absolute_sigma);
    if let Some(m) = args.method {
        fit = fit.method(match m {
            MethodArg::Lm => Method::Lm,
            MethodArg::Trf => Method::Trf,
            MethodArg::Dogbox => Method::Dogbox,
        });
    }
    if let Some(t) = args.tol {
        fit = fit.tol(t);
    }
    if let Some(n) = args.engine.max_nfev {
        fit = fit.max_nfev(n);
    }
    fit
}

fn nan_policy(p: NanPolicyArg) -> NanPolicy {
    match p {
        NanPolicyArg::Raise => NanPolicy::Raise,
        NanPolicyArg::Omit => NanPolicy::Omit,
    }
}

/// `--labels`, or the file names without extension; unique.
fn labels(args: &GlobalArgs) -> Result<Vec<String>, CliError> {
    let labels: Vec<String> = match &args.labels {
        Some(l) => l.split(',').map(|s| s.trim().to_string()).collect(),
        None => args
            .data
            .iter()
            .map(|p| {
                p.file_stem()
                    .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into())
            })
            .collect(),
    };
    if labels.len() != args.data.len() {
        return Err(CliError::usage(format!(
            "--labels names {} data sets, but {} files are given",
            labels.len(),
            args.data.len()
        )));
    }
    for (i, l) in labels.iter().enumerate() {
        if labels[..i].contains(l) {
            return Err(CliError::usage(format!(
                "two data sets are labelled `{l}`: name them with --labels a,b,..."
            )));
        }
    }
    Ok(labels)
}

/// Refuses to write the JSON over an input.
fn guard_output(args: &GlobalArgs) -> Result<(), CliError> {
    let Some(out) = args.json.as_deref().filter(|p| *p != Path::new("-")) else {
        return Ok(());
    };
    match args.data.iter().find(|d| same_file(out, d)) {
        Some(d) => Err(CliError::usage(format!(
            "{} would be written over {}: choose another output file",
            out.display(),
            d.display()
        ))),
        None => Ok(()),
    }
}

/// `name=value` or `name[label]=value` items of `--p0` or `--bounds`.
struct Keyed {
    what: &'static str,
    items: Vec<(String, String)>,
}

impl Keyed {
    fn parse(spec: Option<&str>, what: &'static str) -> Result<Self, CliError> {
        let mut items: Vec<(String, String)> = Vec::new();
        for item in spec.unwrap_or("").split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let (k, v) = item.split_once('=').ok_or_else(|| {
                CliError::usage(format!(
                    "{what}: `{item}` is not name=value or name[label]=value"
                ))
            })?;
            let k = k.trim().to_string();
            if items.iter().any(|(o, _)| *o == k) {
                return Err(CliError::usage(format!("{what}: `{k}` is given twice")));
            }
            items.push((k, v.trim().to_string()));
        }
        Ok(Keyed { what, items })
    }

    /// Every key names a parameter of some data set's model, or of the labelled one's.
    fn check<'c>(
        &self,
        labels: &[String],
        names: impl Fn(usize) -> &'c Vec<String>,
    ) -> Result<(), CliError> {
        for (k, _) in &self.items {
            let known = (0..labels.len()).any(|i| {
                names(i)
                    .iter()
                    .any(|n| *k == *n || *k == format!("{n}[{}]", labels[i]))
            });
            if !known {
                return Err(CliError::usage(format!(
                    "{}: `{k}` is neither a parameter of a model nor `name[label]` of a data set \
                     (labels: {})",
                    self.what,
                    labels.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The text given for parameter `name` of data set `label`: its own, else the common one.
    fn get(&self, name: &str, label: &str) -> Option<&str> {
        let own = format!("{name}[{label}]");
        let find = |key: &str| {
            self.items
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        find(&own).or_else(|| find(name))
    }

    /// Lower and upper bounds of the parameters `names` of data set `label`.
    fn ranges(&self, names: &[String], label: &str) -> Result<(Vec<f64>, Vec<f64>), CliError> {
        let mut lo = vec![f64::NEG_INFINITY; names.len()];
        let mut hi = vec![f64::INFINITY; names.len()];
        for (j, n) in names.iter().enumerate() {
            let Some(v) = self.get(n, label) else {
                continue;
            };
            (lo[j], hi[j]) = range(v, &format!("{} {n}[{label}]", self.what))?;
        }
        Ok((lo, hi))
    }
}

/// Data set `label`'s starting values: given ones; the rest estimated from its data for a
/// library model, else 1 (with a note).
fn start(
    args: &GlobalArgs,
    choice: &ModelChoice,
    p0: &Keyed,
    label: &str,
    data: &mut Dataset,
) -> Result<Vec<f64>, CliError> {
    let given = choice
        .names
        .iter()
        .map(|n| {
            p0.get(n, label)
                .map(|v| {
                    let x = number(v, &format!("--p0 {n}[{label}]"))?;
                    if x.is_finite() {
                        Ok(x)
                    } else {
                        Err(CliError::usage(format!("--p0 {n}[{label}]: not finite")))
                    }
                })
                .transpose()
        })
        .collect::<Result<Vec<Option<f64>>, CliError>>()?;
    if given.iter().all(Option::is_some) {
        return Ok(given.into_iter().flatten().collect());
    }
    if let Some(estimate) = library_estimate(choice, data)? {
        return Ok(given
            .into_iter()
            .zip(estimate)
            .map(|(g, e)| g.unwrap_or(e))
            .collect());
    }
    if !args.quiet {
        let missing: Vec<&str> = (choice.names.iter().zip(&given))
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        eprintln!(
            "note: no p0 for {} of data set {label}: starting from 1; give --p0 name=value",
            missing.join(", ")
        );
    }
    Ok(given.into_iter().map(|v| v.unwrap_or(1.0)).collect())
}

/// The summary and the JSON.
fn report(args: &GlobalArgs, fit: &nlsq::FitResult) -> Result<(), CliError> {
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    if !args.quiet && !json_to_stdout {
        println!("{fit}");
    }
    if let Some(path) = &args.json {
        let files: Vec<String> = args.data.iter().map(|p| p.display().to_string()).collect();
        let extra = vec![("files", serde_json::Value::from(files))];
        output::json::write(path, &output::json::value(fit, extra)?)?;
    }
    Ok(())
}

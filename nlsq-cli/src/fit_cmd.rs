//! `nlsq fit`: one fit of a model to data from a file or standard input.

use crate::cli::{BackendArg, FitArgs, LossArg, MethodArg, NanPolicyArg, PrecisionArg};
use crate::error::{CliError, EXIT_NOT_CONVERGED, EXIT_OK};
use crate::input::{
    self, DataSpec, Dataset,
    columns::{ColRef, Selection},
};
use crate::model::{self, ModelChoice};
use crate::output;
use crate::params;
use crate::sample::sample;
use nlsq::conf_interval::{ProfileError, ProfileInterval, Refit, conf_interval};
use nlsq::{
    Backend, CurveFit, Every, FitError, FitResult, Loss, Method, Model, NanPolicy, Precision,
};
use std::path::Path;

/// Runs `nlsq fit`; the exit status.
pub fn run(args: &FitArgs) -> Result<u8, CliError> {
    let setup = Setup::new(args)?;
    let mut data = input::open(&data_spec(&args.data))?;
    let p0 = start(args, &setup.choice, &mut data)?;
    let fit = builder(args, &setup.choice, p0)?.fit_source(&mut *data.source)?;
    conclude(args, &setup, &mut data, fit)
}

/// What `nlsq fit` checks and builds before it reads data: the outputs, the model with its
/// constraints, and the parameters of `--profile`.
pub struct Setup {
    /// The model, constrained.
    pub choice: ModelChoice,
    /// The parameters of `--profile`.
    pub profiled: Vec<String>,
}

impl Setup {
    /// Checks the outputs and builds the model.
    pub fn new(args: &FitArgs) -> Result<Setup, CliError> {
        guard_outputs(args)?;
        let constraints = params::constraints(&args.fix, &args.tie)?;
        let choice = model::resolve(&args.model)?.constrain(&constraints)?;
        let profiled = profile_names(args, &choice)?;
        Ok(Setup { choice, profiled })
    }
}

/// How each fit of `nlsq fit` (the fit, and the refits of `--profile`) is spread over
/// processes: the identity in one process; under `mpirun`, the job's communicator.
pub type Spread<'s> =
    &'s dyn for<'a> Fn(CurveFit<'a, &'a nlsq::ExprModel>) -> CurveFit<'a, &'a nlsq::ExprModel>;

/// After the fit of `data`: the profiles, the summary and the output files; the exit status.
pub fn conclude(
    args: &FitArgs,
    setup: &Setup,
    data: &mut Dataset,
    fit: FitResult,
) -> Result<u8, CliError> {
    let intervals = profiles(args, &setup.choice, data, &fit, &setup.profiled, &|b| b)?;
    report_fit(args, setup, data, fit, &intervals)
}

/// The summary and the output files of `fit` (of `data`), with the profile `intervals`; the
/// exit status.
pub fn report_fit(
    args: &FitArgs,
    setup: &Setup,
    data: &mut Dataset,
    mut fit: FitResult,
    intervals: &[ProfileInterval],
) -> Result<u8, CliError> {
    // Reports name the model as the user gave it.
    fit.model.clone_from(&args.model);
    report(args, &setup.choice, data, &fit, intervals)?;
    Ok(if fit.success {
        EXIT_OK
    } else {
        EXIT_NOT_CONVERGED
    })
}

/// The data options as a [`DataSpec`].
pub fn data_spec(a: &crate::cli::DataArgs) -> DataSpec {
    file_spec(&a.data, &a.columns)
}

/// How to read `path` by the column options `a`.
pub fn file_spec(path: &Path, a: &crate::cli::ColumnArgs) -> DataSpec {
    DataSpec {
        path: path.to_path_buf(),
        format: a.format,
        delimiter: a
            .delimiter
            .map(|c| if c.is_ascii() { c as u8 } else { b',' }),
        raw_columns: a.columns,
        selection: Selection {
            x: a.x.iter().map(|s| ColRef::parse(s)).collect(),
            y: a.y.as_deref().map(ColRef::parse),
            sigma: a.sigma.as_deref().map(ColRef::parse),
        },
    }
}

/// Refuses to write an output over the input data or another output.
fn guard_outputs(args: &FitArgs) -> Result<(), CliError> {
    if let Some(c) = args.data.columns.delimiter
        && !c.is_ascii()
    {
        return Err(CliError::usage(format!(
            "--delimiter `{c}` is not an ASCII character"
        )));
    }
    let outputs: Vec<&Path> = [
        args.json.as_deref().filter(|p| *p != Path::new("-")),
        args.curve.as_deref(),
        args.plot.as_deref(),
        args.checkpoint.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let inputs: Vec<&Path> = [Some(args.data.data.as_path()), args.resume.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    for (i, out) in outputs.iter().enumerate() {
        for other in inputs.iter().chain(&outputs[..i]) {
            if same_file(out, other) {
                return Err(CliError::usage(format!(
                    "{} would be written over {}: choose another output file",
                    out.display(),
                    other.display()
                )));
            }
        }
    }
    Ok(())
}

/// Whether `a` and `b` are the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Starting values of the free parameters: given ones; the rest estimated from the data for a
/// library model, else 1 (scipy's default), with a note.
pub fn start(
    args: &FitArgs,
    choice: &ModelChoice,
    data: &mut Dataset,
) -> Result<Vec<f64>, CliError> {
    let names = choice.free_names();
    if let Some(spec) = &args.p0 {
        params::reject_non_free(spec, "--p0", choice.map())?;
    }
    let given = params::p0(&names, args.p0.as_deref())?;
    if given.iter().all(Option::is_some) {
        return Ok(given.into_iter().flatten().collect());
    }
    if let Some(estimate) = library_estimate(choice, data)? {
        let estimate = choice.free_values(estimate)?;
        return Ok(given
            .into_iter()
            .zip(estimate)
            .map(|(g, e)| g.unwrap_or(e))
            .collect());
    }
    let missing: Vec<&str> = names
        .iter()
        .zip(&given)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    if !args.quiet {
        eprintln!(
            "note: no p0 for {}: starting from 1 (scipy's default); give --p0 name=value",
            missing.join(", ")
        );
    }
    Ok(given.into_iter().map(|v| v.unwrap_or(1.0)).collect())
}

/// A library model's starting values for every parameter, estimated from a subsample of
/// `data`; `None` for an expression.
pub fn library_estimate(
    choice: &ModelChoice,
    data: &mut Dataset,
) -> Result<Option<Vec<f64>>, CliError> {
    if choice.library.is_none() {
        return Ok(None);
    }
    let points = sample(&mut *data.source, nlsq::library::MAX_ESTIMATE_POINTS)?;
    let x: Vec<&[f64]> = points.x.iter().map(Vec::as_slice).collect();
    choice.estimate(&x, &points.y).transpose()
}

/// The fit of `nlsq fit` from `p0`: every option of `args`.
pub fn builder<'a>(
    args: &FitArgs,
    choice: &'a ModelChoice,
    p0: Vec<f64>,
) -> Result<CurveFit<'a, &'a nlsq::ExprModel>, CliError> {
    let mut b = options(args, CurveFit::new(choice.fitted()).p0(p0));
    if let Some(spec) = &args.bounds {
        params::reject_non_free(spec, "--bounds", choice.map())?;
        let (lo, hi) = params::bounds(&choice.free_names(), spec)?;
        b = b.bounds(lo, hi);
    }
    if let Some(m) = args.method {
        b = b.method(match m {
            MethodArg::Lm => Method::Lm,
            MethodArg::Trf => Method::Trf,
            MethodArg::Dogbox => Method::Dogbox,
        });
    }
    if let Some(path) = &args.checkpoint {
        b = b.checkpoint(path, every(&args.checkpoint_every)?);
    }
    if let Some(path) = &args.resume {
        b = b.resume_from(path);
    }
    #[cfg(feature = "progress")]
    {
        b = b.progress(!args.no_progress && !args.quiet);
    }
    Ok(b)
}

/// The options of a fit and of each refit of `--profile`: loss, sigma, non-finite data,
/// backend, precision, tolerances, budgets (not bounds, method, checkpoints or progress).
fn options<'a, M: Model>(args: &FitArgs, b: CurveFit<'a, M>) -> CurveFit<'a, M> {
    let mut b = b
        .loss(loss(args.loss))
        .f_scale(args.f_scale)
        .absolute_sigma(args.absolute_sigma)
        .nan_policy(match args.nan_policy {
            NanPolicyArg::Raise => NanPolicy::Raise,
            NanPolicyArg::Omit => NanPolicy::Omit,
        })
        .backend(backend(args.engine.backend))
        .precision(precision(args.engine.precision));
    if let Some(v) = args.ftol {
        b = b.ftol(v);
    }
    if let Some(v) = args.xtol {
        b = b.xtol(v);
    }
    if let Some(v) = args.gtol {
        b = b.gtol(v);
    }
    if let Some(n) = args.engine.max_nfev {
        b = b.max_nfev(n);
    }
    if let Some(d) = &args.cuda_devices {
        b = b.cuda_devices(d.clone());
    }
    if let Some(k) = args.multistart {
        b = b.multistart(nlsq::MultiStart::new(k).seed(args.seed));
    }
    if let Some(n) = args.max_host_bytes {
        b = b.max_host_bytes(n);
    }
    if let Some(n) = args.max_device_bytes {
        b = b.max_device_bytes(n);
    }
    b
}

/// The parameters of `--profile`, once each in the order given, refused before the fit
/// unless each is a free parameter of the model.
fn profile_names(args: &FitArgs, choice: &ModelChoice) -> Result<Vec<String>, CliError> {
    let free = choice.free_names();
    let mut names: Vec<String> = Vec::new();
    for name in args.profile.iter().map(|n| n.trim()) {
        let source = if free.iter().any(|f| f == name) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            continue;
        } else if choice.names.iter().any(|n| n == name) {
            ProfileError::NotFree(name.to_string())
        } else {
            ProfileError::UnknownParameter(name.to_string())
        };
        return Err(CliError::Profile { source, free });
    }
    Ok(names)
}

/// `--profile`: the profile-likelihood interval of each of `names`, every refit with the
/// fit's data, options and method, and the bounds of the parameters still free (the profiled
/// parameter's own bounds are lifted: it is fixed in each refit), spread as the fit was.
pub fn profiles(
    args: &FitArgs,
    choice: &ModelChoice,
    data: &mut Dataset,
    fit: &FitResult,
    names: &[String],
    spread: Spread<'_>,
) -> Result<Vec<ProfileInterval>, CliError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let free = choice.free_names();
    let bounds = match &args.bounds {
        Some(spec) => Some(params::bounds(&free, spec)?),
        None => None,
    };
    let source = &mut *data.source;
    let mut refit = |r: &Refit<'_>| -> Result<FitResult, FitError> {
        let mut b = options(args, CurveFit::new(r.model).p0(r.p0.to_vec())).method(fit.method);
        if let Some((lo, hi)) = &bounds {
            let (lo, hi): (Vec<f64>, Vec<f64>) = r
                .model
                .param_names()
                .iter()
                .map(|n| match free.iter().position(|f| f == n) {
                    Some(k) => (lo[k], hi[k]),
                    None => (f64::NEG_INFINITY, f64::INFINITY),
                })
                .unzip();
            b = b.bounds(lo, hi);
        }
        spread(b).fit_source(&mut *source)
    };
    names
        .iter()
        .map(|name| {
            conf_interval(&choice.model, fit, name, &mut refit).map_err(|source| {
                CliError::Profile {
                    source,
                    free: free.clone(),
                }
            })
        })
        .collect()
}

/// `--checkpoint-every`: `N` iterations or `Ns` seconds.
fn every(s: &str) -> Result<Every, CliError> {
    let bad = || {
        CliError::usage(format!(
            "--checkpoint-every `{s}`: use N (iterations) or Ns (seconds)"
        ))
    };
    let e = match s.trim().strip_suffix('s') {
        Some(secs) => Every::Seconds(secs.trim().parse().map_err(|_| bad())?),
        None => Every::Iterations(s.trim().parse().map_err(|_| bad())?),
    };
    e.check()?;
    Ok(e)
}

/// `--loss`.
pub fn loss(l: LossArg) -> Loss {
    match l {
        LossArg::Linear => Loss::Linear,
        LossArg::SoftL1 => Loss::SoftL1,
        LossArg::Huber => Loss::Huber,
        LossArg::Cauchy => Loss::Cauchy,
        LossArg::Arctan => Loss::Arctan,
    }
}

/// `--backend`.
pub fn backend(b: BackendArg) -> Backend {
    match b {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Cuda => Backend::Cuda,
        BackendArg::Wgpu => Backend::Wgpu,
    }
}

/// `--precision`.
pub fn precision(p: PrecisionArg) -> Precision {
    match p {
        PrecisionArg::F64 => Precision::F64,
        PrecisionArg::F32 => Precision::F32,
    }
}

/// The summary, JSON, curve and plot.
fn report(
    args: &FitArgs,
    choice: &ModelChoice,
    data: &mut Dataset,
    fit: &FitResult,
    intervals: &[ProfileInterval],
) -> Result<(), CliError> {
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    if !args.quiet && !json_to_stdout {
        println!("{fit}");
        if !intervals.is_empty() {
            print!("{}", output::profile::summary(intervals));
        }
    }
    if let Some(path) = &args.json {
        let mut extra = vec![
            ("predictors", serde_json::Value::from(data.x_names.clone())),
            ("observations", serde_json::Value::from(data.y_name.clone())),
        ];
        if !intervals.is_empty() {
            extra.push(("profile", output::profile::json(intervals)));
        }
        output::json::write(path, &output::json::value(fit, extra)?)?;
    }
    if let Some(path) = &args.curve {
        output::curve::write(
            path,
            &choice.model,
            fit,
            &mut *data.source,
            &data.x_names,
            &data.y_name,
        )?;
    }
    if let Some(path) = &args.plot {
        output::plot::write(
            path,
            &choice.model,
            fit,
            &mut *data.source,
            &output::plot::Labels {
                model: args.model.clone(),
                x: data.x_names.clone(),
                y: data.y_name.clone(),
            },
        )?;
    }
    Ok(())
}

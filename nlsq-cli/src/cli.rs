//! The command line's grammar (clap).

use crate::input::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Nonlinear least-squares curve fits from files, on CPUs and GPUs.
#[derive(Parser, Debug)]
#[command(name = "nlsq", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fit a model to data from a file or standard input.
    Fit(Box<FitArgs>),
    /// Fit one model to many independent data sets.
    Batch(Box<BatchArgs>),
    /// Fit several data sets together, some parameters shared (a global fit).
    Global(Box<GlobalArgs>),
    /// List the model library: formulas, parameters and how p0 is estimated.
    Models(ModelsArgs),
}

/// Where the data are and which columns to use.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The data file (CSV, TSV, whitespace text, .npy, .npz, raw f64/f32), or `-` for
    /// standard input.
    pub data: PathBuf,
    /// How to read it.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// How to read a data file and which columns to use.
#[derive(Args, Debug, Clone)]
pub struct ColumnArgs {
    /// The format (default: from the extension; text is sniffed for commas or tabs).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Field delimiter of a text table (one character; `' '` for whitespace).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Values per row of a raw f64/f32 file.
    #[arg(long, default_value_t = 2)]
    pub columns: usize,
    /// Predictor column, by header name or 0-based index; repeat for several predictors
    /// (the model then uses `x[0]`, `x[1]`, ...). Default: column 0.
    #[arg(long = "x")]
    pub x: Vec<String>,
    /// Observation column (default: the column after the last predictor).
    #[arg(long = "y")]
    pub y: Option<String>,
    /// Column of the observations' standard deviations (weights 1/sigma²).
    #[arg(long)]
    pub sigma: Option<String>,
}

/// Solver and backend options shared by `fit` and `batch`.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Where the passes run.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Floating-point precision of GPU passes.
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    pub precision: PrecisionArg,
    /// Maximum function evaluations (passes over the data; iterations for `batch`).
    #[arg(long)]
    pub max_nfev: Option<usize>,
}

/// `nlsq fit`.
#[derive(Args, Debug, Clone)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The model: an expression in x (`"a*exp(-b*x)+c"`), a library name (`gaussian`), or
    /// a sum of library models with prefixes (`"gaussian:g1 + gaussian:g2 + linear"`).
    #[arg(short, long)]
    pub model: String,
    /// Starting values: `name=value,...`, or all values in order. Library models estimate
    /// what is not given; expressions start at 1 (scipy's default).
    #[arg(long)]
    pub p0: Option<String>,
    /// Bounds: `name=lower:upper,...` (an empty side is unbounded).
    #[arg(long)]
    pub bounds: Option<String>,
    /// Holds a parameter at a value: `--fix b=1.3` (repeatable, or `a=1,b=2`). Fixed
    /// parameters are reported with their values and no standard error.
    #[arg(long, value_name = "NAME=VALUE")]
    pub fix: Vec<String>,
    /// Ties a parameter to an expression of the others: `--tie 'g2_sigma=g1_sigma'`,
    /// `--tie 'a2=0.5*a1'` (repeatable). Ties may refer to fixed and tied parameters (no
    /// cycles); tied parameters are reported with errors propagated from the free ones.
    #[arg(long, value_name = "NAME=EXPR")]
    pub tie: Vec<String>,
    /// The solver (default: lm without bounds, trf with bounds).
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Robust loss.
    #[arg(long, value_enum, default_value_t = LossArg::Linear)]
    pub loss: LossArg,
    /// Scale of the robust loss (residuals below it count as inliers).
    #[arg(long, default_value_t = 1.0)]
    pub f_scale: f64,
    /// Relative tolerance on the cost.
    #[arg(long)]
    pub ftol: Option<f64>,
    /// Relative tolerance on the parameters.
    #[arg(long)]
    pub xtol: Option<f64>,
    /// Tolerance on the gradient.
    #[arg(long)]
    pub gtol: Option<f64>,
    /// Global search: local fits from p0 and K − 1 space-filling (Sobol) starts within the
    /// bounds, or where a parameter is unbounded, from its role in the model (a location
    /// `x − c` within the data's range of x, a rate `k·x` over its length scales) or spanning
    /// decades around p0; the linear parameters are solved at each start. The result is the
    /// fit from the best minimum, and the summary (and `--json`'s `search`) lists the
    /// distinct minima found.
    #[arg(long, value_name = "K")]
    pub multistart: Option<usize>,
    /// Seed of the multi-start's scrambled Sobol sequence (the same seed, the same search).
    #[arg(long, default_value_t = 0, requires = "multistart")]
    pub seed: u32,
    /// Sigma is absolute (pcov not rescaled by the reduced χ²).
    #[arg(long)]
    pub absolute_sigma: bool,
    /// Profile-likelihood 95% intervals of these free parameters (lmfit's `conf_interval`),
    /// which also serve intervals that are not symmetric: `--profile b` or `--profile a,b`
    /// (repeatable). Each is fixed at values around its best fit while the other free
    /// parameters are refitted to the same data with the same options (fixed and tied
    /// parameters stay so; each refit reads the data again); the ends are where
    /// `Δχ² = χ²_min · F₀.₉₅(1, N − P) / (N − P)` (lmfit's F-test). The profiled parameter's own
    /// bounds are lifted while it is profiled, so its interval may reach past them; the other
    /// parameters keep theirs. Printed after the summary and written to the JSON (`profile`).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub profile: Vec<String>,
    /// What to do with non-finite data points.
    #[arg(long, value_enum, default_value_t = NanPolicyArg::Raise)]
    pub nan_policy: NanPolicyArg,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Host memory budget (bytes, or with K/M/G/T); data beyond it are streamed from the file.
    #[arg(long, value_parser = parse_bytes)]
    pub max_host_bytes: Option<u64>,
    /// Device memory budget (bytes, or with K/M/G/T).
    #[arg(long, value_parser = parse_bytes)]
    pub max_device_bytes: Option<u64>,
    /// Write checkpoints of the fit to this file.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Checkpoint every N iterations (`10`) or seconds (`30s`).
    #[arg(long, default_value = "10")]
    pub checkpoint_every: String,
    /// Resume from a checkpoint file.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// No progress bar (it is drawn on a terminal only, with the `progress` feature).
    #[arg(long)]
    pub no_progress: bool,
    /// Write the result as JSON: to stdout (`--json` alone; the summary is then not
    /// printed) or to a file.
    #[arg(long, num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Write x, y, fit, residual, the 95% confidence band of the fit (band_lower,
    /// band_upper) and the 95% prediction band of a new observation (prediction_lower,
    /// prediction_upper) to a CSV file.
    #[arg(long)]
    pub curve: Option<PathBuf>,
    /// Draw data, fit, confidence band, residuals and parameters to a .png or .svg file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print nothing on stdout unless asked (`--json`).
    #[arg(short, long)]
    pub quiet: bool,
    /// The CUDA devices one dataset is split over: `first` (the default), `all`, or ordinals
    /// such as `0,1` (shares sized by each device's memory, passes summed in device order).
    #[arg(long, value_name = "all|first|0,1,...")]
    pub cuda_devices: Option<nlsq::CudaDevices>,
    /// Under `mpirun` (feature `mpi`): how the ranks' passes are summed. `rank` sums each
    /// rank's pass in rank order (equal to the single-process fit to rounding); `chunk` adds
    /// the chunks in the single process's order over rows cut in whole chunks (binary inputs
    /// on the CPU: the single-process fit bit for bit).
    #[cfg(feature = "mpi")]
    #[arg(long, value_enum, default_value_t = ReductionArg::Rank)]
    pub reduction: ReductionArg,
}

/// `--reduction`.
#[cfg(feature = "mpi")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReductionArg {
    /// Each rank's pass, summed in rank order.
    Rank,
    /// Chunk by chunk, in the single process's order.
    Chunk,
}

/// `nlsq batch`.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The data: a 2-D .npy (fits × points), or a long table with a group column.
    pub data: PathBuf,
    /// The model (an expression or a library model).
    #[arg(short, long)]
    pub model: String,
    /// The column that says which fit a row belongs to (long tables).
    #[arg(long)]
    pub group: Option<String>,
    /// Predictor column of a long table.
    #[arg(long = "x")]
    pub x: Option<String>,
    /// Observation column of a long table.
    #[arg(long = "y")]
    pub y: Option<String>,
    /// The format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Predictor values shared by all fits of a 2-D .npy, as a 1-D .npy (default 0, 1, ...).
    #[arg(long)]
    pub x_grid: Option<PathBuf>,
    /// Starting values shared by all fits (`name=value,...`); library models estimate the
    /// rest per fit.
    #[arg(long)]
    pub p0: Option<String>,
    /// Bounds shared by all fits (`name=lower:upper,...`).
    #[arg(long)]
    pub bounds: Option<String>,
    /// Least squares or Poisson maximum likelihood.
    #[arg(long, value_enum, default_value_t = EstimatorArg::Lse)]
    pub estimator: EstimatorArg,
    /// Convergence tolerance.
    #[arg(long)]
    pub tol: Option<f64>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Write per-fit results here: `.csv`, `.npy` (fits × [params, perr, state, chi2,
    /// iterations]) or `.json`. Default: CSV on stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print nothing on stdout but the results.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `nlsq models`.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Show one model only.
    pub name: Option<String>,
    /// As JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--backend`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackendArg {
    /// A GPU for large problems when one is usable, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA (needs the `cuda` feature and a GPU).
    Cuda,
    /// wgpu: Vulkan, Metal, DX12 (needs the `wgpu` feature).
    Wgpu,
}

/// `--precision`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PrecisionArg {
    /// Double precision.
    F64,
    /// Single precision on the GPU (reductions in f64).
    F32,
}

/// `--method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Levenberg–Marquardt (no bounds).
    Lm,
    /// Trust-region reflective.
    Trf,
    /// Dogbox.
    Dogbox,
}

/// `--loss`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LossArg {
    /// Least squares.
    Linear,
    /// Smooth absolute value.
    #[value(name = "soft_l1", alias = "soft-l1")]
    SoftL1,
    /// Huber.
    Huber,
    /// Cauchy.
    Cauchy,
    /// Arctan.
    Arctan,
}

/// `--nan-policy`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NanPolicyArg {
    /// Refuse non-finite data, naming the first point.
    Raise,
    /// Drop non-finite points.
    Omit,
}

/// `--estimator`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EstimatorArg {
    /// Least squares.
    Lse,
    /// Poisson maximum likelihood (counts).
    Mle,
}

/// Parses `1048576`, `256M`, `1.5G`, `2TiB`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale: f64 = match unit
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0f64.powi(4),
        _ => return Err(format!("`{s}`: unknown unit (use K, M, G or T)")),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size"))?;
    let bytes = v * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{s}` is not a positive size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_bytes("256M").unwrap(), 256 << 20);
        assert_eq!(parse_bytes("1.5GiB").unwrap(), 3 << 29);
        assert!(parse_bytes("12Q").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("nan").is_err());
    }

    #[test]
    fn grammar() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// `nlsq global`.
#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// The data files, one data set each (formats as for `nlsq fit`; all read with the same
    /// column options).
    #[arg(required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// How to read them.
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// The data sets' labels, comma-separated (default: the file names without extension).
    /// A data set's own parameters are reported as `name[label]`.
    #[arg(long)]
    pub labels: Option<String>,
    /// The model: once for every data set, or once per data set in order (expressions or
    /// library models, as for `nlsq fit`).
    #[arg(short, long, required = true)]
    pub model: Vec<String>,
    /// Parameters shared by the data sets, by their models' names (comma-separated or
    /// repeated); the others are each data set's own.
    #[arg(long, value_delimiter = ',')]
    pub shared: Vec<String>,
    /// Starting values: `name=value` for that parameter in every data set, `name[label]=value`
    /// for one data set's. Library models estimate what is not given from each data set;
    /// expressions start at 1.
    #[arg(long)]
    pub p0: Option<String>,
    /// Bounds: `name=lower:upper` or `name[label]=lower:upper` (an empty side is unbounded).
    /// A shared parameter is bounded by every data set's bounds on it.
    #[arg(long)]
    pub bounds: Option<String>,
    /// The solver (default: lm without bounds, trf with bounds).
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Robust loss.
    #[arg(long, value_enum, default_value_t = LossArg::Linear)]
    pub loss: LossArg,
    /// Scale of the robust loss.
    #[arg(long, default_value_t = 1.0)]
    pub f_scale: f64,
    /// Relative tolerance on the cost, the parameters and the gradient.
    #[arg(long)]
    pub tol: Option<f64>,
    /// Sigma is absolute (pcov not rescaled by the reduced χ²).
    #[arg(long)]
    pub absolute_sigma: bool,
    /// What to do with non-finite data points.
    #[arg(long, value_enum, default_value_t = NanPolicyArg::Raise)]
    pub nan_policy: NanPolicyArg,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Host memory budget per data set (bytes, or with K/M/G/T); data beyond it are streamed.
    #[arg(long, value_parser = parse_bytes)]
    pub max_host_bytes: Option<u64>,
    /// Write the result as JSON: to stdout (`--json` alone) or to a file.
    #[arg(long, num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<PathBuf>,
    /// Print nothing on stdout unless asked (`--json`).
    #[arg(short, long)]
    pub quiet: bool,
}

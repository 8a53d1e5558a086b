//! `kernels-gen`: prints the generated source, the operation count and the hash of a model.
//!
//! ```text
//! cargo run -p kernels-gen -- --expr "a*exp(-b*x)+c" --target cuda
//! cargo run -p kernels-gen -- --file model.rs --target wgsl --precision f32
//! ```

use clap::{Parser, ValueEnum};
use kernels_gen::{Compiled, Precision, parse};
use std::io::Write;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Target {
    Cuda,
    Wgsl,
    Rust,
}

/// Compile an nlsq model and print its generated source, operation count and hash.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The model as an expression in `x`, e.g. "a*exp(-b*x)+c".
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    expr: Option<String>,
    /// A file holding one model `fn` (a `#[model]` attribute on it is ignored).
    #[arg(long)]
    file: Option<std::path::PathBuf>,
    /// Parameter names in order (comma-separated); default: the expression's free names in
    /// order of appearance.
    #[arg(long, value_delimiter = ',')]
    params: Option<Vec<String>>,
    /// Which source to print.
    #[arg(long, value_enum, default_value = "cuda")]
    target: Target,
    /// Precision of the CUDA / WGSL source.
    #[arg(long, default_value = "f64")]
    precision: Precision,
}

fn load(args: &Args) -> Result<kernels_gen::ModelIr, String> {
    if let Some(expr) = &args.expr {
        let names: Option<Vec<&str>> = args
            .params
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect());
        return parse::model_from_expr(expr, names.as_deref())
            .map_err(|e| format!("in --expr: {e}"));
    }
    let path = args.file.as_ref().ok_or("give --expr or --file")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse::model_from_source(&text).map_err(|e| format!("{}:{e}", path.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let model = match load(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let compiled = Compiled::new(model);
    let source = match args.target {
        Target::Cuda => compiled.cuda_source(args.precision).to_string(),
        Target::Wgsl => compiled.wgsl_source(args.precision).to_string(),
        Target::Rust => compiled.rust_source(),
    };
    let report = format!(
        "{source}\n// parameters: {} ({})\n// predictors: {}\n// operations: {} (value and gradient, after sharing)\n// hash: {}\n",
        compiled.ir.n_params(),
        compiled.ir.param_names().join(", "),
        compiled.ir.n_inputs(),
        compiled.op_count(),
        compiled.hash
    );
    // A closed pipe (`kernels-gen ... | head`) ends the output quietly.
    match std::io::stdout().lock().write_all(report.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: writing the output: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

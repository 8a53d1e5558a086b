//! `nlsq`: nonlinear least-squares curve fits from the command line, on the nlsq library.
//!
//! ```text
//! nlsq fit data.csv --model "a*exp(-b*x)+c" --p0 a=1,b=0.5,c=0 --json result.json
//! nlsq fit peaks.npy --model "gaussian:g1 + gaussian:g2 + linear" --plot fit.png
//! nlsq batch spots.npy --model gaussian --output fits.csv
//! nlsq global run1.csv run2.csv run3.csv --model "a*exp(-k*x)+c" --shared k
//! nlsq models
//! ```
//!
//! Exit status: 0 for a converged fit, 1 for a fit that ran but did not converge, 2 for bad
//! input or usage (the message names the file, line and column where it can).

mod batch_cmd;
mod cli;
mod error;
mod fit_cmd;
mod global_cmd;
mod input;
mod model;
mod models_cmd;
#[cfg(feature = "mpi")]
mod mpi_cmd;

mod output;
mod params;
mod sample;

use clap::Parser;
use cli::{Cli, Command};
use error::EXIT_BAD_INPUT;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_BAD_INPUT } else { 0 });
        }
    };
    let result = match &cli.command {
        #[cfg(feature = "mpi")]
        Command::Fit(a) if mpi_cmd::launched() => return mpi_cmd::fit(a),
        Command::Fit(a) => fit_cmd::run(a),
        Command::Batch(a) => batch_cmd::run(a),
        Command::Global(a) => global_cmd::run(a),
        Command::Models(a) => models_cmd::run(a),
    };
    exit_with(result)
}

/// The exit status of a command's `result`, its error printed.
fn exit_with(result: Result<u8, error::CliError>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("nlsq: error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

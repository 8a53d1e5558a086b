//! What can go wrong on the command line, and the exit status each maps to.

use std::path::PathBuf;

/// Exit status of a converged fit (or a batch whose fits all converged).
pub const EXIT_OK: u8 = 0;
/// Exit status of a fit that ran but did not converge (or a batch with fits that did not).
pub const EXIT_NOT_CONVERGED: u8 = 1;
/// Exit status of bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// An error that ends the command with [`EXIT_BAD_INPUT`], its message on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// A data file (or standard input) is malformed at a known place.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file, or `<stdin>`.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based field (column) on that line.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A data file is malformed as a whole (a bad header, a wrong shape).
    #[error("{file}: {message}")]
    Data {
        /// The file, or `<stdin>`.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The model string does not compile.
    #[error("model: {0}")]
    Model(String),
    /// The fit refused its input (the library's typed error).
    #[error(transparent)]
    Fit(#[from] nlsq::FitError),
    /// A profile-likelihood interval (`--profile`) could not be computed: a name that is not
    /// a free parameter, or a refit that failed.
    #[error("--profile: {source} (the free parameters: {})", .free.join(", "))]
    Profile {
        /// Why (the runtime's typed error).
        source: nlsq::conf_interval::ProfileError,
        /// The fit's free parameters, which `--profile` may name.
        free: Vec<String>,
    },
    /// A plot could not be drawn.
    #[error("plot {path}: {message}")]
    Plot {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }

    /// A malformed file as a whole.
    pub fn data(file: impl Into<String>, message: impl Into<String>) -> Self {
        CliError::Data {
            file: file.into(),
            message: message.into(),
        }
    }
}

//! Why a checkpoint could not be read or does not belong to the fit that wants to resume.

/// Why a checkpoint was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file does not exist.
    #[error("checkpoint {path}: no such file")]
    Missing {
        /// The path.
        path: String,
    },
    /// The file could not be read or written.
    #[error("checkpoint {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The file does not start with the checkpoint signature.
    #[error("{path} is not an nlsq checkpoint")]
    NotACheckpoint {
        /// The path.
        path: String,
    },
    /// A checkpoint of a format version this build does not read.
    #[error("checkpoint {path} has format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The path.
        path: String,
        /// The file's version.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// Truncated, or its checksum does not match its contents.
    #[error("checkpoint {path} is corrupt: {reason}")]
    Corrupt {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint of another model.
    #[error(
        "checkpoint {path} belongs to another model (hash {found}, this fit's model has {expected})"
    )]
    OtherModel {
        /// The path.
        path: String,
        /// The model hash in the file.
        found: String,
        /// The hash of this fit's model.
        expected: String,
    },
    /// A checkpoint of another solver.
    #[error("checkpoint {path} was written by method {found}; this fit uses {expected}")]
    OtherMethod {
        /// The path.
        path: String,
        /// The method in the file.
        found: String,
        /// This fit's method.
        expected: String,
    },
    /// A checkpoint of a fit with other options (tolerances, budget, scaling, bounds, loss).
    #[error(
        "checkpoint {path} was written by a fit with other options (tolerances, max_nfev, x_scale, bounds, loss or f_scale)"
    )]
    OtherOptions {
        /// The path.
        path: String,
    },
    /// A checkpoint of a fit to other data.
    #[error("checkpoint {path} was written by a fit to other data ({reason})")]
    OtherData {
        /// The path.
        path: String,
        /// What differs.
        reason: String,
    },
}

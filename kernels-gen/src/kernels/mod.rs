//! Whole kernel sources per target and precision.
//!
//! The layouts every runtime backend relies on are documented once, in [`abi`].

pub mod abi;
pub mod cuda;
pub mod cuda_batch;
pub mod wgsl;
pub mod wgsl_batch;

/// The floating-point type of data and model evaluation on a device.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Precision {
    /// Single precision: half the bytes. CUDA still accumulates in f64; WGSL accumulates in
    /// f32 with compensated sums and the host finishes in f64.
    F32,
    /// Double precision throughout.
    F64,
}

impl Precision {
    /// Both precisions, f32 first.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::F64];

    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Precision::F32),
            "f64" => Ok(Precision::F64),
            other => Err(format!("unknown precision `{other}` (expected f32 or f64)")),
        }
    }
}

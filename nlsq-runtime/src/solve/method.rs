//! The solvers a fit can use, by name.

use std::fmt;

/// The solver a fit used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// Levenberg–Marquardt (MINPACK); no bounds.
    Lm,
    /// Trust-region reflective, with bounds.
    Trf,
    /// Dogleg in a rectangular trust region, with bounds.
    Dogbox,
}

impl Method {
    /// scipy's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Lm => "lm",
            Method::Trf => "trf",
            Method::Dogbox => "dogbox",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lm" => Ok(Method::Lm),
            "trf" => Ok(Method::Trf),
            "dogbox" => Ok(Method::Dogbox),
            _ => Err(format!("unknown method `{s}` (expected lm, trf or dogbox)")),
        }
    }
}

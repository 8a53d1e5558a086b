//! Which columns of a table are the predictors, the observations and sigma: given by header
//! name or by 0-based index.

use crate::error::CliError;

/// A column given on the command line: a header (or array) name, else a 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColRef {
    /// By name.
    Name(String),
    /// By 0-based position.
    Index(usize),
}

impl ColRef {
    /// Parses a `--x`/`--y`/`--sigma` value: digits are an index, anything else a name.
    pub fn parse(s: &str) -> Self {
        match s.parse::<usize>() {
            Ok(i) => ColRef::Index(i),
            Err(_) => ColRef::Name(s.to_string()),
        }
    }

    /// The column's position among `names` (`n` columns). A name that is also a header wins
    /// over an index of the same digits.
    pub fn resolve(&self, names: &[String], n: usize, origin: &str) -> Result<usize, CliError> {
        let text = match self {
            ColRef::Name(s) => s.clone(),
            ColRef::Index(i) => i.to_string(),
        };
        if let Some(i) = names.iter().position(|h| *h == text) {
            return Ok(i);
        }
        match self {
            ColRef::Index(i) if *i < n => Ok(*i),
            ColRef::Index(i) => Err(CliError::data(
                origin,
                format!("column {i} does not exist: the data have {n} columns (0-based)"),
            )),
            ColRef::Name(s) => Err(CliError::data(
                origin,
                if names.is_empty() {
                    format!("no column is named `{s}`: the data have no header; use an index")
                } else {
                    format!(
                        "no column is named `{s}`; the columns are: {}",
                        names.join(", ")
                    )
                },
            )),
        }
    }
}

/// The columns chosen for a fit.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Predictors (empty: the first column).
    pub x: Vec<ColRef>,
    /// Observations (none: the column after the last predictor).
    pub y: Option<ColRef>,
    /// Standard deviations of the observations.
    pub sigma: Option<ColRef>,
}

/// A selection resolved to positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Predictor columns.
    pub x: Vec<usize>,
    /// Observation column.
    pub y: usize,
    /// Sigma column.
    pub sigma: Option<usize>,
}

impl Selection {
    /// Resolves against a table of `n` columns with `names` (empty without a header). By
    /// default x is column 0 and y column 1.
    pub fn resolve(&self, names: &[String], n: usize, origin: &str) -> Result<Resolved, CliError> {
        let x = if self.x.is_empty() {
            vec![0]
        } else {
            let mut x = Vec::with_capacity(self.x.len());
            for c in &self.x {
                x.push(c.resolve(names, n, origin)?);
            }
            x
        };
        let y = match &self.y {
            Some(c) => c.resolve(names, n, origin)?,
            None => {
                let y = x.iter().max().map_or(0, |m| m + 1);
                if y >= n {
                    return Err(CliError::data(
                        origin,
                        format!(
                            "the data have {n} column{}: name the observations with --y",
                            if n == 1 { "" } else { "s" }
                        ),
                    ));
                }
                y
            }
        };
        let sigma = match &self.sigma {
            Some(c) => Some(c.resolve(names, n, origin)?),
            None => None,
        };
        if x.contains(&y) {
            return Err(CliError::usage(format!(
                "column {y} is both a predictor and the observations"
            )));
        }
        Ok(Resolved { x, y, sigma })
    }
}

/// The name of column `i` for reports: its header, else `col{i}`.
pub fn column_name(names: &[String], i: usize) -> String {
    names.get(i).cloned().unwrap_or_else(|| format!("col{i}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices() {
        let names: Vec<String> = ["t", "y", "err"].map(String::from).to_vec();
        let sel = Selection {
            x: vec![ColRef::parse("t")],
            y: Some(ColRef::parse("1")),
            sigma: Some(ColRef::parse("err")),
        };
        let r = sel.resolve(&names, 3, "f").unwrap();
        assert_eq!((r.x, r.y, r.sigma), (vec![0], 1, Some(2)));
        let e = ColRef::parse("z").resolve(&names, 3, "f").unwrap_err();
        assert!(e.to_string().contains("t, y, err"), "{e}");
        let e = ColRef::parse("7").resolve(&[], 3, "f").unwrap_err();
        assert!(e.to_string().contains("3 columns"), "{e}");
        let e = Selection::default().resolve(&[], 1, "f").unwrap_err();
        assert!(e.to_string().contains("--y"), "{e}");
    }
}

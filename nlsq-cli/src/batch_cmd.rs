//! `nlsq batch`: one model fitted to many independent data sets (`BatchFit`), from a 2-D
//! `.npy` (fits × points) or a long table with a group column.

use crate::cli::{BatchArgs, EstimatorArg};
use crate::error::{CliError, EXIT_NOT_CONVERGED, EXIT_OK};
use crate::fit_cmd::{backend, precision};
use crate::input::{
    self, DataSpec,
    columns::{ColRef, Selection},
    table::npy_values,
};
use crate::model::{self, ModelChoice};
use crate::output::batch as out;
use crate::params;
use nlsq::batch::{BatchFit, BatchResult, Estimator, FitState};
use nlsq::stream::ColumnBytes;
use std::path::Path;

/// Many data sets: every fit's points one after another.
pub struct Groups {
    /// Group labels, in order of first appearance.
    pub labels: Vec<String>,
    /// Points per fit.
    pub lengths: Vec<usize>,
    /// Per point x (None: one grid shared by all fits).
    pub x: Option<Vec<f64>>,
    /// The shared grid (2-D `.npy` input).
    pub grid: Option<Vec<f64>>,
    /// Observations, fit after fit.
    pub y: Vec<f64>,
}

/// Runs `nlsq batch`; the exit status.
pub fn run(args: &BatchArgs) -> Result<u8, CliError> {
    let choice = model::resolve(&args.model)?;
    if nlsq::Model::n_inputs(&choice.model) != 1 {
        return Err(CliError::usage(
            "batch: models of one predictor only (x); this model has several",
        ));
    }
    let groups = read(args)?;
    let p0 = start(args, &choice, &groups)?;
    let mut fit = BatchFit::new(&choice.model)
        .data(&groups.y)
        .lengths(&groups.lengths)
        .p0(&p0)
        .covariance(true)
        .estimator(match args.estimator {
            EstimatorArg::Lse => Estimator::Lse,
            EstimatorArg::Mle => Estimator::PoissonMle,
        })
        .backend(backend(args.engine.backend))
        .precision(precision(args.engine.precision));
    if let Some(x) = &groups.x {
        fit = fit.x(x);
    }
    if let Some(g) = &groups.grid {
        fit = fit.x_shared(g);
    }
    let bounds = args
        .bounds
        .as_deref()
        .map(|b| params::bounds(&choice.names, b))
        .transpose()?;
    let (lo, hi) = bounds.unwrap_or_default();
    if !lo.is_empty() {
        fit = fit.bounds(&lo, &hi);
    }
    if let Some(t) = args.tol {
        fit = fit.tolerance(t);
    }
    if let Some(n) = args.engine.max_nfev {
        fit = fit.max_iterations(u32::try_from(n).unwrap_or(u32::MAX));
    }
    let result = fit.fit()?;
    if !args.quiet {
        eprintln!("{}", summary(&result));
    }
    out::write(
        args.output.as_deref(),
        &choice.names,
        &groups.labels,
        &result,
    )?;
    Ok(if result.states.iter().all(|s| s.converged()) {
        EXIT_OK
    } else {
        EXIT_NOT_CONVERGED
    })
}

/// How many fits ended in each state, and where they ran.
fn summary(r: &BatchResult) -> String {
    let counts: Vec<String> = FitState::ALL
        .iter()
        .filter(|s| r.count(**s) > 0)
        .map(|s| format!("{} {s:?}", r.count(*s)))
        .collect();
    format!(
        "{} fits: {}; backend {:?} ({})",
        r.n_fits,
        counts.join(", "),
        r.backend,
        r.reason
    )
}

/// Starting values: given ones shared by all fits; the rest estimated per fit for a library
/// model (a fit whose data defeat the estimator gets a NaN start, and so the state
/// `InvalidInput`), else 1 (scipy's default).
fn start(args: &BatchArgs, choice: &ModelChoice, g: &Groups) -> Result<Vec<f64>, CliError> {
    let given = params::p0(&choice.names, args.p0.as_deref())?;
    let shared = || given.iter().map(|v| v.unwrap_or(1.0)).collect::<Vec<f64>>();
    if given.iter().all(Option::is_some) {
        return Ok(shared());
    }
    let Some(lib) = &choice.library else {
        if !args.quiet {
            eprintln!(
                "note: parameters without p0 start from 1 (scipy's default); give --p0 name=value"
            );
        }
        return Ok(shared());
    };
    let mut p0 = Vec::with_capacity(g.lengths.len() * given.len());
    let mut failed = 0;
    let mut at = 0;
    for &n in &g.lengths {
        let y = &g.y[at..at + n];
        let x = match (&g.x, &g.grid) {
            (Some(x), _) => &x[at..at + n],
            (None, Some(grid)) => &grid[..n],
            (None, None) => &[][..],
        };
        at += n;
        let est = lib.estimate_p0(&[x], y).unwrap_or_else(|_| {
            failed += 1;
            vec![f64::NAN; given.len()]
        });
        p0.extend(given.iter().zip(est).map(|(v, e)| v.unwrap_or(e)));
    }
    if failed > 0 && !args.quiet {
        eprintln!("note: automatic p0 failed for {failed} fits (state InvalidInput)");
    }
    Ok(p0)
}

fn read(args: &BatchArgs) -> Result<Groups, CliError> {
    let npy = args.format == Some(input::Format::Npy)
        || (args.format.is_none() && args.data.extension().is_some_and(|e| e == "npy"));
    if npy {
        if args.group.is_some() {
            return Err(CliError::usage(
                "--group is for long tables, not a 2-D .npy",
            ));
        }
        return read_matrix(&args.data, args.x_grid.as_deref());
    }
    let Some(group) = &args.group else {
        return Err(CliError::usage(
            "batch: give a 2-D .npy (fits × points) or a long table with --group COLUMN",
        ));
    };
    read_long(args, group)
}

/// A `(fits, points)` array of f8/f4, C or Fortran order.
fn read_matrix(path: &Path, grid: Option<&Path>) -> Result<Groups, CliError> {
    let origin = path.display().to_string();
    let bytes = ColumnBytes::map(path).map_err(|e| CliError::io(path, e))?;
    let (shape, values) = npy_values(&origin, bytes)?;
    let (fits, n, y) = match shape.as_slice() {
        [f, n] => (*f, *n, values),
        s => {
            return Err(CliError::data(
                &origin,
                format!("shape {s:?}: batch input is a 2-D array (fits × points)"),
            ));
        }
    };
    let grid = match grid {
        Some(p) => {
            let o = p.display().to_string();
            let b = ColumnBytes::map(p).map_err(|e| CliError::io(p, e))?;
            let (s, g) = npy_values(&o, b)?;
            if s.as_slice() != [n] {
                return Err(CliError::data(
                    &o,
                    format!("the grid has shape {s:?}; the fits have {n} points each"),
                ));
            }
            g
        }
        None => (0..n).map(|i| i as f64).collect(),
    };
    Ok(Groups {
        labels: (0..fits).map(|i| i.to_string()).collect(),
        lengths: vec![n; fits],
        x: None,
        grid: Some(grid),
        y,
    })
}

/// A long table: a group column (names or numbers), x and y; fits in order of their group's
/// first row.
fn read_long(args: &BatchArgs, group: &str) -> Result<Groups, CliError> {
    let spec = DataSpec {
        path: args.data.clone(),
        format: args.format,
        delimiter: None,
        raw_columns: 3,
        selection: Selection::default(),
    };
    let cols = [
        ColRef::parse(args.x.as_deref().unwrap_or("x")),
        ColRef::parse(args.y.as_deref().unwrap_or("y")),
    ];
    let (ids, values) = input::read_labelled(&spec, &ColRef::parse(group), &cols)?;
    let (x, y) = (&values[0], &values[1]);
    let mut labels: Vec<String> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let g = *index.entry(id.as_str()).or_insert_with(|| {
            labels.push(id.clone());
            members.push(Vec::new());
            members.len() - 1
        });
        members[g].push(i);
    }
    Ok(Groups {
        labels,
        lengths: members.iter().map(Vec::len).collect(),
        x: Some(members.iter().flatten().map(|&i| x[i]).collect()),
        grid: None,
        y: members.iter().flatten().map(|&i| y[i]).collect(),
    })
}

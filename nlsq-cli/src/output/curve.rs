//! `--curve FILE.csv`: every data point with the fit, the residual `y − f`, the 95%
//! confidence band of the fitted curve and the 95% prediction band of a new observation at
//! the point (with the point's sigma, when the data have one), read again from the source
//! (any size). The bands are the runtime's ([`nlsq::bands`]).

use crate::error::CliError;
use nlsq::stream::{Chunk, DataSource};
use nlsq::{Bands, FitResult, Model};
use std::io::{BufWriter, Write};
use std::path::Path;

/// The columns after the predictors and the observations.
const COLUMNS: [&str; 6] = [
    "fit",
    "residual",
    "band_lower",
    "band_upper",
    "prediction_lower",
    "prediction_upper",
];

/// Writes the curve file.
pub fn write(
    path: &Path,
    model: &dyn Model,
    fit: &FitResult,
    source: &mut dyn DataSource,
    x_names: &[String],
    y_name: &str,
) -> Result<(), CliError> {
    let io = |e| CliError::io(path, e);
    let mut bands = Bands::new(model, fit).map_err(|e| CliError::usage(e.to_string()))?;
    let file = crate::output::json::create(path)?;
    let mut w = BufWriter::new(file);
    let mut header: Vec<String> = x_names.to_vec();
    header.push(y_name.to_string());
    header.extend(COLUMNS.map(String::from));
    writeln!(w, "{}", header.join(",")).map_err(io)?;
    let mut chunk = Chunk::empty(source.n_inputs(), source.has_sigma());
    let mut x = vec![0.0; source.n_inputs()];
    source.rewind()?;
    while source.next_chunk(&mut chunk, 1 << 16)? {
        for i in 0..chunk.y.len() {
            for (k, col) in chunk.x.iter().enumerate() {
                x[k] = col[i];
                write!(w, "{},", col[i]).map_err(io)?;
            }
            let sigma = chunk.sigma.as_ref().map_or(1.0, |s| s[i]);
            let b = bands.at_sigma(&x, sigma);
            let (y, f) = (chunk.y[i], b.value);
            let (c, p) = (b.confidence, b.prediction);
            writeln!(w, "{y},{f},{},{},{},{},{}", y - f, c.0, c.1, p.0, p.1).map_err(io)?;
        }
    }
    w.flush().map_err(io)
}

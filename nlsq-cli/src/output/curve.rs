//! `--curve FILE.csv`: every data point with the fit, the residual `y − f` and the 95%
//! confidence band of the fitted curve, read again from the source (any size).

use super::band::Band;
use crate::error::CliError;
use nlsq::stream::{Chunk, DataSource};
use nlsq::{FitResult, Model};
use std::io::{BufWriter, Write};
use std::path::Path;

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
    let file = crate::output::json::create(path)?;
    let mut w = BufWriter::new(file);
    let mut header: Vec<String> = x_names.to_vec();
    header.push(y_name.to_string());
    header.extend(["fit", "residual", "band_lower", "band_upper"].map(String::from));
    writeln!(w, "{}", header.join(",")).map_err(io)?;
    let mut band = Band::new(model, fit);
    let mut chunk = Chunk::empty(source.n_inputs(), source.has_sigma());
    let mut x = vec![0.0; source.n_inputs()];
    source.rewind()?;
    while source.next_chunk(&mut chunk, 1 << 16)? {
        for i in 0..chunk.y.len() {
            for (k, col) in chunk.x.iter().enumerate() {
                x[k] = col[i];
                write!(w, "{},", col[i]).map_err(io)?;
            }
            let (f, half) = band.at(&x);
            let y = chunk.y[i];
            writeln!(w, "{y},{f},{},{},{}", y - f, f - half, f + half).map_err(io)?;
        }
    }
    w.flush().map_err(io)
}

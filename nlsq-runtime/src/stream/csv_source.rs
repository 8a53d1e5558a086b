//! CSV files (the `csv` crate): chosen columns as predictors, observations and sigma. Every
//! pass reads the file again from the start; memory stays at one chunk.

use super::{Chunk, DataSource, io_error};
use crate::error::FitError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A CSV file as a re-iterable source. Every row must have the same number of fields and
/// every chosen field must parse as a number (`nan` and `inf` parse, and are then judged by the
/// fit's `nan_policy`); a ragged or unparsable row is a [`FitError::Source`] naming its line.
///
/// ```no_run
/// use nlsq_runtime::stream::CsvSource;
/// // Columns 0 and 1 of a file with a header line.
/// let source = CsvSource::new("data.csv", &[0], 1).unwrap().has_headers(true);
/// ```
pub struct CsvSource {
    path: PathBuf,
    x_cols: Vec<usize>,
    y_col: usize,
    sigma_col: Option<usize>,
    has_headers: bool,
    delimiter: u8,
    reader: Option<csv::Reader<File>>,
    record: csv::ByteRecord,
    pos: u64,
}

impl CsvSource {
    /// Predictors from columns `x_cols`, observations from column `y_col` (0-based); no header
    /// line, comma-separated.
    pub fn new(path: impl AsRef<Path>, x_cols: &[usize], y_col: usize) -> Result<Self, FitError> {
        let path = path.as_ref().to_path_buf();
        // Fail early on a missing file.
        File::open(&path).map_err(|e| io_error(&path.display().to_string(), "cannot open", e))?;
        Ok(CsvSource {
            path,
            x_cols: x_cols.to_vec(),
            y_col,
            sigma_col: None,
            has_headers: false,
            delimiter: b',',
            reader: None,
            record: csv::ByteRecord::new(),
            pos: 0,
        })
    }

    /// Whether the first line is a header to skip.
    pub fn has_headers(mut self, yes: bool) -> Self {
        self.has_headers = yes;
        self
    }

    /// The field delimiter (default `,`).
    pub fn delimiter(mut self, d: u8) -> Self {
        self.delimiter = d;
        self
    }

    /// Standard deviations from column `col`.
    pub fn sigma_column(mut self, col: usize) -> Self {
        self.sigma_col = Some(col);
        self
    }

    fn origin_str(&self) -> String {
        self.path.display().to_string()
    }

    fn open(&mut self) -> Result<(), FitError> {
        let file =
            File::open(&self.path).map_err(|e| io_error(&self.origin_str(), "cannot open", e))?;
        self.reader = Some(
            csv::ReaderBuilder::new()
                .has_headers(self.has_headers)
                .delimiter(self.delimiter)
                .trim(csv::Trim::All)
                .from_reader(file),
        );
        self.pos = 0;
        Ok(())
    }

    fn field(&self, col: usize) -> Result<f64, FitError> {
        let line = self.record.position().map_or(0, |p| p.line());
        let bad = |message: String| FitError::Source {
            origin: self.origin_str(),
            message,
        };
        let raw = self.record.get(col).ok_or_else(|| {
            bad(format!(
                "line {line} has {} fields, column {col} was asked for",
                self.record.len()
            ))
        })?;
        let text = std::str::from_utf8(raw)
            .map_err(|_| bad(format!("line {line}, column {col}: not UTF-8 text")))?;
        text.parse::<f64>().map_err(|_| {
            bad(format!(
                "line {line}, column {col}: `{text}` is not a number"
            ))
        })
    }
}

impl DataSource for CsvSource {
    fn origin(&self) -> String {
        self.origin_str()
    }

    fn n_inputs(&self) -> usize {
        self.x_cols.len()
    }

    fn has_sigma(&self) -> bool {
        self.sigma_col.is_some()
    }

    fn len_hint(&self) -> Option<u64> {
        None
    }

    fn reiterable(&self) -> bool {
        true
    }

    fn rewind(&mut self) -> Result<(), FitError> {
        self.open()
    }

    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        if self.reader.is_none() {
            self.open()?;
        }
        chunk.x.resize(self.x_cols.len(), Vec::new());
        chunk.clear();
        chunk.sigma = self
            .sigma_col
            .map(|_| chunk.sigma.take().unwrap_or_default());
        while chunk.len() < max_points {
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            let more = reader.read_byte_record(&mut self.record).map_err(|e| {
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => format!(
                        "line {} has {len} fields, earlier lines have {expected_len}",
                        pos.as_ref().map_or(0, |p| p.line())
                    ),
                    _ => e.to_string(),
                };
                FitError::Source {
                    origin: self.origin_str(),
                    message,
                }
            })?;
            if !more {
                break;
            }
            for (k, &c) in self.x_cols.iter().enumerate() {
                let v = self.field(c)?;
                chunk.x[k].push(v);
            }
            let y = self.field(self.y_col)?;
            chunk.y.push(y);
            if let Some(c) = self.sigma_col {
                let s = self.field(c)?;
                if let Some(v) = chunk.sigma.as_mut() {
                    v.push(s);
                }
            }
            self.pos += 1;
        }
        Ok(!chunk.is_empty())
    }

    fn cursor(&self) -> u64 {
        self.pos
    }
}

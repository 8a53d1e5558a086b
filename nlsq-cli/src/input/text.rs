//! Text tables (CSV, TSV, whitespace-separated) as a re-iterable data source: every pass reads
//! the file again (the `csv` crate for delimited text), so a file larger than memory streams.
//! Lines starting with `#` are comments; an empty field is a missing value (NaN, judged by the
//! fit's NaN policy); a first row that is not all numbers is the header.

use super::columns::Resolved;
use crate::error::CliError;
use nlsq::FitError;
use nlsq::stream::{Chunk, DataSource};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;

/// How fields are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// One delimiter byte (`,` or tab), with CSV quoting.
    Delimited(u8),
    /// Runs of spaces and tabs.
    Whitespace,
}

/// Where the text comes from.
#[derive(Clone, Debug)]
pub enum TextInput {
    /// A file, reopened on every pass.
    File(PathBuf),
    /// Bytes already read (standard input).
    Bytes(Arc<Vec<u8>>),
    /// The lines of a file that start in a byte range (an MPI rank's part), reopened on
    /// every pass.
    Span(super::shard::ByteSpan),
}

impl TextInput {
    fn open(&self, origin: &str) -> Result<Box<dyn Read + Send>, CliError> {
        Ok(match self {
            TextInput::File(p) => {
                Box::new(File::open(p).map_err(|e| CliError::io(origin.to_string(), e))?)
            }
            TextInput::Bytes(b) => Box::new(Cursor::new(ArcBytes(b.clone()))),
            TextInput::Span(span) => Box::new(
                span.open()
                    .map_err(|e| CliError::io(origin.to_string(), e))?,
            ),
        })
    }

    /// Whether the text starts at the beginning of the file (with its header, if any).
    fn at_start(&self) -> bool {
        match self {
            TextInput::Span(span) => span.start() == 0,
            _ => true,
        }
    }

    /// The lines of the file before the text (a span's; 0 otherwise), for messages.
    fn lines_before(&self) -> u64 {
        match self {
            TextInput::Span(span) => span.lines_before(),
            _ => 0,
        }
    }
}

struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads data rows one at a time, with their line numbers.
enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        record: csv::ByteRecord,
    },
    Ws {
        reader: BufReader<Box<dyn Read + Send>>,
        line: Vec<u8>,
        fields: Vec<(usize, usize)>,
        number: u64,
    },
}

impl Rows {
    fn new(kind: TextKind, input: Box<dyn Read + Send>) -> Self {
        match kind {
            TextKind::Delimited(d) => Rows::Csv {
                reader: csv::ReaderBuilder::new()
                    .delimiter(d)
                    .has_headers(false)
                    .comment(Some(b'#'))
                    .flexible(true)
                    .trim(csv::Trim::All)
                    .from_reader(input),
                record: csv::ByteRecord::new(),
            },
            TextKind::Whitespace => Rows::Ws {
                reader: BufReader::with_capacity(1 << 16, input),
                line: Vec::new(),
                fields: Vec::new(),
                number: 0,
            },
        }
    }

    /// Moves to the next data row; its line number, or `None` at the end.
    fn advance(&mut self, origin: &str) -> Result<Option<u64>, CliError> {
        match self {
            Rows::Csv { reader, record } => loop {
                let more = reader.read_byte_record(record).map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    CliError::Parse {
                        file: origin.into(),
                        line,
                        column: 1,
                        message: e.to_string(),
                    }
                })?;
                if !more {
                    return Ok(None);
                }
                // A blank line inside the data.
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                return Ok(Some(record.position().map_or(0, |p| p.line())));
            },
            Rows::Ws {
                reader,
                line,
                fields,
                number,
            } => loop {
                line.clear();
                let n = reader
                    .read_until(b'\n', line)
                    .map_err(|e| CliError::io(origin.to_string(), e))?;
                if n == 0 {
                    return Ok(None);
                }
                *number += 1;
                fields.clear();
                let mut start = None;
                for (i, b) in line.iter().enumerate() {
                    let blank = b.is_ascii_whitespace();
                    match (start, blank) {
                        (None, false) => start = Some(i),
                        (Some(s), true) => {
                            fields.push((s, i));
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    fields.push((s, line.len()));
                }
                let comment = fields.first().is_some_and(|&(s, _)| line[s] == b'#');
                if !fields.is_empty() && !comment {
                    return Ok(Some(*number));
                }
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Rows::Csv { record, .. } => record.len(),
            Rows::Ws { fields, .. } => fields.len(),
        }
    }

    fn field(&self, i: usize) -> &[u8] {
        match self {
            Rows::Csv { record, .. } => &record[i],
            Rows::Ws { line, fields, .. } => &line[fields[i].0..fields[i].1],
        }
    }
}

/// Parses one field: a float, `nan`/`inf` in any case, or empty (missing: NaN).
fn number(field: &[u8]) -> Option<f64> {
    if field.is_empty() {
        return Some(f64::NAN);
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// The shape of a text table, read from its first row.
#[derive(Clone, Debug)]
pub struct TextShape {
    /// Header names (empty without a header).
    pub names: Vec<String>,
    /// Fields per row.
    pub columns: usize,
}

/// Reads the first row: the header when it is not all numbers.
pub fn sniff(origin: &str, kind: TextKind, input: &TextInput) -> Result<TextShape, CliError> {
    let mut rows = Rows::new(kind, input.open(origin)?);
    if rows.advance(origin)?.is_none() {
        return Err(CliError::data(origin, "no data: the input has no rows"));
    }
    let fields: Vec<&[u8]> = (0..rows.len()).map(|i| rows.field(i)).collect();
    let header = fields.iter().any(|f| number(f).is_none());
    let names = if header {
        fields
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect()
    } else {
        Vec::new()
    };
    Ok(TextShape {
        names,
        columns: fields.len(),
    })
}

/// Reads every row of a text table: the text of column `label` and the numbers of `cols`.
pub fn read_labelled(
    origin: &str,
    kind: TextKind,
    input: &TextInput,
    shape: &TextShape,
    label: usize,
    cols: &[usize],
) -> Result<(Vec<String>, Vec<Vec<f64>>), CliError> {
    let mut rows = Rows::new(kind, input.open(origin)?);
    if !shape.names.is_empty() {
        rows.advance(origin)?;
    }
    let mut labels = Vec::new();
    let mut values = vec![Vec::new(); cols.len()];
    while let Some(line) = rows.advance(origin)? {
        if rows.len() != shape.columns {
            return Err(CliError::Parse {
                file: origin.into(),
                line,
                column: rows.len().min(shape.columns) + 1,
                message: format!("{} fields, the first row has {}", rows.len(), shape.columns),
            });
        }
        labels.push(String::from_utf8_lossy(rows.field(label)).into_owned());
        for (v, &c) in values.iter_mut().zip(cols) {
            v.push(number(rows.field(c)).ok_or_else(|| CliError::Parse {
                file: origin.into(),
                line,
                column: c + 1,
                message: format!(
                    "`{}` is not a number",
                    String::from_utf8_lossy(rows.field(c))
                ),
            })?);
        }
    }
    Ok((labels, values))
}

/// A text table as a [`DataSource`].
pub struct TextSource {
    origin: String,
    kind: TextKind,
    input: TextInput,
    shape: TextShape,
    cols: Resolved,
    rows: Option<Rows>,
    pos: u64,
}

impl TextSource {
    /// The table at `input`, of `shape` (from [`sniff`]), with the columns `cols`.
    pub fn new(
        origin: String,
        kind: TextKind,
        input: TextInput,
        shape: TextShape,
        cols: Resolved,
    ) -> Self {
        TextSource {
            origin,
            kind,
            input,
            shape,
            cols,
            rows: None,
            pos: 0,
        }
    }

    /// Opens the rows, past the header.
    fn start(&self) -> Result<Rows, CliError> {
        let mut rows = Rows::new(self.kind, self.input.open(&self.origin)?);
        if !self.shape.names.is_empty() && self.input.at_start() {
            rows.advance(&self.origin)?;
        }
        Ok(rows)
    }

    /// Reads one row into `chunk`; false at the end. The line of an error is the file's.
    fn read_row(&mut self, chunk: &mut Chunk) -> Result<bool, CliError> {
        self.read_row_here(chunk).map_err(|e| match e {
            CliError::Parse {
                file,
                line,
                column,
                message,
            } => CliError::Parse {
                file,
                line: line + self.input.lines_before(),
                column,
                message,
            },
            other => other,
        })
    }

    fn read_row_here(&mut self, chunk: &mut Chunk) -> Result<bool, CliError> {
        if self.rows.is_none() {
            self.rows = Some(self.start()?);
        }
        let origin = &self.origin;
        let expected = self.shape.columns;
        let Some(rows) = self.rows.as_mut() else {
            return Ok(false);
        };
        let Some(line) = rows.advance(origin)? else {
            return Ok(false);
        };
        if rows.len() != expected {
            return Err(CliError::Parse {
                file: origin.clone(),
                line,
                column: rows.len().min(expected) + 1,
                message: format!("{} fields, the first row has {expected}", rows.len()),
            });
        }
        let get = |i: usize| {
            number(rows.field(i)).ok_or_else(|| CliError::Parse {
                file: origin.clone(),
                line,
                column: i + 1,
                message: format!(
                    "`{}` is not a number",
                    String::from_utf8_lossy(rows.field(i))
                ),
            })
        };
        for (k, &c) in self.cols.x.iter().enumerate() {
            chunk.x[k].push(get(c)?);
        }
        chunk.y.push(get(self.cols.y)?);
        if let (Some(c), Some(s)) = (self.cols.sigma, chunk.sigma.as_mut()) {
            s.push(get(c)?);
        }
        Ok(true)
    }
}

/// Carries a command-line error through the library's source interface, keeping the file,
/// line and column.
pub fn source_error(e: CliError) -> FitError {
    match e {
        CliError::Parse {
            file,
            line,
            column,
            message,
        } => FitError::Source {
            origin: file,
            message: format!("line {line}, column {column}: {message}"),
        },
        CliError::Data { file, message } => FitError::Source {
            origin: file,
            message,
        },
        other => FitError::Source {
            origin: String::new(),
            message: other.to_string(),
        },
    }
}

impl DataSource for TextSource {
    fn origin(&self) -> String {
        self.origin.clone()
    }
    fn n_inputs(&self) -> usize {
        self.cols.x.len()
    }
    fn has_sigma(&self) -> bool {
        self.cols.sigma.is_some()
    }
    fn len_hint(&self) -> Option<u64> {
        None
    }
    fn reiterable(&self) -> bool {
        true
    }
    fn rewind(&mut self) -> Result<(), FitError> {
        self.rows = None;
        self.pos = 0;
        Ok(())
    }
    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        *chunk = Chunk::empty(self.cols.x.len(), self.cols.sigma.is_some());
        while chunk.y.len() < max_points {
            if !self.read_row(chunk).map_err(source_error)? {
                break;
            }
        }
        self.pos += chunk.y.len() as u64;
        Ok(!chunk.y.is_empty())
    }
    fn cursor(&self) -> u64 {
        self.pos
    }
}

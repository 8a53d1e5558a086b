//! Reading data: text tables (CSV, TSV, whitespace), `.npy`, `.npz`, raw `f64`/`f32` and
//! standard input, as a re-iterable [`DataSource`] the fit reads pass after pass — into
//! memory when the data fit the memory budget, streamed from the file otherwise.

pub mod columns;
mod npz;
pub mod shard;
pub mod table;
pub mod text;

use crate::error::CliError;
use columns::{ColRef, Resolved, Selection, column_name};
use nlsq::stream::ColumnBytes;
use nlsq::stream::{DataSource, RawType};
use shard::Part;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use table::Table;
use text::{TextInput, TextKind, TextSource};

/// A data format, from `--format` or the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated text (`.csv`).
    Csv,
    /// Tab-separated text (`.tsv`, `.tab`).
    Tsv,
    /// Whitespace-separated text (`.txt`, `.dat`, anything else).
    Text,
    /// A NumPy array (`.npy`): `(N, C)` or `(C, N)`, f8 or f4.
    Npy,
    /// NumPy arrays in a zip archive (`.npz`), one column per 1-D array.
    Npz,
    /// Raw little-endian f64 values, `--columns` per row.
    F64,
    /// Raw little-endian f32 values, `--columns` per row.
    F32,
}

/// Where the data are and which columns to use.
#[derive(Clone, Debug)]
pub struct DataSpec {
    /// The file, or `-` for standard input.
    pub path: PathBuf,
    /// The format (none: from the extension, or sniffed from the content).
    pub format: Option<Format>,
    /// The delimiter of a text table (overrides the format's).
    pub delimiter: Option<u8>,
    /// Values per row of a raw file.
    pub raw_columns: usize,
    /// The columns.
    pub selection: Selection,
}

/// Opened data: the source and the names of its columns.
pub struct Dataset {
    /// The data, chunk by chunk.
    pub source: Box<dyn DataSource>,
    /// Predictor names (headers, array names, or `col{i}`).
    pub x_names: Vec<String>,
    /// Observation name.
    pub y_name: String,
    /// Where the data lie in the file, when they are a part of it.
    pub place: Option<shard::Place>,
}

impl DataSpec {
    fn origin(&self) -> String {
        if self.is_stdin() {
            "<stdin>".into()
        } else {
            self.path.display().to_string()
        }
    }

    fn is_stdin(&self) -> bool {
        self.path == Path::new("-")
    }

    /// The format: given, else from the extension; `None` for text to sniff.
    fn format(&self) -> Option<Format> {
        self.format.or_else(|| {
            let ext = self.path.extension()?.to_str()?.to_ascii_lowercase();
            Some(match ext.as_str() {
                "csv" => Format::Csv,
                "tsv" | "tab" => Format::Tsv,
                "npy" => Format::Npy,
                "npz" => Format::Npz,
                "f64" => Format::F64,
                "f32" => Format::F32,
                _ => return None,
            })
        })
    }
}

/// Opens the data `spec` describes.
pub fn open(spec: &DataSpec) -> Result<Dataset, CliError> {
    open_part(spec, None)
}

/// Opens `part` of the data `spec` describes (all of it for `None`): the rows of a binary
/// table in the part's row range (a mapped file's other pages are never read), the lines of a
/// text file in the part's byte range. Standard input is refused for a part.
pub fn open_part(spec: &DataSpec, part: Option<&Part>) -> Result<Dataset, CliError> {
    if part.is_some() && spec.is_stdin() {
        return Err(CliError::usage(
            "standard input cannot be split over MPI ranks: give the data as a file",
        ));
    }
    let origin = spec.origin();
    let stdin = if spec.is_stdin() {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| CliError::io("<stdin>", e))?;
        Some(v)
    } else {
        None
    };
    let format = match (spec.format(), &stdin) {
        (Some(f), _) => Some(f),
        (None, Some(b)) if b.starts_with(b"\x93NUMPY") => Some(Format::Npy),
        (None, _) => None,
    };
    let bytes = |stdin: Option<Vec<u8>>| -> Result<ColumnBytes, CliError> {
        match stdin {
            Some(v) => Ok(ColumnBytes::Owned(v)),
            None => map_file(&spec.path),
        }
    };
    let table = match format {
        Some(Format::Npy) => table::npy_table(&origin, bytes(stdin)?, None)?,
        Some(Format::Npz) => npz::read(&spec.path, &origin)?,
        Some(Format::F64) => {
            table::raw_table(&origin, bytes(stdin)?, RawType::F64, spec.raw_columns)?
        }
        Some(Format::F32) => {
            table::raw_table(&origin, bytes(stdin)?, RawType::F32, spec.raw_columns)?
        }
        text => return open_text(spec, origin, text, stdin, part),
    };
    let table = match part {
        Some(p) => {
            let rows = p.rows(table.rows());
            let mut data = open_table(spec, table.part(rows.clone()))?;
            data.place = Some(shard::Place::Rows(rows));
            return Ok(data);
        }
        None => table,
    };
    open_table(spec, table)
}

/// Every row of a table: the text of column `label` (a group name) and the numbers of `cols`.
/// Binary tables hold numbers only; their labels are the numbers as text.
pub fn read_labelled(
    spec: &DataSpec,
    label: &ColRef,
    cols: &[ColRef],
) -> Result<(Vec<String>, Vec<Vec<f64>>), CliError> {
    let text = matches!(
        spec.format(),
        None | Some(Format::Csv | Format::Tsv | Format::Text)
    );
    if !text {
        let mut with_label = spec.clone();
        with_label.selection = Selection {
            x: cols.iter().chain([label]).cloned().collect(),
            y: None,
            sigma: None,
        };
        // The selection needs a y: the last column chosen serves, it is read as a predictor.
        let last = with_label.selection.x.pop();
        with_label.selection.y = last;
        let mut data = open(&with_label)?;
        let all = crate::sample::sample(&mut *data.source, usize::MAX)?;
        let labels = all.y.iter().map(f64::to_string).collect();
        return Ok((labels, all.x));
    }
    let origin = spec.origin();
    if spec.is_stdin() {
        return Err(CliError::usage(
            "batch: read long tables from a file, not standard input",
        ));
    }
    let input = TextInput::File(spec.path.clone());
    let kind = text_kind(spec, spec.format(), &origin, &input)?;
    let shape = text::sniff(&origin, kind, &input)?;
    let label = label.resolve(&shape.names, shape.columns, &origin)?;
    let cols = cols
        .iter()
        .map(|c| c.resolve(&shape.names, shape.columns, &origin))
        .collect::<Result<Vec<_>, _>>()?;
    text::read_labelled(&origin, kind, &input, &shape, label, &cols)
}

fn map_file(path: &Path) -> Result<ColumnBytes, CliError> {
    ColumnBytes::map(path).map_err(|e| CliError::io(path, e))
}

fn open_table(spec: &DataSpec, table: Table) -> Result<Dataset, CliError> {
    let cols = spec
        .selection
        .resolve(&table.names, table.columns.len(), &table.origin)?;
    let (x_names, y_name) = names(&table.names, &cols);
    Ok(Dataset {
        source: Box::new(table::table_source(&table, &cols)?),
        x_names,
        y_name,
        place: None,
    })
}

fn names(names: &[String], cols: &Resolved) -> (Vec<String>, String) {
    (
        cols.x.iter().map(|&i| column_name(names, i)).collect(),
        column_name(names, cols.y),
    )
}

fn open_text(
    spec: &DataSpec,
    origin: String,
    format: Option<Format>,
    stdin: Option<Vec<u8>>,
    part: Option<&Part>,
) -> Result<Dataset, CliError> {
    let input = match stdin {
        Some(v) => TextInput::Bytes(Arc::new(v)),
        None => TextInput::File(spec.path.clone()),
    };
    let kind = text_kind(spec, format, &origin, &input)?;
    let shape = text::sniff(&origin, kind, &input)?;
    let (input, place) = match part {
        Some(p) => {
            let span = shard::text_span(&spec.path, &origin, p)?;
            let place = shard::Place::Bytes(span.start()..span.end());
            (TextInput::Span(span), Some(place))
        }
        None => (input, None),
    };
    let cols = spec
        .selection
        .resolve(&shape.names, shape.columns, &origin)?;
    let (x_names, y_name) = names(&shape.names, &cols);
    Ok(Dataset {
        source: Box::new(TextSource::new(origin, kind, input, shape, cols)),
        x_names,
        y_name,
        place,
    })
}

/// How the fields of a text table are separated: `--delimiter`, else the format's, else
/// sniffed.
fn text_kind(
    spec: &DataSpec,
    format: Option<Format>,
    origin: &str,
    input: &TextInput,
) -> Result<TextKind, CliError> {
    Ok(match (spec.delimiter, format) {
        (Some(b' '), _) => TextKind::Whitespace,
        (Some(d), _) => TextKind::Delimited(d),
        (None, Some(Format::Csv)) => TextKind::Delimited(b','),
        (None, Some(Format::Tsv)) => TextKind::Delimited(b'\t'),
        (None, Some(_)) => TextKind::Whitespace,
        (None, None) => sniff_kind(origin, input)?,
    })
}

/// Commas or tabs on the first line that is not a comment make the text delimited.
fn sniff_kind(origin: &str, input: &TextInput) -> Result<TextKind, CliError> {
    let mut head = vec![0u8; 1 << 16];
    let n = match input {
        TextInput::Bytes(b) => {
            let n = b.len().min(head.len());
            head[..n].copy_from_slice(&b[..n]);
            n
        }
        TextInput::File(p) | TextInput::Span(shard::ByteSpan { path: p, .. }) => {
            let mut f = std::fs::File::open(p).map_err(|e| CliError::io(origin, e))?;
            read_up_to(&mut f, &mut head).map_err(|e| CliError::io(origin, e))?
        }
    };
    let line = head[..n]
        .split(|&b| b == b'\n')
        .find(|l| {
            let t = l.trim_ascii();
            !t.is_empty() && !t.starts_with(b"#")
        })
        .unwrap_or(&[]);
    Ok(if line.contains(&b',') {
        TextKind::Delimited(b',')
    } else if line.contains(&b'\t') {
        TextKind::Delimited(b'\t')
    } else {
        TextKind::Whitespace
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

//! Binary tables (`.npy`, `.npz`, raw `f64`/`f32`): the runtime's strided [`Column`]s over a
//! memory-mapped file or bytes in memory, served as a re-iterable [`ColumnSource`].

use super::columns::Resolved;
use crate::error::CliError;
use nlsq::stream::{Column, ColumnBytes, ColumnSource, NpyHeader, RawType};
use std::sync::Arc;

/// Named columns of one length.
pub struct Table {
    /// Where the table came from.
    pub origin: String,
    /// Column names (array names in an `.npz`; empty for `.npy` and raw files).
    pub names: Vec<String>,
    /// The columns.
    pub columns: Vec<Column>,
}

impl Table {
    /// Rows (0 for no columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.len())
    }

    /// The rows `range` of every column (a rank's shard), over the same bytes.
    pub fn part(self, range: std::ops::Range<usize>) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .map(|c| c.slice(range.clone()))
                .collect(),
            ..self
        }
    }

    /// Appends the columns of another table (the arrays of an `.npz`), which must have as
    /// many rows.
    pub fn append(&mut self, other: Table) -> Result<(), CliError> {
        if !self.columns.is_empty() && other.rows() != self.rows() {
            return Err(CliError::data(
                &self.origin,
                format!(
                    "array `{}` has {} rows, the arrays before it have {}",
                    other.names.first().map_or("?", String::as_str),
                    other.rows(),
                    self.rows()
                ),
            ));
        }
        self.names.extend(other.names);
        self.columns.extend(other.columns);
        Ok(())
    }
}

/// A table of raw little-endian elements, rows of `columns` elements one after another.
pub fn raw_table(
    origin: &str,
    bytes: ColumnBytes,
    ty: RawType,
    columns: usize,
) -> Result<Table, CliError> {
    if columns == 0 {
        return Err(CliError::usage("--columns must be at least 1"));
    }
    let size = bytes.as_slice().len();
    let row = columns
        .checked_mul(ty.size())
        .ok_or_else(|| CliError::usage(format!("--columns {columns} is too large")))?;
    if !size.is_multiple_of(row) {
        return Err(CliError::data(
            origin,
            format!(
                "{size} bytes is not a whole number of rows of {columns} {} values",
                type_name(ty)
            ),
        ));
    }
    let bytes = Arc::new(bytes);
    let cols = (0..columns)
        .map(|j| Column::new(origin, bytes.clone(), j * ty.size(), row, ty, size / row))
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::data(origin, e.to_string()))?;
    Ok(Table {
        origin: origin.into(),
        names: Vec::new(),
        columns: cols,
    })
}

fn type_name(ty: RawType) -> &'static str {
    match ty {
        RawType::F64 => "f64",
        RawType::F32 => "f32",
    }
}

/// The header of the `.npy` bytes and its element count, checked against the bytes present.
fn npy_header(origin: &str, bytes: &ColumnBytes) -> Result<(NpyHeader, usize), CliError> {
    let h = NpyHeader::parse(bytes.as_slice()).map_err(|m| CliError::data(origin, m))?;
    let elements = h
        .elements()
        .ok_or_else(|| CliError::data(origin, "the shape overflows"))?;
    let present = bytes.as_slice().len() - h.data_offset;
    let size = h.dtype.size();
    if elements.checked_mul(size) != Some(present) {
        return Err(CliError::data(
            origin,
            format!(
                "the header announces {elements} values of {size} bytes, the file holds {present} bytes"
            ),
        ));
    }
    Ok((h, elements))
}

/// A `.npy` array's shape and its values in C order.
pub fn npy_values(origin: &str, bytes: ColumnBytes) -> Result<(Vec<usize>, Vec<f64>), CliError> {
    let (h, n) = npy_header(origin, &bytes)?;
    let size = h.dtype.size();
    let all = Column::new(origin, Arc::new(bytes), h.data_offset, size, h.dtype, n)
        .map_err(|e| CliError::data(origin, e.to_string()))?;
    let mut v = Vec::with_capacity(n);
    all.read(0..n, &mut v);
    if h.fortran_order && h.shape.len() == 2 {
        let (r, c) = (h.shape[0], h.shape[1]);
        v = (0..r * c).map(|k| v[(k % c) * r + k / c]).collect();
    }
    Ok((h.shape, v))
}

/// A `.npy` array as a table: `(N,)` is one column; a 2-D array's smaller dimension is its
/// columns (`(N, C)` from `np.column_stack`, or `(C, N)` from `np.vstack`; a square array is
/// `(N, C)`), in C or Fortran order. `name` names the columns (`name`, or `name[j]`) when
/// given (the arrays of an `.npz`).
pub fn npy_table(origin: &str, bytes: ColumnBytes, name: Option<&str>) -> Result<Table, CliError> {
    let (h, elements) = npy_header(origin, &bytes)?;
    let size = h.dtype.size();
    if elements == 0 {
        return Err(CliError::data(
            origin,
            format!("no data: the array of shape {:?} is empty", h.shape),
        ));
    }
    // (rows, columns, stride between rows, stride between columns), in elements.
    let (n, c, row_step, col_step) = match (h.shape.as_slice(), h.fortran_order) {
        ([n], _) => (*n, 1, 1, 0),
        ([a, b], false) if a >= b => (*a, *b, *b, 1),
        ([a, b], false) => (*b, *a, 1, *b),
        ([a, b], true) if a >= b => (*a, *b, 1, *a),
        ([a, b], true) => (*b, *a, *a, 1),
        (s, _) => {
            return Err(CliError::data(
                origin,
                format!("an array of shape {s:?} is not a table: use 1-D or 2-D arrays"),
            ));
        }
    };
    let bytes = Arc::new(bytes);
    let columns = (0..c)
        .map(|j| {
            let offset = h.data_offset + j * col_step * size;
            Column::new(origin, bytes.clone(), offset, row_step * size, h.dtype, n)
        })
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::data(origin, e.to_string()))?;
    let names = match name {
        Some(a) if c == 1 => vec![a.to_string()],
        Some(a) => (0..c).map(|j| format!("{a}[{j}]")).collect(),
        None => Vec::new(),
    };
    Ok(Table {
        origin: origin.into(),
        names,
        columns,
    })
}

/// The chosen columns of a table as a re-iterable source.
pub fn table_source(table: &Table, cols: &Resolved) -> Result<ColumnSource, CliError> {
    let col = |j: usize| table.columns[j].clone();
    ColumnSource::new(
        cols.x.iter().map(|&j| col(j)).collect(),
        col(cols.y),
        cols.sigma.map(col),
    )
    .map_err(|e| CliError::data(&table.origin, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(shape: &str, fortran: bool, data: &[f64]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '<f8', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend((h.len() as u16).to_le_bytes());
        v.extend(h.as_bytes());
        for x in data {
            v.extend(x.to_le_bytes());
        }
        v
    }

    fn columns(t: &Table) -> Vec<Vec<f64>> {
        t.columns
            .iter()
            .map(|c| {
                let mut v = Vec::new();
                c.read(0..c.len(), &mut v);
                v
            })
            .collect()
    }

    #[test]
    fn layouts() {
        let d = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let want = vec![vec![1.0, 3.0, 5.0], vec![2.0, 4.0, 6.0]];
        // (3, 2) C order: rows of two.
        let t = npy_table("t", ColumnBytes::Owned(npy("(3, 2)", false, &d)), None).unwrap();
        assert_eq!(columns(&t), want);
        // (2, 3) C order: each column contiguous.
        let t = npy_table("t", ColumnBytes::Owned(npy("(2, 3)", false, &d)), None).unwrap();
        assert_eq!(columns(&t), vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        // (3, 2) Fortran order: each column contiguous.
        let t = npy_table("t", ColumnBytes::Owned(npy("(3, 2)", true, &d)), None).unwrap();
        assert_eq!(columns(&t), vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        // (2, 3) Fortran order: rows of two.
        let t = npy_table("t", ColumnBytes::Owned(npy("(2, 3)", true, &d)), Some("a")).unwrap();
        assert_eq!(columns(&t), want);
        assert_eq!(t.names, ["a[0]", "a[1]"]);
        let raw: Vec<u8> = d.iter().flat_map(|x| x.to_le_bytes()).collect();
        let t = raw_table("r", ColumnBytes::Owned(raw.clone()), RawType::F64, 2).unwrap();
        assert_eq!(columns(&t), want);
        let e = raw_table("r", ColumnBytes::Owned(raw), RawType::F64, 4)
            .err()
            .unwrap();
        assert!(e.to_string().contains("whole number of rows"), "{e}");
        let mut short = npy("(3, 2)", false, &d);
        short.pop();
        let e = npy_table("t", ColumnBytes::Owned(short), None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("holds 47 bytes"), "{e}");
    }
}

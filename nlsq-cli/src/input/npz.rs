//! `.npz` archives (`np.savez`, `np.savez_compressed`): each array a table of its own, joined
//! side by side; the arrays are decompressed into memory.

use super::table::{Table, npy_table};
use crate::error::CliError;
use nlsq::stream::ColumnBytes;
use std::io::Read;
use std::path::Path;

/// Reads every floating-point array of the archive at `path` as named columns. Arrays of
/// other types, and arrays of another length than the first, are left out (and listed when no
/// array is left).
pub fn read(path: &Path, origin: &str) -> Result<Table, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| CliError::data(origin, e.to_string()))?;
    let mut table = Table {
        origin: origin.into(),
        names: Vec::new(),
        columns: Vec::new(),
    };
    let mut skipped = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| CliError::data(origin, e.to_string()))?;
        let full = member
            .name()
            .map_err(|e| CliError::data(origin, e.to_string()))?
            .to_string();
        let Some(name) = full.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(member.size().min(1 << 30) as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::data(origin, format!("array `{name}`: {e}")))?;
        match npy_table(
            &format!("{origin}:{name}"),
            ColumnBytes::Owned(bytes),
            Some(&name),
        ) {
            Ok(t) if table.columns.is_empty() || t.rows() == table.rows() => table.append(t)?,
            Ok(t) => skipped.push(format!("{name} ({} rows, not {})", t.rows(), table.rows())),
            Err(e) => skipped.push(format!("{name} ({e})")),
        }
    }
    if table.columns.is_empty() {
        return Err(CliError::data(
            origin,
            format!(
                "no floating-point array in the archive{}",
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; left out: {}", skipped.join("; "))
                }
            ),
        ));
    }
    Ok(table)
}

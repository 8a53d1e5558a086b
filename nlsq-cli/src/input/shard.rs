//! One process's part of a data file, for a fit spread over MPI ranks.
//!
//! What each format reads:
//! - `.npy` and raw `f64`/`f32` files are memory-mapped; a part is a range of rows, and only
//!   the pages of those rows are ever read.
//! - `.npz` archives are decompressed whole on every rank (their members are compressed
//!   streams); a part keeps its rows of the decompressed arrays.
//! - Text tables (CSV, TSV, whitespace) are cut by bytes: a part holds the lines that start
//!   in its byte range, found by seeking to it and skipping to the next line break, so each
//!   rank parses only its own lines (plus the first line of the file, for its header). A
//!   quoted CSV field that spans lines is not supported in a part.
//! - Standard input cannot be split.

use crate::error::CliError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How the items of a file are split: `split(n, align, rank, size)` is the range of `n` items
/// that rank `rank` of `size` holds, cut at multiples of `align`
/// (`nlsq::distributed::shard_aligned_of`).
pub type Split = fn(usize, usize, usize, usize) -> Range<usize>;

/// This process's part of the data: rank `rank` of `size`, rows cut at multiples of `align`.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub struct Part {
    /// This process's rank.
    pub rank: usize,
    /// The number of ranks.
    pub size: usize,
    /// Rows of binary tables are cut at multiples of this (1: anywhere).
    pub align: usize,
    /// How items are split.
    pub split: Split,
}

impl Part {
    /// The rows of a table of `n` rows that this part holds.
    pub fn rows(&self, n: usize) -> Range<usize> {
        (self.split)(n, self.align, self.rank, self.size)
    }

    /// The bytes of a file of `len` bytes in which this part's lines start.
    fn bytes(&self, len: u64) -> Range<u64> {
        let r = (self.split)(len as usize, 1, self.rank, self.size);
        r.start as u64..r.end as u64
    }
}

/// Where a part lies in its file, for messages (indices in a part's errors count from it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Rows of a binary table.
    Rows(Range<usize>),
    /// The lines of a text file that start in a byte range.
    Bytes(Range<u64>),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Rows(r) => write!(f, "rows {}..{} of the file", r.start, r.end),
            Place::Bytes(r) => write!(f, "the lines starting in bytes {}..{}", r.start, r.end),
        }
    }
}

/// The lines of the text file at `path` that this part holds.
pub fn text_span(path: &Path, origin: &str, part: &Part) -> Result<ByteSpan, CliError> {
    let len = std::fs::metadata(path)
        .map_err(|e| CliError::io(origin.to_string(), e))?
        .len();
    let bytes = part.bytes(len);
    Ok(ByteSpan {
        path: path.to_path_buf(),
        start: bytes.start,
        end: bytes.end,
    })
}

/// The lines of a file whose first byte lies in `start..end`.
#[derive(Clone, Debug)]
pub struct ByteSpan {
    pub(super) path: PathBuf,
    start: u64,
    end: u64,
}

impl ByteSpan {
    /// Where the span's range begins (0: at the start of the file).
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Where the span's range ends.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Opens the file at the span's first line.
    pub fn open(&self) -> std::io::Result<SpanReader> {
        let mut file = BufReader::with_capacity(1 << 16, File::open(&self.path)?);
        let mut pos = 0;
        if self.start > 0 {
            // The line that holds byte start − 1 belongs to the part before.
            file.seek(SeekFrom::Start(self.start - 1))?;
            pos = self.start - 1 + skip_line(&mut file)?;
        }
        Ok(SpanReader {
            file,
            pos,
            end: self.end,
            done: pos >= self.end,
        })
    }

    /// The lines of the file before the span's first line (read only for an error message).
    pub fn lines_before(&self) -> u64 {
        if self.start == 0 {
            return 0;
        }
        let count = || -> std::io::Result<u64> {
            let file = File::open(&self.path)?;
            let mut prefix = BufReader::new(file).take(self.start - 1);
            let mut buf = vec![0u8; 1 << 16];
            let mut lines = 0;
            loop {
                match prefix.read(&mut buf)? {
                    0 => return Ok(lines + 1),
                    n => lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64,
                }
            }
        };
        count().unwrap_or(0)
    }
}

/// Reads up to and including the next line break; the bytes read.
fn skip_line(r: &mut impl BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(skipped);
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(skipped + i as u64 + 1);
            }
            None => {
                let n = buf.len();
                r.consume(n);
                skipped += n as u64;
            }
        }
    }
}

/// The bytes of a [`ByteSpan`]: from its first line to the end of the last line that starts
/// before its end.
pub struct SpanReader {
    file: BufReader<File>,
    pos: u64,
    end: u64,
    done: bool,
}

impl Read for SpanReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let mut n = self.file.read(buf)?;
        // The last line ends at the first line break at or after byte end − 1.
        let from = (self.end - 1).saturating_sub(self.pos) as usize;
        if from < n
            && let Some(i) = buf[from..n].iter().position(|&b| b == b'\n')
        {
            n = from + i + 1;
            self.done = true;
        }
        if n == 0 {
            self.done = true;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(n: usize, align: usize, rank: usize, size: usize) -> Range<usize> {
        let blocks = n / align;
        let (q, r) = (blocks / size, blocks % size);
        let start = rank * q + rank.min(r);
        let end = start + q + usize::from(rank < r);
        start * align..if rank + 1 == size { n } else { end * align }
    }

    /// Every line of a file is in exactly one part, in order, whatever the cuts.
    #[test]
    fn parts_hold_every_line_once() {
        let dir = std::env::temp_dir().join(format!("nlsq-span-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        let text = "x,y\n1,2\n\n# c\n3,4\n55,66\n7,8";
        std::fs::write(&path, text).unwrap();
        for size in 1..12 {
            let mut all = String::new();
            for rank in 0..size {
                let part = Part {
                    rank,
                    size,
                    align: 1,
                    split,
                };
                let span = text_span(&path, "t", &part).unwrap();
                let mut s = String::new();
                span.open().unwrap().read_to_string(&mut s).unwrap();
                let start = span.start() as usize;
                if !s.is_empty() && start > 0 {
                    // The span's first line begins after the line break at or after start − 1.
                    let first = start + text[start - 1..].find('\n').unwrap();
                    let before = text[..first].matches('\n').count() as u64;
                    assert_eq!(span.lines_before(), before, "{size} parts, rank {rank}");
                }
                all.push_str(&s);
            }
            assert_eq!(all, text, "{size} parts");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

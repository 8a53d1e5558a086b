//! Read-ahead: a helper thread reads chunk `c + 1` from the source while the pass works on
//! chunk `c` (the CPU's counterpart of the GPU driver's overlapped copies). Two chunk buffers
//! circulate between the threads, so at most one chunk is read ahead and memory stays at two
//! chunks; chunks are consumed in source order, so every sum keeps its order.

use super::{Chunk, DataSource};
use crate::error::FitError;
use std::sync::mpsc;

/// Calls `consume` on every chunk of `source` (from its current position) in order, reading
/// the next chunk on a helper thread meanwhile. Stops at the first error of either side.
pub(crate) fn read_ahead(
    source: &mut dyn DataSource,
    chunk_points: usize,
    mut consume: impl FnMut(&Chunk) -> Result<(), FitError>,
) -> Result<(), FitError> {
    let (k, sigma) = (source.n_inputs(), source.has_sigma());
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Option<Chunk>, FitError>>(2);
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        for _ in 0..2 {
            // Cannot fail: the receiver is alive.
            let _ = free_tx.send(Chunk::empty(k, sigma));
        }
        scope.spawn(move || {
            // Ends when the consumer hangs up (it dropped `free_tx`), at the end of the data
            // or at an error.
            while let Ok(mut buf) = free_rx.recv() {
                let item = match source.next_chunk(&mut buf, chunk_points) {
                    Ok(true) => Ok(Some(buf)),
                    Ok(false) => Ok(None),
                    Err(e) => Err(e),
                };
                let last = !matches!(item, Ok(Some(_)));
                if full_tx.send(item).is_err() || last {
                    return;
                }
            }
        });
        loop {
            match full_rx.recv() {
                Ok(Ok(Some(chunk))) => {
                    consume(&chunk)?;
                    // The reader may have stopped already; then the buffer is not needed.
                    let _ = free_tx.send(chunk);
                }
                Ok(Ok(None)) => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(FitError::Source {
                        origin: "read-ahead".into(),
                        message: "the reading thread stopped unexpectedly".into(),
                    });
                }
            }
        }
    })
}

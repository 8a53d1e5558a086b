//! Fits over several processes with MPI (feature `mpi`; the [`mpi`] crate, rsmpi, over
//! OpenMPI or MPICH).
//!
//! A pass summed over chunks is the pass; summed over processes it is still the pass. Each
//! rank holds (or streams) its own shard of the data and runs the usual fit on it with
//! [`CurveFit::communicator`](crate::CurveFit::communicator); every pass of the solver is then
//! each rank's partial pass, all gathered to every rank and summed **in rank order**, so every
//! rank's solver sees the same numbers, takes the same steps and ends with the same result,
//! whatever the timing. The small `P × P` system is solved on every rank (it costs microseconds;
//! broadcasting parameters would cost a second message per iteration). What the fit reports of
//! its data is reduced the same way: point counts, the checkpoint fingerprint (every rank's, in
//! order), `Σ (y − f)²` for R², the data summary ([`DataSummary::merged`](crate::data::DataSummary::merged)),
//! and the index of the first non-finite point (offset by the points of the ranks before).
//! Checkpoints are written by rank 0 only and resumed by every rank from the same file (a
//! shared file system), with the same number of ranks and shards.
//!
//! Batch fits split their fits over the ranks ([`BatchFit::communicator`](crate::BatchFit::communicator)):
//! each rank fits its own fits (see [`shard`]) and every rank gets all results, in rank order,
//! or rank 0 only, or each rank its own ([`ResultsOn`]).
//!
//! Faults: every exchange is a nonblocking collective polled against a deadline
//! ([`DEFAULT_TIMEOUT`], or [`CurveFit::distributed_timeout`](crate::CurveFit::distributed_timeout)).
//! A rank whose fit fails with an error (bad data in its shard, an I/O error of its source)
//! tells the others at the next exchange, and every rank ends with that error
//! ([`FitError::Distributed`] on the others). A rank that dies is seen by the launcher:
//! OpenMPI's `mpirun` and MPICH's `mpiexec` end the whole job at once; the deadline is the
//! backstop for a rank that hangs or a launcher that does not. After a deadline the abandoned
//! collective is still pending in MPI: a program should then end (for example with
//! `world.abort(1)`) rather than run more MPI calls, `MPI_Finalize` included, which may wait for
//! it.

use crate::error::FitError;
use mpi::Count;
use mpi::datatype::PartitionMut;
use mpi::request::{Request, StaticScope};
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Destination, Source};
use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::time::{Duration, Instant};

pub use mpi;

/// How the ranks' passes are summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Each rank's pass, gathered to every rank and summed in rank order: one collective per
    /// pass, whatever the number of ranks. Equal to the single-process pass to rounding (the
    /// single process sums its chunks one after the other, not rank by rank).
    #[default]
    RankOrder,
    /// Each rank's chunk rows added, in order, into one running row handed from rank to rank
    /// (rank `r` adds its rows to rank `r − 1`'s total), then the total sent to every rank:
    /// the very additions of a single process's CPU pass, so with shards of whole chunks in
    /// order ([`shard_aligned`] with [`CHUNK`](crate::backend::CHUNK)) every pass, and so the
    /// whole fit, is the single-process fit bit for bit. CPU passes only (in memory or
    /// streamed); a latency of one message per rank in sequence.
    ChunkOrder,
}

/// Where the results of a batch split over the ranks go
/// ([`BatchFit::results_on`](crate::BatchFit::results_on)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResultsOn {
    /// Every rank gets every rank's results, concatenated in rank order.
    #[default]
    Every,
    /// Rank 0 gets every rank's results, concatenated in rank order (sent to it rank by
    /// rank); every other rank keeps its own.
    Root,
    /// Every rank keeps its own fits' results (to write them itself: nothing is sent), once
    /// every rank's batch has succeeded.
    Own,
}

/// The part of `n` items that rank `rank` of `size` holds, cut at multiples of `align` (the
/// first ranks get one block more; the last rank also the remainder): with `align` =
/// [`CHUNK`](crate::backend::CHUNK), shards of whole chunks, in order.
pub fn shard_aligned_of(n: usize, align: usize, rank: usize, size: usize) -> Range<usize> {
    let align = align.max(1);
    let blocks = shard_of(n / align, rank, size);
    let end = if rank + 1 == size.max(1) {
        n
    } else {
        blocks.end * align
    };
    blocks.start * align..end
}

/// The part of `n` items that this process holds in `comm`, cut at multiples of `align` (see
/// [`shard_aligned_of`]).
pub fn shard_aligned<C: Communicator>(n: usize, align: usize, comm: &C) -> Range<usize> {
    shard_aligned_of(n, align, comm.rank() as usize, comm.size() as usize)
}

/// How long a rank waits for the others at one exchange before its fit fails with
/// [`FitError::Distributed`]: 10 minutes (a pass over a large shard can be long).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The part of `n` items (points, fits) that rank `rank` of `size` holds: contiguous, in rank
/// order, sizes differing by at most one (the first `n % size` ranks hold one more).
pub fn shard_of(n: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    let (q, r) = (n / size, n % size);
    let start = rank * q + rank.min(r);
    start..start + q + usize::from(rank < r)
}

/// The part of `n` items that this process holds in `comm` (see [`shard_of`]).
pub fn shard<C: Communicator>(n: usize, comm: &C) -> Range<usize> {
    shard_of(n, comm.rank() as usize, comm.size() as usize)
}

const OK: f64 = 0.0;
const FAILED: f64 = 1.0;

/// A fit's own copy of the user's communicator (so its messages never meet the user's) and the
/// state of its exchanges.
pub(crate) struct Dist {
    comm: SimpleCommunicator,
    rank: usize,
    size: usize,
    timeout: Cell<Duration>,
    reduction: Cell<Reduction>,
    seq: Cell<u64>,
    /// The fit has failed on some rank and every rank knows it: no more exchanges.
    error: RefCell<Option<FitError>>,
}

impl std::fmt::Debug for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dist(rank {} of {})", self.rank, self.size)
    }
}

impl Dist {
    /// Duplicates `comm` (a collective call: every rank must make it).
    pub(crate) fn new<C: Communicator>(comm: &C) -> Dist {
        let comm = comm.duplicate();
        Dist {
            rank: comm.rank() as usize,
            size: comm.size() as usize,
            comm,
            timeout: Cell::new(DEFAULT_TIMEOUT),
            reduction: Cell::new(Reduction::RankOrder),
            seq: Cell::new(0),
            error: RefCell::new(None),
        }
    }

    /// This process's rank.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Sets the deadline of each exchange.
    pub(crate) fn set_timeout(&self, timeout: Duration) {
        self.timeout.set(timeout);
    }

    /// Sets how passes are summed.
    pub(crate) fn set_reduction(&self, reduction: Reduction) {
        self.reduction.set(reduction);
    }

    /// How passes are summed.
    pub(crate) fn reduction(&self) -> Reduction {
        self.reduction.get()
    }

    /// Sends `data` to rank `to` (the chain of [`Reduction::ChunkOrder`]).
    pub(crate) fn send(&self, to: usize, data: Vec<f64>) -> Result<(), FitError> {
        self.check()?;
        let send: &'static [f64] = Box::leak(data.into_boxed_slice());
        let ptr = send as *const [f64] as *mut [f64];
        let request = self
            .comm
            .process_at_rank(to as mpi::Rank)
            .immediate_send(StaticScope, send);
        self.wait(request).inspect_err(|e| self.remember(e))?;
        // SAFETY: the send completed; the buffer came from `Box::leak` above.
        unsafe { drop(Box::from_raw(ptr)) };
        Ok(())
    }

    /// Receives `len` values from rank `from`.
    pub(crate) fn receive(&self, from: usize, len: usize) -> Result<Vec<f64>, FitError> {
        self.check()?;
        let recv: &'static mut [f64] = Box::leak(vec![0.0; len].into_boxed_slice());
        let ptr = recv as *mut [f64];
        let request = self
            .comm
            .process_at_rank(from as mpi::Rank)
            .immediate_receive_into(StaticScope, recv);
        self.wait(request).inspect_err(|e| self.remember(e))?;
        // SAFETY: the receive completed; the buffer came from `Box::leak` above.
        Ok(unsafe { Box::from_raw(ptr) }.into_vec())
    }

    /// Keeps the first error that ended the fit.
    fn remember(&self, e: &FitError) {
        self.error.borrow_mut().get_or_insert_with(|| e.clone());
    }

    /// Every rank's `payload`, in rank order (the same on every rank).
    pub(crate) fn all_gather(&self, payload: &[f64]) -> Result<Vec<Vec<f64>>, FitError> {
        self.exchange(OK, payload)
    }

    /// Tells the other ranks that this rank's fit failed with `err`, unless they know already.
    pub(crate) fn fail(&self, err: &FitError) {
        if self.error.borrow().is_some() {
            return;
        }
        let message = err.to_string();
        let payload: Vec<f64> = message.bytes().map(f64::from).collect();
        // The other ranks' answer is this rank's own failure (or another's): this rank's own
        // error is its fit's.
        let _ = self.exchange(FAILED, &payload);
        *self.error.borrow_mut() = Some(err.clone());
    }

    /// The error that ended the fit on some rank, once every rank knows it.
    pub(crate) fn check(&self) -> Result<(), FitError> {
        match &*self.error.borrow() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// One exchange: a header (status, sequence number, payload length) from every rank, then
    /// the payloads. Any rank's failure ends the exchange with that rank's error, on every rank.
    fn exchange(&self, tag: f64, payload: &[f64]) -> Result<Vec<Vec<f64>>, FitError> {
        self.check()?;
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let header = vec![tag, seq as f64, payload.len() as f64];
        let result = self
            .gather(header, &vec![3; self.size])
            .and_then(|headers| {
                let lens: Vec<usize> = headers.chunks(3).map(|h| h[2] as usize).collect();
                let flat = self.gather(payload.to_vec(), &lens)?;
                let mut all = Vec::with_capacity(self.size);
                let mut at = 0;
                for &n in &lens {
                    all.push(flat[at..at + n].to_vec());
                    at += n;
                }
                if let Some(r) = (0..self.size).find(|&r| headers[3 * r] != OK) {
                    let bytes: Vec<u8> = all[r].iter().map(|&b| b as u8).collect();
                    let message = String::from_utf8_lossy(&bytes);
                    return Err(FitError::Distributed {
                        rank: r,
                        message: format!("failed: {message}"),
                    });
                }
                if let Some(r) = (0..self.size).find(|&r| headers[3 * r + 1] != seq as f64) {
                    return Err(FitError::Distributed {
                        rank: r,
                        message: format!(
                            "out of step: at exchange {} where rank {} is at {seq} (do all ranks \
                             run the same fits in the same order?)",
                            headers[3 * r + 1],
                            self.rank
                        ),
                    });
                }
                Ok(all)
            });
        if let Err(e) = &result {
            self.error.borrow_mut().get_or_insert_with(|| e.clone());
        }
        result
    }

    /// Gathers `counts[r]` values from each rank `r` into every rank, in rank order, polling a
    /// nonblocking collective until it completes or the deadline passes.
    fn gather(&self, send: Vec<f64>, counts: &[usize]) -> Result<Vec<f64>, FitError> {
        let total: usize = counts.iter().sum();
        let displs: Vec<Count> = counts
            .iter()
            .scan(0, |at, &n| {
                let d = *at;
                *at += n;
                Some(d as Count)
            })
            .collect();
        let counts: Vec<Count> = counts.iter().map(|&n| n as Count).collect();
        // The buffers are lent to MPI for as long as the operation runs: leaked, and taken
        // back once it completes (left leaked if it never does).
        let send: &'static [f64] = Box::leak(send.into_boxed_slice());
        let recv: &'static mut [f64] = Box::leak(vec![0.0; total].into_boxed_slice());
        let (send_ptr, recv_ptr) = (send as *const [f64] as *mut [f64], recv as *mut [f64]);
        let partition = Box::into_raw(Box::new(PartitionMut::new(recv, counts, displs)));
        // SAFETY: `partition` is a live allocation, lent to the request alone.
        let request = self
            .comm
            .immediate_all_gather_varcount_into(StaticScope, send, unsafe { &mut *partition });
        self.wait(request)?;
        // SAFETY: the operation completed, so MPI holds no reference to the buffers and the
        // request that borrowed them is gone; all three came from `Box` above.
        let out = unsafe {
            drop(Box::from_raw(partition));
            drop(Box::from_raw(send_ptr));
            Box::from_raw(recv_ptr).into_vec()
        };
        Ok(out)
    }

    /// Polls `request` until it completes (spinning briefly, then sleeping 50 µs between
    /// tests), or fails at the deadline (the request is then abandoned, its buffers leaked).
    fn wait<D: ?Sized>(&self, request: Request<'static, D, StaticScope>) -> Result<(), FitError> {
        let start = Instant::now();
        let timeout = self.timeout.get();
        let mut request = request;
        let mut tests = 0u32;
        loop {
            match request.test() {
                Ok(_) => return Ok(()),
                Err(r) => request = r,
            }
            tests += 1;
            if tests > 2000 {
                if start.elapsed() > timeout {
                    std::mem::forget(request);
                    return Err(FitError::Distributed {
                        rank: self.rank,
                        message: format!(
                            "no answer from every rank within {timeout:?} (a rank died, hangs or \
                             runs another fit)"
                        ),
                    });
                }
                std::thread::sleep(Duration::from_micros(50));
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shard_of;

    #[test]
    fn shards_cover_every_item_once_in_order() {
        for n in [0, 1, 7, 100, 101] {
            for size in 1..6 {
                let mut next = 0;
                for r in 0..size {
                    let s = shard_of(n, r, size);
                    assert_eq!(s.start, next);
                    assert!(s.len() == n / size || s.len() == n / size + 1);
                    next = s.end;
                }
                assert_eq!(next, n);
            }
        }
    }
}

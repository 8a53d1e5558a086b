//! Fits on rayon's thread pool.
//!
//! A CPU pass spreads its [`CHUNK`]-point chunks over rayon's threads. Handing a pass to the
//! pool from a thread outside it costs tens of microseconds (the job is queued, a worker is
//! woken, the caller sleeps until the last chunk is done), so passes over fewer than
//! [`SERIAL_BELOW_CHUNKS`](crate::backend::SERIAL_BELOW_CHUNKS) chunks stay on such a thread.
//! A fit that runs *on* a worker thread pays that once: its passes then split among the pool's
//! threads at the cost of a work-steal, from two chunks up. [`worth_entering`] says when a fit
//! should move there; [`CurveFit::fit`](crate::CurveFit::fit) does so by itself for in-memory
//! CPU fits without an iteration callback (the callback need not be `Send`) and without the
//! feature `mpi`, and the Python package does so for its fits (it checks for Ctrl-C on the
//! calling thread meanwhile).
//!
//! The chunks and the order of their sums are the same on any thread, so the results are the
//! same bits either way.

use crate::backend::CHUNK;

/// Points from which a CPU fit moves onto the pool: three chunks, so that the second thread
/// has at least one whole chunk to take while the first does the rest.
pub const FROM_POINTS: usize = 2 * CHUNK + 1;

/// Whether a CPU fit of `points` points should run on a worker thread of rayon's pool: it has
/// [`FROM_POINTS`] points or more, the pool has more than one thread and the calling thread
/// is not one of them already.
///
/// ```
/// use nlsq_runtime::pool::{FROM_POINTS, worth_entering};
/// assert!(!worth_entering(FROM_POINTS - 1));
/// assert_eq!(
///     worth_entering(FROM_POINTS),
///     rayon::current_num_threads() > 1,
/// );
/// ```
pub fn worth_entering(points: usize) -> bool {
    points >= FROM_POINTS
        && rayon::current_num_threads() > 1
        && rayon::current_thread_index().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::SERIAL_BELOW_CHUNKS;
    use crate::backend::cpu::spread;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    }

    #[test]
    fn passes_spread_from_two_items_on_a_worker_of_a_pool_of_several_threads() {
        pool(2).install(|| {
            assert!(!spread(1));
            assert!(spread(2));
            assert!(!worth_entering(10 * FROM_POINTS), "already on the pool");
        });
        pool(1).install(|| assert!(!spread(1000)));
    }

    #[test]
    fn off_the_pool_passes_spread_from_serial_below_chunks() {
        assert!(!spread(SERIAL_BELOW_CHUNKS - 1));
        assert_eq!(
            spread(SERIAL_BELOW_CHUNKS),
            rayon::current_num_threads() > 1
        );
    }
}

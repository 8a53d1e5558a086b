//! Ctrl-C during a fit. A fit on the calling thread takes the GIL between iterations to run
//! Python's signal handlers, at most once every [`CHECK_EVERY`]. (Taking it at every iteration
//! made a fit beside a busy Python thread wait up to the interpreter's switch interval, 5 ms,
//! per iteration: a seven-iteration fit of 1e4 points took 37 ms there instead of 0.2 ms,
//! `nlsq-python/benches/bench_gil.py`.) A fit shorter than [`CHECK_EVERY`] returns before it
//! checks; Python runs the handlers then. A fit on rayon's pool ([`on_pool`]) leaves the checks
//! to the calling thread, which waits for it: Python runs signal handlers only on its main
//! thread.

use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The longest a fit runs between two checks for signals (plus one iteration).
pub const CHECK_EVERY: Duration = Duration::from_millis(10);

/// The signal check of one fit: [`Signals::poll`] is its iteration callback; `interrupt` holds
/// the exception a handler raised (`KeyboardInterrupt` for Ctrl-C), which stopped the fit.
pub(crate) struct Signals {
    next: Instant,
    pub(crate) interrupt: Option<PyErr>,
}

impl Signals {
    /// A check whose first poll that runs the handlers comes [`CHECK_EVERY`] from now.
    pub(crate) fn new() -> Self {
        Signals {
            next: Instant::now() + CHECK_EVERY,
            interrupt: None,
        }
    }

    /// Runs Python's signal handlers if [`CHECK_EVERY`] has passed since the last time;
    /// `Break` when one raised (the exception is kept in `interrupt`).
    pub(crate) fn poll(&mut self) -> ControlFlow<()> {
        let now = Instant::now();
        if now < self.next {
            return ControlFlow::Continue(());
        }
        self.next = now + CHECK_EVERY;
        match Python::attach(|py| py.check_signals()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.interrupt = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Runs `fit` on a worker thread of rayon's pool with the GIL released, while this thread
/// runs Python's signal handlers every [`CHECK_EVERY`] until it returns. `fit` gets a test
/// for its iteration callback, true once a handler raised; the exception is returned beside
/// `fit`'s result.
pub(crate) fn on_pool<R: Send>(
    py: Python<'_>,
    fit: impl FnOnce(&(dyn Fn() -> bool + Sync)) -> R + Send,
) -> (R, Option<PyErr>) {
    let stop = AtomicBool::new(false);
    let stopped = || stop.load(Ordering::Relaxed);
    let mut interrupt = None;
    let out = py.detach(|| {
        let (tx, rx) = mpsc::channel();
        rayon::in_place_scope(|s| {
            let stopped = &stopped;
            s.spawn(move |_| {
                // The receiver waits until this is sent (or the fit panicked: the scope then
                // raises the panic here).
                let _ = tx.send(fit(stopped));
            });
            loop {
                match rx.recv_timeout(CHECK_EVERY) {
                    Ok(out) => return out,
                    Err(RecvTimeoutError::Timeout) if interrupt.is_none() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            interrupt = Some(e);
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    // The fit panicked (a defect): pass its panic on, as on this thread.
                    Err(RecvTimeoutError::Disconnected) => {
                        panic!("the fit on the thread pool panicked")
                    }
                }
            }
        })
    });
    (out, interrupt)
}

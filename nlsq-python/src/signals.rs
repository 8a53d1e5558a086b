//! Ctrl-C during a fit: between iterations the fit takes the GIL to run Python's signal
//! handlers, at most once every [`CHECK_EVERY`]. Taking it at every iteration made a fit beside
//! a busy Python thread wait up to the interpreter's switch interval (5 ms) per iteration: a
//! seven-iteration fit of 1e4 points took 37 ms there instead of 0.2 ms
//! (`nlsq-python/benches/bench_gil.py`). A fit shorter than [`CHECK_EVERY`] returns before it
//! checks; Python runs the handlers then.

use pyo3::prelude::*;
use std::ops::ControlFlow;
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

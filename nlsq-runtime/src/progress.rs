//! A progress bar on stderr for long fits (feature `progress`): passes used of the budget,
//! iteration, cost and elapsed time. Nothing is drawn when stderr is not a terminal.

use crate::solve::IterationInfo;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// The bar of one fit.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `max_nfev` passes, or `None` when stderr is not a terminal.
    pub(crate) fn new(max_nfev: usize) -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar =
            ProgressBar::with_draw_target(Some(max_nfev as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} passes  {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Some(Progress { bar })
    }

    /// Shows the state after an iteration.
    pub(crate) fn update(&self, info: &IterationInfo<'_>) {
        self.bar.set_position(info.nfev as u64);
        self.bar.set_message(format!(
            "iteration {}  cost {:.6e}  optimality {:.2e}",
            info.iteration, info.cost, info.optimality
        ));
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

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
        Some(Self::to(max_nfev, ProgressDrawTarget::stderr()))
    }

    /// A bar over `max_nfev` passes drawn to `target`.
    fn to(max_nfev: usize, target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(Some(max_nfev as u64), target);
        let style =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} passes  {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress { bar }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_follows_passes_and_shows_iteration_and_cost() {
        let p = Progress::to(300, ProgressDrawTarget::hidden());
        let x = [1.0, 2.0];
        p.update(&IterationInfo {
            iteration: 4,
            nfev: 7,
            cost: 0.125,
            x: &x,
            step_norm: 0.5,
            optimality: 1e-3,
        });
        assert_eq!((p.bar.position(), p.bar.length()), (7, Some(300)));
        assert!(p.bar.message().contains("iteration 4  cost 1.250000e-1"));
        p.finish();
        assert!(p.bar.is_finished());
    }
}

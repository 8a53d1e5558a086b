//! Several solves in lockstep over one objective: each start's solver runs unchanged (any
//! method, through [`solve::solve_with`]) on its own thread against a proxy objective; the
//! calling thread waits until every solve still running has asked for its next pass, then
//! answers all of them with one K-vector pass ([`Objective::passes`]), which reads the data
//! once. As the K-pass equals K single passes bit for bit, each solve computes exactly what it
//! would alone, whatever the thread timing.

use crate::error::FitError;
use crate::solve::state::Hooks;
use crate::solve::{self, Method, Objective, Pass, SolverOptions, SolverOutput};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};

/// What a solve's thread tells the coordinator.
enum Message {
    /// Solve `id` needs the pass at these parameters.
    Pass(usize, Vec<f64>),
    /// Solve `id` ended.
    Done(usize, Result<SolverOutput, FitError>),
}

/// The objective a solve sees: its passes come from the coordinator.
struct Proxy {
    id: usize,
    n_params: usize,
    ask: Sender<Message>,
    answer: Receiver<Result<Pass, FitError>>,
}

impl Objective for Proxy {
    fn n_params(&self) -> usize {
        self.n_params
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let gone = || backend_error("the multi-start coordinator stopped");
        self.ask
            .send(Message::Pass(self.id, p.to_vec()))
            .map_err(|_| gone())?;
        self.answer.recv().map_err(|_| gone())?
    }
}

/// A failure of the search's own machinery (a thread that cannot start or that panicked).
fn backend_error(message: &str) -> FitError {
    FitError::Backend {
        backend: "multistart".into(),
        message: message.into(),
    }
}

/// Counts of the passes the coordinator ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    /// K-vector passes (each one read of the data).
    pub(crate) k_passes: usize,
    /// Parameter vectors evaluated in them.
    pub(crate) vectors: usize,
}

/// Solves from each of `starts` with `method` and `opts`, in lockstep on `obj`. Each entry of
/// the result is that start's solve, or its error (a start whose first pass is not finite,
/// say: the caller drops it). An error of `obj` itself ends every solve and is returned.
pub(crate) fn solve_all(
    obj: &mut dyn Objective,
    method: Method,
    opts: &SolverOptions,
    starts: &[Vec<f64>],
    counts: &mut Counts,
) -> Result<Vec<Result<SolverOutput, FitError>>, FitError> {
    let n = starts.len();
    let n_params = obj.n_params();
    let mut outs: Vec<Option<Result<SolverOutput, FitError>>> = (0..n).map(|_| None).collect();
    let mut fatal = None;
    std::thread::scope(|scope| {
        let (ask, asked) = channel::<Message>();
        let mut answers = Vec::with_capacity(n);
        for (id, x0) in starts.iter().enumerate() {
            let (answer, answered) = channel();
            answers.push(answer);
            let proxy = Proxy {
                id,
                n_params,
                ask: ask.clone(),
                answer: answered,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("nlsq-start-{id}"))
                .spawn_scoped(scope, move || {
                    let mut proxy = proxy;
                    let out = catch_unwind(AssertUnwindSafe(|| {
                        solve::solve_with(method, &mut proxy, x0, opts, Hooks::callback(None))
                    }))
                    .unwrap_or_else(|_| Err(backend_error("a solve panicked")));
                    // The coordinator may be gone after a fatal error: nothing to tell then.
                    let _ = proxy.ask.send(Message::Done(id, out));
                });
            if let Err(e) = spawned {
                outs[id] = Some(Err(backend_error(&format!("cannot start a thread: {e}"))));
            }
        }
        drop(ask);
        let mut live = outs.iter().filter(|o| o.is_none()).count();
        let mut pending: Vec<Option<Vec<f64>>> = vec![None; n];
        let mut waiting = 0;
        while live > 0 {
            let Ok(message) = asked.recv() else { break };
            match message {
                Message::Pass(id, p) => {
                    pending[id] = Some(p);
                    waiting += 1;
                }
                Message::Done(id, out) => {
                    outs[id] = Some(out);
                    live -= 1;
                }
            }
            if live == 0 || waiting < live {
                continue;
            }
            // Every running solve waits: one K-pass, in start order.
            let ids: Vec<usize> = (0..n).filter(|&i| pending[i].is_some()).collect();
            let ps: Vec<&[f64]> = ids.iter().filter_map(|&i| pending[i].as_deref()).collect();
            counts.k_passes += 1;
            counts.vectors += ps.len();
            let result = obj.passes(&ps).and_then(|passes| {
                if passes.len() == ps.len() {
                    Ok(passes)
                } else {
                    Err(backend_error(
                        "a K-vector pass returned another number of passes",
                    ))
                }
            });
            match result {
                Ok(passes) => {
                    for (&i, pass) in ids.iter().zip(passes) {
                        let _ = answers[i].send(Ok(pass));
                    }
                }
                Err(e) => {
                    for &i in &ids {
                        let _ = answers[i].send(Err(e.clone()));
                    }
                    fatal.get_or_insert(e);
                }
            }
            pending.iter_mut().for_each(|p| *p = None);
            waiting = 0;
        }
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    Ok(outs
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(backend_error("a solve did not report"))))
        .collect())
}

//! Fits on rayon's thread pool (`nlsq_runtime::pool`): a CPU fit of enough points without a
//! callback runs its passes on the pool's worker threads, and gives the same bits as the same
//! fit on the calling thread (with a callback) and in a one-thread pool.

use nlsq_runtime::block::BLOCK;
use nlsq_runtime::pool::FROM_POINTS;
use nlsq_runtime::{CurveFit, ExprModel, FitResult, Model, ModelHash, Precision};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The decay, counting the gradient blocks evaluated on a worker thread of the pool and off it.
struct Counted {
    inner: ExprModel,
    on_worker: AtomicUsize,
    off_worker: AtomicUsize,
}

impl Counted {
    fn new() -> Self {
        Counted {
            inner: ExprModel::parse("a * exp(-b * x) + c").unwrap(),
            on_worker: AtomicUsize::new(0),
            off_worker: AtomicUsize::new(0),
        }
    }

    /// (blocks on a worker, blocks off), and resets both.
    fn take(&self) -> (usize, usize) {
        (
            self.on_worker.swap(0, Ordering::Relaxed),
            self.off_worker.swap(0, Ordering::Relaxed),
        )
    }
}

impl Model for Counted {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }
    fn param_name(&self, j: usize) -> &str {
        self.inner.param_name(j)
    }
    fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
        self.inner.eval(x, p)
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        self.inner.eval_with_gradient(x, p, grad)
    }
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        self.inner.eval_block(x, p, value)
    }
    fn eval_with_gradient_block(
        &self,
        x: &[&[f64; BLOCK]],
        p: &[f64],
        value: &mut [f64; BLOCK],
        grad: &mut [[f64; BLOCK]],
    ) {
        let counter = match rayon::current_thread_index() {
            Some(_) => &self.on_worker,
            None => &self.off_worker,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.inner.eval_with_gradient_block(x, p, value, grad)
    }
    fn cuda_source(&self, precision: Precision) -> &str {
        self.inner.cuda_source(precision)
    }
    fn wgsl_source(&self, precision: Precision) -> &str {
        self.inner.wgsl_source(precision)
    }
    fn hash(&self) -> ModelHash {
        self.inner.hash()
    }
}

fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &x)| 2.5 * (-1.3 * x).exp() + 0.5 + 0.01 * (((i * 7919) % 13) as f64 - 6.0))
        .collect();
    (x, y)
}

/// What must not depend on the thread the fit ran on.
fn bits(r: &FitResult) -> Vec<u64> {
    let mut v: Vec<u64> = r.popt.iter().map(|p| p.to_bits()).collect();
    v.extend(r.pcov.iter().flatten().map(|p| p.to_bits()));
    v.extend([r.cost.to_bits(), r.nfev as u64, r.iterations as u64]);
    v
}

#[test]
fn a_fit_on_the_pool_gives_the_bits_of_the_fit_on_the_calling_thread() {
    // Two threads whatever the machine; a test binary is its own process.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build_global();
    assert_eq!(rayon::current_num_threads(), 2);
    let m = Counted::new();
    let (x, y) = data(FROM_POINTS + 4 * 4096);
    let fit = || CurveFit::new(&m).p0(vec![1.0, 1.0, 0.0]);

    // With a callback: on this thread, serial (five chunks are too few to hand over).
    let here = fit()
        .callback(|_| ControlFlow::Continue(()))
        .fit(&x, &y)
        .unwrap();
    let (on, off) = m.take();
    assert_eq!(
        (on, off > 0),
        (0, true),
        "with a callback: {on} blocks on the pool"
    );

    // Without: on the pool, the passes spread over its two threads.
    let pooled = fit().fit(&x, &y).unwrap();
    let (on, off) = m.take();
    assert_eq!(
        (on > 0, off),
        (true, 0),
        "without: {off} blocks off the pool"
    );
    assert_eq!(bits(&pooled), bits(&here));

    // In a one-thread pool: serial on its worker.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let alone = one.install(|| fit().fit(&x, &y).unwrap());
    assert_eq!(bits(&alone), bits(&here));
    m.take();

    // Fewer points than FROM_POINTS stay on this thread.
    let (xs, ys) = data(FROM_POINTS - 1);
    fit().fit(&xs, &ys).unwrap();
    let (on, off) = m.take();
    assert_eq!(
        (on, off > 0),
        (0, true),
        "small data: {on} blocks on the pool"
    );
}

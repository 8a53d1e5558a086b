//! Distributed fits over MPI (feature `mpi`), checked against the single-process fit: the
//! program `tests/mpi.rs` runs under `mpirun -n 1, 2, 4`. Every rank fits its shard with a
//! communicator and also the whole data alone, and compares; any difference ends it with a
//! non-zero status.
//!
//! ```sh
//! cargo build --features mpi --example mpi_fit
//! mpirun --oversubscribe -n 4 target/debug/examples/mpi_fit all
//! ```
//!
//! (`tests/mpi.rs` includes this file and runs the same code from its own binary.)
//!
//! Scenarios: `lm`, `trf`, `dogbox`, `soft_l1` (weights and a robust loss), `stream` (each
//! rank's shard streamed from its own raw files), `batch`, `checkpoint` (stopped, then resumed
//! from rank 0's checkpoint), `tiny` (9 points: shards smaller than the parameters), `exact`
//! (chunk-order reduction over shards of whole chunks at the default tolerances: LM, TRF,
//! dogbox, soft_l1 with weights, a streamed file and a multi-start search, each bit for bit,
//! the search's report too), `all`
//! (every one of these); `fail` (rank 1's shard has a NaN:
//! every rank must end with an error; `fail_exact` the same in chunk order), `kill` (rank 1 aborts during the fit; the others must
//! not hang) and `hang` (rank 1 stops answering; the others must end at their deadline).

use nlsq::backend::CHUNK;
use nlsq::distributed::mpi::traits::{Communicator, CommunicatorCollectives};
use nlsq::distributed::{Reduction, ResultsOn, mpi, shard, shard_aligned};
use nlsq::stream::RawFile;
use nlsq::{BatchFit, CurveFit, Every, FitError, FitResult, Loss, Method, MultiStart, model};
use std::ops::ControlFlow;
use std::process::ExitCode;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

const N: usize = 3000;

/// Deterministic data with noise and a few outliers.
fn data() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    data_n(N)
}

/// [`data`] of `n` points.
fn data_n(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut s: u64 = 7;
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut sigma = Vec::with_capacity(n);
    for i in 0..n {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let xi = 8.0 * i as f64 / n as f64;
        let outlier = if i % 97 == 13 { 3.0 } else { 0.0 };
        x.push(xi);
        y.push(2.5 * (-1.3 * xi).exp() + 0.4 + 0.05 * e + outlier);
        sigma.push(0.05 + 0.01 * (i % 7) as f64);
    }
    (x, y, sigma)
}

/// Relative difference, 0 for equal values (NaN equal to NaN).
fn rel(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Checks that the distributed fit `d` equals the single-process fit `s` (1e-12 relative;
/// bit for bit on one rank); returns whether popt and pcov are the same bits.
fn compare(what: &str, d: &FitResult, s: &FitResult, ranks: usize) -> Result<bool, String> {
    let mut worst: f64 = 0.0;
    let mut values = vec![
        (d.cost, s.cost),
        (d.chi2, s.chi2),
        (d.r_squared, s.r_squared),
    ];
    values.extend(d.popt.iter().copied().zip(s.popt.iter().copied()));
    for (a, b) in d.pcov.iter().flatten().zip(s.pcov.iter().flatten()) {
        values.push((*a, *b));
    }
    let mut at = 0;
    for (i, (a, b)) in values.iter().enumerate() {
        if rel(*a, *b) > worst {
            worst = rel(*a, *b);
            at = i;
        }
    }
    let same_bits = d
        .popt
        .iter()
        .zip(&s.popt)
        .all(|(a, b)| a.to_bits() == b.to_bits())
        && d.pcov
            .iter()
            .flatten()
            .zip(s.pcov.iter().flatten())
            .all(|(a, b)| a.to_bits() == b.to_bits());
    if d.n_points != s.n_points || d.nfev != s.nfev || d.status != s.status {
        return Err(format!(
            "{what}: n_points {} / {}, nfev {} / {}, status {:?} / {:?}",
            d.n_points, s.n_points, d.nfev, s.nfev, d.status, s.status
        ));
    }
    if worst > 1e-12 {
        return Err(format!(
            "{what}: relative difference {worst:e} > 1e-12 at value {at} (cost, chi2, r2, popt, pcov): {:?}",
            values[at]
        ));
    }
    if ranks == 1 && !same_bits {
        return Err(format!(
            "{what}: one rank is not the single-process fit bit for bit"
        ));
    }
    Ok(same_bits)
}

fn base<'a>(method: Method) -> CurveFit<'a, Decay> {
    // Tolerances above the rounding floor: a sum in another order changes the last bits of
    // a pass, and at the default 1e-12 that can move the stopping test by an iteration.
    let fit = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .method(method)
        .tol(1e-10);
    match method {
        Method::Lm => fit,
        _ => fit.bounds([0.0, 0.0, -1.0], [10.0, 10.0, 1.0]),
    }
}

fn scenario<C: Communicator>(name: &str, world: &C) -> Result<String, String> {
    let (x, y, sigma) = data();
    let mine = shard(N, world);
    let ranks = world.size() as usize;
    let err = |e: FitError| format!("{name}: {e}");
    let (d, s) = match name {
        "lm" | "trf" | "dogbox" => {
            let method = match name {
                "lm" => Method::Lm,
                "trf" => Method::Trf,
                _ => Method::Dogbox,
            };
            let d = base(method)
                .communicator(world)
                .fit(&x[mine.clone()], &y[mine])
                .map_err(err)?;
            (d, base(method).fit(&x, &y).map_err(err)?)
        }
        "tiny" => {
            // 9 points: shards of fewer points than parameters.
            let pick: Vec<usize> = (0..9).map(|i| i * (N / 9)).collect();
            let (x, y): (Vec<f64>, Vec<f64>) = pick.iter().map(|&i| (x[i], y[i])).unzip();
            let mine = shard(x.len(), world);
            let d = base(Method::Lm)
                .communicator(world)
                .fit(&x[mine.clone()], &y[mine])
                .map_err(err)?;
            (d, base(Method::Lm).fit(&x, &y).map_err(err)?)
        }
        "soft_l1" => {
            let robust = || base(Method::Trf).loss(Loss::SoftL1).f_scale(0.1);
            let d = robust()
                .sigma(&sigma[mine.clone()])
                .communicator(world)
                .fit(&x[mine.clone()], &y[mine])
                .map_err(err)?;
            (d, robust().sigma(&sigma).fit(&x, &y).map_err(err)?)
        }
        "stream" => {
            let dir = std::env::temp_dir().join(format!(
                "nlsq-mpi-{}-{}",
                std::process::id(),
                world.rank()
            ));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let write = |file: &str, v: &[f64]| {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                std::fs::write(dir.join(file), bytes).map_err(|e| e.to_string())
            };
            write("x.f64", &x[mine.clone()])?;
            write("y.f64", &y[mine])?;
            let mut source = RawFile::f64(dir.join("x.f64"), dir.join("y.f64")).map_err(err)?;
            let d = base(Method::Trf)
                .chunk_points(256)
                .communicator(world)
                .fit_source(&mut source)
                .map_err(err);
            std::fs::remove_dir_all(&dir).ok();
            let d = d?;
            if !d.data_plan.mode.to_string().contains("stream") {
                return Err(format!("{name}: not streamed: {}", d.data_plan.mode));
            }
            (d, base(Method::Trf).fit(&x, &y).map_err(err)?)
        }
        "checkpoint" => {
            // Shared by the ranks (rank 0 writes it, every rank reads it).
            let path = std::env::temp_dir().join(format!(
                "nlsq-mpi-checkpoint-{}.ckpt",
                std::env::var("NLSQ_MPI_JOB").unwrap_or_else(|_| "0".into())
            ));
            let stopped = base(Method::Trf)
                .checkpoint(&path, Every::Iterations(1))
                .callback(|info| {
                    if info.iteration >= 3 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .communicator(world)
                .fit(&x[mine.clone()], &y[mine.clone()])
                .map_err(err)?;
            if stopped.status != nlsq::Status::Stopped {
                return Err(format!("{name}: not stopped: {:?}", stopped.status));
            }
            let d = base(Method::Trf)
                .resume_from(&path)
                .communicator(world)
                .fit(&x[mine.clone()], &y[mine])
                .map_err(err)?;
            world.barrier();
            if world.rank() == 0 {
                std::fs::remove_file(&path).ok();
            }
            (d, base(Method::Trf).fit(&x, &y).map_err(err)?)
        }
        "batch" => {
            // 37 fits of 50 points each.
            let (fits, n) = (37, 50);
            let xs: Vec<f64> = (0..n).map(|i| i as f64 * 0.1).collect();
            let all: Vec<f64> = (0..fits)
                .flat_map(|f| {
                    let xs = &xs;
                    (0..n).map(move |i| {
                        let b = 0.5 + 0.02 * f as f64;
                        2.0 * (-b * xs[i]).exp() + 0.1 + 1e-3 * ((i * 7 + f) % 5) as f64
                    })
                })
                .collect();
            let batch = |y| {
                BatchFit::new(Decay)
                    .data(y)
                    .equal_length(n)
                    .x_shared(&xs)
                    .p0(&[1.0, 1.0, 0.0])
                    .covariance(true)
            };
            let mine = shard(fits, world);
            let s = batch(&all).fit().map_err(err)?;
            // `d` holds the single batch's fits `range`, bit for bit.
            let equal = |d: &nlsq::batch::BatchResult, range: std::ops::Range<usize>| {
                let p = 3;
                let bits = |a: &[f64], b: &[f64]| {
                    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
                };
                let (covs, cov) = (d.covariance.as_deref(), s.covariance.as_deref());
                d.n_fits == range.len()
                    && bits(&d.params, &s.params[range.start * p..range.end * p])
                    && bits(&d.chi2, &s.chi2[range.clone()])
                    && bits(
                        covs.unwrap_or_default(),
                        &cov.unwrap_or_default()[range.start * p * p..range.end * p * p],
                    )
                    && d.states == s.states[range.clone()]
                    && d.iterations == s.iterations[range]
            };
            let on_rank0 = if world.rank() == 0 {
                0..fits
            } else {
                mine.clone()
            };
            for (on, want) in [
                (ResultsOn::Every, 0..fits),
                (ResultsOn::Root, on_rank0),
                (ResultsOn::Own, mine.clone()),
            ] {
                let d = batch(&all[mine.start * n..mine.end * n])
                    .communicator(world)
                    .results_on(on)
                    .fit()
                    .map_err(err)?;
                if !equal(&d, want) {
                    return Err(format!(
                        "{name}: the batch's results on {on:?} differ from the single batch's"
                    ));
                }
            }
            return Ok(format!(
                "{name}: {fits} fits equal bit for bit (results on every rank, on rank 0, on their own rank)"
            ));
        }
        _ => return Err(format!("unknown scenario `{name}`")),
    };
    let bits = compare(name, &d, &s, ranks)?;
    Ok(format!(
        "{name}: equal (popt and pcov {}), {} points, nfev {}, backend {}",
        if bits { "bit for bit" } else { "within 1e-12" },
        d.n_points,
        d.nfev,
        d.backend
    ))
}

/// [`Reduction::ChunkOrder`] over shards of whole chunks, at the default tolerances: every
/// fit is the single-process fit bit for bit (popt, pcov, cost, passes).
fn exact<C: Communicator>(world: &C) -> Result<String, String> {
    let n = 4 * CHUNK + 1000;
    let (x, y, sigma) = data_n(n);
    let mine = shard_aligned(n, CHUNK, world);
    let err = |e: FitError| format!("exact: {e}");
    let default_tol = |method: Method| {
        let fit = CurveFit::new(Decay).p0([1.0, 1.0, 0.0]).method(method);
        match method {
            Method::Lm => fit,
            _ => fit.bounds([0.0, 0.0, -1.0], [10.0, 10.0, 1.0]),
        }
    };
    let mut done = Vec::new();
    for case in ["lm", "trf", "dogbox", "soft_l1", "stream", "multistart"] {
        let method = match case {
            "lm" | "multistart" => Method::Lm,
            "dogbox" => Method::Dogbox,
            _ => Method::Trf,
        };
        let fit = || {
            let f = default_tol(method);
            match case {
                "soft_l1" => f.loss(Loss::SoftL1).f_scale(0.1),
                // Starts drawn over the range of x of all the data (the model's roles), on
                // every rank, not over its shard's.
                "multistart" => f
                    .p0([10.0, 20.0, 1.0])
                    .multistart(MultiStart::new(32).seed(1)),
                _ => f,
            }
        };
        let weighted = case == "soft_l1";
        let dist = |f: CurveFit<'static, Decay>| {
            f.communicator(world)
                .distributed_reduction(Reduction::ChunkOrder)
        };
        let d = if case == "stream" {
            let dir = std::env::temp_dir().join(format!(
                "nlsq-mpi-exact-{}-{}",
                std::process::id(),
                world.rank()
            ));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let write = |file: &str, v: &[f64]| {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                std::fs::write(dir.join(file), bytes).map_err(|e| e.to_string())
            };
            write("x.f64", &x[mine.clone()])?;
            write("y.f64", &y[mine.clone()])?;
            let mut source = RawFile::f64(dir.join("x.f64"), dir.join("y.f64")).map_err(err)?;
            let d = dist(fit().chunk_points(1000)).fit_source(&mut source);
            std::fs::remove_dir_all(&dir).ok();
            d.map_err(err)?
        } else if weighted {
            dist(fit().sigma(&sigma[mine.clone()]))
                .fit(&x[mine.clone()], &y[mine.clone()])
                .map_err(err)?
        } else {
            dist(fit())
                .fit(&x[mine.clone()], &y[mine.clone()])
                .map_err(err)?
        };
        let s = if weighted {
            fit().sigma(&sigma).fit(&x, &y).map_err(err)?
        } else {
            fit().fit(&x, &y).map_err(err)?
        };
        let bits = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
        let same = bits(&d.popt, &s.popt)
            && d.pcov.iter().zip(&s.pcov).all(|(a, b)| bits(a, b))
            && d.cost.to_bits() == s.cost.to_bits()
            && d.nfev == s.nfev
            && d.status == s.status
            && d.n_points == s.n_points
            && d.search == s.search;
        if !same {
            return Err(format!(
                "exact {case}: not bit for bit: popt {:?} / {:?}, nfev {} / {}",
                d.popt, s.popt, d.nfev, s.nfev
            ));
        }
        done.push(format!("{case} (nfev {})", d.nfev));
    }
    Ok(format!("exact: bit for bit: {}", done.join(", ")))
}

/// Rank 1's shard has a NaN: rank 1 fails with the data's error, every other rank with
/// `FitError::Distributed` naming rank 1 (passes summed in `reduction`).
fn fail<C: Communicator>(world: &C, reduction: Reduction) -> Result<String, String> {
    let (x, mut y, _) = data();
    let mine = shard(N, world);
    if world.rank() == 1 {
        y[mine.start + 5] = f64::NAN;
    }
    let r = base(Method::Lm)
        .communicator(world)
        .distributed_reduction(reduction)
        .fit(&x[mine.clone()], &y[mine]);
    match (world.rank(), r) {
        (1, Err(FitError::NonFiniteData { .. })) => Ok("fail: the NaN's error here".into()),
        (_, Err(FitError::Distributed { rank: 1, message })) => Ok(format!("fail: {message}")),
        (_, r) => Err(format!("fail: unexpected {r:?}")),
    }
}

/// The fit of this rank's shard while rank 1 aborts at its third iteration (every rank slowed
/// down, so that the others are still fitting when it dies), with exchanges waiting at most
/// `deadline`.
fn fit_while_rank_1_dies<C: Communicator>(
    world: &C,
    deadline: std::time::Duration,
) -> Result<FitResult, FitError> {
    let (x, y, _) = data();
    let mine = shard(N, world);
    let rank = world.rank();
    base(Method::Trf)
        .callback(|info| {
            if rank == 1 && info.iteration == 3 {
                std::process::abort();
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            ControlFlow::Continue(())
        })
        .communicator(world)
        .distributed_timeout(deadline)
        .fit(&x[mine.clone()], &y[mine])
}

/// Rank 1 aborts at its third iteration; the launcher must end the job.
fn kill<C: Communicator>(world: &C) -> Result<String, String> {
    let rank = world.rank();
    match fit_while_rank_1_dies(world, std::time::Duration::from_secs(5)) {
        Err(e) => Err(format!("kill: rank {rank} ended with the error: {e}")),
        Ok(_) => Err(format!("kill: rank {rank} finished although rank 1 died")),
    }
}

/// Rank 1 aborts at its third iteration under a launcher told to let the others run
/// (OpenMPI's `mpirun --enable-recovery`): they end with `FitError::Distributed` at their 3 s
/// deadline, say so, and end the job. (MPICH's `-disable-auto-cleanup` does not keep them: its
/// ch4 device kills the ranks that were exchanging with the dead one.)
fn kill_survived<C: Communicator>(world: &C) -> Result<String, String> {
    let rank = world.rank();
    let start = std::time::Instant::now();
    let r = fit_while_rank_1_dies(world, std::time::Duration::from_secs(3));
    match r {
        Err(FitError::Distributed { message, .. }) => {
            println!(
                "rank {rank}/{}: ok kill_survived: after {:.1?}: {message}",
                world.size(),
                start.elapsed()
            );
            // The abandoned exchange is still pending in MPI: end the job, not MPI_Finalize.
            world.abort(4)
        }
        r => Err(format!("kill_survived: unexpected {r:?}")),
    }
}

/// Rank 1 stops answering at its third iteration (and exits 6 s later); the others must end
/// with `FitError::Distributed` at their 3 s deadline.
fn hang<C: Communicator>(world: &C) -> Result<String, String> {
    let (x, y, _) = data();
    let mine = shard(N, world);
    let rank = world.rank();
    let start = std::time::Instant::now();
    let r = base(Method::Trf)
        .callback(|info| {
            if rank == 1 && info.iteration == 3 {
                std::thread::sleep(std::time::Duration::from_secs(6));
                std::process::exit(3);
            }
            ControlFlow::Continue(())
        })
        .communicator(world)
        .distributed_timeout(std::time::Duration::from_secs(3))
        .fit(&x[mine.clone()], &y[mine]);
    match r {
        Err(FitError::Distributed { message, .. }) => {
            Ok(format!("hang: after {:.1?}: {message}", start.elapsed()))
        }
        r => Err(format!("hang: unexpected {r:?}")),
    }
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    run(&arg)
}

/// Initializes MPI and runs the scenario `arg` (`all` for every check against one process).
pub fn run(arg: &str) -> ExitCode {
    let universe = mpi::initialize().expect("MPI initializes once");
    let world = universe.world();
    let names: Vec<&str> = match arg {
        "all" => vec![
            "lm",
            "trf",
            "dogbox",
            "soft_l1",
            "stream",
            "batch",
            "checkpoint",
            "tiny",
            "exact",
        ],
        one => vec![one],
    };
    let mut ok = true;
    for name in names {
        let r = match name {
            "fail" => fail(&world, Reduction::RankOrder),
            "fail_exact" => fail(&world, Reduction::ChunkOrder),
            "kill" => kill(&world),
            "kill_survived" => kill_survived(&world),
            "hang" => hang(&world),
            "exact" => exact(&world),
            _ => scenario(name, &world),
        };
        match r {
            Ok(line) => println!("rank {}/{}: ok {line}", world.rank(), world.size()),
            Err(line) => {
                eprintln!("rank {}/{}: FAILED {line}", world.rank(), world.size());
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

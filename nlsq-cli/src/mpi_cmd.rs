//! `nlsq fit` under `mpirun` (feature `mpi`): one fit spread over the ranks of the job.
//!
//! Every rank opens only its own part of the data file (see [`crate::input::shard`] for what
//! each format reads) and runs the same fit with the world communicator
//! ([`CurveFit::communicator`](nlsq::CurveFit::communicator)); every rank ends with the fit of
//! all the data. Rank 0 alone prints and writes the outputs; for `--curve` and `--plot` it
//! reads the whole file again, and for starting values estimated from the data (a library
//! model without a full `--p0`) it reads a subsample of the whole file and sends the values to
//! the other ranks. The refits of `--profile` run on every rank, as the fit does. The other
//! ranks print nothing unless their own part fails.
//!
//! Errors end every rank with a non-zero status: rank 0 prints the error, and a rank whose own
//! part failed prints its own error prefixed with its rank. A launch without an MPI launcher
//! (no `mpirun`), or a job of one rank, is the ordinary `nlsq fit`.

use crate::cli::{FitArgs, ReductionArg};
use crate::error::{CliError, EXIT_BAD_INPUT};
use crate::fit_cmd::{self, Setup, Spread};
use crate::input::{
    self, Dataset,
    shard::{Part, Place},
};
use nlsq::FitError;
use nlsq::conf_interval::{ProfileError, ProfileInterval};
use nlsq::distributed::mpi::{
    self,
    datatype::PartitionMut,
    topology::SimpleCommunicator,
    traits::{Communicator, CommunicatorCollectives, Root},
};
use nlsq::distributed::{Reduction, shard_aligned_of};
use nlsq::stream::Chunk;
use std::process::ExitCode;

/// Prints a line on stderr in one write, so that the lines of the ranks, merged by the
/// launcher, do not interleave.
macro_rules! say {
    ($($arg:tt)*) => {
        say_line(format!($($arg)*))
    };
}

fn say_line(mut line: String) {
    use std::io::Write;
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`): the
/// environment variables of OpenMPI, of MPICH's Hydra (and Intel MPI) and of PMIx.
pub fn launched() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// A distributed `nlsq fit` that has failed, its error already printed: the exit status.
struct Exit(u8);

/// Runs `nlsq fit` over the ranks of the MPI job; the exit status.
pub fn fit(args: &FitArgs) -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        return crate::exit_with(Err(CliError::usage("MPI could not be initialized")));
    };
    let world = universe.world();
    if world.size() == 1 {
        return crate::exit_with(fit_cmd::run(args));
    }
    let code = match fit_here(args, &world) {
        Ok(code) => code,
        Err(Exit(code)) => code,
    };
    ExitCode::from(code)
}

/// This rank's part of the fit; rank 0's exit status on every rank.
fn fit_here(args: &FitArgs, world: &SimpleCommunicator) -> Result<u8, Exit> {
    let rank = world.rank() as usize;
    let leader = rank == 0;
    // Only rank 0 speaks (notes, the summary, the progress bar).
    let mut args = args.clone();
    if !leader {
        args.quiet = true;
        args.no_progress = true;
    }
    let args = &args;
    let setup = agree(world, refuse(args).and_then(|()| Setup::new(args)))?;
    let part = Part {
        rank,
        size: world.size() as usize,
        align: match args.reduction {
            ReductionArg::Rank => 1,
            ReductionArg::Chunk => nlsq::backend::CHUNK,
        },
        split: shard_aligned_of,
    };
    let spec = fit_cmd::data_spec(&args.data);
    let opened = input::open_part(&spec, Some(&part)).and_then(|d| not_empty(d, args, &part));
    let mut data = agree(world, opened)?;
    let n_free = setup.choice.free_names().len();
    let p0 = from_leader(world, n_free, || {
        if estimates_p0(args, &setup.choice) {
            fit_cmd::start(args, &setup.choice, &mut input::open(&spec)?)
        } else {
            fit_cmd::start(args, &setup.choice, &mut data)
        }
    })?;
    let builder = agree(world, fit_cmd::builder(args, &setup.choice, p0))?;
    let reduction = match args.reduction {
        ReductionArg::Rank => Reduction::RankOrder,
        ReductionArg::Chunk => Reduction::ChunkOrder,
    };
    let spread: Spread<'_> = &|b| b.communicator(world).distributed_reduction(reduction);
    let result = spread(builder).fit_source(&mut *data.source);
    let fit = result.map_err(|e| fit_failed(world, e, data.place.as_ref()))?;
    // The refits of `--profile` run on every rank, as the fit did.
    let (choice, names) = (&setup.choice, &setup.profiled);
    let intervals = fit_cmd::profiles(args, choice, &mut data, &fit, names, spread)
        .map_err(|e| profile_failed(world, e))?;
    let mut code = [0u8];
    if leader {
        code[0] = conclude(args, &setup, data, fit, &intervals);
    }
    world.process_at_rank(0).broadcast_into(&mut code[..]);
    Ok(code[0])
}

/// `--profile` failed on every rank (a refit's error is every rank's): rank 0 prints it. After
/// a deadline passed in a refit, the job is aborted (as in [`fit_failed`]).
fn profile_failed(world: &SimpleCommunicator, e: CliError) -> Exit {
    let rank = world.rank() as usize;
    let deadline = match &e {
        CliError::Profile {
            source: ProfileError::Fit(refit),
            ..
        } => matches!(
            refit.downcast_ref::<FitError>(),
            Some(FitError::Distributed { rank: r, .. }) if *r == rank
        ),
        _ => false,
    };
    if rank == 0 {
        say!("nlsq: error: {e}");
    } else if deadline {
        say!("nlsq: error: rank {rank}: {e}");
    }
    if deadline {
        world.abort(i32::from(EXIT_BAD_INPUT));
    }
    Exit(EXIT_BAD_INPUT)
}

/// This rank's part, refused when it holds no data row (a distributed fit needs a point on
/// every rank).
fn not_empty(mut data: Dataset, args: &FitArgs, part: &Part) -> Result<Dataset, CliError> {
    let source = &mut *data.source;
    let mut chunk = Chunk::empty(source.n_inputs(), source.has_sigma());
    let any = source.next_chunk(&mut chunk, 1)?;
    source.rewind()?;
    if any {
        return Ok(data);
    }
    let place = data
        .place
        .as_ref()
        .map_or(String::new(), |p| format!(" ({p})"));
    let whole = match args.reduction {
        ReductionArg::Chunk => format!(
            "; with --reduction chunk each rank but the last holds whole chunks of {} rows",
            part.align
        ),
        ReductionArg::Rank => String::new(),
    };
    Err(CliError::usage(format!(
        "its part of the file{place} holds no data row: too few rows for {} ranks{whole}; run \
         fewer ranks",
        part.size
    )))
}

/// Whether [`fit_cmd::start`] estimates starting values from the data (a library model
/// without every free parameter in `--p0`).
fn estimates_p0(args: &FitArgs, choice: &crate::model::ModelChoice) -> bool {
    choice.library.is_some()
        && !crate::params::p0(&choice.free_names(), args.p0.as_deref())
            .is_ok_and(|given| given.iter().all(Option::is_some))
}

/// Options a distributed fit cannot run, refused before any data are read.
fn refuse(args: &FitArgs) -> Result<(), CliError> {
    if args.data.data == std::path::Path::new("-") {
        return Err(CliError::usage(
            "standard input cannot be split over MPI ranks: give the data as a file",
        ));
    }
    Ok(())
}

/// Rank 0's summary and outputs, from the fit of every rank; its exit status (an error
/// printed).
fn conclude(
    args: &FitArgs,
    setup: &Setup,
    part: Dataset,
    fit: nlsq::FitResult,
    intervals: &[ProfileInterval],
) -> u8 {
    let run = || {
        // The fitted curve and the plot show every point: the whole file.
        let mut data = if args.curve.is_some() || args.plot.is_some() {
            input::open(&fit_cmd::data_spec(&args.data))?
        } else {
            part
        };
        fit_cmd::report_fit(args, setup, &mut data, fit, intervals)
    };
    run().unwrap_or_else(|e| {
        say!("nlsq: error: {e}");
        EXIT_BAD_INPUT
    })
}

/// The fit failed on every rank with `e` (this rank's own error, or the error of the rank that
/// failed): rank 0 prints it, and so does a rank whose own part failed, with the `place` of
/// its part (indices in its error count from there). After a deadline passed, MPI may still
/// wait for the abandoned exchange: the job is aborted.
fn fit_failed(world: &SimpleCommunicator, e: FitError, place: Option<&Place>) -> Exit {
    let rank = world.rank() as usize;
    let (own, deadline) = match &e {
        FitError::Distributed { rank: r, .. } => (false, *r == rank),
        _ => (true, false),
    };
    if rank == 0 {
        say!("nlsq: error: {e}");
    } else if own {
        match place {
            Some(place) => say!("nlsq: error: rank {rank} ({place}): {e}"),
            None => say!("nlsq: error: rank {rank}: {e}"),
        }
    } else if deadline {
        say!("nlsq: error: rank {rank}: {e}");
    }
    if deadline {
        world.abort(i32::from(EXIT_BAD_INPUT));
    }
    Exit(EXIT_BAD_INPUT)
}

/// Every rank's `local` result, agreed on: this rank's value when every rank succeeded, else
/// an exit on every rank. Rank 0 prints its own error, or the first failed rank's; a rank that
/// failed where rank 0 did not prints its own error, prefixed with its rank.
fn agree<T>(world: &SimpleCommunicator, local: Result<T, CliError>) -> Result<T, Exit> {
    // [status (0: ok, 1: failed), message…]: never empty.
    let message = match &local {
        Ok(_) => vec![0],
        Err(e) => [&[1u8][..], e.to_string().as_bytes()].concat(),
    };
    let all = all_gather_bytes(world, &message);
    let Some(first) = all.iter().position(|m| m[0] != 0) else {
        return local.map_err(|_| Exit(EXIT_BAD_INPUT));
    };
    let rank = world.rank() as usize;
    match (&local, rank) {
        (Err(e), 0) => say!("nlsq: error: {e}"),
        (Ok(_), 0) => say!(
            "nlsq: error: rank {first}: {}",
            String::from_utf8_lossy(&all[first][1..])
        ),
        (Err(e), _) if all[0][0] == 0 => say!("nlsq: error: rank {rank}: {e}"),
        _ => {}
    }
    Err(Exit(EXIT_BAD_INPUT))
}

/// Every rank's `bytes`, in rank order.
fn all_gather_bytes(world: &SimpleCommunicator, bytes: &[u8]) -> Vec<Vec<u8>> {
    let size = world.size() as usize;
    let mut lens = vec![0u64; size];
    world.all_gather_into(&(bytes.len() as u64), &mut lens[..]);
    let counts: Vec<mpi::Count> = lens.iter().map(|&n| n as mpi::Count).collect();
    let displs: Vec<mpi::Count> = counts
        .iter()
        .scan(0, |at, &n| {
            let d = *at;
            *at += n;
            Some(d)
        })
        .collect();
    let mut flat = vec![0u8; lens.iter().sum::<u64>() as usize];
    {
        let mut partition = PartitionMut::new(&mut flat[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(bytes, &mut partition);
    }
    let mut out = Vec::with_capacity(size);
    let mut at = 0;
    for &n in &lens {
        out.push(flat[at..at + n as usize].to_vec());
        at += n as usize;
    }
    out
}

/// `n` values computed on rank 0 by `f`, sent to every rank; an error is printed by rank 0 and
/// ends every rank.
fn from_leader(
    world: &SimpleCommunicator,
    n: usize,
    f: impl FnOnce() -> Result<Vec<f64>, CliError>,
) -> Result<Vec<f64>, Exit> {
    // [status (0: ok), values…]
    let mut buf = vec![0.0; n + 1];
    if world.rank() == 0 {
        match f() {
            Ok(v) if v.len() == n => buf[1..].copy_from_slice(&v),
            Ok(v) => {
                say!(
                    "nlsq: error: {} starting values for {n} free parameters",
                    v.len()
                );
                buf[0] = 1.0;
            }
            Err(e) => {
                say!("nlsq: error: {e}");
                buf[0] = 1.0;
            }
        }
    }
    world.process_at_rank(0).broadcast_into(&mut buf[..]);
    if buf[0] != 0.0 {
        return Err(Exit(EXIT_BAD_INPUT));
    }
    Ok(buf.split_off(1))
}

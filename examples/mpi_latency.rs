//! The figures of the scale model in `benches/RESULTS.md` ("Beyond one machine"): the latency
//! of an allreduce of `P(P+1)/2 + P + 2` doubles (what a pass needs: the upper triangle of
//! `JᵀJ`, the gradient, the cost and the count) and of the exchange a distributed fit does now
//! (two allgathers: a 3-double header, then `P² + P + 3` doubles per rank), for P = 3..20; and,
//! with the argument `pass`, on rank 0, the CPU pass time per point of a 3-parameter model.
//!
//! ```sh
//! cargo build --release --features mpi --example mpi_latency
//! mpirun -n 2 target/release/examples/mpi_latency
//! mpirun -n 4 target/release/examples/mpi_latency
//! mpirun -n 1 target/release/examples/mpi_latency pass
//! ```

use nlsq::distributed::mpi;
use nlsq::distributed::mpi::collective::SystemOperation;
use nlsq::distributed::mpi::traits::{Communicator, CommunicatorCollectives};
use nlsq::{CurveFit, model};
use std::time::Instant;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

/// Median of `reps` timings of `f`, in microseconds (after `reps / 10` warm-up calls).
fn median_us<C: Communicator>(world: &C, reps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..reps / 10 {
        f();
    }
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps {
        world.barrier();
        let s = Instant::now();
        f();
        t.push(s.elapsed().as_secs_f64() * 1e6);
    }
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn main() {
    let universe = mpi::initialize().expect("MPI initializes once");
    let world = universe.world();
    let (rank, size) = (world.rank(), world.size() as usize);
    if rank == 0 {
        println!("ranks {size}");
        println!("P  doubles  allreduce_us  exchange_doubles  exchange_us");
    }
    for p in 3..=20usize {
        let n = p * (p + 1) / 2 + p + 2;
        let send = vec![1.0f64; n];
        let mut recv = vec![0.0f64; n];
        let allreduce = median_us(&world, 2000, || {
            world.all_reduce_into(&send[..], &mut recv[..], SystemOperation::sum());
        });
        let m = p * p + p + 3;
        let header = [0.0f64; 3];
        let mut headers = vec![0.0f64; 3 * size];
        let payload = vec![1.0f64; m];
        let mut all = vec![0.0f64; m * size];
        let exchange = median_us(&world, 2000, || {
            world.all_gather_into(&header[..], &mut headers[..]);
            world.all_gather_into(&payload[..], &mut all[..]);
        });
        if rank == 0 {
            println!("{p:2}  {n:7}  {allreduce:12.2}  {m:16}  {exchange:11.2}");
        }
    }
    if rank == 0 && std::env::args().any(|a| a == "pass") {
        let n = 4_000_000;
        let x: Vec<f64> = (0..n).map(|i| 10.0 * i as f64 / n as f64).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.5 * (-1.3 * x).exp() + 0.4).collect();
        let fit = CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .profile(true)
            .fit(&x, &y)
            .expect("the fit runs");
        let prof = fit.profile.expect("a profile");
        let per_point = prof.pass_time_s / prof.passes as f64 / n as f64;
        println!(
            "pass: {} passes over {n} points, {:.3} ns per point ({} threads)",
            prof.passes,
            per_point * 1e9,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
}

//! Bounded memory: a streaming CPU fit over raw f64 files far larger than its host budget,
//! against the in-memory fit of the same data (run each in its own process, so each one's
//! peak RSS is its own).
//!
//! ```sh
//! cargo build --release --example stream_bigfile
//! B=target/release/examples/stream_bigfile
//! $B write /tmp/big 200000000                 # x.f64 and y.f64, 3.2 GB together
//! /usr/bin/time -v $B stream /tmp/big 268435456 /tmp/big/stream.json
//! /usr/bin/time -v $B memory /tmp/big /tmp/big/memory.json
//! $B compare /tmp/big/stream.json /tmp/big/memory.json
//! ```
//!
//! Each fit prints its result, its wall time and its peak RSS (`VmHWM` of `/proc/self/status`).

use nlsq::stream::RawFile;
use nlsq::{CurveFit, FitResult, model};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

/// Peak resident set size of this process in bytes (Linux), if readable.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn write(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut fx = BufWriter::with_capacity(1 << 22, std::fs::File::create(dir.join("x.f64"))?);
    let mut fy = BufWriter::with_capacity(1 << 22, std::fs::File::create(dir.join("y.f64"))?);
    let mut s: u64 = 42;
    for i in 0..n {
        let x = 10.0 * i as f64 / n as f64;
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let y = 2.5 * (-1.3 * x).exp() + 0.4 + 0.05 * e;
        fx.write_all(&x.to_le_bytes())?;
        fy.write_all(&y.to_le_bytes())?;
    }
    fx.flush()?;
    fy.flush()
}

fn read_f64(path: &Path) -> std::io::Result<Vec<f64>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

fn report(r: &FitResult, t: Instant, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("{r}");
    println!("wall time: {:.2} s", t.elapsed().as_secs_f64());
    if let Some(rss) = peak_rss() {
        println!("peak RSS: {:.1} MiB", rss as f64 / (1u64 << 20) as f64);
    }
    std::fs::write(out, serde_json::to_string_pretty(r)?)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: stream_bigfile write DIR N | stream DIR HOST_BYTES OUT.json | memory DIR OUT.json | compare A.json B.json";
    let arg = |i: usize| args.get(i).ok_or(usage);
    let p0 = [1.0, 1.0, 0.0];
    match arg(1)?.as_str() {
        "write" => {
            let t = Instant::now();
            write(Path::new(arg(2)?), arg(3)?.parse()?)?;
            println!("written in {:.1} s", t.elapsed().as_secs_f64());
        }
        "stream" => {
            let dir = Path::new(arg(2)?);
            let budget: u64 = arg(3)?.parse()?;
            let mut source = RawFile::f64(dir.join("x.f64"), dir.join("y.f64"))?;
            let t = Instant::now();
            let r = CurveFit::new(Decay)
                .p0(p0)
                .max_host_bytes(budget)
                .fit_source(&mut source)?;
            report(&r, t, Path::new(arg(4)?))?;
        }
        "memory" => {
            let dir = Path::new(arg(2)?);
            let t = Instant::now();
            let x = read_f64(&dir.join("x.f64"))?;
            let y = read_f64(&dir.join("y.f64"))?;
            println!("read in {:.1} s", t.elapsed().as_secs_f64());
            let t = Instant::now();
            let r = CurveFit::new(Decay).p0(p0).fit(&x, &y)?;
            report(&r, t, Path::new(arg(3)?))?;
        }
        "compare" => {
            let a: FitResult = serde_json::from_str(&std::fs::read_to_string(arg(2)?)?)?;
            let b: FitResult = serde_json::from_str(&std::fs::read_to_string(arg(3)?)?)?;
            let rel = |x: f64, y: f64| {
                if x == y {
                    0.0
                } else {
                    (x - y).abs() / x.abs().max(y.abs())
                }
            };
            let mut worst: f64 = 0.0;
            for (x, y) in a.popt.iter().zip(&b.popt).chain(a.perr.iter().zip(&b.perr)) {
                worst = worst.max(rel(*x, *y));
            }
            for (x, y) in [
                (a.cost, b.cost),
                (a.r_squared, b.r_squared),
                (a.rmse, b.rmse),
            ] {
                worst = worst.max(rel(x, y));
            }
            println!(
                "popt {:?} vs {:?}; bitwise equal popt: {}; worst relative difference (popt, perr, cost, R², RMSE): {worst:e}",
                a.popt,
                b.popt,
                a.popt == b.popt
            );
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}

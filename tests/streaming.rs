//! Chunked and streaming fits against the in-memory fit (exactness to 1e-12 relative, bitwise
//! where the CPU passes are re-cut at its chunk boundaries), every source, and the online mode.
//! The error paths are in `streaming_errors.rs`.

use nlsq::stream::{Chunk, CsvSource, FnSource, NpyFile, OnePassSource, RawFile};
use nlsq::{CurveFit, DataMode, FitResult, Loss};
use nlsq_testkit::streaming::*;
use std::io::Write;

#[test]
fn chunked_cpu_fits_equal_the_in_memory_fit() {
    let (x, y, s) = decay_data(50_001);
    let base = || CurveFit::new(Decay).p0([1.0, 1.0, 0.0]).sigma(&s);
    let want = base().fit(&x, &y).unwrap();
    assert_eq!(want.data_plan.mode, DataMode::InMemory);
    // Chunks of whole CPU chunks: the same additions, the same bits.
    let got = base().chunk_points(3 * 4096).fit(&x, &y).unwrap();
    assert_eq!(got.data_plan.mode, DataMode::Chunked);
    assert_eq!(got.data_plan.chunks_per_pass, 5);
    assert_eq!(got.popt, want.popt);
    assert_eq!(got.cost, want.cost);
    // Odd chunk sizes, with a short last chunk: the reader re-cuts them at the CPU chunk
    // boundaries, so still the same bits.
    for chunk in [777, 5000, 49_999] {
        let got = base().chunk_points(chunk).fit(&x, &y).unwrap();
        assert_same_fit(&got, &want, 1e-12);
        assert_eq!(got.popt, want.popt, "chunk {chunk}");
    }
    // A host budget below the data size chooses the chunked driver itself.
    let got = base().max_host_bytes(1 << 20).fit(&x, &y).unwrap();
    assert_eq!(got.data_plan.mode, DataMode::Chunked);
    assert!(got.data_plan.reason.contains("exceed the host budget"));
    assert_same_fit(&got, &want, 1e-12);
}

#[test]
fn chunked_fits_with_two_predictors_and_a_robust_loss() {
    let n = 20_000;
    let x0: Vec<f64> = (0..n).map(|i| (i % 200) as f64 * 0.05).collect();
    let x1: Vec<f64> = (0..n).map(|i| (i / 200) as f64 * 0.1).collect();
    let e = noise(n, 3);
    let y: Vec<f64> = (0..n)
        .map(|i| 1.5 * (0.8 * x0[i] - 0.3 * x1[i]).cos() + 0.02 * e[i])
        .collect();
    let cols = [&x0[..], &x1[..]];
    let base = || {
        CurveFit::new(PlaneWave)
            .p0([1.2, 0.75, 0.28])
            .loss(Loss::SoftL1)
            .f_scale(0.05)
    };
    let want = base().fit(&cols, &y).unwrap();
    assert!((want.popt[1] - 0.8).abs() < 1e-3, "{want}");
    let got = base().chunk_points(3333).fit(&cols, &y).unwrap();
    assert_same_fit(&got, &want, 1e-12);
}

#[test]
fn every_reiterable_source_gives_the_in_memory_fit() {
    let t = Scratch::new("every_reiterable");
    let (x, y, s) = decay_data(20_000);
    let want = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();

    let (px, py) = (t.path("x.f64"), t.path("y.f64"));
    write_f64(&px, &x);
    write_f64(&py, &y);
    let got = streamed(&mut RawFile::f64(&px, &py).unwrap());
    assert_eq!(got.data_plan.mode, DataMode::Streaming);
    assert!(got.data_plan.chunks_per_pass > 1 && !got.data_plan.approximate);
    assert_eq!(got.popt, want.popt, "aligned chunks: bitwise");
    assert_same_fit(&got, &want, 1e-12);

    // With sigma, against the in-memory weighted fit.
    let ps = t.path("s.f64");
    write_f64(&ps, &s);
    let want_w = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .sigma(&s)
        .fit(&x, &y)
        .unwrap();
    let got = streamed(&mut RawFile::f64(&px, &py).unwrap().with_sigma(&ps).unwrap());
    assert_same_fit(&got, &want_w, 1e-12);

    // f32 files, against the in-memory fit of the same f32 values.
    let (x32, y32): (Vec<f32>, Vec<f32>) = (
        x.iter().map(|&v| v as f32).collect(),
        y.iter().map(|&v| v as f32).collect(),
    );
    let (qx, qy) = (t.path("x.f32"), t.path("y.f32"));
    std::fs::write(
        &qx,
        x32.iter()
            .flat_map(|a| a.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        &qy,
        y32.iter()
            .flat_map(|a| a.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let xw: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
    let yw: Vec<f64> = y32.iter().map(|&v| v as f64).collect();
    let want32 = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&xw, &yw)
        .unwrap();
    assert_same_fit(
        &streamed(&mut RawFile::f32(&qx, &qy).unwrap()),
        &want32,
        1e-12,
    );

    // .npy files.
    let (nx, ny) = (t.path("x.npy"), t.path("y.npy"));
    let b = |v: &[f64]| v.iter().flat_map(|a| a.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(&nx, npy_bytes("<f8", "(20000,)", &b(&x))).unwrap();
    std::fs::write(&ny, npy_bytes("<f8", "(20000,)", &b(&y))).unwrap();
    assert_same_fit(
        &streamed(&mut NpyFile::new(&nx, &ny).unwrap()),
        &want,
        1e-12,
    );

    // CSV, with a header line and an unused column.
    let pc = t.path("d.csv");
    let mut f = std::fs::File::create(&pc).unwrap();
    writeln!(f, "id,x,y").unwrap();
    for i in 0..x.len() {
        writeln!(f, "{i},{:e},{:e}", x[i], y[i]).unwrap();
    }
    drop(f);
    let mut csv = CsvSource::new(&pc, &[1], 2).unwrap().has_headers(true);
    let got = streamed(&mut csv);
    assert_eq!(got.data_plan.mode, DataMode::Streaming);
    assert_same_fit(&got, &want, 1e-12);
    // Of unknown size but within the default budget: read once, fitted in memory.
    let got = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit_source(&mut csv)
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::InMemory);
    assert_same_fit(&got, &want, 1e-12);

    // CSV with a sigma column (semicolons), and f32 .npy files.
    let pw = t.path("w.csv");
    let mut f = std::fs::File::create(&pw).unwrap();
    for i in 0..x.len() {
        writeln!(f, "{:e}; {:e}; {:e}", x[i], y[i], s[i]).unwrap();
    }
    drop(f);
    let mut csv = CsvSource::new(&pw, &[0], 1)
        .unwrap()
        .delimiter(b';')
        .sigma_column(2);
    assert_same_fit(&streamed(&mut csv), &want_w, 1e-12);
    let (fx, fy) = (t.path("x32.npy"), t.path("y32.npy"));
    let b32 = |v: &[f32]| v.iter().flat_map(|a| a.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(&fx, npy_bytes("<f4", "(20000,)", &b32(&x32))).unwrap();
    std::fs::write(&fy, npy_bytes("<f4", "(20000,)", &b32(&y32))).unwrap();
    assert_same_fit(
        &streamed(&mut NpyFile::new(&fx, &fy).unwrap()),
        &want32,
        1e-12,
    );

    // A closure restarting an iterator of odd-sized blocks.
    let (xc, yc) = (x.clone(), y.clone());
    let mut src = FnSource::new(1, move || {
        let (xc, yc) = (xc.clone(), yc.clone());
        (0..xc.len()).step_by(1234).map(move |a| {
            let b = (a + 1234).min(xc.len());
            Chunk {
                x: vec![xc[a..b].to_vec()],
                y: yc[a..b].to_vec(),
                sigma: None,
            }
        })
    });
    let got = streamed(&mut src);
    assert_eq!(got.popt, want.popt, "re-cut into aligned chunks: bitwise");
    assert_same_fit(&got, &want, 1e-12);

    // A source that fits the budget is read once and fitted in memory.
    let got = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit_source(&mut RawFile::f64(&px, &py).unwrap())
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::InMemory);
    assert_eq!(got.popt, want.popt);
}

#[test]
fn multi_predictor_npy_streams_exactly() {
    let t = Scratch::new("multi_predictor");
    let n = 8_000;
    let x0: Vec<f64> = (0..n).map(|i| (i % 80) as f64 * 0.1).collect();
    let x1: Vec<f64> = (0..n).map(|i| (i / 80) as f64 * 0.1).collect();
    let e = noise(n, 11);
    let y: Vec<f64> = (0..n)
        .map(|i| 1.5 * (0.8 * x0[i] - 0.3 * x1[i]).cos() + 0.02 * e[i])
        .collect();
    let want = CurveFit::new(PlaneWave)
        .p0([1.2, 0.75, 0.28])
        .fit(&[&x0[..], &x1[..]], &y)
        .unwrap();
    let b = |v: &[f64]| v.iter().flat_map(|a| a.to_le_bytes()).collect::<Vec<u8>>();
    let (nx, ny) = (t.path("x2.npy"), t.path("y2.npy"));
    let mut both = b(&x0);
    both.extend(b(&x1));
    std::fs::write(&nx, npy_bytes("<f8", "(2, 8000)", &both)).unwrap();
    std::fs::write(&ny, npy_bytes("<f8", "(8000,)", &b(&y))).unwrap();
    let got = CurveFit::new(PlaneWave)
        .p0([1.2, 0.75, 0.28])
        .chunk_points(3000)
        .fit_source(&mut NpyFile::new(&nx, &ny).unwrap())
        .unwrap();
    assert_eq!(got.data_plan.chunks_per_pass, 3);
    assert_same_fit(&got, &want, 1e-12);
}

/// A one-pass iterator of `n` points in blocks of `block`.
fn one_pass(x: Vec<f64>, y: Vec<f64>, block: usize) -> OnePassSource<impl Iterator<Item = Chunk>> {
    let n = x.len();
    OnePassSource::new(
        1,
        (0..n).step_by(block).map(move |a| {
            let b = (a + block).min(n);
            Chunk {
                x: vec![x[a..b].to_vec()],
                y: y[a..b].to_vec(),
                sigma: None,
            }
        }),
    )
}

#[test]
fn one_pass_sources_fit_online_and_say_so() {
    let (x, y, _) = decay_data(200_000);
    let want = CurveFit::new(Decay)
        .p0([2.0, 1.0, 0.3])
        .fit(&x, &y)
        .unwrap();
    // 200_000 points at 16 bytes against a 1 MB budget: online, in chunks of 16384.
    let got = CurveFit::new(Decay)
        .p0([2.0, 1.0, 0.3])
        .max_host_bytes(1 << 20)
        .fit_source(&mut one_pass(x.clone(), y.clone(), 1000))
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::Online);
    assert!(got.data_plan.approximate);
    assert!(got.success, "{}", got.message);
    assert_eq!(got.n_points, 200_000);
    // The stated tolerance: within one standard error of the exact fit, with comparable
    // standard errors.
    for j in 0..3 {
        assert!(
            (got.popt[j] - want.popt[j]).abs() < want.perr[j],
            "parameter {j}: {} vs {} ± {}",
            got.popt[j],
            want.popt[j],
            want.perr[j]
        );
        assert!(rel(got.perr[j], want.perr[j]) < 0.1);
    }
    // A model linear in its parameters: online is recursive least squares, i.e. exact.
    let yl: Vec<f64> = x
        .iter()
        .zip(noise(x.len(), 5))
        .map(|(x, e)| 0.7 * x - 0.2 + 0.1 * e)
        .collect();
    let want = CurveFit::new(Line).fit(&x, &yl).unwrap();
    let got = CurveFit::new(Line)
        .max_host_bytes(1 << 20)
        .fit_source(&mut one_pass(x.clone(), yl.clone(), 777))
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::Online);
    for j in 0..2 {
        assert!(rel(got.popt[j], want.popt[j]) < 1e-9, "{got}\n{want}");
    }
    // A chunk size set by the user: online whatever the budget.
    let got = CurveFit::new(Decay)
        .p0([2.0, 1.0, 0.3])
        .chunk_points(50_000)
        .fit_source(&mut one_pass(x.clone(), y.clone(), 1000))
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::Online);
    assert_eq!(got.data_plan.chunks_per_pass, 4);
    // A one-pass source that fits the budget is read into memory: exact.
    let got = CurveFit::new(Decay)
        .p0([2.0, 1.0, 0.3])
        .fit_source(&mut one_pass(x.clone(), y.clone(), 1000))
        .unwrap();
    assert_eq!(got.data_plan.mode, DataMode::InMemory);
    assert!(!got.data_plan.approximate);
}

#[test]
fn data_plans_round_trip_through_json() {
    let (x, y, _) = decay_data(10_000);
    let r = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .chunk_points(4096)
        .fit(&x, &y)
        .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    let back: FitResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.data_plan, r.data_plan);
    assert!(format!("{r}").contains("data chunked"));
}

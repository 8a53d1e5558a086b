//! Chunked and streaming fits against the in-memory fit (exactness to 1e-12 relative, bitwise
//! where chunks are multiples of the CPU chunk), every source, the online mode, and the error
//! paths of streamed data.

use nlsq::stream::{Chunk, CsvSource, DataSource, FnSource, NpyFile, OnePassSource, RawFile};
use nlsq::{Backend, CurveFit, DataMode, ExprModel, FitError, FitResult, Loss, NanPolicy, model};
use std::io::Write;
use std::path::PathBuf;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

#[model]
fn plane_wave(x: [f64; 2], a: f64, k: f64, w: f64) -> f64 {
    a * (k * x[0] - w * x[1]).cos()
}

#[model]
fn line(x: f64, m: f64, q: f64) -> f64 {
    m * x + q
}

/// A deterministic pseudo-random sequence in [-0.5, 0.5).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

fn decay_data(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let e = noise(n, 7);
    let y = x
        .iter()
        .zip(&e)
        .map(|(x, e)| 2.5 * (-1.3 * x).exp() + 0.4 + 0.05 * e)
        .collect();
    let sigma = (0..n).map(|i| 0.04 + 0.02 * ((i % 7) as f64)).collect();
    (x, y, sigma)
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Parameters, covariance, cost and statistics agree to `tol` relative.
fn assert_same_fit(got: &FitResult, want: &FitResult, tol: f64) {
    let worst = |pairs: Vec<(f64, f64)>| {
        pairs
            .into_iter()
            .map(|(a, b)| rel(a, b))
            .fold(0.0, f64::max)
    };
    let mut pairs: Vec<(f64, f64)> = got
        .popt
        .iter()
        .copied()
        .zip(want.popt.iter().copied())
        .collect();
    pairs.extend(got.perr.iter().copied().zip(want.perr.iter().copied()));
    for (a, b) in got.pcov.iter().zip(&want.pcov) {
        pairs.extend(a.iter().copied().zip(b.iter().copied()));
    }
    pairs.extend([
        (got.cost, want.cost),
        (got.r_squared, want.r_squared),
        (got.rmse, want.rmse),
        (got.aic, want.aic),
    ]);
    let w = worst(pairs);
    assert!(
        w <= tol,
        "worst relative difference {w:e} > {tol:e}\n{got}\n{want}"
    );
    assert_eq!(
        (got.n_points, got.n_omitted),
        (want.n_points, want.n_omitted)
    );
}

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

/// A scratch directory of one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nlsq-streaming-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_f64(path: &PathBuf, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|a| a.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn npy_bytes(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    v.extend(payload);
    v
}

/// Fits `source` streamed with a tiny budget (several passes, several chunks each).
fn streamed(source: &mut dyn DataSource) -> FitResult {
    CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .max_host_bytes(200_000)
        .fit_source(source)
        .unwrap()
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

#[test]
fn streamed_data_is_validated_like_in_memory_data() {
    let t = Scratch::new("streamed_data");
    let (x, mut y, _) = decay_data(20_000);
    y[9_001] = f64::NAN;
    let (px, py) = (t.path("nx.f64"), t.path("ny.f64"));
    write_f64(&px, &x);
    write_f64(&py, &y);
    let e = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .max_host_bytes(200_000)
        .fit_source(&mut RawFile::f64(&px, &py).unwrap())
        .unwrap_err();
    assert!(
        matches!(e, FitError::NonFiniteData { index: 9_001, ref what, .. } if what == "y"),
        "{e}"
    );
    // A model that is not finite at p0 from some point on: that point is named.
    let xl: Vec<f64> = (0..20_000).map(|i| 1000.0 - i as f64 * 0.1).collect();
    let (lx, ly) = (t.path("lx.f64"), t.path("ly.f64"));
    write_f64(&lx, &xl);
    write_f64(&ly, &vec![1.0; 20_000]);
    let e = CurveFit::new(ExprModel::parse("a * ln(x)").unwrap())
        .max_host_bytes(200_000)
        .fit_source(&mut RawFile::f64(&lx, &ly).unwrap())
        .unwrap_err();
    assert!(
        matches!(e, FitError::NonFiniteModelAtP0 { first: 10_000, .. }),
        "{e}"
    );
    // Omit: the in-memory fit without the point.
    let want = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .nan_policy(NanPolicy::Omit)
        .fit(&x, &y)
        .unwrap();
    let got = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .nan_policy(NanPolicy::Omit)
        .max_host_bytes(200_000)
        .fit_source(&mut RawFile::f64(&px, &py).unwrap())
        .unwrap();
    assert_eq!(got.n_omitted, 1);
    assert_same_fit(&got, &want, 1e-12);
}

#[test]
fn bad_files_are_typed_errors() {
    let t = Scratch::new("bad_files");
    let fit = |s: &mut dyn DataSource| {
        CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .max_host_bytes(200_000)
            .fit_source(s)
    };
    let source_err = |e: FitError, want: &str| match e {
        FitError::Source { message, .. } => assert!(message.contains(want), "{message}"),
        e => panic!("expected a source error with `{want}`, got {e}"),
    };
    // Missing file.
    source_err(
        RawFile::f64(t.path("missing"), t.path("missing2"))
            .err()
            .unwrap(),
        "cannot open",
    );
    // A raw file that is not whole f64s, and files of different lengths.
    let (a, b) = (t.path("a.f64"), t.path("b.f64"));
    std::fs::write(&a, [0u8; 20]).unwrap();
    write_f64(&b, &[1.0, 2.0]);
    source_err(RawFile::f64(&a, &b).err().unwrap(), "whole number");
    write_f64(&a, &[1.0, 2.0, 3.0]);
    source_err(RawFile::f64(&a, &b).err().unwrap(), "3 values");
    // Empty files: no data.
    let (e1, e2) = (t.path("e1.f64"), t.path("e2.f64"));
    std::fs::write(&e1, []).unwrap();
    std::fs::write(&e2, []).unwrap();
    assert_eq!(
        fit(&mut RawFile::f64(&e1, &e2).unwrap()).unwrap_err(),
        FitError::EmptyData
    );
    // .npy: a truncated file, a corrupt header, a wrong dtype.
    let payload: Vec<u8> = [1.0f64, 2.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let n1 = t.path("t.npy");
    std::fs::write(&n1, npy_bytes("<f8", "(4,)", &payload)).unwrap();
    source_err(NpyFile::new(&n1, &n1).err().unwrap(), "header promises 4");
    let mut corrupt = npy_bytes("<f8", "(3,)", &payload);
    corrupt[10] = b'#';
    std::fs::write(&n1, &corrupt).unwrap();
    source_err(NpyFile::new(&n1, &n1).err().unwrap(), "not a dictionary");
    std::fs::write(&n1, npy_bytes("<i8", "(3,)", &payload)).unwrap();
    source_err(NpyFile::new(&n1, &n1).err().unwrap(), "not supported");
    std::fs::write(&n1, &npy_bytes("<f8", "(3,)", &payload)[..30]).unwrap();
    source_err(NpyFile::new(&n1, &n1).err().unwrap(), "truncated");
    // CSV: a ragged row and a field that is not a number, named by line.
    let c = t.path("bad.csv");
    std::fs::write(&c, "1,2\n2,3\n3,4,5\n").unwrap();
    source_err(
        fit(&mut CsvSource::new(&c, &[0], 1).unwrap()).unwrap_err(),
        "line 3 has 3 fields",
    );
    std::fs::write(&c, "1,2\n2,abc\n").unwrap();
    source_err(
        fit(&mut CsvSource::new(&c, &[0], 1).unwrap()).unwrap_err(),
        "line 2, column 1: `abc` is not a number",
    );
    // A source with the wrong number of predictors.
    let e = CurveFit::new(PlaneWave)
        .fit_source(&mut RawFile::f64(&b, &b).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e,
            FitError::LengthMismatch {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
    // Non-positive sigma in a later chunk, named by its index in the source.
    let (xs, ys, mut ss) = decay_data(20_000);
    ss[12_345] = 0.0;
    let (px, py, ps) = (t.path("sx.f64"), t.path("sy.f64"), t.path("ss.f64"));
    write_f64(&px, &xs);
    write_f64(&py, &ys);
    write_f64(&ps, &ss);
    let e = fit(&mut RawFile::f64(&px, &py).unwrap().with_sigma(&ps).unwrap()).unwrap_err();
    assert!(
        matches!(e, FitError::BadSigma(ref m) if m.starts_with("sigma[12345] = 0")),
        "{e}"
    );
    // A source that gives different data on a later pass.
    let mut calls = 0;
    let mut changing = FnSource::new(1, move || {
        calls += 1;
        let n = if calls <= 2 { 20_000 } else { 19_000 };
        let (x, y, _) = decay_data(n);
        std::iter::once(Chunk {
            x: vec![x],
            y,
            sigma: None,
        })
    });
    let e = fit(&mut changing).unwrap_err();
    assert!(matches!(e, FitError::NotReiterable { .. }), "{e}");
    // A chunk with a column of the wrong length.
    let mut ragged = FnSource::new(1, || {
        std::iter::once(Chunk {
            x: vec![vec![1.0; 10]],
            y: vec![1.0; 9],
            sigma: None,
        })
    });
    source_err(fit(&mut ragged).unwrap_err(), "x[0] has 10 values");
    // CUDA for a source: an error without a device (or a build without CUDA), a device fit
    // with one.
    match CurveFit::new(Decay)
        .backend(Backend::Cuda)
        .max_host_bytes(200_000)
        .fit_source(&mut RawFile::f64(&px, &py).unwrap())
    {
        Err(e) => assert!(matches!(e, FitError::Backend { .. }), "{e}"),
        Ok(r) => assert!(r.backend.starts_with("cuda"), "{}", r.backend),
    }
    // Sigma must come from the source.
    let e = CurveFit::new(Decay)
        .sigma(&[1.0, 1.0])
        .fit_source(&mut RawFile::f64(&b, &b).unwrap())
        .unwrap_err();
    assert!(matches!(e, FitError::InvalidOption { .. }), "{e}");
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

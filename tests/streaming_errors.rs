//! Streamed data is validated like in-memory data, and bad files and sources are typed errors.

use nlsq::stream::{Chunk, CsvSource, DataSource, FnSource, NpyFile, RawFile};
use nlsq::{Backend, CurveFit, ExprModel, FitError, NanPolicy};
use nlsq_testkit::streaming::*;

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

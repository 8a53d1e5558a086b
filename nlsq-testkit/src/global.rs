//! Global fits: three datasets sharing the rate `k` (two decays `a*exp(-k*x) + c`, the second
//! with 1-D sigma, and one `b*x*exp(-k*x)`), the same problem concatenated by hand (indicator
//! columns select each dataset's model), and scipy's fit of it (`tests/scipy/global_reference.py`).
//! `tests/global.rs` runs them on the CPU, `tests/global_wgpu.rs` with datasets on wgpu.

use crate::streaming::rel;
use nlsq::fit::global::{Dataset, GlobalFit};
use nlsq::stream::SliceSource;
use nlsq::{Backend, CurveFit, ExprModel, FitResult, Loss, Model};

/// The decay model of datasets 0 and 1.
pub const DECAY: &str = "a * exp(-k * x) + c";
/// The model of dataset 2.
pub const RISE: &str = "b * x * exp(-k * x)";
/// The three datasets as one problem: predictors `x`, then one indicator column per dataset;
/// parameters in the global fit's order `a[0], k, c[0], a[1], c[1], b[2]`.
pub const CONCATENATED: &str = "x[1] * (a0 * exp(-k * x[0]) + c0) \
    + x[2] * (a1 * exp(-k * x[0]) + c1) + x[3] * (b2 * x[0] * exp(-k * x[0]))";
/// The global parameters' names.
pub const NAMES: [&str; 6] = ["a[0]", "k", "c[0]", "a[1]", "c[1]", "b[2]"];

/// The data and scipy's fit of the concatenated problem.
pub struct Reference {
    /// Predictors of each dataset.
    pub x: Vec<Vec<f64>>,
    /// Observations of each dataset.
    pub y: Vec<Vec<f64>>,
    /// Sigma of dataset 1.
    pub sigma1: Vec<f64>,
    /// Starting values of the global parameters.
    pub p0: Vec<f64>,
    /// scipy's popt.
    pub popt: Vec<f64>,
    /// scipy's pcov.
    pub pcov: Vec<Vec<f64>>,
}

/// `tests/scipy/global_reference.json`.
pub fn reference() -> Reference {
    let text = include_str!("../../tests/scipy/global_reference.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("reference JSON");
    let vec = |v: &serde_json::Value| -> Vec<f64> {
        let a = v.as_array().expect("array");
        a.iter().map(|x| x.as_f64().expect("number")).collect()
    };
    let rows = |v: &serde_json::Value| -> Vec<Vec<f64>> {
        v.as_array().expect("rows").iter().map(vec).collect()
    };
    Reference {
        x: rows(&v["x"]),
        y: rows(&v["y"]),
        sigma1: vec(&v["sigma1"]),
        p0: vec(&v["p0"]),
        popt: vec(&v["popt"]),
        pcov: rows(&v["pcov"]),
    }
}

/// How one dataset is read and where its passes run.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// Its backend.
    pub backend: Backend,
    /// Points per chunk: the chunked route (in-memory data) or the streamed one (a source).
    pub chunk_points: Option<usize>,
    /// Given as a data source instead of slices.
    pub source: bool,
}

impl Setup {
    /// In memory on `backend`.
    pub fn memory(backend: Backend) -> Self {
        Setup {
            backend,
            chunk_points: None,
            source: false,
        }
    }
}

/// The global fit of the reference data, each dataset as `setups` says, with `loss`.
pub fn fit_global(r: &Reference, setups: [Setup; 3], loss: Option<(Loss, f64)>) -> FitResult {
    let decay = ExprModel::parse(DECAY).expect("decay");
    let rise = ExprModel::parse(RISE).expect("rise");
    let p0: [Vec<f64>; 3] = [
        vec![r.p0[0], r.p0[1], r.p0[2]],
        vec![r.p0[3], r.p0[1], r.p0[4]],
        vec![r.p0[5], r.p0[1]],
    ];
    let mut sources: Vec<SliceSource<'_>> = (0..3)
        .map(|i| {
            let s = SliceSource::new(vec![r.x[i].as_slice()], &r.y[i]);
            if i == 1 { s.with_sigma(&r.sigma1) } else { s }
        })
        .collect();
    let mut fit = GlobalFit::new().shared(["k"]).method(nlsq::Method::Trf);
    if let Some((l, f)) = loss {
        fit = fit.loss(l).f_scale(f);
    }
    for (i, source) in sources.iter_mut().enumerate() {
        let model: &dyn nlsq::Model = if i == 2 { &rise } else { &decay };
        let setup = setups[i];
        let mut d = if setup.source {
            Dataset::from_source(model, source)
        } else {
            let d = Dataset::new(model, &r.x[i], &r.y[i]);
            if i == 1 { d.sigma(&r.sigma1) } else { d }
        };
        d = d.p0(p0[i].clone()).backend(setup.backend);
        if let Some(c) = setup.chunk_points {
            d = d.chunk_points(c);
        }
        fit = fit.dataset(d);
    }
    fit.fit().expect("global fit")
}

/// The concatenated problem fitted as one dataset, with `loss`.
pub fn fit_concatenated(r: &Reference, loss: Option<(Loss, f64)>) -> FitResult {
    let model = ExprModel::parse(CONCATENATED).expect("concatenated");
    let names = model.param_names().join(",");
    assert_eq!(names, "a0,k,c0,a1,c1,b2");
    let x: Vec<f64> = r.x.concat();
    let ind: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            (0..3)
                .flat_map(|j| std::iter::repeat_n(f64::from(u8::from(i == j)), r.x[j].len()))
                .collect()
        })
        .collect();
    let y: Vec<f64> = r.y.concat();
    let sigma: Vec<f64> = [
        vec![1.0; r.x[0].len()],
        r.sigma1.clone(),
        vec![1.0; r.x[2].len()],
    ]
    .concat();
    let mut fit = CurveFit::new(&model)
        .p0(r.p0.clone())
        .sigma(&sigma)
        .method(nlsq::Method::Trf);
    if let Some((l, f)) = loss {
        fit = fit.loss(l).f_scale(f);
    }
    let columns = [x.as_slice(), &ind[0], &ind[1], &ind[2]];
    fit.fit(&columns, &y).expect("concatenated fit")
}

/// The largest relative difference of the parameters and of the covariance entries.
pub fn differences(got: &FitResult, popt: &[f64], pcov: &[Vec<f64>]) -> (f64, f64) {
    let dp = got
        .popt
        .iter()
        .zip(popt)
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0, f64::max);
    let dc = got
        .pcov
        .iter()
        .flatten()
        .zip(pcov.iter().flatten())
        .map(|(a, b)| rel(*a, *b))
        .fold(0.0, f64::max);
    (dp, dc)
}

/// `got` equals `want` to `tol` in the parameters and `cov_tol` in the covariance.
pub fn assert_agree(
    what: &str,
    got: &FitResult,
    popt: &[f64],
    pcov: &[Vec<f64>],
    tol: f64,
    cov_tol: f64,
) {
    assert!(got.success, "{what}: {}", got.message);
    let (dp, dc) = differences(got, popt, pcov);
    eprintln!("{what}: popt within {dp:.1e}, pcov within {dc:.1e}");
    assert!(
        dp <= tol,
        "{what}: popt {:?} vs {popt:?} ({dp:e})",
        got.popt
    );
    assert!(dc <= cov_tol, "{what}: pcov differs by {dc:e}");
}

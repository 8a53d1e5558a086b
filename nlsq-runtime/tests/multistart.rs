//! Multi-start global search (`CurveFit::multistart`): the five data-fitting problems of Moré,
//! Garbow & Hillstrom (1981) with known global minima, started from 10·x0 and unbounded; the
//! K-vector pass against single passes; determinism; option errors.
//!
//! The certified minima are of `f = Σ r²`, twice the fit's `cost = ½ Σ r²`.

use nlsq_runtime::backend::CpuBackend;
use nlsq_runtime::solve::Objective;
use nlsq_runtime::{CurveFit, ExprModel, FitData, FitError, Loss, Method, MultiStart, NanPolicy};

/// One MGH problem: the model over its predictors, the data, x0 and the certified minimum of
/// `Σ r²`.
struct Problem {
    name: &'static str,
    model: ExprModel,
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    x0: Vec<f64>,
    f_min: f64,
}

fn model(expr: &str, params: &[&str]) -> ExprModel {
    ExprModel::parse_with_params(expr, params).unwrap()
}

/// Bard (MGH 8): `y = x1 + u / (v x2 + w x3)`, `u = i`, `v = 16 − i`, `w = min(u, v)`.
fn bard() -> Problem {
    let y = vec![
        0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39,
    ];
    let u: Vec<f64> = (1..=15).map(f64::from).collect();
    let v: Vec<f64> = u.iter().map(|u| 16.0 - u).collect();
    let w: Vec<f64> = u.iter().zip(&v).map(|(u, v)| u.min(*v)).collect();
    Problem {
        name: "Bard",
        model: model("p1 + x[0] / (x[1] * p2 + x[2] * p3)", &["p1", "p2", "p3"]),
        x: vec![u, v, w],
        y,
        x0: vec![1.0, 1.0, 1.0],
        f_min: 8.21487e-3,
    }
}

/// Kowalik and Osborne (MGH 15): `y = x1 (u² + u x2) / (u² + u x3 + x4)`.
fn kowalik_osborne() -> Problem {
    Problem {
        name: "Kowalik–Osborne",
        model: model(
            "p1 * (x * x + x * p2) / (x * x + x * p3 + p4)",
            &["p1", "p2", "p3", "p4"],
        ),
        x: vec![vec![
            4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625,
        ]],
        y: vec![
            0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246,
        ],
        x0: vec![0.25, 0.39, 0.415, 0.39],
        f_min: 3.07506e-4,
    }
}

/// Osborne 1 (MGH 17): `y = x1 + x2 e^(−t x4) + x3 e^(−t x5)`, `t = 10 (i − 1)`.
fn osborne1() -> Problem {
    let y = vec![
        0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685,
        0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448,
        0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406,
    ];
    Problem {
        name: "Osborne 1",
        model: model(
            "p1 + p2 * exp(-x * p4) + p3 * exp(-x * p5)",
            &["p1", "p2", "p3", "p4", "p5"],
        ),
        x: vec![(0..33).map(|i| 10.0 * f64::from(i)).collect()],
        y,
        x0: vec![0.5, 1.5, -1.0, 0.01, 0.02],
        f_min: 5.46489e-5,
    }
}

/// Osborne 2 (MGH 19): an exponential and three Gaussians, `t = (i − 1) / 10`.
fn osborne2() -> Problem {
    let y = vec![
        1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
        0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
        0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
        0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
        0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054,
    ];
    Problem {
        name: "Osborne 2",
        model: model(
            "p1 * exp(-x * p5) + p2 * exp(-pow(x - p9, 2) * p6) \
             + p3 * exp(-pow(x - p10, 2) * p7) + p4 * exp(-pow(x - p11, 2) * p8)",
            &[
                "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11",
            ],
        ),
        x: vec![(0..65).map(|i| f64::from(i) / 10.0).collect()],
        y,
        x0: vec![1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5],
        f_min: 4.01377e-2,
    }
}

/// Box three-dimensional (MGH 12, m = 10): `e^(−t x1) − e^(−t x2) − x3 (e^(−t) − e^(−10 t))`,
/// `t = 0.1 i`, all observations 0. Its minimum 0 is reached on a line (x1 = x2, x3 = 0) and
/// at (1, 10, 1) and (10, 1, −1): parameters are not unique.
fn box3d() -> Problem {
    Problem {
        name: "Box 3-D",
        model: model(
            "exp(-x * p1) - exp(-x * p2) - p3 * (exp(-x) - exp(-10 * x))",
            &["p1", "p2", "p3"],
        ),
        x: vec![(1..=10).map(|i| 0.1 * f64::from(i)).collect()],
        y: vec![0.0; 10],
        x0: vec![0.0, 10.0, 20.0],
        f_min: 0.0,
    }
}

fn problems() -> Vec<Problem> {
    vec![bard(), kowalik_osborne(), osborne1(), osborne2(), box3d()]
}

fn far_start(p: &Problem) -> Vec<f64> {
    p.x0.iter().map(|v| 10.0 * v).collect()
}

/// `Σ r²` of a fit: twice its cost.
fn sum_sq(fit: &nlsq_runtime::FitResult) -> f64 {
    2.0 * fit.cost
}

fn reaches(p: &Problem, f: f64) -> bool {
    if p.f_min == 0.0 {
        f < 1e-20
    } else {
        ((f - p.f_min) / p.f_min).abs() < 1e-5
    }
}

/// The search of every test: [`STARTS`] starts, seed 1, the default schedule.
fn search() -> MultiStart {
    MultiStart::new(STARTS).seed(1)
}

/// Starts of the MGH searches: Osborne 2 is reached from 128 (seeds 0 to 7); 256 leave a margin.
const STARTS: usize = 256;

/// `Σ r²` of a single local fit from 10·x0 (∞ when it fails).
fn local_from_10_x0(p: &Problem) -> f64 {
    CurveFit::new(&p.model)
        .p0(far_start(p))
        .fit(&p.x, &p.y)
        .map(|fit| sum_sq(&fit))
        .unwrap_or(f64::INFINITY)
}

#[test]
fn multistart_reaches_the_global_minimum_of_mgh_problems_from_10_x0() {
    for p in problems() {
        let fit = CurveFit::new(&p.model)
            .p0(far_start(&p))
            .multistart(search())
            .fit(&p.x, &p.y)
            .unwrap();
        let f = sum_sq(&fit);
        let report = fit.search.as_ref().unwrap();
        eprintln!(
            "{}: Σr² = {f:.6e} (certified {:.6e}; local fit from 10·x0 {:.6e}); {} distinct \
             minima, {} K-passes, {} vectors",
            p.name,
            p.f_min,
            local_from_10_x0(&p),
            report.minima.len(),
            report.k_passes,
            report.vectors
        );
        assert!(
            reaches(&p, f),
            "{}: Σr² = {f:e}, want {:e}",
            p.name,
            p.f_min
        );
        // The result is the local fit from the best minimum found; the minima are sorted.
        assert!(fit.cost <= report.minima[0].cost * (1.0 + 1e-9) + 1e-30);
        assert!(report.minima.windows(2).all(|w| w[0].cost <= w[1].cost));
        assert_eq!(report.starts, STARTS);
        assert_eq!(
            report.minima.iter().map(|m| m.starts).sum::<usize>(),
            report.solves
        );
        if p.f_min > 0.0 {
            assert!(fit.status.converged() && report.minima[0].status.converged());
        }
    }
}

#[test]
fn a_single_local_fit_from_10_x0_misses_the_global_minimum() {
    // Bard ends at 17.4286, Kowalik–Osborne at 1.02734e-3 (MGH's values for 10·x0), Osborne 2
    // at 1.78981 and Box 3-D at 7.5589e-2; Osborne 1 is reached by a local fit.
    let missed: Vec<&str> = problems()
        .iter()
        .filter(|p| !reaches(p, local_from_10_x0(p)))
        .map(|p| p.name)
        .collect();
    assert_eq!(
        missed,
        ["Bard", "Kowalik–Osborne", "Osborne 2", "Box 3-D"],
        "{missed:?}"
    );
}

/// Data of `n` points for a decay model, with weights.
fn decay_data(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| i as f64 * 5.0 / n as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, x)| 2.0 * (-0.7 * x).exp() + 0.3 + 0.01 * ((i * 7919 % 13) as f64 - 6.0))
        .collect();
    let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64 * 0.1).collect();
    (x, y, s)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn the_k_vector_pass_equals_k_single_passes_bit_for_bit() {
    // 1 chunk (K vectors over the threads) and 9 chunks (chunks over the threads), every loss,
    // weighted: K = 1 and 9.
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    for n in [3_000, 33_000] {
        let (x, y, s) = decay_data(n);
        let data = FitData::new(vec![&x], &y, Some(&s), NanPolicy::Raise, 1).unwrap();
        let ps: Vec<Vec<f64>> = (0..9)
            .map(|k| vec![1.0 + 0.1 * k as f64, 0.5 + 0.05 * k as f64, 0.1 * k as f64])
            .collect();
        // One vector where the model overflows: counted as non-finite, cost +∞.
        let mut ps = ps;
        ps[4] = vec![1.0, -400.0, 0.0];
        for loss in Loss::ALL {
            let mut cpu = CpuBackend::new(&m, &data, loss, 0.2);
            for k in [1, 9] {
                let views: Vec<&[f64]> = ps[..k].iter().map(|p| p.as_slice()).collect();
                let many = cpu.passes(&views).unwrap();
                let costs = cpu.costs(&views).unwrap();
                for (j, p) in views.iter().enumerate() {
                    let one = cpu.pass(p).unwrap();
                    assert_eq!(many[j].cost.to_bits(), one.cost.to_bits(), "{loss} k={k}");
                    assert_eq!(bits(many[j].jtj.as_slice()), bits(one.jtj.as_slice()));
                    assert_eq!(
                        bits(many[j].gradient.as_slice()),
                        bits(one.gradient.as_slice())
                    );
                    assert_eq!(
                        (many[j].n_points, many[j].n_nonfinite),
                        (one.n_points, one.n_nonfinite)
                    );
                    let alone = cpu.costs(&[p]).unwrap()[0];
                    assert_eq!(costs[j].to_bits(), alone.to_bits());
                    // On the CPU, screening costs are the passes' costs.
                    assert_eq!(costs[j].to_bits(), one.cost.to_bits());
                }
            }
        }
    }
}

#[test]
fn a_k_vector_pass_longer_than_a_window_equals_single_passes() {
    // 9 chunks × 120 vectors: more (chunk, vector) items than one window holds.
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let (x, y, _) = decay_data(33_000);
    let data = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
    let k = nlsq_runtime::backend::WINDOW_ITEMS / 9 + 6;
    let ps: Vec<Vec<f64>> = (0..k)
        .map(|i| vec![1.0 + 0.01 * i as f64, 0.5, 0.2])
        .collect();
    let views: Vec<&[f64]> = ps.iter().map(|p| p.as_slice()).collect();
    let mut cpu = CpuBackend::new(&m, &data, Loss::Linear, 1.0);
    let many = cpu.passes(&views).unwrap();
    for (p, pass) in views.iter().zip(&many) {
        let one = cpu.pass(p).unwrap();
        assert_eq!(pass.cost.to_bits(), one.cost.to_bits());
        assert_eq!(bits(pass.jtj.as_slice()), bits(one.jtj.as_slice()));
        assert_eq!(
            bits(pass.gradient.as_slice()),
            bits(one.gradient.as_slice())
        );
    }
}

#[test]
fn a_search_is_deterministic_for_a_seed_and_respects_bounds() {
    let (x, y, s) = decay_data(3000);
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let (lo, hi) = ([0.5, 0.1, -1.0], [5.0, 3.0, 1.0]);
    let run = |seed: u32, loss: Loss| {
        CurveFit::new(&m)
            .p0([1.0, 1.0, 0.0])
            .bounds(lo, hi)
            .sigma(&s)
            .loss(loss)
            .multistart(MultiStart::new(24).seed(seed).refine(4))
            .fit(&x, &y)
            .unwrap()
    };
    for loss in [Loss::Linear, Loss::SoftL1, Loss::Cauchy] {
        let a = run(7, loss);
        let b = run(7, loss);
        assert_eq!(bits(&a.popt), bits(&b.popt), "{loss}");
        assert_eq!(a.search, b.search, "{loss}");
        let report = a.search.as_ref().unwrap();
        for m in &report.minima {
            for j in 0..3 {
                assert!(
                    lo[j] <= m.params[j] && m.params[j] <= hi[j],
                    "{:?}",
                    m.params
                );
            }
        }
        assert!((a.popt[1] - 0.7).abs() < 0.01, "{loss}: {:?}", a.popt);
    }
    // Another seed: other starts, the same minimum.
    let c = run(8, Loss::Linear);
    assert_ne!(c.search.as_ref().unwrap().vectors, 0);
    assert!((c.popt[1] - run(7, Loss::Linear).popt[1]).abs() < 1e-8);
}

#[test]
fn one_start_is_the_local_fit_from_p0() {
    let (x, y, _) = decay_data(500);
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let local = CurveFit::new(&m).p0([1.0, 1.0, 0.0]).fit(&x, &y).unwrap();
    let one = CurveFit::new(&m)
        .p0([1.0, 1.0, 0.0])
        .multistart(MultiStart::new(1))
        .fit(&x, &y)
        .unwrap();
    let report = one.search.as_ref().unwrap();
    assert_eq!((report.minima.len(), report.minima[0].start), (1, 0));
    assert!((one.popt[1] - local.popt[1]).abs() < 1e-10);
}

fn option_error(ms: MultiStart) -> String {
    let (x, y, _) = decay_data(100);
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    match CurveFit::new(&m).multistart(ms).fit(&x, &y) {
        Err(FitError::InvalidOption { option, reason }) => {
            assert_eq!(option, "multistart");
            reason
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_settings_are_invalid_options() {
    assert!(option_error(MultiStart::new(0)).contains("0 starts"));
    assert!(option_error(MultiStart::new(1 << 20)).contains("65536"));
    assert!(option_error(MultiStart::new(8).refine(0)).contains("refine"));
    assert!(option_error(MultiStart::new(8).refine(10_000)).contains("refine"));
    assert!(option_error(MultiStart::new(8).decades(f64::NAN)).contains("decades"));
    assert!(option_error(MultiStart::new(8).decades(-1.0)).contains("decades"));
    assert!(option_error(MultiStart::new(8).distinct_tol(0.0)).contains("distinct_tol"));
    // NaN bounds are refused before any search, as for every fit.
    let (x, y, _) = decay_data(100);
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let r = CurveFit::new(&m)
        .bounds([f64::NAN, 0.0, 0.0], [1.0, 1.0, 1.0])
        .multistart(MultiStart::new(8))
        .fit(&x, &y);
    assert!(matches!(r, Err(FitError::BadBounds { .. })), "{r:?}");
    // A search has no single solver state to checkpoint.
    let dir = std::env::temp_dir().join(format!("nlsq-multistart-{}", std::process::id()));
    let r = CurveFit::new(&m)
        .checkpoint(dir.join("c.ckpt"), nlsq_runtime::Every::Iterations(1))
        .multistart(MultiStart::new(8))
        .fit(&x, &y);
    assert!(
        matches!(&r, Err(FitError::InvalidOption { option, .. }) if option == "multistart"),
        "{r:?}"
    );
}

#[test]
fn the_search_works_with_dogbox_and_a_chunked_route() {
    // Chunked in-memory data goes through the chunked objective (one pass per vector): the
    // same search, the same minimum.
    let (x, y, _) = decay_data(9000);
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let fit = |chunk: Option<usize>| {
        let mut f = CurveFit::new(&m)
            .p0([1.0, 1.0, 0.0])
            .bounds([0.0, 0.0, -5.0], [10.0, 10.0, 5.0])
            .method(Method::Dogbox)
            .multistart(MultiStart::new(8).refine(2));
        if let Some(c) = chunk {
            f = f.chunk_points(c);
        }
        f.fit(&x, &y).unwrap()
    };
    let (a, b) = (fit(None), fit(Some(4096)));
    assert_eq!(bits(&a.popt), bits(&b.popt));
    assert_eq!(a.search, b.search);
}

#[test]
fn a_narrow_peak_far_from_p0_is_found_within_the_data() {
    // p0 puts the peak at 1000, far outside the data on [0, 10), and 30 times too wide: a
    // local fit only bends the baseline. The roles draw the centre within the data, the width
    // over its length scales, and solve the height and the offset at each start.
    let model = model(
        "amp * exp(-(x - mu) * (x - mu) / (2 * sigma * sigma)) + base",
        &["amp", "mu", "sigma", "base"],
    );
    let x: Vec<f64> = (0..500).map(|i| f64::from(i) * 0.02).collect();
    let truth = [3.0, 6.2, 0.1, 0.5];
    let y: Vec<f64> = x
        .iter()
        .map(|x| truth[0] * (-(x - truth[1]).powi(2) / (2.0 * truth[2].powi(2))).exp() + truth[3])
        .collect();
    let p0 = [1.0, 1000.0, 3.0, 0.0];
    let local = CurveFit::new(&model).p0(p0).fit(&x, &y).unwrap();
    assert!((local.popt[1] - truth[1]).abs() > 1.0, "{:?}", local.popt);
    let fit = CurveFit::new(&model)
        .p0(p0)
        .multistart(MultiStart::new(32).seed(1))
        .fit(&x, &y)
        .unwrap();
    for (got, want) in fit.popt.iter().zip(truth) {
        assert!((got.abs() - want).abs() < 1e-8, "{:?}", fit.popt);
    }
}

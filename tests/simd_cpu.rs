//! The CPU pass's vector paths: every instruction set gives the same bits, and the sums equal
//! a plain point-by-point accumulation.

use nlsq::backend::{CpuBackend, Simd, accumulate_point};
use nlsq::{FitData, Loss, Model, NanPolicy, model};
use nlsq_testkit::models::{Decay, Gaussian};

/// Two predictors, a branch on a compound condition, a logarithm and a call with no vector version (`sin`).
#[model]
fn mixed(x: [f64; 2], a: f64, b: f64, c: f64, d: f64) -> f64 {
    let s = if x[0] > 0.5 && x[1] < 0.7 || x[1] > 0.9 {
        a * x[0]
    } else {
        b * x[1]
    };
    s + c * (1.0 + x[1] * x[1]).ln() + d * (x[0] + x[1]).sin()
}

/// Eight parameters (the largest fixed-size path).
#[model]
fn two_peaks(x: f64, a: [f64; 2], m: [f64; 2], w: [f64; 2], c: f64, s: f64) -> f64 {
    let mut f = c + s * x;
    for i in 0..2 {
        let d = (x - m[i]) / w[i];
        f += a[i] * (-0.5 * d * d).exp();
    }
    f
}

/// A model that is NaN where `x < 0` (`ln` of a negative number).
#[model]
fn log_model(x: f64, a: f64, b: f64) -> f64 {
    a + b * x.ln()
}

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The reduction row by a plain loop over points (the reference).
fn reference<M: Model>(m: &M, data: &FitData<'_>, p: &[f64], loss: Loss) -> Vec<f64> {
    let np = p.len();
    let mut row = vec![0.0; nlsq::kernels_gen::kernels::abi::reduction_width(np)];
    let mut x = vec![0.0; data.n_inputs()];
    let mut g = vec![0.0; np];
    for i in 0..data.len() {
        data.point(i, &mut x);
        let f = m.eval_with_gradient(&x, p, &mut g);
        let w = data.weight(i);
        g.iter_mut().for_each(|v| *v *= w);
        accumulate_point(&mut row, (f - data.y[i]) * w, &mut g, loss, 0.7);
    }
    row
}

fn check<M: Model + Copy>(m: M, p: &[f64], domain: (f64, f64)) {
    let mut rnd = lcg(7);
    for n in [1, 7, 63, 64, 65, 130, 4096 + 13, 10_000] {
        let cols: Vec<Vec<f64>> = (0..m.n_inputs())
            .map(|_| {
                (0..n)
                    .map(|_| domain.0 + (domain.1 - domain.0) * rnd())
                    .collect()
            })
            .collect();
        let y: Vec<f64> = (0..n).map(|_| rnd() * 2.0).collect();
        let sigma: Vec<f64> = (0..n).map(|_| 0.5 + rnd()).collect();
        for weighted in [false, true] {
            let data = FitData::new(
                cols.iter().map(|c| &c[..]).collect(),
                &y,
                weighted.then_some(&sigma[..]),
                NanPolicy::Raise,
                m.n_inputs(),
            )
            .expect("valid data");
            for loss in Loss::ALL {
                let rows: Vec<(Simd, Vec<f64>)> = [Simd::Baseline, Simd::Avx2, Simd::Avx512]
                    .into_iter()
                    .map(|s| {
                        let b = CpuBackend::new(m, &data, loss, 0.7).with_simd(s);
                        (b.simd(), b.row(p))
                    })
                    .collect();
                let want = reference(&m, &data, p, loss);
                let name = m.name();
                for (simd, row) in &rows {
                    let bits = |r: &[f64]| r.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(row),
                        bits(&rows[0].1),
                        "{name} n={n} {loss} weighted={weighted}: {simd:?} differs from baseline"
                    );
                    for (k, (a, b)) in row.iter().zip(&want).enumerate() {
                        let scale = want.iter().map(|v| v.abs()).fold(0.0, f64::max);
                        assert!(
                            (a - b).abs() <= 1e-12 * scale.max(1e-300),
                            "{name} n={n} {loss} weighted={weighted} {simd:?}: entry {k}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_instruction_set_gives_the_same_bits_and_the_reference_sums() {
    println!(
        "this processor: {:?} (the others fall back where it lacks them)",
        Simd::Auto.resolve()
    );
    check(Decay, &[2.0, 1.3, 0.4], (0.0, 5.0));
    check(Gaussian, &[3.0, 0.4, 0.9], (-5.0, 5.0));
    check(Mixed, &[1.5, -0.7, 0.3, 0.2], (0.0, 1.0));
    check(
        TwoPeaks,
        &[1.0, 0.5, -1.0, 1.5, 0.6, 0.9, 0.1, 0.02],
        (-4.0, 4.0),
    );
}

#[test]
fn non_finite_points_are_skipped_and_counted_on_every_instruction_set() {
    let x: Vec<f64> = (0..1000).map(|i| i as f64 / 100.0 - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|x| 1.0 + 0.5 * (x.abs() + 1.0).ln()).collect();
    let data = FitData::new(vec![&x[..]], &y, None, NanPolicy::Raise, 1).expect("finite data");
    let p = [1.0, 0.5];
    let want = reference(&LogModel, &data, &p, Loss::Linear);
    let abi = nlsq::kernels_gen::kernels::abi::nonfinite_index(2);
    assert_eq!(want[abi], 101.0, "x <= 0 for 101 points");
    for s in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
        let row = CpuBackend::new(LogModel, &data, Loss::Linear, 1.0)
            .with_simd(s)
            .row(&p);
        assert_eq!(row[abi], 101.0, "{s:?}");
        for (a, b) in row.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{s:?}: {a} vs {b}"
            );
        }
    }
}

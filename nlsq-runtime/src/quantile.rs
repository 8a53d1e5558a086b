//! Quantiles of Student's t and the normal for the confidence intervals of a fit
//! (`summary.rs`) and its bands (`bands.rs`).

use std::cell::Cell;

/// The 0.975 quantile of the normal distribution.
pub(crate) const Z_975: f64 = 1.959_963_984_540_054;

/// The two-sided 95% quantile of a fit's intervals: Student's `t₀.₉₇₅(dof)` when the noise
/// variance is estimated from the residuals (relative sigma), the normal's 1.96 when sigma is
/// absolute (the variance is known, so nothing is estimated and `t` would over-cover:
/// 97.4% at 10 degrees of freedom, 99% at 5). `+∞` with no degrees of freedom either way.
pub(crate) fn quantile_95(dof: usize, absolute_sigma: bool) -> f64 {
    match (dof, absolute_sigma) {
        (0, _) => f64::INFINITY,
        (_, true) => Z_975,
        (_, false) => t_quantile_975(dof),
    }
}

/// The 0.975 quantile of Student's t with `dof` degrees of freedom (`+∞` for none), see
/// [`t_quantile_975_uncached`]; the last one computed on this thread is kept, since a loop
/// of fits usually asks for the same `dof` again (and Newton's steps cost a few percent of a
/// fit of a thousand points).
pub(crate) fn t_quantile_975(dof: usize) -> f64 {
    thread_local! {
        static LAST: Cell<(usize, f64)> = const { Cell::new((0, f64::INFINITY)) };
    }
    LAST.with(|last| {
        let (d, t) = last.get();
        if d == dof {
            return t;
        }
        let t = t_quantile_975_uncached(dof);
        last.set((dof, t));
        t
    })
}

/// The 0.975 quantile of Student's t with `dof` degrees of freedom (`+∞` for none): closed
/// forms for 1 and 2, the Cornish–Fisher expansion around the normal quantile for
/// `dof > 1000` (error below 1e-12 there), and in between Newton's method on the distribution
/// function from that expansion — a few evaluations instead of a generic inversion, which took
/// a noticeable share of a small fit.
fn t_quantile_975_uncached(dof: usize) -> f64 {
    use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};
    const P: f64 = 0.975;
    let v = dof as f64;
    match dof {
        0 => return f64::INFINITY,
        1 => return (std::f64::consts::PI * (P - 0.5)).tan(),
        2 => return (2.0 * P - 1.0) / (2.0 * P * (1.0 - P)).sqrt(),
        _ => {}
    }
    let z = 1.959_963_984_540_054_f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    let expansion = z
        + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v);
    if dof > 1000 {
        return expansion;
    }
    let Ok(dist) = StudentsT::new(0.0, 1.0, v) else {
        return f64::NAN;
    };
    // Quadratic convergence: once a step is below 1e-10 of t, the next error is far below
    // the distribution function's own rounding, so stop there.
    let mut t = expansion;
    for _ in 0..10 {
        let step = (dist.cdf(t) - P) / dist.pdf(t);
        if !step.is_finite() {
            break;
        }
        t -= step;
        if step.abs() <= 1e-10 * t {
            return t;
        }
    }
    dist.inverse_cdf(P)
}

#[cfg(test)]
mod tests {
    use super::t_quantile_975;

    #[test]
    fn t_quantiles_match_tables_and_the_expansion_joins_smoothly() {
        // Tables: t_0.975(1) = 12.7062, (10) = 2.2281, (30) = 2.0423, (1000) = 1.9623.
        for (dof, t) in [(1, 12.7062), (10, 2.2281), (30, 2.0423), (1000, 1.9623)] {
            assert!((t_quantile_975(dof) - t).abs() < 1e-4, "dof {dof}");
        }
        let (a, b) = (t_quantile_975(1000), t_quantile_975(1001));
        assert!(a > b && a - b < 1e-5);
        assert!((t_quantile_975(100_000_000) - 1.959963984540054).abs() < 1e-7);
    }

    #[test]
    fn t_quantiles_equal_the_generic_inversion() {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        for dof in 1..=1000 {
            let want = StudentsT::new(0.0, 1.0, dof as f64)
                .unwrap()
                .inverse_cdf(0.975);
            let got = t_quantile_975(dof);
            assert_eq!(
                got.to_bits(),
                t_quantile_975(dof).to_bits(),
                "dof {dof}, kept"
            );
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "dof {dof}: {got} vs {want}"
            );
        }
    }
}

//! Robust loss functions, with scipy's `least_squares` definitions and scaling.
//!
//! With `z = (r / f_scale)²`, each point contributes `f_scale² ρ(z)` to twice the cost, and its
//! Jacobian row and residual are rescaled so that `JᵀJ` is the Gauss–Newton matrix of the
//! robust cost and `Jᵀr` its gradient (see `kernels_gen::kernels::abi`). The device kernels
//! implement the same formulas; the codes match the kernel ABI.

use kernels_gen::kernels::abi;

/// The loss `ρ` applied to squared, scaled residuals.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Loss {
    /// `ρ(z) = z`: ordinary least squares.
    #[default]
    Linear,
    /// `ρ(z) = 2 (√(1 + z) − 1)`: a smooth approximation of the absolute value.
    SoftL1,
    /// `ρ(z) = z` for `z ≤ 1`, `2√z − 1` beyond.
    Huber,
    /// `ρ(z) = ln(1 + z)`: strongly down-weights outliers.
    Cauchy,
    /// `ρ(z) = atan(z)`: bounds each point's contribution.
    Arctan,
}

impl Loss {
    /// All losses.
    pub const ALL: [Loss; 5] = [
        Loss::Linear,
        Loss::SoftL1,
        Loss::Huber,
        Loss::Cauchy,
        Loss::Arctan,
    ];

    /// The code the kernels take (`abi::LOSS_*`).
    pub fn code(self) -> u32 {
        match self {
            Loss::Linear => abi::LOSS_LINEAR,
            Loss::SoftL1 => abi::LOSS_SOFT_L1,
            Loss::Huber => abi::LOSS_HUBER,
            Loss::Cauchy => abi::LOSS_CAUCHY,
            Loss::Arctan => abi::LOSS_ARCTAN,
        }
    }

    /// scipy's name for the loss.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Linear => "linear",
            Loss::SoftL1 => "soft_l1",
            Loss::Huber => "huber",
            Loss::Cauchy => "cauchy",
            Loss::Arctan => "arctan",
        }
    }

    /// `(ρ(z), ρ'(z), ρ''(z))` at `z ≥ 0`.
    #[inline]
    pub fn rho(self, z: f64) -> (f64, f64, f64) {
        match self {
            Loss::Linear => (z, 1.0, 0.0),
            Loss::SoftL1 => {
                let t = 1.0 + z;
                let st = t.sqrt();
                (2.0 * (st - 1.0), 1.0 / st, -0.5 / (st * t))
            }
            Loss::Huber if z <= 1.0 => (z, 1.0, 0.0),
            Loss::Huber => {
                let sz = z.sqrt();
                (2.0 * sz - 1.0, 1.0 / sz, -0.5 / (sz * z))
            }
            Loss::Cauchy => {
                let t = 1.0 + z;
                (z.ln_1p(), 1.0 / t, -1.0 / (t * t))
            }
            Loss::Arctan => {
                let t = 1.0 + z * z;
                (z.atan(), 1.0 / t, -2.0 * z / (t * t))
            }
        }
    }

    /// For residual `r`: `(f_scale² ρ(z), s, r')` where the Jacobian row is scaled by `s` and
    /// `r'` is the scaled residual (scipy's `scale_for_robust_loss_function`).
    #[inline]
    pub fn scale(self, f_scale: f64, r: f64) -> (f64, f64, f64) {
        if self == Loss::Linear {
            return (r * r, 1.0, r);
        }
        let z = (r / f_scale) * (r / f_scale);
        let (p0, p1, p2) = self.rho(z);
        let s = (p1 + 2.0 * p2 * z).max(f64::EPSILON).sqrt();
        (f_scale * f_scale * p0, s, r * p1 / s)
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Loss::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                format!("unknown loss `{s}` (expected linear, soft_l1, huber, cauchy or arctan)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_of_rho_match_finite_differences() {
        for loss in Loss::ALL {
            for z in [0.01, 0.3, 0.9, 1.5, 4.0, 30.0] {
                let h = 1e-6 * z;
                let (_, d1, d2) = loss.rho(z);
                let fd1 = (loss.rho(z + h).0 - loss.rho(z - h).0) / (2.0 * h);
                let fd2 = (loss.rho(z + h).1 - loss.rho(z - h).1) / (2.0 * h);
                assert!(
                    (d1 - fd1).abs() < 1e-6 * (1.0 + d1.abs()),
                    "{loss} rho' at {z}"
                );
                assert!(
                    (d2 - fd2).abs() < 1e-5 * (1.0 + d2.abs()),
                    "{loss} rho'' at {z}"
                );
            }
        }
    }

    #[test]
    fn scaled_gradient_is_the_gradient_of_the_robust_cost() {
        // d/dr [½ f² ρ((r/f)²)] = ρ'(z) r = s · r'
        for loss in Loss::ALL {
            for r in [-3.0, -0.2, 0.05, 0.7, 2.5] {
                let f = 0.8;
                let (_, s, rs) = loss.scale(f, r);
                let cost = |r: f64| 0.5 * loss.scale(f, r).0;
                let h = 1e-6;
                let fd = (cost(r + h) - cost(r - h)) / (2.0 * h);
                assert!((s * rs - fd).abs() < 1e-7, "{loss} at r = {r}");
            }
        }
    }
}

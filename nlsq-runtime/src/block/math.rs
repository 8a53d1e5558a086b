//! `exp` and `ln` without branches or library calls, so that a loop over lanes vectorizes.
//!
//! Both follow fdlibm (Sun Microsystems, 1993; the algorithms behind most system libraries):
//! reduce the argument with a two-part `ln 2` (Cody–Waite), then a short rational or
//! polynomial approximation with fdlibm's coefficients (given by their bits). Branches become selects; integer
//! conversions go through the bits of `1.5·2⁵²` (exact for the integers that occur), since
//! AVX2 has no vector conversion between `f64` and `i64`. Both stay below one ulp of error
//! (measured by the tests against the system library over millions of arguments), and treat
//! ±0, ±∞, NaN and subnormals as IEEE `exp`/`log` do.

/// `1.5·2⁵²`: adding it rounds to an integer held in the low bits of the sum.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// High part of `ln 2` (its last 21 bits are zero, so `k · LN2_HI` is exact).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// `ln 2 − LN2_HI`.
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const INV_LN2: f64 = std::f64::consts::LOG2_E;

/// The integer nearest `v` (|v| < 2⁵¹), as the float it is and as an `i64`.
#[inline(always)]
fn round_to_int(v: f64) -> (f64, i64) {
    let t = v + SHIFTER;
    let k = (t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    (t - SHIFTER, k)
}

/// `2ᵏ` for `-1022 <= k <= 1023`.
#[inline(always)]
fn pow2(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64) << 52)
}

/// `eˣ`, branch-free (fdlibm's `__ieee754_exp`): error below one ulp; overflows to `+∞`
/// above 709.78, underflows through the subnormals to `+0` below −745.13; NaN stays NaN.
///
/// ```
/// use nlsq_runtime::block::exp;
/// assert_eq!(exp(0.0), 1.0);
/// assert!((exp(1.0) - std::f64::consts::E).abs() <= f64::EPSILON * 2.0);
/// assert_eq!(exp(800.0), f64::INFINITY);
/// assert_eq!(exp(-800.0), 0.0);
/// ```
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Clamp so that 2^k stays representable as two factors (NaN stays NaN); the clamped
    // ends still overflow / underflow as they should.
    let (y, kf, k) = exp_reduced(x.clamp(-746.0, 710.0));
    // 2^k as 2^k1 · 2^k2, each factor normal, so that results in the subnormal range are
    // rounded once, by the last multiplication.
    let (_, k1) = round_to_int(kf * 0.5);
    let k2 = k.wrapping_sub(k1);
    y * pow2(k1) * pow2(k2)
}

/// [`exp`] before its scaling: `eˣ = y · 2ᵏ` with `x = k ln 2 + r`, `|r| ≤ ½ ln 2`, `y = eʳ`
/// (so `0.7 < y < 1.42`), and `k` as a float and as an integer (|x| ≤ 746).
#[inline(always)]
pub(super) fn exp_reduced(x: f64) -> (f64, f64, i64) {
    const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
    const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
    const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
    const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
    const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
    let (kf, k) = round_to_int(x * INV_LN2);
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    (y, kf, k)
}

/// `ln x`, branch-free (fdlibm's `__ieee754_log`): error below one ulp; `ln 0 = −∞`,
/// `ln x = NaN` for `x < 0`, `ln ∞ = ∞`, NaN stays NaN, subnormals are exact inputs.
///
/// ```
/// use nlsq_runtime::block::ln;
/// assert_eq!(ln(1.0), 0.0);
/// assert!((ln(std::f64::consts::E) - 1.0).abs() <= f64::EPSILON);
/// assert_eq!(ln(0.0), f64::NEG_INFINITY);
/// assert!(ln(-1.0).is_nan());
/// ```
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
    const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
    const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
    const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
    const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
    const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
    const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);
    const TWO54: f64 = 18_014_398_509_481_984.0;
    // Subnormals: scale into the normal range first.
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * TWO54 } else { x };
    let bits = xs.to_bits();
    let high = bits >> 32;
    let k0 = (high >> 20) as i64 - 1023 - if sub { 54 } else { 0 };
    // Split x = 2^k (1 + f) with sqrt(2)/2 < 1 + f < sqrt(2) (fdlibm's integer trick).
    let hm = high & 0x000f_ffff;
    let i = (hm + 0x95f64) & 0x10_0000;
    let m = f64::from_bits(((hm | (i ^ 0x3ff0_0000)) << 32) | (bits & 0xffff_ffff));
    let k = k0 + (i >> 20) as i64;
    let dk = f64::from_bits(SHIFTER.to_bits().wrapping_add(k as u64)) - SHIFTER;
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let v = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    if x > 0.0 && x < f64::INFINITY {
        v
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else {
        f64::NAN
    }
}

/// The error function `erf x`: `libm::erf` (the port of musl's, after fdlibm: below one ulp
/// of error), the one function the block code, the interpreter and the per-point code of a
/// model with `erf` all call, so they agree bit for bit. It is not branch-free: one call per
/// lane, like the `f64` methods other than [`exp`] and [`ln`].
///
/// ```
/// use nlsq_runtime::block::erf;
/// assert_eq!(erf(0.0), 0.0);
/// assert!((erf(1.0) - 0.842_700_792_949_714_9).abs() <= f64::EPSILON);
/// assert_eq!(erf(-7.0), -1.0);
/// ```
#[inline(always)]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// The complementary error function `erfc x = 1 − erf x`, computed directly (so it keeps its
/// digits in the tail, where `1 − erf x` cancels): `libm::erfc`, as the interpreter's; see
/// [`erf`].
///
/// ```
/// use nlsq_runtime::block::erfc;
/// assert_eq!(erfc(0.0), 1.0);
/// assert!((erfc(10.0) / 2.088_487_583_762_545e-45 - 1.0).abs() <= 4.0 * f64::EPSILON);
/// assert_eq!(erfc(-30.0), 2.0);
/// ```
#[inline(always)]
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite floats of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// A deterministic stream of uniform numbers in [0, 1).
    fn uniform(seed: u64) -> impl Iterator<Item = f64> {
        let mut s = seed;
        std::iter::from_fn(move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Some((s >> 11) as f64 / (1u64 << 53) as f64)
        })
    }

    /// Worst error against the system library; both are within half an ulp of the true
    /// value plus their own error, so the two differ by at most one ulp.
    fn worst(f: fn(f64) -> f64, reference: fn(f64) -> f64, xs: impl Iterator<Item = f64>) -> u64 {
        xs.map(|x| {
            let (a, b) = (f(x), reference(x));
            assert!(a.is_finite() == b.is_finite(), "x = {x:e}: {a:e} vs {b:e}");
            if b.is_finite() { ulps(a, b) } else { 0 }
        })
        .max()
        .unwrap_or(0)
    }

    #[test]
    fn exp_is_within_one_ulp_of_the_system_exp() {
        let wide = uniform(1)
            .take(400_000)
            .map(|u| -745.0 + u * (709.7 + 745.0));
        let near_zero = uniform(2).take(200_000).map(|u| (u - 0.5) * 2.0);
        let tiny = uniform(3).take(50_000).map(|u| (u - 0.5) * 1e-12);
        let subnormal = uniform(4).take(50_000).map(|u| -745.1 + u * 37.0);
        let w = worst(
            exp,
            f64::exp,
            wide.chain(near_zero).chain(tiny).chain(subnormal),
        );
        assert!(w <= 1, "exp: {w} ulps");
    }

    #[test]
    fn ln_is_within_one_ulp_of_the_system_ln() {
        let wide = uniform(5).take(400_000).map(|u| (u * 1400.0 - 700.0).exp());
        let near_one = uniform(6).take(200_000).map(|u| 0.5 + u * 1.5);
        let subnormal = uniform(7).take(50_000).map(|u| u * f64::MIN_POSITIVE);
        let w = worst(ln, f64::ln, wide.chain(near_one).chain(subnormal));
        assert!(w <= 1, "ln: {w} ulps");
    }

    #[test]
    fn special_values_follow_ieee() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(709.79), f64::INFINITY);
        assert_eq!(exp(709.78), 709.78f64.exp());
        assert_eq!(exp(-745.2), 0.0);
        assert_eq!(exp(-745.13), (-745.13f64).exp());
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1e-300).is_nan());
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::MAX), f64::MAX.ln());
        assert_eq!(ln(5e-324), 5e-324f64.ln());
    }
}

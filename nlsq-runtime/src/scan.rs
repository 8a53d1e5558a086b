//! Scans of the data, compiled for the widest vector instructions the processor has
//! ([`Simd`]): whether every value is finite, and sums. Each sums in the same order on every
//! instruction set (eight accumulators, lane `l` taking the values at `l mod 8`), so the
//! results are the same bits on all of them.

#![allow(clippy::needless_range_loop)]

use crate::block::Simd;

/// Values a chunk of the finiteness scan holds (a scan stops at the first chunk with a
/// non-finite value; inside a chunk it runs without an early exit, so that it vectorizes).
const FINITE_CHUNK: usize = 1024;

/// Whether every value of `v` is finite.
pub(crate) fn all_finite(v: &[f64]) -> bool {
    match Simd::Auto.resolve() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `resolve` chose AVX-512 only where the processor has AVX-512F, the only
        // feature the function enables.
        Simd::Avx512 => unsafe { all_finite_avx512(v) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX2.
        Simd::Avx2 => unsafe { all_finite_avx2(v) },
        _ => all_finite_body(v),
    }
}

/// `Σ f(v[i])`, in eight lanes (lane `l` adds `f(v[i])` for `i ≡ l mod 8` in order of `i`),
/// then the lanes in order.
pub(crate) fn lane_sum(v: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    match Simd::Auto.resolve() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `all_finite`.
        Simd::Avx512 => unsafe { lane_sum_avx512(v, f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `all_finite`.
        Simd::Avx2 => unsafe { lane_sum_avx2(v, f) },
        _ => lane_sum_body(v, f),
    }
}

#[inline(always)]
fn all_finite_body(v: &[f64]) -> bool {
    v.chunks(FINITE_CHUNK)
        .all(|c| c.iter().fold(true, |ok, x| ok & x.is_finite()))
}

#[inline(always)]
fn lane_sum_body(v: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    let mut acc = [0.0; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    for (a, x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += f(*x);
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn all_finite_avx512(v: &[f64]) -> bool {
    all_finite_body(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn all_finite_avx2(v: &[f64]) -> bool {
    all_finite_body(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn lane_sum_avx512(v: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    lane_sum_body(v, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lane_sum_avx2(v: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    lane_sum_body(v, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every instruction set the processor has gives the baseline's bits.
    #[test]
    fn same_results_on_every_instruction_set() {
        let v: Vec<f64> = (0..10_007)
            .map(|i| ((i * 7919) % 1013) as f64 * 1e-3 - 0.3)
            .collect();
        let base = lane_sum_body(&v, |x| x);
        let sq = lane_sum_body(&v, |x| (x - 0.25) * (x - 0.25));
        assert_eq!(lane_sum(&v, |x| x).to_bits(), base.to_bits());
        assert_eq!(
            lane_sum(&v, |x| (x - 0.25) * (x - 0.25)).to_bits(),
            sq.to_bits()
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2.
                let s = unsafe { lane_sum_avx2(&v, |x| (x - 0.25) * (x - 0.25)) };
                assert_eq!(s.to_bits(), sq.to_bits());
                assert!(unsafe { all_finite_avx2(&v) });
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the processor has AVX-512F.
                let s = unsafe { lane_sum_avx512(&v, |x| (x - 0.25) * (x - 0.25)) };
                assert_eq!(s.to_bits(), sq.to_bits());
                assert!(unsafe { all_finite_avx512(&v) });
            }
        }
        // By hand: lanes of 0..=16 (lane 0 gets 0, 8 and 16).
        let w: Vec<f64> = (0..17).map(f64::from).collect();
        assert_eq!(lane_sum(&w, |x| x), 136.0);
    }

    #[test]
    fn a_non_finite_value_anywhere_is_found() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in [0, 7, 1023, 1024, 5000, 9999] {
                let mut v = vec![1.0; 10_000];
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
            }
        }
        assert!(all_finite(&[]));
        assert!(all_finite(&[f64::MAX, f64::MIN, 5e-324]));
    }
}

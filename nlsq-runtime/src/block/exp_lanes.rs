//! [`exp`] over a whole block of lanes, with fewer operations where every result is a normal
//! number: the same bits.
//!
//! [`exp`] scales `y = eʳ` by `2ᵏ` in two multiplications by powers of two, so that results in
//! the subnormal range are rounded once; that takes a quarter of its operations. Where `eˣ` is
//! a normal number, `y · 2ᵏ` is exact, and adding `k` to the exponent bits of `y` gives the
//! same bits. [`exp_lanes`] does that in every lane, and redoes the block with [`exp`] when
//! some argument lies outside the range where it holds (or is NaN); a block below −746
//! throughout, where `exp` is `+0`, is filled with zeros instead (such blocks are common in
//! the tails of peaks, and the scaling's underflow is slow arithmetic on many processors).

#![allow(clippy::needless_range_loop)] // lane loops index the output and the argument

use super::BLOCK;
use super::loops::Lanes;
use super::math::{exp, exp_reduced};

/// Arguments whose `eˣ` is normal for every reduced value: `k ∈ [−1020, 1023]`, and with
/// `y ∈ (0.7, 1.42)` the exponent field of `y · 2ᵏ` stays in `[1, 2046]`.
const FAST_FROM: f64 = -707.0;
const FAST_TO: f64 = 709.0;
/// Below this [`exp`] clamps its argument and returns `+0`.
const ZERO_BELOW: f64 = -746.0;

/// `exp(arg(i))` into lane `i` of `out`, bit for bit [`exp`]'s. `arg` is the lane's
/// argument (an operand's lane, or an operation of operands' lanes fused into the loop); it
/// must give the same value each time it is called for a lane.
///
/// The test for arguments out of the fast range is one flag over the block, so that the
/// loop vectorizes; see the module's notes.
#[inline(always)]
pub(crate) fn exp_lanes(out: &mut Lanes, arg: impl Fn(usize) -> f64) {
    let mut outside = false;
    for i in 0..BLOCK {
        let x = arg(i);
        let (y, _, k) = exp_reduced(x);
        // k·2⁵² added to the bits of y (wrapping: out of range the lane is redone below).
        let bits = (y.to_bits() as i64).wrapping_add(k.wrapping_shl(52));
        out[i] = f64::from_bits(bits as u64);
        #[allow(clippy::manual_range_contains)] // no short circuit: the loop vectorizes
        let inside = (x >= FAST_FROM) & (x <= FAST_TO);
        outside |= !inside;
    }
    if outside {
        let all_zero = (0..BLOCK).fold(true, |z, i| z & (arg(i) < ZERO_BELOW));
        if all_zero {
            out.fill(0.0);
        } else {
            for i in 0..BLOCK {
                out[i] = exp(arg(i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exp_lanes` of blocks made of `f`'s values, against [`exp`] lane by lane.
    fn check(mut f: impl FnMut(usize) -> f64) {
        let a: Lanes = std::array::from_fn(&mut f);
        let mut v = [f64::NAN; BLOCK];
        exp_lanes(&mut v, |i| a[i]);
        for i in 0..BLOCK {
            assert_eq!(v[i].to_bits(), exp(a[i]).to_bits(), "exp({:e})", a[i]);
        }
    }

    #[test]
    fn same_bits_as_exp_across_the_whole_range() {
        // Blocks sweeping −800 … 800 (so some straddle every edge of the fast range).
        let mut x0 = -800.0;
        while x0 < 800.0 {
            check(|i| x0 + i as f64 * 1e-3 * std::f64::consts::PI);
            x0 += 0.0137;
        }
    }

    #[test]
    fn same_bits_at_the_edges_and_special_values() {
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            5e-324,
            -1e-300,
            FAST_FROM,
            FAST_FROM - 1e-9,
            FAST_TO,
            FAST_TO + 1e-9,
            709.78,
            709.79,
            710.0,
            1e6,
            -708.39,
            -708.4,
            -745.13,
            -745.2,
            ZERO_BELOW,
            ZERO_BELOW - 1e-9,
            -1e6,
            f64::MAX,
            f64::MIN,
        ];
        for s in specials {
            // One odd lane in a block of ordinary ones, and a block of it alone.
            check(|i| if i == 17 { s } else { -0.5 * i as f64 });
            check(|_| s);
        }
        // Blocks entirely below −746 (zeros), and mixed with the subnormal band.
        check(|i| -750.0 - i as f64);
        check(|i| -700.0 - i as f64 * 0.8);
    }
}

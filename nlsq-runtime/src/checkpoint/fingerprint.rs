//! Fingerprints of what a checkpoint must share with the fit that resumes it: the options that
//! change the iterates, and the data.

use super::bytes::Writer;
use crate::loss::Loss;
use crate::solve::{SolverOptions, XScale};

/// BLAKE3 of the solver options (tolerances, `max_nfev`, `x_scale`, bounds) together with the
/// loss and `f_scale`: a fit with other values takes other steps.
pub fn options_fingerprint(opts: &SolverOptions, loss: Loss, f_scale: f64) -> [u8; 32] {
    let mut w = Writer::default();
    for v in [opts.ftol, opts.xtol, opts.gtol] {
        w.f64(v);
    }
    w.u64(opts.max_nfev.map_or(u64::MAX, |n| n as u64));
    match &opts.x_scale {
        XScale::Fixed(s) => {
            w.u8(0);
            w.f64s(s);
        }
        XScale::Jac => w.u8(1),
    }
    w.f64s(&opts.lower);
    w.f64s(&opts.upper);
    let name = format!("{loss:?}");
    w.u64(name.len() as u64);
    w.bytes(name.as_bytes());
    w.f64(f_scale);
    *blake3::hash(&w.into_bytes()).as_bytes()
}

/// Incremental BLAKE3 of a fit's data, column by column (each length-prefixed, every value as
/// its exact bits).
///
/// Hashing runs at several GB/s on one core; it is only done for fits that write or resume a
/// checkpoint.
#[derive(Default)]
pub struct DataFingerprint {
    hasher: blake3::Hasher,
}

impl DataFingerprint {
    /// Adds one column (a predictor, `y`, weights, or a covariance matrix's entries).
    pub fn column(&mut self, values: &[f64]) -> &mut Self {
        self.hasher.update(&(values.len() as u64).to_le_bytes());
        let mut buf = [0u8; 8 * 1024];
        for chunk in values.chunks(1024) {
            for (k, v) in chunk.iter().enumerate() {
                buf[8 * k..8 * k + 8].copy_from_slice(&v.to_bits().to_le_bytes());
            }
            self.hasher.update(&buf[..8 * chunk.len()]);
        }
        self
    }

    /// The fingerprint.
    pub fn finish(&self) -> [u8; 32] {
        *self.hasher.finalize().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_see_every_value_and_the_column_boundaries() {
        let fp = |cols: &[&[f64]]| {
            let mut h = DataFingerprint::default();
            for c in cols {
                h.column(c);
            }
            h.finish()
        };
        let a = fp(&[&[1.0, 2.0], &[3.0]]);
        assert_eq!(a, fp(&[&[1.0, 2.0], &[3.0]]));
        assert_ne!(a, fp(&[&[1.0], &[2.0, 3.0]]));
        assert_ne!(a, fp(&[&[1.0, 2.0], &[3.0000000000000004]]));
        let big: Vec<f64> = (0..3000).map(f64::from).collect();
        let mut other = big.clone();
        other[2999] = -0.0;
        assert_ne!(fp(&[&big]), fp(&[&other]));

        let o = SolverOptions::default();
        let f = options_fingerprint(&o, Loss::Linear, 1.0);
        assert_eq!(f, options_fingerprint(&o.clone(), Loss::Linear, 1.0));
        assert_ne!(f, options_fingerprint(&o, Loss::Huber, 1.0));
        assert_ne!(f, options_fingerprint(&o, Loss::Linear, 2.0));
        let tighter = SolverOptions { ftol: 1e-9, ..o };
        assert_ne!(f, options_fingerprint(&tighter, Loss::Linear, 1.0));
    }
}

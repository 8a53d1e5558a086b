//! An evenly spaced subsample of a source's points, in one pass: for automatic starting values
//! and for plots of data of any size.

use nlsq::FitError;
use nlsq::stream::{Chunk, DataSource};

/// Points in memory: predictor columns, observations, optional sigma.
#[derive(Clone, Debug, Default)]
pub struct Points {
    /// Predictor columns.
    pub x: Vec<Vec<f64>>,
    /// Observations.
    pub y: Vec<f64>,
    /// Standard deviations.
    pub sigma: Option<Vec<f64>>,
}

impl Points {
    fn keep_every_other(&mut self) {
        let half = |v: &mut Vec<f64>| {
            let kept: Vec<f64> = v.iter().step_by(2).copied().collect();
            *v = kept;
        };
        self.x.iter_mut().for_each(half);
        half(&mut self.y);
        if let Some(s) = self.sigma.as_mut() {
            half(s);
        }
    }

    fn push(&mut self, c: &Chunk, i: usize) {
        for (col, src) in self.x.iter_mut().zip(&c.x) {
            col.push(src[i]);
        }
        self.y.push(c.y[i]);
        if let (Some(s), Some(src)) = (self.sigma.as_mut(), c.sigma.as_ref()) {
            s.push(src[i]);
        }
    }
}

/// At most `limit` points of `source` (at least 2), every `2^k`-th point for the smallest `k`
/// that fits, from the start of the data; the source is rewound before and after.
pub fn sample(source: &mut dyn DataSource, limit: usize) -> Result<Points, FitError> {
    let limit = limit.max(2);
    let mut out = Points {
        x: vec![Vec::new(); source.n_inputs()],
        y: Vec::new(),
        sigma: source.has_sigma().then(Vec::new),
    };
    let mut stride = 1u64;
    let mut index = 0u64;
    let mut chunk = Chunk::empty(source.n_inputs(), source.has_sigma());
    source.rewind()?;
    while source.next_chunk(&mut chunk, 1 << 16)? {
        for i in 0..chunk.y.len() {
            if index.is_multiple_of(stride) {
                out.push(&chunk, i);
                if out.y.len() >= limit {
                    out.keep_every_other();
                    stride *= 2;
                }
            }
            index += 1;
        }
    }
    source.rewind()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nlsq::stream::SliceSource;

    #[test]
    fn evenly_spaced() {
        let x: Vec<f64> = (0..1000).map(f64::from).collect();
        let mut s = SliceSource::new(vec![&x[..]], &x);
        let p = sample(&mut s, 100).unwrap();
        assert!(p.y.len() < 100 && p.y.len() >= 50, "{}", p.y.len());
        let step = p.y[1] - p.y[0];
        assert!(p.y.windows(2).all(|w| w[1] - w[0] == step));
        assert_eq!(p.x[0], p.y);
        let p = sample(&mut s, 5000).unwrap();
        assert_eq!(p.y, x);
    }
}

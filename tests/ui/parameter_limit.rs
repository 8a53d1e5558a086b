use nlsq::model;

// At most kernels_gen::parse::MAX_PARAMS flattened parameters.
#[model]
fn wide(x: f64, c: [f64; 1000], d: [f64; 100]) -> f64 {
    c[0] * x + d[0]
}

fn main() {}

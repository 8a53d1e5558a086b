use nlsq::model;

// Nesting is bounded before the body is parsed (see kernels_gen::parse::MAX_NESTING).
#[model]
fn deep(x: f64, a: f64) -> f64 {
    f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(f64::abs(a * x))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
}

fn main() {}

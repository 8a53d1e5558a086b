use nlsq::model;

#[model]
fn generic<T>(x: f64, a: f64) -> f64 {
    a * x
}

fn main() {}

use nlsq::model;

#[model]
fn single(x: f64, a: f32) -> f64 {
    x * a as f64
}

fn main() {}

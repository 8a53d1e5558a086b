use nlsq::model;

#[model]
fn fixed(x: f64) -> f64 {
    2.0 * x
}

fn main() {}

use nlsq::model;

#[model]
fn periodic(x: f64, a: f64) -> f64 {
    x % a
}

fn main() {}

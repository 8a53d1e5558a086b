use nlsq::model;

#[model]
fn with_closure(x: f64, a: f64) -> f64 {
    let f = |t: f64| a * t;
    f(x)
}

fn main() {}

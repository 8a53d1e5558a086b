use nlsq::model;

fn helper(t: f64) -> f64 {
    t * t
}

#[model]
fn calls_helper(x: f64, a: f64) -> f64 {
    a * helper(x)
}

fn main() {}

use nlsq::model;

#[model]
fn branches(x: f64, a: f64) -> f64 {
    match x > 0.0 {
        true => a * x,
        false => 0.0,
    }
}

fn main() {}

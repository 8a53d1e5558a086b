use nlsq::model;

#[model]
fn narrow(x: f64, a: f64) -> f32 {
    (a * x) as f32
}

fn main() {}

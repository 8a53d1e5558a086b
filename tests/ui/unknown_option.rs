use nlsq::model;

#[model(backend = cuda)]
fn decay(x: f64, a: f64) -> f64 {
    a * (-x).exp()
}

fn main() {}

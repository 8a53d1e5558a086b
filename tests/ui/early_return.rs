use nlsq::model;

#[model]
fn clipped(x: f64, a: f64) -> f64 {
    if x < 0.0 {
        return 0.0;
    }
    a * x
}

fn main() {}

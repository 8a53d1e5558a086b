use nlsq::model;

#[model]
fn over_values(x: f64, a: f64) -> f64 {
    let mut s = 0.0;
    for v in [1.0, 2.0, 4.0] {
        s += a * v * x;
    }
    s
}

fn main() {}

use nlsq::model;

#[model]
fn counting(x: f64, a: f64) -> f64 {
    let mut s = 0.0;
    while s < 3.0 {
        s += a;
    }
    s * x
}

fn main() {}

use nlsq::model;

#[model]
fn peaks(x: f64, c: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += c[i] * x;
    }
    s
}

fn main() {}

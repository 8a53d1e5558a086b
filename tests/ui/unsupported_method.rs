use nlsq::model;

#[model]
fn stepped(x: f64, a: f64) -> f64 {
    a * x.floor()
}

fn main() {}

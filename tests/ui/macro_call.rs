use nlsq::model;

#[model]
fn chatty(x: f64, a: f64) -> f64 {
    println!("evaluating");
    a * x
}

fn main() {}

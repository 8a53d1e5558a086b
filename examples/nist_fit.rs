//! Fits a NIST StRD problem and prints certified against fitted values.
//!
//! ```sh
//! cargo run --release --example nist_fit            # Thurber
//! cargo run --release --example nist_fit -- MGH09  # any of the 27 problems
//! ```

use nlsq::{CurveFit, Method};
use nlsq_testkit::{corpus, nist};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "Thurber".into());
    let Some(&name) = nist::NAMES.iter().find(|n| n.eq_ignore_ascii_case(&name)) else {
        return Err(format!(
            "unknown problem `{name}`; one of {}",
            nist::NAMES.join(", ")
        )
        .into());
    };
    let problem = nist::load(name);
    let (model, _) = corpus::lookup(&problem.model_fn).ok_or("model missing")?;
    for (s, start) in problem.starts.iter().enumerate() {
        let fit = CurveFit::new(model)
            .p0(start.clone())
            .method(Method::Lm)
            .tol(1e-15)
            .fit(&problem.x, &problem.y)?;
        println!(
            "{name}, start {}: {} passes, {}",
            s + 1,
            fit.nfev,
            fit.message
        );
        println!(
            "{:<6} {:>22} {:>22} {:>6}",
            "param", "certified", "fitted", "LRE"
        );
        for j in 0..fit.popt.len() {
            let lre = nist::lre(&fit.popt[j..=j], &problem.certified[j..=j]);
            println!(
                "{:<6} {:>22.10e} {:>22.10e} {:>6.1}",
                fit.param_names[j], problem.certified[j], fit.popt[j], lre
            );
        }
        println!(
            "residual sum of squares: certified {:.10e}, fitted {:.10e}\n",
            problem.rss, fit.chi2
        );
    }
    Ok(())
}

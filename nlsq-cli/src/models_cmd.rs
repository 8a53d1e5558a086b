//! `nlsq models`: the model library, each with its formula, parameters, how its p0 is
//! estimated and the range in which that is measured to work.

use crate::cli::ModelsArgs;
use crate::error::{CliError, EXIT_OK};
use nlsq::library::{self, LibraryModel};

/// Runs `nlsq models`.
pub fn run(args: &ModelsArgs) -> Result<u8, CliError> {
    let models = match &args.name {
        Some(n) => vec![library::get(n).map_err(|e| CliError::Model(e.to_string()))?],
        None => library::models(),
    };
    if args.json {
        let v: Vec<serde_json::Value> = models.iter().map(json).collect();
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| CliError::usage(format!("cannot serialize: {e}")))?;
        println!("{text}");
        return Ok(EXIT_OK);
    }
    for (i, m) in models.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", text(m));
    }
    if args.name.is_none() {
        println!(
            "\npolynomialN (or polyN) takes any degree N up to {}; sum models with prefixes: \
             --model \"gaussian:g1 + gaussian:g2 + linear\" (parameters g1_amp, ...).",
            library::MAX_POLYNOMIAL_DEGREE
        );
    }
    Ok(EXIT_OK)
}

fn text(m: &LibraryModel) -> String {
    format!(
        "{}: {}\n  formula:    {}\n  parameters: {}\n  predictors: {}\n  p0:         {}\n  range:      {}\n",
        m.name(),
        m.description(),
        m.expr(),
        m.param_names().join(", "),
        m.n_inputs(),
        m.p0_method(),
        m.valid_range()
    )
}

fn json(m: &LibraryModel) -> serde_json::Value {
    serde_json::json!({
        "name": m.name(),
        "description": m.description(),
        "formula": m.expr(),
        "parameters": m.param_names(),
        "predictors": m.n_inputs(),
        "p0_method": m.p0_method(),
        "valid_range": m.valid_range(),
    })
}

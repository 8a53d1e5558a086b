//! From the `--model` text to a model: a library model, a sum of them, or an expression.

use crate::error::CliError;
use nlsq::ExprModel;

/// The model of a command.
pub struct ModelChoice {
    /// The compiled model.
    pub model: ExprModel,
    /// Its parameters, in order.
    pub names: Vec<String>,
}

/// Compiles the `--model` text.
pub fn resolve(spec: &str) -> Result<ModelChoice, CliError> {
    let model = ExprModel::parse(spec).map_err(|e| CliError::Model(e.to_string()))?;
    let names = nlsq::Model::param_names(&model)
        .into_iter()
        .map(String::from)
        .collect();
    Ok(ModelChoice { model, names })
}

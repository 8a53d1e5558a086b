//! `--plot FILE.png|.svg`: the data, the fitted curve with its 95% confidence band, the
//! residuals below, and the parameter table beside them (plotters; text in DejaVu Sans,
//! embedded, so no system font is needed).
//!
//! One predictor: y against x, the curve on a 400-point grid. Several predictors: observed
//! against fitted values, with the identity line. Data of any size are drawn from an evenly
//! spaced subsample of at most [`MAX_POINTS`] points.

use crate::error::CliError;
use crate::sample::{Points, sample};
use nlsq::stream::DataSource;
use nlsq::{Bands, FitResult, Model};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Most data points drawn.
pub const MAX_POINTS: usize = 5000;
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 800;
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Draws the plot to `path` (`.png` or `.svg`).
pub fn write(
    path: &Path,
    model: &dyn Model,
    fit: &FitResult,
    source: &mut dyn DataSource,
    labels: &Labels,
) -> Result<(), CliError> {
    let points = sample(source, MAX_POINTS)?;
    let name = path.display().to_string();
    let err = |e: &dyn std::fmt::Display| CliError::Plot {
        path: name.clone(),
        message: e.to_string(),
    };
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| err(&"the embedded font is invalid"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let figure = Figure::new(model, fit, &points, labels)?;
    match ext.as_deref() {
        Some("png") => {
            let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            figure.draw(&root).map_err(|e| err(&e))?;
            root.present().map_err(|e| err(&e))
        }
        Some("svg") => {
            let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            figure.draw(&root).map_err(|e| err(&e))?;
            root.present().map_err(|e| err(&e))
        }
        _ => Err(err(&"use a .png or .svg file name")),
    }
}

/// The names on a plot.
pub struct Labels {
    /// The model as the user gave it.
    pub model: String,
    /// Predictor names.
    pub x: Vec<String>,
    /// Observation name.
    pub y: String,
}

/// What is drawn, computed before drawing.
struct Figure {
    /// Data: (abscissa, y), abscissa x or the fitted value.
    data: Vec<(f64, f64)>,
    /// Residuals at the data: (abscissa, y − f).
    residuals: Vec<(f64, f64)>,
    /// The curve: (abscissa, f, lower, upper).
    curve: Vec<(f64, f64, f64, f64)>,
    x_label: String,
    y_label: String,
    table: Vec<String>,
}

impl Figure {
    fn new(
        model: &dyn Model,
        fit: &FitResult,
        p: &Points,
        labels: &Labels,
    ) -> Result<Self, CliError> {
        let mut band = Bands::new(model, fit).map_err(|e| CliError::usage(e.to_string()))?;
        let one = p.x.len() == 1;
        let mut x = vec![0.0; p.x.len()];
        let mut pts = Vec::with_capacity(p.y.len());
        let mut residuals = Vec::with_capacity(p.y.len());
        for i in 0..p.y.len() {
            for (k, c) in p.x.iter().enumerate() {
                x[k] = c[i];
            }
            let f = band.at(&x).value;
            let a = if one { x[0] } else { f };
            if a.is_finite() && p.y[i].is_finite() {
                pts.push((a, p.y[i]));
                residuals.push((a, p.y[i] - f));
            }
        }
        let curve = if one {
            grid(&pts)
                .into_iter()
                .map(|a| {
                    let b = band.at(&[a]);
                    (a, b.value, b.confidence.0, b.confidence.1)
                })
                .collect()
        } else {
            grid(&pts).into_iter().map(|a| (a, a, a, a)).collect()
        };
        Ok(Figure {
            data: pts,
            residuals,
            curve,
            x_label: match labels.x.as_slice() {
                [x] => x.clone(),
                _ => "fitted".into(),
            },
            y_label: labels.y.clone(),
            table: table(fit, &labels.model),
        })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (plots, side) = root.split_horizontally(WIDTH - 320);
        let (top, bottom) = plots.split_vertically(HEIGHT * 7 / 10);
        self.main_panel(&top).map_err(|e| e.to_string())?;
        self.residual_panel(&bottom).map_err(|e| e.to_string())?;
        let style = ("sans-serif", 16).into_font().color(&BLACK);
        for (i, line) in self.table.iter().enumerate() {
            side.draw(&Text::new(
                line.clone(),
                (10, 40 + 22 * i as i32),
                style.clone(),
            ))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The abscissa range both panels share: the data's and the curve's.
    fn x_range(&self) -> (f64, f64) {
        range(
            self.data
                .iter()
                .map(|p| p.0)
                .chain(self.curve.iter().map(|c| c.0)),
        )
    }

    fn main_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (x0, x1) = self.x_range();
        let finite = |v: f64| v.is_finite().then_some(v);
        let (y0, y1) = range(
            self.data.iter().map(|p| p.1).chain(
                self.curve
                    .iter()
                    .flat_map(|c| [Some(c.1), finite(c.2), finite(c.3)])
                    .flatten(),
            ),
        );
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .draw()?;
        let band: Vec<(f64, f64)> = self
            .curve
            .iter()
            .filter(|c| c.2.is_finite() && c.3.is_finite())
            .map(|c| (c.0, c.3))
            .chain(
                self.curve
                    .iter()
                    .rev()
                    .filter(|c| c.2.is_finite() && c.3.is_finite())
                    .map(|c| (c.0, c.2)),
            )
            .collect();
        if band.len() > 2 {
            chart.draw_series(std::iter::once(Polygon::new(band, RED.mix(0.2).filled())))?;
        }
        chart.draw_series(
            self.data
                .iter()
                .map(|&p| Circle::new(p, 2, BLUE.mix(0.6).filled())),
        )?;
        chart.draw_series(LineSeries::new(
            self.curve.iter().map(|c| (c.0, c.1)),
            RED.stroke_width(2),
        ))?;
        Ok(())
    }

    fn residual_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (x0, x1) = self.x_range();
        let (r0, r1) = range(self.residuals.iter().map(|p| p.1).chain([0.0]));
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, r0..r1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc("residual")
            .label_style(("sans-serif", 14))
            .draw()?;
        chart.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))?;
        chart.draw_series(
            self.residuals
                .iter()
                .map(|&p| Circle::new(p, 2, BLUE.mix(0.6).filled())),
        )?;
        Ok(())
    }
}

/// 400 evenly spaced abscissae from the smallest to the largest of the data.
fn grid(points: &[(f64, f64)]) -> Vec<f64> {
    let (a, b) = points
        .iter()
        .map(|p| p.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if a.partial_cmp(&b).is_none_or(|o| o.is_gt()) {
        return Vec::new();
    }
    (0..400).map(|i| a + (b - a) * i as f64 / 399.0).collect()
}

/// The finite range of `values`, widened by 5% (and to a unit range when empty or flat).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1.0)
    };
    (lo - pad, hi + pad)
}

/// The lines of the parameter table.
fn table(fit: &FitResult, model: &str) -> Vec<String> {
    let mut lines = vec![clip(model, 34), String::new()];
    for (j, name) in fit.param_names.iter().enumerate() {
        lines.push(format!("{name} = {:.6e}", fit.popt[j]));
        lines.push(match fit.param_kind(j) {
            nlsq::ParamKind::Fixed => "    (fixed)".to_string(),
            nlsq::ParamKind::Tied { expr } => {
                format!("    ± {:.3e} (= {})", fit.perr[j], clip(expr, 20))
            }
            nlsq::ParamKind::Free => format!("    ± {:.3e}", fit.perr[j]),
        });
    }
    lines.push(String::new());
    lines.push(format!("χ²/dof = {:.4e}", fit.reduced_chi2));
    lines.push(format!("R² = {:.6}", fit.r_squared));
    lines.push(format!("N = {}", fit.n_points));
    lines.push(format!(
        "{} ({})",
        if fit.success {
            "converged"
        } else {
            "NOT converged"
        },
        fit.method
    ));
    lines
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

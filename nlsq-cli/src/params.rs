//! Starting values and bounds by parameter name: `--p0 amp=1,mu=0` (or values in order,
//! `--p0 1,0`) and `--bounds amp=0:10,mu=:5` (an empty side is unbounded); fixed and tied
//! parameters, `--fix b=1.3` and `--tie 'a2=0.5*a1'`. With fixed or tied parameters, `--p0`
//! and `--bounds` are for the free parameters (in order: the free ones only).

use crate::error::CliError;
use nlsq::params::{Constraints, ParamMap, ParamRole};

/// Values given by name or in order, for the parameters `names`. `None` where not given.
pub fn assign(names: &[String], spec: &str, what: &str) -> Result<Vec<Option<String>>, CliError> {
    let mut out = vec![None; names.len()];
    let items: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let named = items.iter().any(|s| s.contains('='));
    if !named {
        if items.len() != names.len() {
            return Err(CliError::usage(format!(
                "{what}: {} values for {} parameters ({}); give all in order or use name=value",
                items.len(),
                names.len(),
                names.join(", ")
            )));
        }
        for (o, v) in out.iter_mut().zip(items) {
            *o = Some(v.to_string());
        }
        return Ok(out);
    }
    for item in items {
        let (name, value) = item.split_once('=').ok_or_else(|| {
            CliError::usage(format!(
                "{what}: `{item}` is not name=value (mixing both forms is not allowed)"
            ))
        })?;
        let name = name.trim();
        let j = names.iter().position(|n| n == name).ok_or_else(|| {
            CliError::usage(format!(
                "{what}: the model has no parameter `{name}`; its parameters are {}",
                names.join(", ")
            ))
        })?;
        if out[j].is_some() {
            return Err(CliError::usage(format!("{what}: `{name}` is given twice")));
        }
        out[j] = Some(value.trim().to_string());
    }
    Ok(out)
}

/// A number: a float, `inf`, `-inf`.
pub fn number(s: &str, what: &str) -> Result<f64, CliError> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| CliError::usage(format!("{what}: `{s}` is not a number")))
}

/// Starting values by name; `None` where not given.
pub fn p0(names: &[String], spec: Option<&str>) -> Result<Vec<Option<f64>>, CliError> {
    let Some(spec) = spec else {
        return Ok(vec![None; names.len()]);
    };
    assign(names, spec, "--p0")?
        .into_iter()
        .zip(names)
        .map(|(v, n)| {
            v.map(|v| {
                let x = number(&v, &format!("--p0 {n}"))?;
                if x.is_finite() {
                    Ok(x)
                } else {
                    Err(CliError::usage(format!("--p0 {n}: {x} is not finite")))
                }
            })
            .transpose()
        })
        .collect()
}

/// Lower and upper bounds (`±∞` where not given), from `lo:hi` per parameter.
pub fn bounds(names: &[String], spec: &str) -> Result<(Vec<f64>, Vec<f64>), CliError> {
    let mut lo = vec![f64::NEG_INFINITY; names.len()];
    let mut hi = vec![f64::INFINITY; names.len()];
    for (j, v) in assign(names, spec, "--bounds")?.into_iter().enumerate() {
        let Some(v) = v else { continue };
        (lo[j], hi[j]) = range(&v, &format!("--bounds {}", names[j]))?;
    }
    Ok((lo, hi))
}

/// One parameter's `lower:upper` (an empty side is unbounded), ordered.
pub fn range(v: &str, what: &str) -> Result<(f64, f64), CliError> {
    let (a, b) = v
        .split_once(':')
        .ok_or_else(|| CliError::usage(format!("{what}: `{v}` is not lower:upper")))?;
    let side = |s: &str, unbounded: f64| {
        if s.trim().is_empty() {
            Ok(unbounded)
        } else {
            number(s, what)
        }
    };
    let (lo, hi) = (side(a, f64::NEG_INFINITY)?, side(b, f64::INFINITY)?);
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        return Err(CliError::usage(format!(
            "{what}: the lower bound {lo} must be below the upper bound {hi}"
        )));
    }
    Ok((lo, hi))
}

/// The constraints of `--fix name=value[,name=value...]` and `--tie name=expr` (one tie per
/// option: expressions may hold commas).
pub fn constraints(fix: &[String], tie: &[String]) -> Result<Constraints, CliError> {
    let mut c = Constraints::new();
    for item in fix.iter().flat_map(|f| f.split(',')).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--fix: `{item}` is not name=value")))?;
        let name = name.trim();
        c = c.fix(name, number(value, &format!("--fix {name}"))?);
    }
    for item in tie {
        let (name, expr) = item
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--tie: `{item}` is not name=expression")))?;
        if expr.trim().is_empty() {
            return Err(CliError::usage(format!(
                "--tie: `{item}` has no expression"
            )));
        }
        c = c.tie(name.trim(), expr.trim());
    }
    Ok(c)
}

/// Refuses the `name=...` items of `spec` (of option `what`) that name a fixed or tied
/// parameter of `map`: starting values and bounds apply to free parameters only.
pub fn reject_non_free(spec: &str, what: &str, map: Option<&ParamMap>) -> Result<(), CliError> {
    let Some(map) = map else { return Ok(()) };
    for (name, _) in spec.split(',').filter_map(|item| item.split_once('=')) {
        let name = name.trim();
        let Some(k) = map.names().iter().position(|n| n == name) else {
            continue;
        };
        let role = &map.roles()[k];
        if *role != ParamRole::Free {
            return Err(CliError::usage(format!(
                "{what}: `{name}` is {}: {what} applies to free parameters only",
                role.label()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["amp", "mu", "s"].map(String::from).to_vec()
    }

    #[test]
    fn by_name_and_in_order() {
        assert_eq!(
            p0(&names(), Some("mu=0.5, amp=2")).unwrap(),
            [Some(2.0), Some(0.5), None]
        );
        assert_eq!(
            p0(&names(), Some("1,2,3")).unwrap(),
            [Some(1.0), Some(2.0), Some(3.0)]
        );
        let (lo, hi) = bounds(&names(), "amp=0:10,s=:5").unwrap();
        assert_eq!(lo, [0.0, f64::NEG_INFINITY, f64::NEG_INFINITY]);
        assert_eq!(hi, [10.0, f64::INFINITY, 5.0]);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = |r: Result<Vec<Option<f64>>, CliError>| r.unwrap_err().to_string();
        assert!(e(p0(&names(), Some("1,2"))).contains("2 values for 3"));
        assert!(e(p0(&names(), Some("b=1"))).contains("no parameter `b`"));
        assert!(e(p0(&names(), Some("amp=x"))).contains("not a number"));
        assert!(e(p0(&names(), Some("amp=inf"))).contains("not finite"));
        assert!(e(p0(&names(), Some("amp=1,amp=2"))).contains("twice"));
        let b = bounds(&names(), "amp=3:1").unwrap_err().to_string();
        assert!(b.contains("below"), "{b}");
        let b = bounds(&names(), "amp=3").unwrap_err().to_string();
        assert!(b.contains("lower:upper"), "{b}");
    }

    #[test]
    fn fixed_and_tied_options() {
        let fix = ["b=1.5,c=2".to_string(), "d = -1".to_string()];
        let tie = ["a2 = atan2(a1, 2)".to_string()];
        let c = constraints(&fix, &tie).unwrap();
        assert_eq!(
            c,
            Constraints::new()
                .fix("b", 1.5)
                .fix("c", 2.0)
                .fix("d", -1.0)
                .tie("a2", "atan2(a1, 2)")
        );
        let e = |f: &[&str], t: &[&str]| {
            let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
            constraints(&s(f), &s(t)).unwrap_err().to_string()
        };
        assert!(e(&["b"], &[]).contains("not name=value"));
        assert!(e(&["b=x"], &[]).contains("not a number"));
        assert!(e(&[], &["a2"]).contains("not name=expression"));
        assert!(e(&[], &["a2="]).contains("no expression"));
    }
}

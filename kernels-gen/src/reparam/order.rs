//! The order in which ties are resolved: every tie after the ties it refers to.

use super::error::ReparamError;

/// Orders the tied parameters (`deps[k]`: the tied parameters tie `k` refers to; `None` for a
/// parameter that is not tied) so that each comes after its dependencies, or finds a cycle.
/// Iterative depth-first search.
pub(crate) fn resolve_order(
    deps: &[Option<Vec<usize>>],
    names: &[String],
) -> Result<Vec<usize>, ReparamError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; deps.len()];
    let mut order = Vec::new();
    for start in (0..deps.len()).filter(|&k| deps[k].is_some()) {
        if mark[start] != Mark::New {
            continue;
        }
        // (parameter, next dependency to visit)
        let mut stack = vec![(start, 0usize)];
        mark[start] = Mark::Open;
        while let Some(top) = stack.last_mut() {
            let k = top.0;
            let ds = deps[k].as_deref().unwrap_or_default();
            if let Some(&d) = ds.get(top.1) {
                top.1 += 1;
                match mark[d] {
                    Mark::New => {
                        mark[d] = Mark::Open;
                        stack.push((d, 0));
                    }
                    Mark::Open => return Err(cycle(&stack, d, names)),
                    Mark::Done => {}
                }
            } else {
                mark[k] = Mark::Done;
                order.push(k);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// The circle through `back` on the search stack.
fn cycle(stack: &[(usize, usize)], back: usize, names: &[String]) -> ReparamError {
    let from = stack.iter().position(|&(k, _)| k == back).unwrap_or(0);
    let mut circle: Vec<String> = stack[from..]
        .iter()
        .map(|&(k, _)| names[k].clone())
        .collect();
    circle.push(names[back].clone());
    ReparamError::Cycle { names: circle }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i}")).collect()
    }

    #[test]
    fn chains_resolve_dependencies_first() {
        // p2 = f(p1), p1 = f(p0), p0 free
        let deps = [None, Some(vec![]), Some(vec![1])];
        assert_eq!(resolve_order(&deps, &names(3)).unwrap(), [1, 2]);
        let deps = [Some(vec![2]), None, Some(vec![])];
        assert_eq!(resolve_order(&deps, &names(3)).unwrap(), [2, 0]);
    }

    #[test]
    fn cycles_are_named() {
        let deps = [Some(vec![1]), Some(vec![2]), Some(vec![0]), None];
        let e = resolve_order(&deps, &names(4)).unwrap_err();
        assert_eq!(
            e,
            ReparamError::Cycle {
                names: ["p0", "p1", "p2", "p0"].map(String::from).to_vec()
            }
        );
    }
}

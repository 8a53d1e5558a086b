//! Resuming every solver from every iteration boundary gives the uninterrupted result, bit for
//! bit: the state holds everything the next iteration reads.

use super::super::test_problems::reference_case;
use super::super::{SolverOutput, solve_with};
use super::{Hooks, SolverState, StateSink};
use crate::error::FitError;
use crate::solve::Method;
use std::ops::ControlFlow;

/// Keeps every snapshot.
#[derive(Default)]
struct All(Vec<SolverState>);

impl StateSink for All {
    fn due(&mut self, _: usize) -> bool {
        true
    }
    fn put(&mut self, state: SolverState) {
        self.0.push(state);
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_same(a: &SolverOutput, b: &SolverOutput, what: &str) {
    assert_eq!(bits(&a.x), bits(&b.x), "{what}: x {:?} vs {:?}", a.x, b.x);
    assert_eq!(a.pass, b.pass, "{what}: pass");
    assert_eq!(
        (a.nfev, a.njev, a.nit, a.status),
        (b.nfev, b.njev, b.nit, b.status),
        "{what}: counters"
    );
    assert_eq!(a.active_mask, b.active_mask, "{what}: active mask");
    assert_eq!(a.optimality.to_bits(), b.optimality.to_bits(), "{what}");
}

/// Runs `case` uninterrupted, collecting every state and the callback's iterations, then
/// resumes from each state and checks the result and the iterations that follow.
fn check_resume(method: Method, case: &str) -> usize {
    let (mut obj, x0, opts) = reference_case(case);
    let mut sink = All::default();
    let mut seen = vec![];
    let mut cb = |i: &super::super::IterationInfo<'_>| {
        seen.push((i.iteration, i.nfev, i.cost.to_bits()));
        ControlFlow::Continue(())
    };
    let hooks = Hooks {
        callback: Some(&mut cb),
        resume: None,
        sink: Some(&mut sink),
    };
    let full = solve_with(method, obj.as_mut(), &x0, &opts, hooks).unwrap();
    assert!(!sink.0.is_empty(), "{case}: no snapshots");
    // One per iteration, except the last when a stopping rule ended it.
    let iterations: Vec<usize> = sink.0.iter().map(SolverState::iteration).collect();
    assert_eq!(
        iterations,
        (1..=iterations.len()).collect::<Vec<_>>(),
        "{case}"
    );
    assert!(
        full.nit - iterations.len() <= 1,
        "{case}: {} of {}",
        iterations.len(),
        full.nit
    );
    for state in &sink.0 {
        let k = state.iteration();
        let (mut fresh, _, _) = reference_case(case);
        let mut after = vec![];
        let mut cb = |i: &super::super::IterationInfo<'_>| {
            after.push((i.iteration, i.nfev, i.cost.to_bits()));
            ControlFlow::Continue(())
        };
        let hooks = Hooks {
            callback: Some(&mut cb),
            resume: Some(state.clone()),
            sink: None,
        };
        let resumed = solve_with(method, fresh.as_mut(), &x0, &opts, hooks).unwrap();
        assert_same(
            &resumed,
            &full,
            &format!("{case} resumed after iteration {k}"),
        );
        assert_eq!(after, seen[k..], "{case}: iterations after {k}");
    }
    sink.0.len()
}

#[test]
fn lm_resumes_bit_identically_from_every_iteration() {
    for case in ["rosenbrock", "misra1a_start1", "misra1a_start1_jac"] {
        let n = check_resume(Method::Lm, case);
        println!("lm {case}: {n} resumes");
    }
}

#[test]
fn trf_resumes_bit_identically_from_every_iteration() {
    for case in [
        "rosenbrock",
        "rosenbrock_bounded",
        "rosenbrock_scipy_doc",
        "expdecay_bounded",
        "expdecay_bounded_jac",
        "misra1a_start1_jac",
    ] {
        let n = check_resume(Method::Trf, case);
        println!("trf {case}: {n} resumes");
    }
}

#[test]
fn dogbox_resumes_bit_identically_from_every_iteration() {
    for case in [
        "rosenbrock",
        "rosenbrock_bounded",
        "rosenbrock_scipy_doc",
        "expdecay_bounded",
        "expdecay_bounded_jac",
    ] {
        let n = check_resume(Method::Dogbox, case);
        println!("dogbox {case}: {n} resumes");
    }
}

#[test]
fn a_state_of_another_method_or_size_is_refused() {
    let (mut obj, x0, opts) = reference_case("rosenbrock");
    let mut sink = All::default();
    let hooks = Hooks {
        sink: Some(&mut sink),
        ..Hooks::default()
    };
    solve_with(Method::Lm, obj.as_mut(), &x0, &opts, hooks).unwrap();
    let state = sink.0[0].clone();
    let hooks = Hooks {
        resume: Some(state.clone()),
        ..Hooks::default()
    };
    let err = solve_with(Method::Trf, obj.as_mut(), &x0, &opts, hooks).unwrap_err();
    assert!(matches!(err, FitError::InvalidOption { ref option, .. } if option == "resume"));

    let SolverState::Lm(mut short) = state else {
        panic!("an lm state")
    };
    short.diag.pop();
    let hooks = Hooks {
        resume: Some(SolverState::Lm(short)),
        ..Hooks::default()
    };
    let err = solve_with(Method::Lm, obj.as_mut(), &x0, &opts, hooks).unwrap_err();
    assert!(
        matches!(
            err,
            FitError::LengthMismatch {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
}

//! Comparator tests on hand-made observations.

use super::*;
use crate::observe::{Step, VarObs};

fn data(shape: &[usize], values: &[f64]) -> TensorData {
    TensorData {
        shape: shape.to_vec(),
        dtype: DType::F32,
        values: values.to_vec(),
    }
}

fn obs(values: &[f64]) -> TensorObs {
    TensorObs {
        data: data(&[values.len()], values),
        requires_grad: true,
        is_leaf: false,
        grad_fn: Some("AddBackward0".into()),
        grad: None,
        version: 0,
        retains_grad: false,
        is_view: false,
    }
}

fn step(seq: usize, vars: Vec<(&str, TensorObs)>) -> Step {
    Step {
        seq,
        stmt_index: seq,
        line: seq as u32 + 1,
        in_loop: false,
        error: None,
        expect: None,
        result: None,
        vars: vars
            .into_iter()
            .map(|(n, o)| VarObs {
                name: n.into(),
                obs: o,
            })
            .collect(),
        warnings: Vec::new(),
        graphs: Vec::new(),
    }
}

fn run(steps: Vec<Step>) -> Run {
    Run {
        backend: "t".into(),
        steps,
        ..Run::default()
    }
}

#[test]
fn identical_runs_agree_and_count_observables() {
    let r = run(vec![step(0, vec![("x", obs(&[1.0, 2.0]))])]);
    let (d, n) = compare_counted(&r, &r, Tol::default(), true);
    assert!(d.is_empty());
    // outcome + shape, dtype, values, requires_grad, is_leaf, grad_fn, grad, version,
    // retains_grad, is_view + warnings
    assert_eq!(n, 12);
}

#[test]
fn shape_is_reported_before_values_with_both_sides_named() {
    let mut o = obs(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    o.data.shape = vec![2, 3];
    let mut p = o.clone();
    p.data.shape = vec![3, 2];
    let e = run(vec![step(0, vec![("x", o)])]);
    let l = run(vec![step(0, vec![("x", p)])]);
    let d = compare(&e, &l, None, false);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].observable, "shape");
    assert_eq!(d[0].variable.as_deref(), Some("x"));
    assert_eq!(d[0].subject, "[2, 3]");
    assert_eq!(d[0].oracle, "[3, 2]");
    let sides = Labels::new(Some("engine 0.1.0 (cpu)"), "libtorch 2.13.0 (cpu)");
    let text = describe(&d[0], &sides);
    assert!(
        text.contains("- oracle libtorch 2.13.0 (cpu): [3, 2]")
            && text.contains("+ subject engine 0.1.0 (cpu):   [2, 3]"),
        "{text}"
    );
    // Sides of one backend are told apart by their roles.
    let same = Labels::new(Some("libtorch 2.13.0 (cpu)"), "libtorch 2.13.0 (cpu)");
    let text = describe(&d[0], &same);
    assert!(
        text.contains("- oracle libtorch 2.13.0 (cpu):  [3, 2]")
            && text.contains("+ subject libtorch 2.13.0 (cpu): [2, 3]")
            && !text.contains("engine"),
        "{text}"
    );
}

#[test]
fn values_use_dtype_tolerance_and_nan_equals_nan() {
    let e = run(vec![step(
        0,
        vec![("x", obs(&[1.0 + 5e-6, f64::NAN, f64::INFINITY]))],
    )]);
    let l = run(vec![step(
        0,
        vec![("x", obs(&[1.0, f64::NAN, f64::INFINITY]))],
    )]);
    assert!(compare(&e, &l, None, false).is_empty());
    let far = run(vec![step(
        0,
        vec![("x", obs(&[1.001, f64::NAN, f64::INFINITY]))],
    )]);
    let d = compare(&far, &l, None, false);
    assert_eq!(d[0].observable, "values");
    let inf = run(vec![step(
        0,
        vec![("x", obs(&[1.0, f64::NAN, f64::NEG_INFINITY]))],
    )]);
    assert_eq!(compare(&inf, &l, None, false)[0].observable, "values");
    // A case tolerance loosens it.
    let tol = Tolerance {
        rtol: 1e-2,
        atol: 0.0,
    };
    assert!(compare(&far, &l, Some(&tol), false).is_empty());
}

#[test]
fn flags_and_grads_are_compared_in_order() {
    let base = obs(&[1.0]);
    let mut e = base.clone();
    e.grad_fn = Some("MulBackward0".into());
    e.version = 3;
    let d = compare(
        &run(vec![step(0, vec![("y", e.clone())])]),
        &run(vec![step(0, vec![("y", base.clone())])]),
        None,
        true,
    );
    let kinds: Vec<_> = d.iter().map(|d| d.observable.as_str()).collect();
    assert_eq!(kinds, ["grad_fn", "version"]);
    let mut g = base.clone();
    g.grad = Some(data(&[1], &[2.0]));
    let d = compare(
        &run(vec![step(0, vec![("y", g.clone())])]),
        &run(vec![step(0, vec![("y", base.clone())])]),
        None,
        false,
    );
    assert_eq!(
        (d[0].observable.as_str(), d[0].variable.as_deref()),
        ("grad", Some("y.grad"))
    );
    assert_eq!(d[0].oracle, "None");
    let mut g2 = g.clone();
    g2.grad = Some(data(&[1], &[3.0]));
    let d = compare(
        &run(vec![step(0, vec![("y", g)])]),
        &run(vec![step(0, vec![("y", g2)])]),
        None,
        false,
    );
    assert_eq!(d[0].observable, "grad.values");
}

#[test]
fn outcomes_follow_the_three_way_classification() {
    let fail = |k| {
        let mut s = step(0, vec![]);
        s.error = Some(Failure::new(k, "m"));
        run(vec![s])
    };
    let ok = run(vec![step(0, vec![])]);
    assert!(
        compare(
            &fail(ErrorKind::LeafInplace),
            &fail(ErrorKind::LeafInplace),
            None,
            false
        )
        .is_empty()
    );
    let d = compare(
        &fail(ErrorKind::LeafInplace),
        &fail(ErrorKind::ViewOfLeafInplace),
        None,
        false,
    );
    assert_eq!(d[0].observable, "outcome");
    assert!(d[0].subject.contains("leaf_inplace") && d[0].oracle.contains("view_of_leaf_inplace"));
    assert_eq!(
        compare(&ok, &fail(ErrorKind::BackwardTwice), None, false)[0].observable,
        "outcome"
    );
    // Unclassified never agrees, not even with itself.
    assert!(
        !compare(
            &fail(ErrorKind::Unclassified),
            &fail(ErrorKind::Unclassified),
            None,
            false
        )
        .is_empty()
    );
}

#[test]
fn warnings_missing_variables_and_control_flow_diverge() {
    let mut w = step(0, vec![]);
    w.warnings = vec!["The .grad attribute of a Tensor that is not a leaf".into()];
    let d = compare(&run(vec![step(0, vec![])]), &run(vec![w]), None, false);
    assert_eq!(d[0].observable, "warnings");
    let d = compare(
        &run(vec![step(0, vec![])]),
        &run(vec![step(0, vec![("x", obs(&[1.0]))])]),
        None,
        false,
    );
    assert_eq!(
        (d[0].observable.as_str(), d[0].variable.as_deref()),
        ("presence", Some("x"))
    );
    let d = compare(
        &run(vec![step(0, vec![])]),
        &run(vec![step(0, vec![]), step(1, vec![])]),
        None,
        false,
    );
    assert_eq!(d[0].observable, "control_flow");
}

#[test]
fn only_the_first_divergence_without_all() {
    let e = run(vec![
        step(0, vec![("a", obs(&[1.0]))]),
        step(1, vec![("a", obs(&[2.0]))]),
    ]);
    let l = run(vec![
        step(0, vec![("a", obs(&[5.0]))]),
        step(1, vec![("a", obs(&[6.0]))]),
    ]);
    assert_eq!(compare(&e, &l, None, false).len(), 1);
    assert_eq!(compare(&e, &l, None, true).len(), 2);
}

#[test]
fn compacted_goldens_compare_by_summary() {
    let values: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
    let full = data(&[10, 100], &values);
    let c = compact(&full);
    assert!(is_compact(&c) && c.values.len() == COMPACT_SAMPLES + 4);
    assert!(diff_values(&full, &c, Tol::default()).is_none());
    let mut off = values.clone();
    off[500] += 1.0;
    let off = data(&[10, 100], &off);
    // Element 500 is a sample (16 samples of 1000 at multiples of 62.5 -> index 500 is one).
    assert!(diff_values(&off, &c, Tol::default()).is_some());
    let mut hidden = values.clone();
    hidden[1] += 10.0;
    assert!(
        diff_values(&data(&[10, 100], &hidden), &c, Tol::default()).is_some(),
        "the sum catches it"
    );
}

#[test]
fn partial_reference_runs_match_by_step_number() {
    let e = run(vec![
        step(0, vec![]),
        step(1, vec![("x", obs(&[1.0]))]),
        step(2, vec![]),
    ]);
    let mut l = run(vec![step(0, vec![]), step(2, vec![])]);
    l.partial = true;
    assert!(compare(&e, &l, None, true).is_empty());
}

#[test]
fn expectations_are_checked_on_both_sides() {
    let mut s = step(0, vec![]);
    s.expect = Some(ExpectedError {
        kind: "leaf_inplace".into(),
        message: Some("leaf Variable".into()),
    });
    let mut l = s.clone();
    l.error = Some(Failure::new(
        ErrorKind::LeafInplace,
        "a leaf Variable that requires grad ...",
    ));
    let lr = run(vec![l.clone()]);
    assert!(check_expectations(Some(&lr), &lr, false).is_empty());
    let er = run(vec![s]);
    let d = check_expectations(Some(&er), &lr, false);
    assert_eq!(d.len(), 1);
    assert!(d[0].subject.contains("does not meet"), "{}", d[0].subject);
    let mut wrong_msg = l;
    wrong_msg.error = Some(Failure::new(ErrorKind::LeafInplace, "other text"));
    assert!(!meets_expectation(&wrong_msg.error, &wrong_msg.expect));
}

#[test]
fn doc_claims_separate_drift_from_subject_divergence() {
    let claim = |expr: &str, y: &str| DocClaim {
        after: 1,
        file_line: 10,
        expr: expr.into(),
        expected: serde_yaml::from_str(y).unwrap(),
    };
    let claims = vec![
        claim("x.grad", "[[4.5, 4.5], [4.5, 4.5]]"),
        claim("y.grad_fn", "<ViewBackward object at 0x1>"),
        claim("raises", "backward_twice"),
    ];
    let mut t = obs(&[4.5, 4.5, 4.5, 4.50001]);
    t.data.shape = vec![2, 2];
    let probe = |v: Result<ObsValue, Failure>| Some(ProbeObs { seq: 0, value: v });
    let mut l = run(vec![step(0, vec![])]);
    l.probes = vec![
        probe(Ok(ObsValue::Tensor(Box::new(t.clone())))),
        probe(Ok(ObsValue::Str("ViewBackward0".into()))),
        probe(Err(Failure::new(ErrorKind::BackwardTwice, "m"))),
    ];
    let (checks, divs) = check_claims(&claims, Some(&l), &l, Tol::default());
    assert!(divs.is_empty());
    assert!(checks[0].oracle_agrees, "4-decimal document values match");
    assert!(
        !checks[1].oracle_agrees,
        "ViewBackward vs ViewBackward0 is drift"
    );
    assert!(checks[2].oracle_agrees);
    let mut e = l.clone();
    e.probes[1] = probe(Ok(ObsValue::Str("ViewBackward".into())));
    let (checks, divs) = check_claims(&claims, Some(&e), &l, Tol::default());
    assert!(checks[1].subject_agrees && !checks[1].oracle_agrees);
    assert_eq!(
        divs.len(),
        1,
        "the subject is judged against the oracle, not the document"
    );
}

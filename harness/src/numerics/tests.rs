//! The numerics rules on hand-made runs: subject `s`, float32 oracle `o`, float64 shadow `h`.

use super::*;
use crate::backend::TensorObs;
use crate::compare::{Tol, compare_judged};
use crate::observe::VarObs;

fn data(dtype: DType, values: &[f64]) -> TensorData {
    TensorData {
        shape: vec![values.len()],
        dtype,
        values: values.to_vec(),
    }
}

/// One step per line of `program`, binding `vars` (name, values) after it.
fn run(steps: &[&[(&str, TensorData)]]) -> Run {
    Run {
        steps: steps
            .iter()
            .enumerate()
            .map(|(i, vars)| Step {
                seq: i,
                stmt_index: i,
                line: i as u32 + 1,
                in_loop: false,
                error: None,
                expect: None,
                result: None,
                vars: vars
                    .iter()
                    .map(|(n, d)| VarObs {
                        name: n.to_string(),
                        obs: TensorObs {
                            data: d.clone(),
                            requires_grad: false,
                            is_leaf: true,
                            grad_fn: None,
                            grad: None,
                            version: 0,
                            retains_grad: false,
                            is_view: false,
                        },
                    })
                    .collect(),
                warnings: Vec::new(),
                graphs: Vec::new(),
            })
            .collect(),
        ..Run::default()
    }
}

/// Judges `s` against `o` with shadow `h`: (divergences, notes).
fn judge(program: &str, s: &Run, o: &Run, h: &Run) -> (usize, Vec<NumericsNote>) {
    let p = crate::program::parser::parse(program).unwrap();
    let mut j = Judge::new(h, &p);
    let (d, _) = compare_judged(s, o, Tol::new(None), false, Some(&mut j));
    (d.len(), j.notes)
}

const F: DType = DType::F32;

#[test]
fn a_difference_within_twice_the_oracles_own_error_is_numerics() {
    // The oracle is 3e-5 from the truth; the subject 5e-5 from the oracle.
    let s = run(&[&[("y", data(F, &[10.0 + 8e-5]))]]);
    let o = run(&[&[("y", data(F, &[10.0 + 3e-5]))]]);
    let h = run(&[&[("y", data(DType::F64, &[10.0]))]]);
    let (d, notes) = judge("y = x.exp()\n", &s, &o, &h);
    assert_eq!(d, 0);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].budget.is_finite() && notes[0].error <= notes[0].budget);
}

#[test]
fn a_difference_beyond_the_budget_diverges() {
    // The oracle is exact: nothing licenses the subject's 1e-3.
    let s = run(&[&[("y", data(F, &[10.01]))]]);
    let o = run(&[&[("y", data(F, &[10.0]))]]);
    let h = run(&[&[("y", data(DType::F64, &[10.0]))]]);
    assert_eq!(judge("y = x.exp()\n", &s, &o, &h).0, 1);
}

#[test]
fn a_truncating_cast_of_a_value_that_differs_by_rounding_is_numerics() {
    let prog = "x = a.sum()\nk = x.to(torch.int64)\n";
    let x = |v: f64| ("x", data(F, &[v]));
    let s = run(&[&[x(37.0)], &[x(37.0), ("k", data(DType::I64, &[37.0]))]]);
    let o = run(&[
        &[x(36.999996)],
        &[x(36.999996), ("k", data(DType::I64, &[36.0]))],
    ]);
    let h = run(&[
        &[("x", data(DType::F64, &[36.99999999]))],
        &[
            ("x", data(DType::F64, &[36.99999999])),
            ("k", data(DType::I64, &[36.0])),
        ],
    ]);
    let (d, notes) = judge(prog, &s, &o, &h);
    assert_eq!(d, 0, "{notes:?}");
    assert!(notes.iter().any(|n| n.why.contains("rounding flip")));
}

#[test]
fn a_cast_that_differs_with_equal_inputs_diverges() {
    let prog = "x = a.sum()\nk = x.to(torch.int64)\n";
    let x = ("x", data(F, &[36.5]));
    let s = run(&[
        std::slice::from_ref(&x),
        &[x.clone(), ("k", data(DType::I64, &[37.0]))],
    ]);
    let o = run(&[
        std::slice::from_ref(&x),
        &[x.clone(), ("k", data(DType::I64, &[36.0]))],
    ]);
    let h = run(&[
        &[("x", data(DType::F64, &[36.5]))],
        &[
            ("x", data(DType::F64, &[36.5])),
            ("k", data(DType::I64, &[36.0])),
        ],
    ]);
    assert_eq!(judge(prog, &s, &o, &h).0, 1);
}

#[test]
fn the_sign_of_zero_alone_does_not_license_an_infinity_of_the_other_sign() {
    // `x` differs only in the sign of a zero (equal as values), and in another element.
    let prog = "x = a.mm(b)\ny = x.reciprocal()\n";
    let xs = |z: f64| ("x", data(F, &[z, 2.0]));
    let s = run(&[
        &[xs(0.0)],
        &[xs(0.0), ("y", data(F, &[f64::INFINITY, 0.5]))],
    ]);
    let o = run(&[
        &[xs(-0.0)],
        &[xs(-0.0), ("y", data(F, &[f64::NEG_INFINITY, 0.5]))],
    ]);
    let h = run(&[
        &[("x", data(DType::F64, &[-0.0, 2.0]))],
        &[
            ("x", data(DType::F64, &[-0.0, 2.0])),
            ("y", data(DType::F64, &[f64::NEG_INFINITY, 0.5])),
        ],
    ]);
    assert_eq!(judge(prog, &s, &o, &h).0, 1);
}

#[test]
fn rounding_in_another_element_does_not_reach_an_elementwise_result() {
    let prog = "x = a.mm(b)\ny = x.reciprocal()\n";
    let s = run(&[
        &[("x", data(F, &[0.0, 2.0000002]))],
        &[
            ("x", data(F, &[0.0, 2.0000002])),
            ("y", data(F, &[f64::INFINITY, 0.5])),
        ],
    ]);
    let o = run(&[
        &[("x", data(F, &[-0.0, 2.0]))],
        &[
            ("x", data(F, &[-0.0, 2.0])),
            ("y", data(F, &[f64::NEG_INFINITY, 0.5])),
        ],
    ]);
    let h = run(&[
        &[("x", data(DType::F64, &[-0.0, 2.0]))],
        &[
            ("x", data(DType::F64, &[-0.0, 2.0])),
            ("y", data(DType::F64, &[f64::NEG_INFINITY, 0.5])),
        ],
    ]);
    assert_eq!(judge(prog, &s, &o, &h).0, 1);
}

#[test]
fn whatever_follows_a_rounding_flip_is_numerics() {
    let prog = "x = a.sum()\nk = x.to(torch.int64)\nz = k * 1000\n";
    let x = |v: f64| ("x", data(F, &[v]));
    let k = |v: f64| ("k", data(DType::I64, &[v]));
    let z = |v: f64| ("z", data(DType::I64, &[v]));
    let s = run(&[
        &[x(37.0)],
        &[x(37.0), k(37.0)],
        &[x(37.0), k(37.0), z(37000.0)],
    ]);
    let o = run(&[
        &[x(36.999996)],
        &[x(36.999996), k(36.0)],
        &[x(36.999996), k(36.0), z(36000.0)],
    ]);
    let hx = ("x", data(DType::F64, &[36.99999999]));
    let h = run(&[
        std::slice::from_ref(&hx),
        &[hx.clone(), k(36.0)],
        &[hx.clone(), k(36.0), z(36000.0)],
    ]);
    let (d, notes) = judge(prog, &s, &o, &h);
    assert_eq!(d, 0);
    assert!(notes.iter().any(|n| n.why.contains("downstream")));
}

#[test]
fn broadcasting_maps_a_result_element_to_its_input() {
    assert_eq!(broadcast_index(4, &[2, 3], &[2, 1]), Some(1));
    assert_eq!(broadcast_index(4, &[2, 3], &[3]), Some(1));
    assert_eq!(broadcast_index(5, &[2, 3], &[2, 3]), Some(5));
    assert_eq!(broadcast_index(0, &[2, 3], &[4]), None);
    assert_eq!(broadcast_index(0, &[3], &[2, 3]), None);
}

#[test]
fn an_ill_conditioned_op_carries_its_inputs_rounding_on_and_no_more() {
    // `y = sin(x)` with x near 1750: the oracle's own input rounding (4e-7 relative) moved its
    // output by 6e-4, so the subject's input, 1.3e-6 apart, may move it by about 2e-3.
    let prog = "x = a.sum()\ny = x.sin()\n";
    let xs = |v: f64| ("x", data(F, &[v]));
    let ys = |v: f64| ("y", data(F, &[v]));
    let s = run(&[&[xs(1749.5022)], &[xs(1749.5022), ys(0.35789)]]);
    let o = run(&[&[xs(1749.5)], &[xs(1749.5), ys(0.35994)]]);
    let h = run(&[
        &[("x", data(DType::F64, &[1749.5007]))],
        &[
            ("x", data(DType::F64, &[1749.5007])),
            ("y", data(DType::F64, &[0.35933])),
        ],
    ]);
    let (d, notes) = judge(prog, &s, &o, &h);
    assert_eq!(d, 0, "{notes:?}");
    // The allowance is the op's measured sensitivity times how far the inputs are apart, no
    // more: an output 0.16 off from the same inputs is a divergence.
    let s = run(&[&[xs(1749.5022)], &[xs(1749.5022), ys(0.2)]]);
    assert_eq!(judge(prog, &s, &o, &h).0, 1);
}

//! `nll_loss` and `cross_entropy`: values (float64 and float32 bits), grad_fn names, graphs,
//! gradients and messages as observed from libtorch 2.13 (through tch 0.26 and the harness's
//! shim); gradients against finite differences in f64.

mod support;
use engine::Reduction;
use engine::{Node, Tensor};
use std::sync::Arc;
use support::*;

fn graph(t: &Tensor) -> Vec<&'static str> {
    let mut seen: Vec<*const Node> = Vec::new();
    let mut names = Vec::new();
    let mut stack: Vec<Arc<Node>> = t.grad_fn().unwrap().into_iter().collect();
    while let Some(n) = stack.pop() {
        if seen.contains(&Arc::as_ptr(&n)) {
            continue;
        }
        seen.push(Arc::as_ptr(&n));
        names.push(n.name());
        stack.extend(n.next_functions().iter().flatten().map(|e| e.node.clone()));
    }
    names.sort();
    names
}

fn sorted(v: &[&'static str]) -> Vec<&'static str> {
    let mut v = v.to_vec();
    v.sort();
    v
}

const LOGP: [f64; 6] = [-1.0, -2.0, -0.5, -3.0, -0.1, -2.5];
const LOGITS: [f64; 6] = [1.0, 2.0, 0.5, 3.0, 0.1, 2.5];

fn tgt() -> Tensor {
    i64s(&[2, 0], &[2])
}
fn w3() -> Tensor {
    t64(&[1., 2., 3.], &[3])
}

#[test]
fn nll_values_and_names() {
    let x = leaf(&LOGP, &[2, 3]);
    // Observed from libtorch 2.13.
    for (r, w, ig, want) in [
        (Reduction::Mean, None, -100, vec![1.75]),
        (Reduction::Sum, None, -100, vec![3.5]),
        (Reduction::None, None, -100, vec![0.5, 3.0]),
        (Reduction::Mean, Some(w3()), -100, vec![1.125]),
        (Reduction::Mean, None, 2, vec![3.0]),
    ] {
        let l = x.nll_loss(&tgt(), w.as_ref(), r, ig).unwrap();
        assert_eq!(l.to_vec_f64(), want);
        assert_eq!(name(&l), Some("NllLossBackward0"));
    }
    let all = x
        .nll_loss(&i64s(&[2, 2], &[2]), None, Reduction::Mean, 2)
        .unwrap();
    assert!(all.to_vec_f64()[0].is_nan());
    let one = leaf(&[-1.0, -2.0, -0.5], &[3]);
    let t0 = i64s(&[1], &[]);
    assert_eq!(
        one.nll_loss(&t0, None, Reduction::Mean, -100)
            .unwrap()
            .to_vec_f64(),
        [2.0]
    );
    let l = one.nll_loss(&t0, None, Reduction::None, -100).unwrap();
    assert_eq!((l.shape(), l.to_vec_f64()), (vec![], vec![2.0]));
    let l = x
        .nll_loss(&i64s(&[2, 1], &[2]), Some(&w3()), Reduction::None, 1)
        .unwrap();
    assert_eq!(l.to_vec_f64(), [1.5, 0.0]);
}

#[test]
fn nll_gradients() {
    let x = leaf(&LOGP, &[2, 3]);
    // Observed from libtorch 2.13.
    x.nll_loss(&tgt(), Some(&w3()), Reduction::Mean, -100)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., -0.75, -0.25, 0., 0.]);
    let x = leaf(&LOGP, &[2, 3]);
    x.nll_loss(&tgt(), None, Reduction::None, -100)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., -1., -1., 0., 0.]);
    for (r, w, ig) in [
        (Reduction::Mean, None, -100),
        (Reduction::Sum, Some(w3()), -100),
        (Reduction::None, Some(w3()), 0),
        (Reduction::Mean, Some(w3()), 0),
    ] {
        gradcheck(
            move |x| x[0].nll_loss(&i64s(&[2, 0, 1], &[3]), w.as_ref(), r, ig),
            &[(
                &[-1.0, -2.0, -0.5, -3.0, -0.1, -2.5, -0.7, -1.1, -0.3],
                &[3, 3],
            )],
        );
    }
    // The input is saved.
    let y = leaf(&LOGP, &[2, 3]).mul(1.0).unwrap();
    let l = y.nll_loss(&tgt(), None, Reduction::Mean, -100).unwrap();
    y.mul_(2.0).unwrap();
    assert!(err(l.backward()).contains("is at version 1; expected version 0 instead"));
}

#[test]
fn nll_errors() {
    let x = leaf(&LOGP, &[2, 3]);
    let nll = |t: &Tensor, w: Option<&Tensor>, r| err(x.nll_loss(t, w, r, -100));
    // Observed from libtorch 2.13.
    assert_eq!(
        nll(&i64s(&[3, 0], &[2]), None, Reduction::Mean),
        "Target 3 is out of bounds."
    );
    assert_eq!(
        nll(&i64s(&[-1, 0], &[2]), None, Reduction::Mean),
        "Target -1 is out of bounds."
    );
    assert_eq!(
        nll(&i64s(&[3, 0], &[2]), None, Reduction::None),
        "Target 3 is out of bounds."
    );
    assert_eq!(
        nll(
            &Tensor::from_vec(vec![2.0f32, 0.0], &[2]).unwrap(),
            None,
            Reduction::Mean
        ),
        "expected target dtype to be Long or Byte, but got Float"
    );
    assert_eq!(
        nll(&i64s(&[1, 0, 1], &[3]), None, Reduction::Mean),
        "size mismatch (got input: [2, 3], target: [3])"
    );
    assert_eq!(
        nll(&i64s(&[1, 0], &[2, 1]), None, Reduction::Mean),
        "0D or 1D target tensor expected, multi-target not supported"
    );
    assert_eq!(
        nll(&tgt(), Some(&t64(&[1., 2.], &[2])), Reduction::Mean),
        "weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]"
    );
    assert_eq!(
        nll(&tgt(), Some(&leaf(&[1., 2., 3.], &[3])), Reduction::Mean),
        "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. This input cannot have requires_grad True."
    );
    let x3 = leaf(&[0.; 12], &[2, 3, 2]);
    assert_eq!(
        err(x3.nll_loss(&i64s(&[1, 0, 1, 1], &[2, 2]), None, Reduction::Mean, -100)),
        "input tensor should be 1D or 2D"
    );
    let f = Tensor::from_vec(LOGP.iter().map(|&v| v as f32).collect(), &[2, 3]).unwrap();
    assert_eq!(
        err(f.nll_loss(&tgt(), Some(&w3()), Reduction::Mean, -100)),
        "expected scalar type Float but found Double"
    );
}

#[test]
fn cross_entropy_values_names_and_graphs() {
    let x = leaf(&LOGITS, &[2, 3]);
    // Observed from libtorch 2.13.
    let l = x
        .cross_entropy(&tgt(), None, Reduction::Mean, -100, 0.0)
        .unwrap();
    assert_eq!(l.to_vec_f64(), [1.2360610103920497]);
    assert_eq!(name(&l), Some("NllLossBackward0"));
    assert_eq!(
        graph(&l),
        sorted(&["NllLossBackward0", "LogSoftmaxBackward0", "AccumulateGrad"])
    );
    let smooth = [
        "AddBackward0",
        "MulBackward1",
        "MulBackward1",
        "NllLossBackward0",
        "DivBackward0",
        "LogSoftmaxBackward0",
        "SumBackward0",
        "AccumulateGrad",
        "MaskedFillBackward0",
        "NegBackward0",
        "SumBackward1",
    ];
    let l = x
        .cross_entropy(&tgt(), None, Reduction::Mean, -100, 0.1)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[1.2593943437253832], 1e-15));
    assert_eq!(
        (name(&l), graph(&l)),
        (Some("AddBackward0"), sorted(&smooth))
    );
    let l = x
        .cross_entropy(&tgt(), None, Reduction::Sum, -100, 0.1)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[2.5187886874507663], 1e-15));
    let l = x
        .cross_entropy(&tgt(), None, Reduction::None, -100, 0.1)
        .unwrap();
    assert!(close(
        &l.to_vec_f64(),
        &[1.8977021174412783, 0.6210865700094881],
        1e-15
    ));
    let l = x
        .cross_entropy(&tgt(), Some(&w3()), Reduction::Mean, -100, 0.2)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[1.5907174532117412], 1e-15));
    let mut weighted = smooth.to_vec();
    weighted.push("MulBackward0");
    assert_eq!(graph(&l), sorted(&weighted));
    let l = x
        .cross_entropy(&tgt(), None, Reduction::Mean, 2, 0.2)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[0.7344199033428214], 1e-15));
    let one = leaf(&[1.0, 2.0, 0.5], &[3]);
    let l = one
        .cross_entropy(&i64s(&[1], &[]), None, Reduction::Mean, -100, 0.0)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[0.4643687841079449], 1e-15));
    let probs = t64(&[0.2, 0.3, 0.5, 1.0, 0.0, 0.0], &[2, 3]);
    let l = x
        .cross_entropy(&probs, None, Reduction::Mean, -100, 0.0)
        .unwrap();
    assert!(close(&l.to_vec_f64(), &[0.9610610103920498], 1e-15));
    assert_eq!(name(&l), Some("DivBackward1"));
    assert_eq!(
        graph(&l),
        sorted(&[
            "DivBackward1",
            "NegBackward0",
            "SumBackward0",
            "MulBackward0",
            "LogSoftmaxBackward0",
            "AccumulateGrad"
        ])
    );
    // float32 bits.
    let f = Tensor::from_vec(LOGITS.iter().map(|&v| v as f32).collect(), &[2, 3]).unwrap();
    let l = f
        .cross_entropy(&tgt(), None, Reduction::Mean, -100, 0.0)
        .unwrap();
    assert_eq!(l.to_vec_f64(), [1.2360610961914063]);
    let l = f
        .cross_entropy(&tgt(), None, Reduction::Mean, -100, 0.1)
        .unwrap();
    assert_eq!(l.to_vec_f64(), [1.2593944072723389]);
    assert_eq!(
        err(x.cross_entropy(&tgt(), None, Reduction::Mean, -100, 1.5)),
        "label_smoothing must be between 0.0 and 1.0. Got: 1.5"
    );
    assert_eq!(
        err(x.cross_entropy(&i64s(&[5, 0], &[2]), None, Reduction::Mean, -100, 0.0)),
        "Target 5 is out of bounds."
    );
}

#[test]
fn cross_entropy_gradients() {
    let x = leaf(&LOGITS, &[2, 3]);
    // Observed from libtorch 2.13.
    x.cross_entropy(&tgt(), None, Reduction::Mean, -100, 0.1)
        .unwrap()
        .backward()
        .unwrap();
    assert!(close(
        &grad(&x).unwrap(),
        &[
            0.09894528214440786,
            0.29759919293921455,
            -0.39654447508362245,
            -0.16574353315413742,
            -0.00010890687134315624,
            0.16585244002548055
        ],
        1e-14
    ));
    let v = [1.0, 2.0, 0.5, 3.0, 0.1, 2.5, -0.4, 0.8, 1.3];
    let t = || i64s(&[2, 0, 1], &[3]);
    for (r, w, ig, ls) in [
        (Reduction::Mean, None, -100, 0.0),
        (Reduction::Sum, Some(w3()), -100, 0.0),
        (Reduction::Mean, None, -100, 0.3),
        (Reduction::Mean, Some(w3()), 0, 0.3),
        (Reduction::None, Some(w3()), 1, 0.3),
    ] {
        gradcheck(
            move |x| x[0].cross_entropy(&t(), w.as_ref(), r, ig, ls),
            &[(&v, &[3, 3])],
        );
    }
    let p = t64(&[0.2, 0.3, 0.5, 1.0, 0.0, 0.0, 0.1, 0.1, 0.8], &[3, 3]);
    gradcheck(
        move |x| x[0].cross_entropy(&p, Some(&w3()), Reduction::Mean, -100, 0.2),
        &[(&v, &[3, 3])],
    );
}

//! Every differentiable op's analytic gradient against central finite differences, in f64,
//! over random shapes, broadcasting and non-contiguous (transposed, permuted, sliced) inputs,
//! with `torch.autograd.gradcheck`'s tolerances.

use engine::ops::elementwise::Operand;
use engine::{IndexItem, Result, Scalar, Tensor, with_no_grad};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

type Op = fn(&[Tensor]) -> Result<Tensor>;

fn leaves(inputs: &[(Vec<f64>, Vec<usize>)], rg: bool) -> Vec<Tensor> {
    inputs
        .iter()
        .map(|(v, s)| {
            Tensor::from_vec(v.clone(), s)
                .unwrap()
                .with_requires_grad(rg)
                .unwrap()
        })
        .collect()
}

/// Fixed, non-uniform weights so that every output element matters differently.
fn weights(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| 0.5 + (i % 7) as f64 * 0.25).collect(), shape).unwrap()
}

fn loss(op: Op, inputs: &[(Vec<f64>, Vec<usize>)]) -> f64 {
    with_no_grad(|| {
        let out = op(&leaves(inputs, false)).unwrap();
        out.mul(weights(&out.shape()))
            .unwrap()
            .sum(None, false)
            .unwrap()
            .to_vec_f64()[0]
    })
}

fn check(op: Op, inputs: Vec<(Vec<f64>, Vec<usize>)>) -> std::result::Result<(), TestCaseError> {
    let xs = leaves(&inputs, true);
    let out = op(&xs).map_err(|e| TestCaseError::fail(format!("forward failed: {e}")))?;
    out.mul(weights(&out.shape()))
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    for (k, x) in xs.iter().enumerate() {
        let analytic = x
            .grad_quiet()
            .map(|g| g.to_vec_f64())
            .unwrap_or(vec![0.0; x.numel()]);
        for (j, &a) in analytic.iter().enumerate() {
            let mut p = inputs.clone();
            p[k].0[j] += EPS;
            let mut m = inputs.clone();
            m[k].0[j] -= EPS;
            let numeric = (loss(op, &p) - loss(op, &m)) / (2.0 * EPS);
            prop_assert!(
                (a - numeric).abs() <= ATOL + RTOL * numeric.abs(),
                "input {k} element {j}: analytic {a} vs numeric {numeric} (shapes {:?})",
                inputs.iter().map(|i| i.1.clone()).collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 1..4)
}

/// Values away from 0 (signed) or positive, so that kinks and poles are not straddled.
fn values(n: usize, positive: bool) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((0.3f64..2.0, any::<bool>()), n).prop_map(move |v| {
        v.into_iter()
            .map(|(x, s)| if positive || s { x } else { -x })
            .collect()
    })
}

fn one_input(positive: bool) -> impl Strategy<Value = Vec<(Vec<f64>, Vec<usize>)>> {
    shape_strategy().prop_flat_map(move |s| {
        let n = s.iter().product();
        values(n, positive).prop_map(move |v| vec![(v, s.clone())])
    })
}

/// Two inputs whose shapes broadcast: the second drops leading dims and sets some to 1.
fn two_inputs(positive: bool) -> impl Strategy<Value = Vec<(Vec<f64>, Vec<usize>)>> {
    (shape_strategy(), any::<u8>(), any::<u8>()).prop_flat_map(move |(s, drop, ones)| {
        let drop = drop as usize % s.len();
        let s2: Vec<usize> = s[drop..]
            .iter()
            .enumerate()
            .map(|(i, &d)| if ones >> i & 1 == 1 { 1 } else { d })
            .collect();
        let (n1, n2) = (s.iter().product(), s2.iter().product());
        (values(n1, positive), values(n2, positive))
            .prop_map(move |(a, b)| vec![(a, s.clone()), (b, s2.clone())])
    })
}

/// The input made non-contiguous: reversed dims, which `op` sees as a permuted view.
fn permuted(x: &Tensor) -> Result<Tensor> {
    let n = x.ndim() as i64;
    let dims: Vec<i64> = (0..n).rev().collect();
    x.permute(&dims)
}

macro_rules! gradcheck {
    ($name:ident, $inputs:expr, $op:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(inputs in $inputs) {
                check($op, inputs)?;
            }
        }
    };
}

gradcheck!(exp, one_input(false), |x| permuted(&x[0])?.exp());
gradcheck!(log, one_input(true), |x| x[0].log());
gradcheck!(sqrt, one_input(true), |x| permuted(&x[0])?.sqrt());
gradcheck!(abs, one_input(false), |x| x[0].abs());
gradcheck!(sin, one_input(false), |x| x[0].sin());
gradcheck!(cos, one_input(false), |x| permuted(&x[0])?.cos());
gradcheck!(tanh, one_input(false), |x| x[0].tanh());
gradcheck!(sigmoid, one_input(false), |x| permuted(&x[0])?.sigmoid());
gradcheck!(relu, one_input(false), |x| x[0].relu());
gradcheck!(reciprocal, one_input(false), |x| x[0].reciprocal());
gradcheck!(neg, one_input(false), |x| x[0].neg());
gradcheck!(clamp, one_input(false), |x| x[0]
    .clamp(Some(Scalar::Float(-1.0)), Some(Scalar::Float(1.05))));
gradcheck!(pow_scalar, one_input(true), |x| x[0].pow(2.5));
gradcheck!(pow_int_scalar, one_input(false), |x| x[0].pow(3i64));
gradcheck!(pow_scalar_base, one_input(false), |x| x[0]
    .pow_scalar_base(1.7));
gradcheck!(rsub, one_input(false), |x| x[0].rsub(1.0));
gradcheck!(mul_scalar, one_input(false), |x| permuted(&x[0])?.mul(3.0));
gradcheck!(div_scalar, one_input(false), |x| x[0].div(3.0));

gradcheck!(add, two_inputs(false), |x| x[0].add(&x[1]));
gradcheck!(sub, two_inputs(false), |x| x[0].sub(&x[1]));
gradcheck!(mul, two_inputs(false), |x| x[0].mul(&x[1]));
gradcheck!(div, two_inputs(false), |x| x[0].div(&x[1]));
gradcheck!(pow_tensor, two_inputs(true), |x| x[0].pow(&x[1]));
gradcheck!(maximum, two_inputs(false), |x| x[0].maximum(&x[1]));
gradcheck!(minimum, two_inputs(false), |x| x[0].minimum(&x[1]));
gradcheck!(mul_permuted, two_inputs(false), |x| {
    let b = x[1].expand(&x[0].shape().iter().map(|&d| d as i64).collect::<Vec<_>>())?;
    permuted(&x[0])?.mul(&permuted(&b)?)
});
gradcheck!(where_, two_inputs(false), |x| {
    let c = x[0].gt(0.0)?;
    c.where_(&Operand::from(&x[0]), &Operand::from(&x[1].mul(2.0)?))
});

gradcheck!(sum_all, one_input(false), |x| permuted(&x[0])?
    .sum(None, false));
gradcheck!(sum_dim, one_input(false), |x| x[0].sum(Some(&[0]), false));
gradcheck!(sum_dim_keep, one_input(false), |x| x[0]
    .sum(Some(&[-1]), true));
gradcheck!(mean_all, one_input(false), |x| x[0].mean(None, false));
gradcheck!(mean_dim, one_input(false), |x| permuted(&x[0])?
    .mean(Some(&[0]), true));
gradcheck!(max_all, one_input(false), |x| x[0].max_all());
gradcheck!(min_all, one_input(false), |x| x[0].min_all());
gradcheck!(max_dim, one_input(false), |x| Ok(permuted(&x[0])?
    .max_dim(0, false)?
    .0));
gradcheck!(min_dim, one_input(false), |x| Ok(x[0].min_dim(-1, true)?.0));
gradcheck!(softmax, one_input(false), |x| x[0].softmax(-1));
gradcheck!(softmax_first, one_input(false), |x| permuted(&x[0])?
    .softmax(0));
gradcheck!(log_softmax, one_input(false), |x| x[0].log_softmax(0));

gradcheck!(view_flat, one_input(false), |x| x[0].view(&[-1])?.mul(2.0));
gradcheck!(reshape_copy, one_input(false), |x| permuted(&x[0])?
    .reshape(&[-1]));
gradcheck!(flatten, one_input(false), |x| x[0]
    .unsqueeze(0)?
    .flatten(0, -1));
gradcheck!(squeeze, one_input(false), |x| x[0]
    .unsqueeze(1)?
    .squeeze(None));
gradcheck!(transpose, one_input(false), |x| x[0].transpose(0, -1));
gradcheck!(narrow, one_input(false), |x| {
    let n = x[0].shape()[0] as i64;
    x[0].narrow(0, n / 2, n - n / 2)
});
gradcheck!(select, one_input(false), |x| x[0].select(-1, 0));
gradcheck!(index_step, one_input(false), |x| {
    x[0].index(&[
        IndexItem::Slice {
            start: None,
            stop: None,
            step: 2,
        },
        IndexItem::Ellipsis,
    ])
});
gradcheck!(expand, one_input(false), |x| {
    let mut s: Vec<i64> = vec![3];
    s.extend(x[0].shape().iter().map(|&d| d as i64));
    x[0].expand(&s)
});
gradcheck!(cat, two_inputs(false), |x| {
    let b = x[1].expand(&x[0].shape().iter().map(|&d| d as i64).collect::<Vec<_>>())?;
    Tensor::cat(&[x[0].clone(), b], 0)
});
gradcheck!(stack, one_input(false), |x| Tensor::stack(
    &[
        x[0].clone(),
        permuted(&x[0])?
            .contiguous()?
            .reshape(&x[0].shape().iter().map(|&d| d as i64).collect::<Vec<_>>())?
    ],
    1
));
gradcheck!(clone, one_input(false), |x| permuted(&x[0])?.clone_tensor());
gradcheck!(contiguous, one_input(false), |x| permuted(&x[0])?
    .contiguous()?
    .mul(&permuted(&x[0])?));

gradcheck!(inplace_on_view, one_input(false), |x| {
    // A write into a view of a non-leaf: CopySlices and the regenerated view node.
    let b = x[0].mul(2.0)?;
    b.select(0, 0)?.mul_(&x[0].select(0, 0)?)?;
    b.sin()
});
gradcheck!(inplace_chain, two_inputs(false), |x| {
    let b = x[0].mul(1.0)?;
    b.add_(&x[1])?;
    b.mul_(&x[0])?;
    b.div_(2.0)?;
    Ok(b)
});

//! User mistakes are errors, never panics: random op sequences with random (often invalid)
//! dims, indices, shapes and dtypes, including in-place writes and backward calls.

use engine::ops::elementwise::Operand;
use engine::{DType, IndexItem, Scalar, Tensor};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Binary(u8, usize, usize),
    Scalar(u8, usize, i8),
    Unary(u8, usize),
    Reduce(u8, usize, i8, bool),
    View(u8, usize, Vec<i8>),
    Index(usize, Vec<(u8, i8, i8)>),
    Inplace(u8, usize, usize),
    SetIndex(usize, i8, usize),
    Cat(usize, usize, i8, bool),
    Backward(usize, bool),
    Meta(u8, usize),
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0usize..6;
    prop_oneof![
        (0u8..10, i.clone(), i.clone()).prop_map(|(a, b, c)| Step::Binary(a, b, c)),
        (0u8..6, i.clone(), -3i8..4).prop_map(|(a, b, c)| Step::Scalar(a, b, c)),
        (0u8..13, i.clone()).prop_map(|(a, b)| Step::Unary(a, b)),
        (0u8..8, i.clone(), -4i8..4, any::<bool>())
            .prop_map(|(a, b, c, d)| Step::Reduce(a, b, c, d)),
        (0u8..11, i.clone(), prop::collection::vec(-3i8..5, 0..4))
            .prop_map(|(a, b, c)| Step::View(a, b, c)),
        (
            i.clone(),
            prop::collection::vec((0u8..4, -4i8..5, -4i8..5), 0..4)
        )
            .prop_map(|(a, b)| Step::Index(a, b)),
        (0u8..8, i.clone(), i.clone()).prop_map(|(a, b, c)| Step::Inplace(a, b, c)),
        (i.clone(), -3i8..4, i.clone()).prop_map(|(a, b, c)| Step::SetIndex(a, b, c)),
        (i.clone(), i.clone(), -3i8..3, any::<bool>())
            .prop_map(|(a, b, c, d)| Step::Cat(a, b, c, d)),
        (i.clone(), any::<bool>()).prop_map(|(a, b)| Step::Backward(a, b)),
        (0u8..8, i).prop_map(|(a, b)| Step::Meta(a, b)),
    ]
}

fn pool() -> Vec<Tensor> {
    let f = |v: Vec<f32>, s: &[usize], rg: bool| {
        Tensor::from_vec(v, s)
            .unwrap()
            .with_requires_grad(rg)
            .unwrap()
    };
    vec![
        f(vec![1.0, -2.0, 3.0, 0.5, 0.0, 2.0], &[2, 3], true),
        f(vec![0.5, 1.5, -1.0], &[3], true),
        f(vec![2.0], &[], false),
        Tensor::from_vec(vec![1i64, 2, 3], &[3, 1]).unwrap(),
        Tensor::from_vec(vec![true, false], &[2]).unwrap(),
        Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 2, 2]).unwrap(),
    ]
}

fn run(steps: &[Step]) {
    let mut p = pool();
    let pick = |p: &Vec<Tensor>, i: usize| p[i % p.len()].clone();
    for s in steps {
        let r: engine::Result<Tensor> = match s.clone() {
            Step::Binary(op, a, b) => {
                let (a, b) = (pick(&p, a), pick(&p, b));
                match op {
                    0 => a.add(&b),
                    1 => a.sub(&b),
                    2 => a.mul(&b),
                    3 => a.div(&b),
                    4 => a.pow(&b),
                    5 => a.maximum(&b),
                    6 => a.minimum(&b),
                    7 => a.lt(&b),
                    8 => a.where_(&Operand::from(&b), &Operand::from(0.5)),
                    _ => a.eq_(&b),
                }
            }
            Step::Scalar(op, a, v) => {
                let a = pick(&p, a);
                let s = if v % 2 == 0 {
                    Scalar::Int(v as i64)
                } else {
                    Scalar::Float(v as f64 / 2.0)
                };
                match op {
                    0 => a.add(s),
                    1 => a.rsub(s),
                    2 => a.pow(s),
                    3 => a.pow_scalar_base(s),
                    4 => a.clamp(Some(s), None),
                    _ => a.div(s),
                }
            }
            Step::Unary(op, a) => {
                let a = pick(&p, a);
                match op {
                    0 => a.neg(),
                    1 => a.exp(),
                    2 => a.log(),
                    3 => a.sqrt(),
                    4 => a.abs(),
                    5 => a.sin(),
                    6 => a.tanh(),
                    7 => a.sigmoid(),
                    8 => a.relu(),
                    9 => a.reciprocal(),
                    10 => a.to_dtype(DType::F64),
                    11 => a.clone_tensor(),
                    _ => a.contiguous(),
                }
            }
            Step::Reduce(op, a, d, k) => {
                let a = pick(&p, a);
                let d = d as i64;
                match op {
                    0 => a.sum(None, k),
                    1 => a.sum(Some(&[d]), k),
                    2 => a.mean(Some(&[d, 0]), k),
                    3 => a.max_all(),
                    4 => a.max_dim(d, k).map(|p| p.0),
                    5 => a.min_dim(d, k).map(|p| p.1),
                    6 => a.softmax(d),
                    _ => a.log_softmax(d),
                }
            }
            Step::View(op, a, v) => {
                let a = pick(&p, a);
                let v: Vec<i64> = v.iter().map(|&x| x as i64).collect();
                let g = |i: usize| v.get(i).copied().unwrap_or(0);
                match op {
                    0 => a.view(&v),
                    1 => a.reshape(&v),
                    2 => a.squeeze(v.first().copied()),
                    3 => a.unsqueeze(g(0)),
                    4 => a.flatten(g(0), g(1)),
                    5 => a.t(),
                    6 => a.transpose(g(0), g(1)),
                    7 => a.permute(&v),
                    8 => a.expand(&v),
                    9 => a.narrow(g(0), g(1), g(2)),
                    _ => a.select(g(0), g(1)),
                }
            }
            Step::Index(a, items) => {
                let a = pick(&p, a);
                let items: Vec<IndexItem> = items
                    .iter()
                    .map(|&(k, x, y)| match k {
                        0 => IndexItem::Int(x as i64),
                        1 => IndexItem::Slice {
                            start: Some(x as i64),
                            stop: Some(y as i64),
                            step: (y as i64).max(-1),
                        },
                        2 => IndexItem::NewAxis,
                        _ => IndexItem::Ellipsis,
                    })
                    .collect();
                a.index(&items)
            }
            Step::Inplace(op, a, b) => {
                let (a, b) = (pick(&p, a), pick(&p, b));
                let r = match op {
                    0 => a.add_(&b).map(|_| ()),
                    1 => a.sub_(2.0).map(|_| ()),
                    2 => a.mul_(&b).map(|_| ()),
                    3 => a.div_(&b).map(|_| ()),
                    4 => a.zero_().map(|_| ()),
                    5 => a.fill_(1.5).map(|_| ()),
                    6 => a.copy_(&b).map(|_| ()),
                    _ => a.clamp_(Some(Scalar::Int(0)), None).map(|_| ()),
                };
                r.map(|_| a)
            }
            Step::SetIndex(a, i, b) => {
                let (a, b) = (pick(&p, a), pick(&p, b));
                a.index_set(&[IndexItem::Int(i as i64)], &b).map(|_| a)
            }
            Step::Cat(a, b, d, stack) => {
                let xs = [pick(&p, a), pick(&p, b)];
                if stack {
                    Tensor::stack(&xs, d as i64)
                } else {
                    Tensor::cat(&xs, d as i64)
                }
            }
            Step::Backward(a, retain) => {
                let a = pick(&p, a);
                let g = a.ones_like().ok();
                a.backward_with(if retain { g.as_ref() } else { None }, Some(retain), false)
                    .map(|_| a)
            }
            Step::Meta(op, a) => {
                let a = pick(&p, a);
                match op {
                    0 => a.detach_().cloned(),
                    1 => a.retain_grad().map(|_| a),
                    2 => a.requires_grad_(false).cloned(),
                    3 => a.set_requires_grad(true).map(|_| a),
                    4 => a.item().map(|_| a),
                    5 => Ok(a.data()),
                    6 => a.grad_fn().map(|_| a),
                    _ => Ok(a.detach()),
                }
            }
        };
        if let Ok(t) = r {
            let _ = (
                t.to_list(),
                t.grad(),
                t.is_leaf(),
                t.version(),
                t.grad_fn_unchecked(),
            );
            p.push(t);
        }
    }
    engine::take_warnings();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_programs_never_panic(steps in prop::collection::vec(step(), 1..12)) {
        run(&steps);
    }
}

/// Fuzz findings that panicked (cases/regressions/19b8d381, e7dec9f8): an in-place op on an
/// empty stacked tensor, and the backward of `max(0)` on a 0-dim tensor after its index
/// output was overwritten through `.data`. libtorch's outcomes: the first runs, the second
/// raises an index error in backward.
#[test]
fn empty_and_zero_dim_fuzz_findings_do_not_panic() {
    let t0 = Tensor::ones(&[1, 1, 0, 1], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let t2 = Tensor::stack(&[t0.clone(), t0.clone()], 4).unwrap();
    t2.clamp_(Some(Scalar::Float(-1.0)), None).unwrap();
    t2.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(t0.grad().unwrap().shape(), vec![1, 1, 0, 1]);

    let t1 = Tensor::scalar(Scalar::Float(-1.0), DType::F64)
        .with_requires_grad(true)
        .unwrap();
    let (t2, t3) = t1.max_dim(0, false).unwrap();
    t3.data().copy_(&t2).unwrap();
    assert!(t2.backward_with(None, Some(true), false).is_err());
}

/// Fuzz finding 0776a624: `copy_` of an empty view onto itself, the view sitting past the end
/// of its storage (`randn(3, 3, 3, 0)[2:, 0]`); libtorch returns it unchanged.
#[test]
fn copy_of_an_empty_view_past_its_storage_does_not_panic() {
    let t0 = Tensor::ones(&[3, 3, 3, 0], DType::F32).unwrap();
    let t6 = t0
        .index(&[
            IndexItem::Slice {
                start: Some(2),
                stop: None,
                step: 1,
            },
            IndexItem::Int(0),
        ])
        .unwrap();
    t6.copy_(&t6).unwrap();
    assert_eq!(t6.shape(), vec![1, 3, 0]);
}

/// Fuzz finding cb768134: backward through `cat` of empty tensors into a broadcast add.
#[test]
fn backward_through_empty_cat_does_not_panic() {
    let t1 = Tensor::ones(&[1, 0, 1, 1], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let t2 = Tensor::cat(&[t1.clone(), t1.clone()], 2).unwrap();
    let t5 = t1.add(&t2).unwrap();
    t5.backward_with(Some(&t5.ones_like().unwrap()), Some(true), false)
        .unwrap();
    assert_eq!(t1.grad().unwrap().shape(), vec![1, 0, 1, 1]);
}

//! Issue 3, items 5-8: `backward()`, accumulation, `retain_graph`, non-leaf `.grad`.
//! Expected values are hand-computed or printed by Python torch 2.13.0.

use engine::{DType, Error, Tensor};

fn leaf(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape)
        .unwrap()
        .with_requires_grad(true)
        .unwrap()
}

fn grad(t: &Tensor) -> Vec<f64> {
    t.grad_quiet().expect("grad").to_vec_f64()
}

#[test]
fn scalar_root_gets_implicit_one() {
    // seed 001: x = ones(2,2); y = x + 2; out = (y*y*3).mean() -> x.grad = 4.5
    let x = leaf(&[1.0; 4], &[2, 2]);
    let y = x.add(2.0).unwrap();
    let out = y
        .mul(&y)
        .unwrap()
        .mul(3.0)
        .unwrap()
        .mean(None, false)
        .unwrap();
    assert!(x.grad_quiet().is_none(), ".grad is None before backward");
    out.backward().unwrap();
    assert_eq!(grad(&x), vec![4.5; 4]);
    // A second, independent graph accumulates: + d(sum)/dx = 1.
    x.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![5.5; 4]);
}

#[test]
fn non_scalar_root_needs_gradient() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul(2.0).unwrap();
    assert_eq!(y.backward(), Err(Error::ImplicitGradNonScalar));
    assert_eq!(
        Error::ImplicitGradNonScalar.to_string(),
        "grad can be implicitly created only for scalar outputs"
    );
    let g = Tensor::from_vec(vec![1.0f32, 0.5], &[2]).unwrap();
    y.backward_with(Some(&g), None, false).unwrap();
    assert_eq!(grad(&x), vec![2.0, 1.0]);
}

#[test]
fn gradient_shape_and_dtype_checks() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul(2.0).unwrap();
    let bad = Tensor::ones(&[3], DType::F32).unwrap();
    let e = y.backward_with(Some(&bad), Some(true), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid gradient at index 0 - got [3] but expected shape compatible with [2]"
    );
    // libtorch's engine casts a gradient of another dtype to the root's dtype.
    let g64 = Tensor::ones(&[2], DType::F64).unwrap();
    y.backward_with(Some(&g64), None, false).unwrap();
    assert_eq!(x.grad_quiet().unwrap().dtype(), DType::F32);
    assert_eq!(grad(&x), vec![2.0, 2.0]);
}

#[test]
fn root_without_grad_fails() {
    let t = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .sum(None, false)
        .unwrap();
    let e = t.backward().unwrap_err();
    assert_eq!(
        e.to_string(),
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    // A non-scalar root that does not require grad reports the same error first.
    let t = Tensor::ones(&[2], DType::F32).unwrap();
    assert_eq!(t.backward(), Err(Error::NoGradFn(0)));
}

#[test]
fn create_graph_is_a_typed_error() {
    let x = leaf(&[1.0], &[1]);
    let y = x.mul(&x).unwrap().sum(None, false).unwrap();
    assert_eq!(
        y.backward_with(None, None, true),
        Err(Error::CreateGraphUnsupported)
    );
}

#[test]
fn second_backward_without_retain_graph_fails_even_for_mul_by_scalar() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let s = x.mul(2.0).unwrap().sum(None, false).unwrap();
    s.backward().unwrap();
    let e = s.backward().unwrap_err();
    assert_eq!(e, Error::BackwardTwice);
    assert!(e.to_string().starts_with("Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)."));
}

#[test]
fn second_backward_through_nodes_without_saved_tensors_succeeds() {
    // `x + 2` and `sum` save no tensor: libtorch runs them again and accumulates.
    let x = leaf(&[1.0, 2.0], &[2]);
    let s = x.add(2.0).unwrap().sum(None, false).unwrap();
    s.backward().unwrap();
    s.backward().unwrap();
    assert_eq!(grad(&x), vec![2.0, 2.0]);
}

#[test]
fn retain_graph_accumulates() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let s = x.mul(&x).unwrap().sum(None, false).unwrap();
    s.backward_with(None, Some(true), false).unwrap();
    s.backward_with(None, Some(true), false).unwrap();
    assert_eq!(grad(&x), vec![4.0, 8.0]);
    s.backward().unwrap();
    assert_eq!(grad(&x), vec![6.0, 12.0]);
    assert_eq!(s.backward(), Err(Error::BackwardTwice));
}

#[test]
fn accumulation_keeps_grad_identity_and_bumps_its_version() {
    let x = leaf(&[1.0, 1.0], &[2]);
    x.mul(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    let g = x.grad_quiet().unwrap();
    assert_eq!(g.version(), 0);
    x.mul(3.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert!(x.grad_quiet().unwrap().same(&g));
    assert_eq!(g.to_vec_f64(), vec![5.0, 5.0]);
    assert_eq!(g.version(), 1);
}

#[test]
fn zeroing_grads() {
    let x = leaf(&[1.0, 1.0], &[2]);
    x.mul(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    x.grad_quiet().unwrap().zero_().unwrap();
    x.mul(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x), vec![2.0, 2.0]);
    x.set_grad(None).unwrap();
    assert!(x.grad_quiet().is_none());
    x.mul(3.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x), vec![3.0, 3.0]);
}

#[test]
fn set_grad_checks() {
    let x = leaf(&[1.0, 1.0], &[2]);
    let e = x
        .set_grad(Some(Tensor::ones(&[3], DType::F32).unwrap()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please ensure that the gradient and the tensor are the same size"
    );
    let e = x
        .set_grad(Some(Tensor::ones(&[2], DType::F64).unwrap()))
        .unwrap_err();
    assert!(e.to_string().starts_with(
        "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'."
    ));
}

#[test]
fn non_leaf_grad_is_none_and_warns() {
    engine::take_warnings();
    let x = leaf(&[1.0, 1.0], &[2]);
    let y = x.mul(2.0).unwrap();
    y.sum(None, false).unwrap().backward().unwrap();
    assert!(y.grad().is_none());
    let w = engine::take_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
    ));
    // Leaves do not warn.
    assert!(x.grad().is_some());
    assert!(engine::take_warnings().is_empty());
}

#[test]
fn retain_grad_populates_non_leaf_grad_out_of_place() {
    engine::take_warnings();
    let x = leaf(&[1.0, 1.0], &[2]);
    let a = x.mul(2.0).unwrap();
    a.retain_grad().unwrap();
    assert!(a.retains_grad());
    let s = a.sum(None, false).unwrap();
    s.backward_with(None, Some(true), false).unwrap();
    let g1 = a.grad().unwrap();
    assert_eq!(g1.to_vec_f64(), vec![1.0, 1.0]);
    s.backward().unwrap();
    let g2 = a.grad().unwrap();
    assert_eq!(g2.to_vec_f64(), vec![2.0, 2.0]);
    // Python: `g1 is a.grad` is False for retained non-leaf grads.
    assert!(!g1.same(&g2));
    assert!(engine::take_warnings().is_empty());
    // retain_grad on a leaf is a no-op.
    x.retain_grad().unwrap();
    assert!(!x.retains_grad());
}

#[test]
fn retain_grad_without_requires_grad_fails() {
    let t = Tensor::ones(&[2], DType::F32).unwrap();
    assert_eq!(
        t.retain_grad().unwrap_err().to_string(),
        "can't retain_grad on Tensor that has requires_grad=False"
    );
}

#[test]
fn diamond_graph_sums_both_paths() {
    // y = x*x + exp(x) at x = 0.5: dy/dx = 2x + e^x
    let x = Tensor::from_vec(vec![0.5f64], &[1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x
        .mul(&x)
        .unwrap()
        .add(x.exp().unwrap())
        .unwrap()
        .sum(None, false)
        .unwrap();
    y.backward().unwrap();
    assert!((grad(&x)[0] - (1.0 + 0.5f64.exp())).abs() < 1e-12);
}

#[test]
fn leaf_root_accumulates_its_gradient() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let g = Tensor::from_vec(vec![3.0f32, 4.0], &[2]).unwrap();
    x.backward_with(Some(&g), None, false).unwrap();
    assert_eq!(grad(&x), vec![3.0, 4.0]);
    assert!(!x.grad_quiet().unwrap().same(&g));
}

#[test]
fn stored_grad_never_aliases_the_callers_gradient() {
    // sum over a size-1 dim with keepdim passes the incoming gradient through unchanged.
    let x = Tensor::ones(&[1, 2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x.sum(Some(&[0]), true).unwrap();
    let g = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]).unwrap();
    y.backward_with(Some(&g), Some(true), false).unwrap();
    y.backward_with(Some(&g), None, false).unwrap();
    assert_eq!(g.to_vec_f64(), vec![1.0, 2.0]);
    assert_eq!(x.grad_quiet().unwrap().to_vec_f64(), vec![2.0, 4.0]);
}

#[test]
fn long_graphs_drop_and_backpropagate_without_deep_recursion() {
    // Runs on a small-stack thread: a recursive drop or backward would overflow it.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let x = Tensor::ones(&[1], DType::F64)
                .unwrap()
                .with_requires_grad(true)
                .unwrap();
            let mut h = x.clone();
            for _ in 0..50_000 {
                h = h.mul(1.0).unwrap().add(0.0).unwrap();
            }
            drop(h);
            let mut h = x.clone();
            for _ in 0..20_000 {
                h = h.sin().unwrap().add(&x).unwrap();
            }
            h.sum(None, false).unwrap().backward().unwrap();
            assert!(x.grad_quiet().unwrap().to_vec_f64()[0].is_finite());
        })
        .unwrap()
        .join()
        .unwrap();
}

// Fuzz regressions 8b2fc04e and 5a59fac7: AccumulateGrad skips a leaf whose requires_grad was
// switched off after the graph was built. Python torch 2.13: t1.grad stays None in the first
// program, stays [-4.0] (from the first backward) in the second.
#[test]
fn leaf_switched_off_after_recording_gets_no_grad() {
    let t1 = leaf(&[0.5], &[1]);
    let t5 = t1.mean(Some(&[0]), false).unwrap();
    t1.set_requires_grad(false).unwrap();
    t5.backward_with(None, Some(true), false).unwrap();
    assert!(t1.grad_quiet().is_none());

    let t1 = leaf(&[-2.0], &[1]);
    let t2 = t1.matmul(&t1).unwrap();
    let t3 = t1.sub(-2.5).unwrap();
    t2.backward().unwrap();
    t1.set_requires_grad(false).unwrap();
    t3.backward_with(Some(&Tensor::ones_like(&t3).unwrap()), Some(true), false)
        .unwrap();
    assert_eq!(grad(&t1), vec![-4.0]);
}

// Fuzz regression d4bcfc79: a view made under no_grad of a leaf requires grad (through its base)
// but has no gradient edge; Python torch 2.13 raises on backward and records a node with no
// edges for ops on it.
#[test]
fn no_grad_view_of_leaf_has_no_edge() {
    let t11 = leaf(&[-0.25, -2.0, -1.5], &[1, 3]);
    let t14 = engine::with_no_grad(|| t11.narrow(0, 0, 1)).unwrap();
    assert!(t14.requires_grad());
    let g = Tensor::from_vec(vec![-1.25f32, 0.5, -2.75], &[1, 3]).unwrap();
    let e = t14.backward_with(Some(&g), None, false).unwrap_err();
    assert!(matches!(e, Error::NoGradFn(0)), "{e}");
    let y = t14.mul(2.0).unwrap();
    assert!(y.requires_grad());
    assert_eq!(y.grad_fn_name().unwrap(), Some("MulBackward0"));
    y.sum(None, false).unwrap().backward().unwrap();
    assert!(t14.grad_quiet().is_none());
    assert!(t11.grad_quiet().is_none());
}

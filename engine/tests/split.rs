//! `split`, `split_with_sizes`, `chunk`, `unbind`: output shapes, grad_fn names, gradients and
//! libtorch's in-place rule for outputs of functions that return several views, with the
//! messages observed from libtorch 2.13 (through tch 0.26 and the harness's shim).

mod support;
use engine::{Tensor, no_grad};
use support::*;

fn x7() -> Tensor {
    leaf(&[1., 2., 3., 4., 5., 6., 7.], &[7])
}

const MULTI: &str = "This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.";

#[test]
fn outputs_names_and_shapes() {
    let x = x7();
    // Observed from libtorch 2.13.
    let parts = x.split(3, 0).unwrap();
    let shapes: Vec<_> = parts.iter().map(|t| t.shape()).collect();
    assert_eq!(shapes, [vec![3], vec![3], vec![1]]);
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(name(p), Some("SplitBackward0"));
        assert!(p.is_view());
        assert_eq!(p.output_nr(), i);
    }
    assert_eq!(parts[2].to_vec_f64(), [7.]);
    let p = x.split_with_sizes(&[2, 5], 0).unwrap();
    assert_eq!(name(&p[0]), Some("SplitWithSizesBackward0"));
    assert_eq!(p[1].to_vec_f64(), [3., 4., 5., 6., 7.]);
    let sizes = |v: Vec<Tensor>| v.iter().map(|t| t.shape()[0]).collect::<Vec<_>>();
    let c = x.chunk(3, 0).unwrap();
    assert_eq!(name(&c[0]), Some("SplitBackward0"));
    assert_eq!(sizes(c), [3, 3, 1]);
    assert_eq!(x.chunk(7, 0).unwrap().len(), 7);
    assert_eq!(sizes(x.chunk(4, 0).unwrap()), [2, 2, 2, 1]);
    let six = leaf(&[1., 2., 3., 4., 5., 6.], &[6]).chunk(3, 0).unwrap();
    assert_eq!(name(&six[0]), Some("SplitBackward0"));
    assert_eq!(
        sizes(leaf(&[1., 2., 3., 4., 5.], &[5]).chunk(4, 0).unwrap()),
        [2, 2, 1]
    );
    let x2 = leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let u = x2.unbind(1).unwrap();
    assert_eq!(u.len(), 3);
    assert_eq!(
        (name(&u[0]), u[1].to_vec_f64()),
        (Some("UnbindBackward0"), vec![2., 5.])
    );
    let e = Tensor::zeros(&[0], engine::DType::F32).unwrap();
    assert_eq!(e.split(2, 0).unwrap().len(), 1);
    assert_eq!(e.split(0, 0).unwrap().len(), 1);
    assert_eq!(e.chunk(3, 0).unwrap().len(), 3);
}

#[test]
fn argument_errors() {
    let x = x7();
    // Observed from libtorch 2.13.
    assert_eq!(
        err(x.chunk(0, 0)),
        "chunk expects `chunks` to be greater than 0, got: 0"
    );
    assert_eq!(
        err(x.split(0, 0)),
        "split_size can only be 0 if dimension size is 0, but got dimension size of 7"
    );
    assert_eq!(
        err(x.split(-1, 0)),
        "split expects split_size be non-negative, but got split_size=-1"
    );
    assert_eq!(
        err(x.split_with_sizes(&[2, 4], 0)),
        "split_with_sizes expects split_sizes to sum exactly to 7 (input tensor's size at dimension 0), but got split_sizes=[2, 4]"
    );
    assert_eq!(
        err(x.split_with_sizes(&[8, -1], 0)),
        "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=[8, -1]"
    );
    let s = leaf(&[1.], &[]);
    assert_eq!(
        err(s.unbind(0)),
        "Dimension specified as 0 but tensor has no dimensions"
    );
    assert_eq!(
        err(s.split(1, 0)),
        "split expects at least a 1-dimensional tensor"
    );
}

#[test]
fn gradients() {
    let x = x7();
    let parts = x.split(3, 0).unwrap();
    // Observed from libtorch 2.13: unused outputs get zeros.
    let y = parts[0]
        .mul(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .add(parts[2].mul(3.0).unwrap().sum(None, false).unwrap())
        .unwrap();
    y.backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [2., 2., 2., 0., 0., 0., 3.]);
    let v = [
        0.5, -1.5, 2.5, 3.0, -0.25, 1.25, 0.75, 2.0, -1.0, 0.1, 0.2, 0.3,
    ];
    let cat = |ps: Vec<Tensor>| {
        let w: Vec<Tensor> = ps
            .iter()
            .enumerate()
            .map(|(i, p)| p.mul((i + 1) as f64).unwrap())
            .collect();
        Tensor::cat(&w, 0)
    };
    gradcheck(
        |x| {
            cat(x[0]
                .split(2, 1)?
                .iter()
                .map(|t| t.reshape(&[-1]).unwrap())
                .collect())
        },
        &[(&v, &[3, 4])],
    );
    gradcheck(
        |x| {
            cat(x[0]
                .split_with_sizes(&[1, 2], 0)?
                .iter()
                .map(|t| t.reshape(&[-1]).unwrap())
                .collect())
        },
        &[(&v, &[3, 4])],
    );
    gradcheck(|x| cat(x[0].unbind(1)?), &[(&v, &[3, 4])]);
    gradcheck(
        |x| {
            cat(x[0]
                .chunk(2, 0)?
                .iter()
                .map(|t| t.reshape(&[-1]).unwrap())
                .collect())
        },
        &[(&v, &[3, 4])],
    );
}

#[test]
fn outputs_may_not_be_modified_in_place() {
    let x = x7();
    let y = x.mul(1.0).unwrap();
    let ps = y.split(3, 0).unwrap();
    let one = t64(&[1.], &[1]);
    // Observed from libtorch 2.13.
    assert_eq!(
        err(ps[0].add_(&one)),
        format!("Output 0 of Split is a view and is being modified inplace. {MULTI}")
    );
    assert_eq!(
        err(ps[1].mul_(2.0)),
        format!("Output 1 of Split is a view and is being modified inplace. {MULTI}")
    );
    let x2 = leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let u = x2.unbind(0).unwrap();
    assert_eq!(
        err(u[1].mul_(2.0)),
        format!("Output 1 of Unbind is a view and is being modified inplace. {MULTI}")
    );
    // The multi-output rule comes before the view-of-leaf rule.
    let leaf_parts = x.split(3, 0).unwrap();
    assert_eq!(
        err(leaf_parts[0].add_(&one)),
        format!("Output 0 of Split is a view and is being modified inplace. {MULTI}")
    );
    // Views of the outputs inherit the rule.
    let sub = leaf_parts[0].slice(0, 0, 2, 1).unwrap();
    assert_eq!(
        err(sub.add_(&one)),
        format!("Output 0 of Slice is a view and is being modified inplace. {MULTI}")
    );
    // Without history the write is fine, unless it would record some.
    let plain = t64(&[1., 2., 3., 4.], &[4]);
    let pp = plain.split(2, 0).unwrap();
    pp[0].add_(&one).unwrap();
    assert_eq!(plain.to_vec_f64(), [2., 3., 3., 4.]);
    assert_eq!(
        err(pp[1].add_(leaf(&[1.], &[1]))),
        format!(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. {MULTI}"
        )
    );
}

#[test]
fn writes_under_no_grad_and_through_the_base() {
    let x = x7();
    let one = t64(&[1.], &[1]);
    // Observed from libtorch 2.13: under no_grad the write is allowed, and reading the outputs'
    // grad_fn afterwards fails.
    let y = x.mul(1.0).unwrap();
    let ps = y.split(3, 0).unwrap();
    {
        let _g = no_grad();
        ps[0].add_(&one).unwrap();
    }
    assert_eq!(
        ps[0].grad_fn_name().unwrap_err().to_string(),
        format!(
            "Output 0 of Split is a view and its base or another view of its base has been modified inplace. {MULTI}"
        )
    );
    assert_eq!(
        ps[1].grad_fn_name().unwrap_err().to_string(),
        format!(
            "Output 1 of Split is a view and its base or another view of its base has been modified inplace. {MULTI}"
        )
    );
    y.add_(&one).unwrap();
    assert_eq!(name(&y), Some("AddBackward0"));
    // Writing the base while the outputs live is fine; the outputs' grad_fn then fails.
    let y = x.mul(1.0).unwrap();
    let ps = y.split(3, 0).unwrap();
    y.add_(&one).unwrap();
    assert_eq!(
        ps[0].grad_fn_name().unwrap_err().to_string(),
        format!(
            "Output 0 of Split is a view and its base or another view of its base has been modified inplace. {MULTI}"
        )
    );
    // Outputs made under no_grad are no_grad views.
    let ps = {
        let _g = no_grad();
        x.mul(1.0).unwrap().split(3, 0).unwrap()
    };
    assert_eq!(
        err(ps[0].add_(leaf(&[1.], &[1]))),
        "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
    );
}

//! The libtorch backend's autograd surface against CPython torch: backward's checks, flag and
//! `.grad` setters, `.data` and `detach`, Python values, SGD, graphs and factories.

use super::*;
use support::{err, ok, tensor};

#[test]
fn backward_checks_match_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    // (x * 2).backward()
    let f = err(&mut b, backward(&y, None));
    assert_eq!(f.kind, ErrorKind::ImplicitGradNonScalar);
    assert_eq!(
        f.message,
        "grad can be implicitly created only for scalar outputs"
    );
    // (x * 2).backward(ones(2))
    let g = plain(&mut b, &[1.0, 1.0]);
    let f = err(
        &mut b,
        Call::Backward {
            root: y.clone(),
            gradient: Some(g),
            retain_graph: None,
            create_graph: false,
        },
    );
    assert_eq!(f.kind, ErrorKind::GradShape);
    assert_eq!(
        f.message,
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3])."
    );
    // ones(2).sum().backward()
    let p = plain(&mut b, &[1.0, 1.0]);
    let s = tensor(&mut b, sum(&p));
    let f = err(&mut b, backward(&s, None));
    assert_eq!(f.kind, ErrorKind::NoGradFn);
    assert_eq!(
        f.message,
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    // (x * 2).backward(tensor([1., 10., 100.])) -> x.grad == [2, 20, 200]
    let g = plain(&mut b, &[1.0, 10.0, 100.0]);
    ok(
        &mut b,
        Call::Backward {
            root: y,
            gradient: Some(g),
            retain_graph: None,
            create_graph: false,
        },
    );
    assert_eq!(grad_values(&mut b, &x), Some(vec![2.0, 20.0, 200.0]));
}

#[test]
fn flag_setters_follow_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    // (x * 2).requires_grad = True
    let f = err(
        &mut b,
        Call::SetRequiresGrad {
            x: y.clone(),
            flag: true,
        },
    );
    assert_eq!(f.kind, ErrorKind::NonLeafRequiresGrad);
    assert_eq!(
        f.message,
        "you can only change requires_grad flags of leaf variables."
    );
    // (x * 2).requires_grad = False
    let f = err(
        &mut b,
        Call::SetRequiresGrad {
            x: y.clone(),
            flag: false,
        },
    );
    assert!(f.message.ends_with("use var_no_grad = var.detach()."));
    // (x * 2).requires_grad_(True) is fine; requires_grad_(False) is not.
    ok(
        &mut b,
        Call::RequiresGrad_ {
            x: y.clone(),
            flag: true,
        },
    );
    assert_eq!(
        err(
            &mut b,
            Call::RequiresGrad_ {
                x: y.clone(),
                flag: false
            }
        )
        .kind,
        ErrorKind::NonLeafRequiresGrad
    );
    // ones(2, dtype=int64).requires_grad_()
    let i = tensor(&mut b, data(&[2], &[1.0, 1.0], DType::I64));
    let f = err(
        &mut b,
        Call::RequiresGrad_ {
            x: i.clone(),
            flag: true,
        },
    );
    assert_eq!(
        f.message,
        "only Tensors of floating point dtype can require gradients"
    );
    let f = err(&mut b, Call::SetRequiresGrad { x: i, flag: true });
    assert_eq!(
        f.message,
        "only Tensors of floating point and complex dtype can require gradients"
    );
    assert_eq!(f.kind, ErrorKind::RequiresGradDtype);
    // ones(2).retain_grad()
    let p = plain(&mut b, &[1.0, 1.0]);
    assert_eq!(
        err(&mut b, Call::RetainGrad { x: p }).kind,
        ErrorKind::RetainGradNoGrad
    );
}

#[test]
fn grad_setter_checks_follow_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    // x.grad = ones(2)
    let g2 = plain(&mut b, &[1.0, 1.0]);
    let f = err(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(g2),
        },
    );
    assert_eq!(f.kind, ErrorKind::GradAssign);
    assert_eq!(
        f.message,
        "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'. Please ensure that the gradient and the tensor are the same size"
    );
    // x.grad = ones(3, dtype=float64)
    let gd = tensor(&mut b, data(&[3], &[1.0; 3], DType::F64));
    let f = err(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(gd),
        },
    );
    assert!(
        f.message
            .starts_with("attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'."),
        "{}",
        f.message
    );
    // x.grad = g; x.grad is g; x.grad = None
    let g = plain(&mut b, &[5.0, 6.0, 7.0]);
    ok(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(g.clone()),
        },
    );
    match ok(
        &mut b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Grad,
        },
    ) {
        Value::Tensor(t) => assert!(b.same(&t, &g)),
        other => panic!("{other:?}"),
    }
    ok(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: None,
        },
    );
    assert_eq!(b.observe(&x).grad, None);
}

#[test]
fn data_and_detach_version_counters() {
    // d = x.detach(): shares x's version counter; x.data: a fresh one.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0]);
    let d = tensor(&mut b, Call::Detach { x: x.clone() });
    ok(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: d.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert_eq!(b.observe(&x).version, 1);
    assert_eq!(b.observe(&x).data.values, vec![2.0, 3.0]);
    let data = tensor(
        &mut b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Data,
        },
    );
    ok(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: data.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    let (ox, od) = (b.observe(&x), b.observe(&data));
    assert_eq!((ox.version, od.version), (1, 1));
    assert_eq!(ox.data.values, vec![3.0, 4.0]);
    assert!(!od.requires_grad && od.is_leaf && !od.is_view);
}

#[test]
fn item_and_tolist_types_follow_dtype() {
    let mut b = B::new();
    let i = tensor(&mut b, data(&[2], &[1.0, 2.0], DType::I64));
    let s = tensor(&mut b, sum(&i));
    // tensor([1, 2]).sum().item() -> 3 (int)
    assert!(matches!(ok(&mut b, Call::Item { x: s }), Value::Int(3)));
    let t = tensor(&mut b, data(&[1], &[1.0], DType::Bool));
    assert!(matches!(ok(&mut b, Call::Item { x: t }), Value::Bool(true)));
    // tensor([[1., 2.]]).tolist() -> [[1.0, 2.0]]; tensor(3).tolist() -> 3
    let m = tensor(&mut b, data(&[1, 2], &[1.0, 2.0], DType::F32));
    match ok(&mut b, Call::ToList { x: m }) {
        Value::List(rows) => match rows.as_slice() {
            [Value::List(r)] => {
                assert!(
                    matches!(r.as_slice(), [Value::Float(a), Value::Float(b)] if *a == 1.0 && *b == 2.0)
                )
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let z = tensor(&mut b, data(&[], &[3.0], DType::I64));
    assert!(matches!(ok(&mut b, Call::ToList { x: z }), Value::Int(3)));
}

#[test]
fn sgd_follows_torch_optim() {
    // p = tensor([1., 2.], requires_grad=True)
    // opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    // twice: opt.zero_grad(); (p * p).sum().backward(); opt.step()
    // -> [0.7990000247955322, 1.5980000495910645], _version 1
    // -> [0.45750102400779724, 0.9150020480155945], _version 2; opt.zero_grad(); p.grad -> None
    let mut b = B::new();
    let p = leaf(&mut b, &[1.0, 2.0]);
    let opt = match ok(
        &mut b,
        Call::SgdNew {
            params: vec![p.clone()],
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.01,
            nesterov: false,
        },
    ) {
        Value::Optimizer(h) => h,
        other => panic!("{other:?}"),
    };
    let expected = [
        [0.7990000247955322, 1.5980000495910645],
        [0.45750102400779724, 0.9150020480155945],
    ];
    for (k, want) in expected.iter().enumerate() {
        ok(&mut b, Call::SgdZeroGrad { optimizer: opt });
        let sq = tensor(
            &mut b,
            Call::Binary {
                op: BinaryOp::Mul,
                a: p.clone(),
                b: Operand::Tensor(p.clone()),
            },
        );
        let s = tensor(&mut b, sum(&sq));
        ok(&mut b, backward(&s, None));
        ok(&mut b, Call::SgdStep { optimizer: opt });
        let o = b.observe(&p);
        assert_eq!(o.data.values, want.to_vec());
        assert_eq!(o.version, k as u64 + 1);
    }
    ok(&mut b, Call::SgdZeroGrad { optimizer: opt });
    assert_eq!(b.observe(&p).grad, None);

    // SGD([p], lr=0.1, nesterov=True); SGD([p * 2], lr=0.1)
    let f = err(
        &mut b,
        Call::SgdNew {
            params: vec![p.clone()],
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: true,
        },
    );
    assert_eq!(
        f.message,
        "Nesterov momentum requires a momentum and zero dampening"
    );
    let q = tensor(&mut b, bin(BinaryOp::Mul, &p, 2.0));
    let f = err(
        &mut b,
        Call::SgdNew {
            params: vec![q],
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
    );
    assert_eq!(f.message, "can't optimize a non-leaf Tensor");
}

#[test]
fn graph_and_version_are_reported() {
    // y = x * 2: y.grad_fn.next_functions -> ((AccumulateGrad, 0), (None, 0))
    let mut b = B::new();
    assert_eq!(b.version(), "libtorch 2.13.0");
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    let g = b.graph(&y);
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["MulBackward0", "AccumulateGrad"]);
    assert_eq!(g.edges, vec![(0, 1)]);
    assert_eq!(g.nodes[1].leaf_shape, Some(vec![3]));
    assert!(b.graph(&x).nodes.is_empty());
    let o = b.observe(&y);
    assert!(!o.is_leaf && o.requires_grad && !o.is_view);
    assert_eq!(o.data.values, vec![2.0, 4.0, 6.0]);
}

#[test]
fn warn_once_messages_are_once_per_backend() {
    // (x * x).sum().backward(create_graph=True), twice: Python warns once per process
    // ("Using backward() with create_graph=True will create a reference cycle ..."); each
    // backend instance stands for one process.
    for _ in 0..2 {
        let mut b = B::new();
        let x = leaf(&mut b, &[1.0, 2.0]);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let sq = tensor(
                &mut b,
                Call::Binary {
                    op: BinaryOp::Mul,
                    a: x.clone(),
                    b: Operand::Tensor(x.clone()),
                },
            );
            let s = tensor(&mut b, sum(&sq));
            ok(
                &mut b,
                Call::Backward {
                    root: s,
                    gradient: None,
                    retain_graph: None,
                    create_graph: true,
                },
            );
            seen.extend(b.take_warnings());
        }
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].starts_with("Using backward() with create_graph=True"));
        // x.grad is 2x + 2x, built with a graph: AddBackward0.
        let o = b.observe(&x);
        assert_eq!(o.grad.map(|g| g.values), Some(vec![4.0, 8.0]));
    }
}

#[test]
fn failing_ops_with_number_arguments_do_not_panic() {
    // tch frees its Scalar wrapper with a panicking error check, so every op taking a Python
    // number goes through the shim; each of these errors must come back as a Failure.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    // x.fill_(5.0) on a leaf
    let f = err(
        &mut b,
        Call::Fill_ {
            x: x.clone(),
            value: Scalar::Float(5.0),
        },
    );
    assert_eq!(f.kind, ErrorKind::LeafInplace);
    // torch.ones(3, dtype=torch.int64) ** -1
    let i = tensor(&mut b, data(&[3], &[1.0; 3], DType::I64));
    let f = err(
        &mut b,
        Call::Binary {
            op: BinaryOp::Pow,
            a: i.clone(),
            b: Operand::Scalar(Scalar::Int(-1)),
        },
    );
    assert_eq!(
        f.message,
        "Integers to negative integer powers are not allowed."
    );
    // torch.arange(0, 1, 0)
    let f = err(
        &mut b,
        Call::Arange {
            start: 0.0,
            end: 1.0,
            step: 0.0,
            dtype: DType::I64,
        },
    );
    assert_eq!(f.message, "step must be nonzero");
    // torch.where(ones(3), ones(3), 0.0)
    let c = plain(&mut b, &[1.0; 3]);
    let f = err(
        &mut b,
        Call::Where {
            cond: c.clone(),
            a: Operand::Tensor(c.clone()),
            b: Operand::Scalar(Scalar::Float(0.0)),
        },
    );
    assert_eq!(f.kind, ErrorKind::DtypeMismatch);
    // torch.where(cond, 1.0, 0.0).dtype == torch.float32
    let cond = tensor(&mut b, data(&[2], &[1.0, 0.0], DType::Bool));
    let w = tensor(
        &mut b,
        Call::Where {
            cond,
            a: Operand::Scalar(Scalar::Float(1.0)),
            b: Operand::Scalar(Scalar::Float(0.0)),
        },
    );
    let o = b.observe(&w);
    assert_eq!((o.data.dtype, o.data.values), (DType::F32, vec![1.0, 0.0]));
    // torch.arange(5) and torch.arange(0, 5, 1.5) values
    let a = tensor(
        &mut b,
        Call::Arange {
            start: 0.0,
            end: 5.0,
            step: 1.5,
            dtype: DType::F32,
        },
    );
    assert_eq!(b.observe(&a).data.values, vec![0.0, 1.5, 3.0, 4.5]);
    // The backend is still usable, and x is untouched.
    assert_eq!(b.observe(&x).data.values, vec![1.0, 2.0, 3.0]);
}

#[test]
fn factories_start_at_version_zero() {
    // torch.ones(3)._version, torch.full((2,), True)._version, torch.arange(3)._version,
    // torch.linspace(0, 1, 3)._version, torch.eye(2)._version, torch.tensor([1., 2.])._version
    // -> all 0 (Python's factories run below the version-bumping in-place kernel)
    let mut b = B::new();
    let calls: Vec<Call<TorchTensor>> = vec![
        Call::Full {
            shape: vec![3],
            value: Scalar::Float(1.0),
            dtype: DType::F32,
        },
        Call::Full {
            shape: vec![2],
            value: Scalar::Bool(true),
            dtype: DType::Bool,
        },
        Call::Arange {
            start: 0.0,
            end: 3.0,
            step: 1.0,
            dtype: DType::I64,
        },
        Call::Linspace {
            start: 0.0,
            end: 1.0,
            steps: 3,
            dtype: DType::F32,
        },
        Call::Eye {
            n: 2,
            m: 2,
            dtype: DType::F32,
        },
        data(&[2], &[1.0, 2.0], DType::F32),
    ];
    for call in calls {
        let desc = format!("{call:?}");
        let t = tensor(&mut b, call);
        let o = b.observe(&t);
        assert_eq!(o.version, 0, "{desc}");
        assert!(o.is_leaf && !o.is_view && !o.requires_grad, "{desc}");
    }
}

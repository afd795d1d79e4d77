//! nn and optim: PyTorch's parameter names, initialisation bounds, freezing, replacing a
//! submodule, `zero_grad`, and `torch.optim.SGD`'s update rule checked against numbers
//! printed by torch 2.13; seed 002's polynomial fit run to the end.

use engine::nn::{Conv2d, Flatten, Linear, MSELoss, Module, ReLU, Sequential, Sigmoid};
use engine::ops::linalg::{Conv2dOptions, Reduction};
use engine::optim::{SGD, SgdOptions};
use engine::{DType, Generator, Tensor};

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{got:?} vs {want:?}"
        );
    }
}

fn names(m: &dyn Module) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

/// Seed 000: `nn.Sequential(nn.Conv2d(3, 16, 3, 1), nn.Conv2d(16, 32, 3, 1))` names its
/// parameters `0.weight 0.bias 1.weight 1.bias`, all requiring grad.
#[test]
fn sequential_names_and_shapes_like_pytorch() {
    let mut g = Generator::new(0);
    let net = Sequential::new(vec![
        Box::new(Conv2d::simple(3, 16, 3, 1, &mut g).unwrap()),
        Box::new(Conv2d::simple(16, 32, 3, 1, &mut g).unwrap()),
    ]);
    assert_eq!(names(&net), ["0.weight", "0.bias", "1.weight", "1.bias"]);
    let shapes: Vec<Vec<usize>> = net.parameters().iter().map(|p| p.shape()).collect();
    assert_eq!(
        shapes,
        [vec![16, 3, 3, 3], vec![16], vec![32, 16, 3, 3], vec![32]]
    );
    for p in net.parameters() {
        assert!(p.requires_grad() && p.is_leaf());
        // nn.Conv2d(3, 16, 3).weight._version == 1 (filled in place by kaiming_uniform_)
        assert_eq!(p.version(), 1);
    }
    assert_eq!(
        net.repr(),
        "Sequential(\n  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))\n  (1): Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1))\n)"
    );
    let x = Tensor::zeros(&[8, 3, 50, 100], DType::F32).unwrap();
    let y = net.forward(&x).unwrap();
    assert_eq!(y.shape(), [8, 32, 46, 96]);
    assert!(y.requires_grad());
    assert_eq!(y.grad_fn_name().unwrap(), Some("ConvolutionBackward0"));
}

/// kaiming_uniform_(a=sqrt(5)) and the bias rule both give U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
#[test]
fn initialisation_bounds_and_seeding() {
    let mut g = Generator::new(1);
    let lin = Linear::new(25, 40, true, &mut g).unwrap();
    let conv = Conv2d::new(
        6,
        8,
        (3, 2),
        Conv2dOptions {
            groups: 2,
            ..Conv2dOptions::default()
        },
        true,
        &mut g,
    )
    .unwrap();
    for (ps, fan_in) in [
        (lin.parameters(), 25.0f64),
        (conv.parameters(), 3.0 * 3.0 * 2.0),
    ] {
        let bound = 1.0 / fan_in.sqrt();
        for p in ps {
            let v = p.to_vec_f64();
            assert!(v.iter().all(|x| x.abs() <= bound));
            // Spread over the range, not a constant.
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            assert!(hi - lo > bound * 0.5, "{lo} {hi} {bound}");
        }
    }
    let a = Linear::new(3, 2, true, &mut Generator::new(7)).unwrap();
    let b = Linear::new(3, 2, true, &mut Generator::new(7)).unwrap();
    assert_eq!(a.weight.to_vec_f64(), b.weight.to_vec_f64());
    assert_eq!(
        Linear::from_tensors(Tensor::zeros(&[2, 3], DType::F32).unwrap(), None)
            .unwrap()
            .repr(),
        "Linear(in_features=3, out_features=2, bias=False)"
    );
}

/// Seed 000, In [11]: with every parameter frozen the output does not require grad.
#[test]
fn freezing_makes_outputs_constant() {
    let mut g = Generator::new(2);
    let net = Sequential::new(vec![
        Box::new(Conv2d::simple(3, 4, 3, 1, &mut g).unwrap()),
        Box::new(ReLU),
        Box::new(Conv2d::simple(4, 2, 3, 1, &mut g).unwrap()),
        Box::new(Sigmoid),
    ]);
    let x = Tensor::randn(&[2, 3, 7, 7], DType::F32, &mut g).unwrap();
    assert!(net.forward(&x).unwrap().requires_grad());
    net.requires_grad_(false).unwrap();
    let y = net.forward(&x).unwrap();
    assert!(!y.requires_grad() && y.is_leaf());
    assert!(net.parameters().iter().all(|p| !p.requires_grad()));
}

/// The documents' transfer-learning head: freeze everything, then `model.fc = nn.Linear(..)`
/// keeps the name `fc`, its fresh parameters require grad, and an optimizer over
/// `model.fc.parameters()` changes only them.
#[test]
fn replacing_a_submodule_by_name() {
    let mut g = Generator::new(3);
    let mut model = Sequential::from_named(vec![
        (
            "body".into(),
            Box::new(Linear::new(6, 5, true, &mut g).unwrap()),
        ),
        ("act".into(), Box::new(ReLU)),
        (
            "fc".into(),
            Box::new(Linear::new(5, 3, true, &mut g).unwrap()),
        ),
    ]);
    model.requires_grad_(false).unwrap();
    model.set("fc", Box::new(Linear::new(5, 2, true, &mut g).unwrap()));
    assert_eq!(
        names(&model),
        ["body.weight", "body.bias", "fc.weight", "fc.bias"]
    );
    let flags: Vec<bool> = model
        .parameters()
        .iter()
        .map(|p| p.requires_grad())
        .collect();
    assert_eq!(flags, [false, false, true, true]);
    let fc = model.child("fc").unwrap();
    assert_eq!(fc.parameters()[0].shape(), [2, 5]);

    let before: Vec<Vec<f64>> = model.parameters().iter().map(|p| p.to_vec_f64()).collect();
    let mut opt = SGD::new(
        fc.parameters(),
        SgdOptions {
            lr: 1e-2,
            momentum: 0.9,
            ..SgdOptions::default()
        },
    )
    .unwrap();
    let x = Tensor::randn(&[4, 6], DType::F32, &mut g).unwrap();
    let loss = model.forward(&x).unwrap().sum(None, false).unwrap();
    loss.backward().unwrap();
    opt.step().unwrap();
    let after: Vec<Vec<f64>> = model.parameters().iter().map(|p| p.to_vec_f64()).collect();
    assert_eq!(before[0], after[0]);
    assert_eq!(before[1], after[1]);
    assert_ne!(before[2], after[2]);
    assert_ne!(before[3], after[3]);
    // A positional child replaced in place keeps its name ("model[0] = ...").
    model
        .replace(0, Box::new(Linear::new(6, 5, false, &mut g).unwrap()))
        .unwrap();
    assert_eq!(names(&model), ["body.weight", "fc.weight", "fc.bias"]);
    assert!(model.get_as::<Linear>(0).unwrap().bias.is_none());
}

/// A layer used twice appears once: `Sequential(sh, sh).named_parameters()` is
/// `['0.weight', '0.bias']` in torch.
#[test]
fn shared_layers_are_listed_once() {
    let mut g = Generator::new(4);
    let sh = Linear::new(2, 2, true, &mut g).unwrap();
    let twin = Linear::from_tensors(sh.weight.clone(), sh.bias.clone()).unwrap();
    let s = Sequential::new(vec![Box::new(sh), Box::new(twin)]);
    assert_eq!(names(&s), ["0.weight", "0.bias"]);
}

#[test]
fn zero_grad_sets_none() {
    let mut g = Generator::new(5);
    let lin = Linear::new(3, 2, true, &mut g).unwrap();
    let x = Tensor::ones(&[4, 3], DType::F32).unwrap();
    lin.forward(&x)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert!(lin.parameters().iter().all(|p| p.grad().is_some()));
    lin.zero_grad().unwrap();
    assert!(lin.parameters().iter().all(|p| p.grad().is_none()));
    let flat = Flatten::default()
        .forward(&Tensor::zeros(&[2, 3, 4], DType::F32).unwrap())
        .unwrap();
    assert_eq!(flat.shape(), [2, 12]);
}

/// Three steps on two f64 parameters with hand-set grads (p2's grad is None at the second
/// step, so it is skipped). Expected values from torch 2.13:
///
/// ```python
/// p1 = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
/// p2 = torch.tensor([[0.5, -0.5], [0.25, 2.0]], dtype=torch.float64, requires_grad=True)
/// opt = torch.optim.SGD([p1, p2], **kw)
/// for k in range(3):
///     p1.grad = torch.tensor([0.1*(k+1), -0.2, 0.3*(k-1)], dtype=torch.float64)
///     p2.grad = None if k == 1 else torch.tensor([[1.0, -1.0], [0.5*k, 2.0]], dtype=torch.float64)
///     opt.step()
/// print(p1.tolist(), p2.tolist(), p1._version, p2._version)
/// ```
#[test]
fn sgd_matches_torch_optim() {
    let cases = [
        (
            SgdOptions::lr(0.1),
            [0.94, -1.94, 3.0],
            [0.30000000000000004, -0.30000000000000004, 0.15, 1.6],
        ),
        (
            SgdOptions {
                lr: 0.1,
                momentum: 0.9,
                ..SgdOptions::default()
            },
            [0.9048999999999999, -1.8878, 3.0513],
            [
                0.21000000000000002,
                -0.21000000000000002,
                0.15,
                1.4200000000000002,
            ],
        ),
        (
            SgdOptions {
                lr: 0.1,
                momentum: 0.9,
                dampening: 0.5,
                weight_decay: 0.01,
                nesterov: false,
            },
            [0.93476614725, -1.9085272945, 3.05376945675],
            [0.25885025, -0.25885025, 0.19940012499999998, 1.515301],
        ),
        (
            SgdOptions {
                lr: 0.05,
                momentum: 0.8,
                dampening: 0.0,
                weight_decay: 0.1,
                nesterov: true,
            },
            [0.898560742, -1.857359484, 2.909643],
            [
                0.27825049999999996,
                -0.27825049999999996,
                0.15472025,
                1.535382,
            ],
        ),
    ];
    for (opts, want1, want2) in cases {
        let f = |v: &[f64], s: &[usize]| Tensor::from_f64(v, s, DType::F64).unwrap();
        let p1 = f(&[1.0, -2.0, 3.0], &[3]).with_requires_grad(true).unwrap();
        let p2 = f(&[0.5, -0.5, 0.25, 2.0], &[2, 2])
            .with_requires_grad(true)
            .unwrap();
        let mut opt = SGD::new(vec![p1.clone(), p2.clone()], opts).unwrap();
        for k in 0..3 {
            let k = k as f64;
            p1.set_grad(Some(f(&[0.1 * (k + 1.0), -0.2, 0.3 * (k - 1.0)], &[3])))
                .unwrap();
            let g2 = (k != 1.0).then(|| f(&[1.0, -1.0, 0.5 * k, 2.0], &[2, 2]));
            p2.set_grad(g2).unwrap();
            opt.step().unwrap();
        }
        close(&p1.to_vec_f64(), &want1, 1e-12);
        close(&p2.to_vec_f64(), &want2, 1e-12);
        assert_eq!((p1.version(), p2.version()), (3, 2), "{opts:?}");
        assert!(p1.is_leaf() && p1.requires_grad());
    }
}

/// `torch.optim.SGD([...], **kw)` raises ValueError with these texts.
#[test]
fn sgd_rejects_bad_arguments_like_torch() {
    let p = || {
        vec![
            Tensor::zeros(&[1], DType::F32)
                .unwrap()
                .with_requires_grad(true)
                .unwrap(),
        ]
    };
    let err = |params, o| SGD::new(params, o).err().unwrap().to_string();
    let d = SgdOptions::default();
    assert_eq!(
        err(p(), SgdOptions::lr(-0.1)),
        "Invalid learning rate: -0.1"
    );
    assert_eq!(
        err(
            p(),
            SgdOptions {
                momentum: -1.0,
                ..d
            }
        ),
        "Invalid momentum value: -1.0"
    );
    assert_eq!(
        err(
            p(),
            SgdOptions {
                weight_decay: -1e-6,
                ..d
            }
        ),
        "Invalid weight_decay value: -1e-06"
    );
    assert_eq!(
        err(
            p(),
            SgdOptions {
                nesterov: true,
                ..d
            }
        ),
        "Nesterov momentum requires a momentum and zero dampening"
    );
    assert_eq!(
        err(
            p(),
            SgdOptions {
                nesterov: true,
                momentum: 0.9,
                dampening: 0.1,
                ..d
            }
        ),
        "Nesterov momentum requires a momentum and zero dampening"
    );
    assert_eq!(err(vec![], d), "optimizer got an empty parameter list");
    let non_leaf = p()[0].mul(2.0).unwrap();
    assert_eq!(err(vec![non_leaf], d), "can't optimize a non-leaf Tensor");
}

/// Only the optimizer's own parameters move; a grad of None is skipped (no momentum buffer
/// is made for it); zero_grad clears grads to None.
#[test]
fn sgd_touches_only_its_params() {
    let a = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let b = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let c = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let mut opt = SGD::new(
        vec![a.clone(), b.clone()],
        SgdOptions {
            lr: 0.5,
            momentum: 0.9,
            ..SgdOptions::default()
        },
    )
    .unwrap();
    a.mul(&c)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    opt.step().unwrap();
    assert_eq!(a.to_vec_f64(), [0.5, 0.5]);
    assert_eq!(b.to_vec_f64(), [1.0, 1.0]);
    assert_eq!(c.to_vec_f64(), [1.0, 1.0]);
    assert_eq!((a.version(), b.version(), c.version()), (1, 0, 0));
    assert!(opt.momentum_buffer(0).is_some() && opt.momentum_buffer(1).is_none());
    opt.zero_grad().unwrap();
    assert!(a.grad().is_none());
    assert!(c.grad().is_some());
}

/// Seed 002's polynomial fit, from fixed initial weights, in f32 as the document runs it.
/// torch 2.13 with `model[0].weight = [[0.1, -0.2, 0.3]]`, `bias = [0.05]`, MSELoss(sum),
/// SGD(lr=1e-6), 2000 iterations prints losses 24597.5 (t=0), 457.0947 (t=99),
/// 19.738972 (t=999), 8.9946785 (t=1999) and ends at weight
/// [[0.84400874, -0.00044584225, -0.091519356]], bias [0.0025843468].
#[test]
fn seed_002_polynomial_fit_converges_like_torch() {
    let x = Tensor::linspace(
        -std::f64::consts::PI,
        std::f64::consts::PI,
        2000,
        DType::F32,
    )
    .unwrap();
    let y = x.sin().unwrap();
    let p = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
    let xx = x.unsqueeze(-1).unwrap().pow(&p).unwrap();
    let w = Tensor::from_vec(vec![0.1f32, -0.2, 0.3], &[1, 3])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let b = Tensor::from_vec(vec![0.05f32], &[1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let model = Sequential::new(vec![
        Box::new(Linear::from_tensors(w.clone(), Some(b.clone())).unwrap()),
        Box::new(Flatten::new(0, 1)),
    ]);
    let loss_fn = MSELoss::new(Reduction::Sum);
    let mut opt = SGD::new(model.parameters(), SgdOptions::lr(1e-6)).unwrap();
    let mut losses = Vec::new();
    for t in 0..2000 {
        let loss = loss_fn.forward(&model.forward(&xx).unwrap(), &y).unwrap();
        if [0, 99, 999, 1999].contains(&t) {
            losses.push(loss.to_vec_f64()[0]);
        }
        opt.zero_grad().unwrap();
        loss.backward().unwrap();
        opt.step().unwrap();
    }
    close(
        &losses,
        &[
            24597.5,
            457.0947265625,
            19.738971710205078,
            8.994678497314453,
        ],
        1e-3,
    );
    close(
        &w.to_vec_f64(),
        &[
            0.84400874376297,
            -0.0004458422481548041,
            -0.09151935577392578,
        ],
        1e-3,
    );
    close(&b.to_vec_f64(), &[0.002584346802905202], 1e-2);
    assert_eq!(w.version(), 2000);
}

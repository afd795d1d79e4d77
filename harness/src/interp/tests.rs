//! Interpreter tests: programs run on libtorch, checked against what CPython's torch 2.13 does
//! (grad_fn names of the lowered operators, `.data` semantics, module parameter names, notebook
//! semantics, seeded data).

use super::*;
use crate::backend::TensorObs;
use crate::backend::libtorch::LibtorchBackend;
use crate::program::parse;

fn run_text(text: &str, seed: u64) -> Run {
    let p = parse(text).expect("test program parses");
    let mut b = LibtorchBackend::new();
    run(&mut b, &p, seed, &Options::default())
}

fn last_var<'a>(r: &'a Run, name: &str) -> &'a TensorObs {
    &r.steps
        .last()
        .and_then(|s| s.vars.iter().find(|v| v.name == name))
        .unwrap_or_else(|| panic!("{name} not observed at the end"))
        .obs
}

#[test]
fn reflected_operators_lower_like_cpython() {
    let r = run_text(
        "x = torch.ones(2, requires_grad=True)\n\
         a = 2 * x\n\
         b = 1 - x\n\
         c = 1 / x\n\
         d = 2 ** x\n\
         e = x + 2\n\
         f = -x\n",
        0,
    );
    assert!(r.steps.iter().all(|s| s.error.is_none()), "{:?}", r.steps);
    let names: Vec<_> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|n| last_var(&r, n).grad_fn.clone().unwrap_or_default())
        .collect();
    // torch 2.13: `1 / x` is `x.reciprocal() * 1`, so its node is a MulBackward0.
    assert_eq!(
        names,
        [
            "MulBackward0",
            "RsubBackward1",
            "MulBackward0",
            "PowBackward2",
            "AddBackward0",
            "NegBackward0"
        ]
    );
}

#[test]
fn data_augassign_keeps_leaf_and_graph() {
    // seed 001, In [15]: `x.data *= 100` changes x without touching its autograd history.
    let r = run_text(
        "x = torch.ones(1, requires_grad=True)\n\
         y = 2 * x\n\
         x.data *= 100\n\
         y.backward()\n",
        0,
    );
    let x = last_var(&r, "x");
    assert_eq!(x.data.values, vec![100.0]);
    assert!(x.is_leaf && x.requires_grad);
    assert_eq!(x.grad.as_ref().map(|g| g.values.clone()), Some(vec![2.0]));
}

#[test]
fn statements_continue_after_a_failure() {
    let r = run_text(
        "a = torch.tensor([10., 5.], requires_grad=True)\n\
         a.add_(10.)\n\
         b = undefined_name\n\
         c = a * 2\n",
        0,
    );
    assert_eq!(r.steps.len(), 4);
    assert_eq!(
        r.steps[1].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::LeafInplace)
    );
    assert_eq!(
        r.steps[2].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::NameError)
    );
    assert!(r.steps[3].error.is_none());
    assert_eq!(last_var(&r, "c").data.values, vec![20.0, 10.0]);
}

#[test]
fn no_grad_is_restored_even_when_the_body_fails() {
    let r = run_text(
        "x = torch.ones(2, requires_grad=True)\n\
         with torch.no_grad():\n    y = x * 2\n    z = 1 + None\n\
         w = x * 2\n",
        0,
    );
    let y = last_var(&r, "y");
    let w = last_var(&r, "w");
    assert!(!y.requires_grad);
    assert!(
        w.requires_grad,
        "grad mode was not restored after the with block"
    );
    let z_step = r.steps.iter().find(|s| s.line == 4).unwrap();
    assert_eq!(
        z_step.error.as_ref().map(|f| f.kind),
        Some(ErrorKind::TypeError)
    );
}

#[test]
fn sequential_parameters_are_named_and_initialised_in_bounds() {
    let r = run_text(
        "net = nn.Sequential(nn.Conv2d(3, 4, 3, 1), nn.Linear(5, 2))\n\
         pass\n",
        7,
    );
    let first = &r.steps[0];
    let names: Vec<_> = first.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias"]
    );
    let conv_bound = 1.0 / 27f64.sqrt();
    let lin_bound = 1.0 / 5f64.sqrt();
    for v in &first.vars {
        let b = if v.name.starts_with("net.0") {
            conv_bound
        } else {
            lin_bound
        };
        assert!(v.obs.is_leaf && v.obs.requires_grad);
        assert!(
            v.obs.data.values.iter().all(|x| x.abs() <= b + 1e-6),
            "{}",
            v.name
        );
    }
    assert_eq!(first.vars[0].obs.data.shape, vec![4, 3, 3, 3]);
}

#[test]
fn random_data_depends_on_the_seed_only() {
    let a = run_text("x = torch.randn(3, 4)\ny = torch.rand(5)\n", 42);
    let b = run_text("x = torch.randn(3, 4)\ny = torch.rand(5)\n", 42);
    let c = run_text("x = torch.randn(3, 4)\ny = torch.rand(5)\n", 43);
    assert_eq!(last_var(&a, "x").data, last_var(&b, "x").data);
    assert_ne!(last_var(&a, "x").data, last_var(&c, "x").data);
    let u = &last_var(&a, "y").data.values;
    assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
}

#[test]
fn loops_observe_only_what_they_touch_and_everything_after() {
    let r = run_text(
        "big = torch.ones(100, 3)\n\
         w = torch.zeros(3, requires_grad=True)\n\
         for t in range(3):\n    loss = (big * w).sum()\n    loss.backward()\n\
         done = w * 1\n",
        0,
    );
    let in_loop: Vec<_> = r.steps.iter().filter(|s| s.in_loop).collect();
    assert_eq!(in_loop.len(), 6);
    for s in &in_loop {
        assert!(s.vars.iter().all(|v| v.name != "big" || s.line == 4));
    }
    let bw = in_loop.iter().find(|s| s.line == 5).unwrap();
    assert_eq!(
        bw.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["loss"]
    );
    // Three backward calls accumulate 100 per element each.
    assert_eq!(
        last_var(&r, "w").grad.as_ref().unwrap().values,
        vec![300.0; 3]
    );
}

#[test]
fn sgd_and_zero_grad_on_a_module() {
    let r = run_text(
        "model = nn.Linear(2, 1)\n\
         opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n\
         x = torch.ones(4, 2)\n\
         loss = model(x).sum()\n\
         loss.backward()\n\
         opt.step()\n\
         model.zero_grad()\n",
        1,
    );
    assert!(
        r.steps.iter().all(|s| s.error.is_none()),
        "{:?}",
        r.steps.iter().map(|s| &s.error).collect::<Vec<_>>()
    );
    let before = &r.steps[0].vars[1].obs.data.values[0];
    let after = &last_var(&r, "model.bias").data.values[0];
    // d(sum)/d(bias) = 4; the first momentum step is plain SGD.
    assert!((before - 0.4 - after).abs() < 1e-6);
    assert!(last_var(&r, "model.bias").grad.is_none());
}

#[test]
fn probes_and_results_are_recorded() {
    let p = parse(
        "x = torch.tensor([1., 2.], requires_grad=True)\ny = (x * x).sum()\ny.backward()\nx.grad\n",
    )
    .unwrap();
    let opts = Options {
        probes: vec![
            Probe {
                line: 2,
                expr: Some(crate::program::parser::parse_expr("y.grad_fn").unwrap()),
            },
            Probe {
                line: 3,
                expr: None,
            },
        ],
        ..Options::default()
    };
    let mut b = LibtorchBackend::new();
    let r = run(&mut b, &p, 0, &opts);
    assert_eq!(
        r.probes[0].as_ref().map(|p| p.value.clone()),
        Some(Ok(ObsValue::Str("SumBackward0".into())))
    );
    assert_eq!(
        r.probes[1].as_ref().map(|p| p.value.clone()),
        Some(Ok(ObsValue::None))
    );
    match &r.steps[3].result {
        Some(ObsValue::Tensor(t)) => assert_eq!(t.data.values, vec![2.0, 4.0]),
        other => panic!("x.grad result: {other:?}"),
    }
}

#[test]
fn type_errors_are_failures_not_panics() {
    let r = run_text(
        "a = 1\n\
         b = a.grad\n\
         c = torch.ones(2)(3)\n\
         d = torch.ones('x')\n\
         e = torch.nosuchthing(1)\n",
        0,
    );
    assert_eq!(r.steps.len(), 5);
    assert_eq!(
        r.steps[1].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::TypeError)
    );
    assert_eq!(
        r.steps[2].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::TypeError)
    );
    assert_eq!(
        r.steps[3].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::TypeError)
    );
    assert_eq!(
        r.steps[4].error.as_ref().map(|f| f.kind),
        Some(ErrorKind::NotImplemented)
    );
}

/// Arguments bind through `program::names`: receivers fill `input`, keywords use the table's
/// parameter names, bare `max`/`sum`/`abs` of numbers are Python's. Values from torch 2.13.
#[test]
fn calls_bind_through_the_name_table() {
    let r = run_text(
        "x = torch.tensor([1.0, 2.0, 3.0])\n\
         w = x.where(torch.tensor([True, False, True]), torch.zeros(3))\n\
         a = torch.arange(3)\n\
         b = torch.arange(1, 4)\n\
         p = torch.tensor([float(max(1, 5, 3)), float(sum([1, 2])), float(abs(-2))])\n\
         m = torch.mm(torch.ones(2, 3), mat2=torch.ones(3, 1))\n\
         e = torch.ones(1, 3).expand(2, 3)\n\
         z = torch.zeros((2, 2))\n\
         v = max(x, 0)[0]\n",
        0,
    );
    assert!(r.steps.iter().all(|s| s.error.is_none()), "{:?}", r.steps);
    let vals = |n: &str| last_var(&r, n).data.values.clone();
    assert_eq!(vals("w"), [1.0, 0.0, 3.0]);
    assert_eq!(vals("a"), [0.0, 1.0, 2.0]);
    assert_eq!(vals("b"), [1.0, 2.0, 3.0]);
    assert_eq!(vals("p"), [5.0, 3.0, 2.0]);
    assert_eq!(vals("m"), [3.0, 3.0]);
    assert_eq!(last_var(&r, "e").data.shape, [2, 3]);
    assert_eq!(last_var(&r, "z").data.shape, [2, 2]);
    assert_eq!(vals("v"), [3.0]);
}

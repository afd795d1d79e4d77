//! Every row of the op table (`engine::ops::table`), new rows included as they are added: its
//! backward against central finite differences in f64, out of place and in place (also on a
//! view, through `CopySlices`); its grad_fn name as libtorch's; its in-place form's semantics;
//! and which dtypes its kernels take. Expected values and messages written out below are
//! libtorch 2.13's, read from its CPU build (messages in the Python form the engine uses:
//! `torch.DoubleTensor` where C++ prints `CPUDoubleType`).

use engine::kernel::entry;
use engine::ops::table::{BINARY_ROWS, COMPARE_ROWS, Saves, UNARY_ROWS, UnaryInfo};
use engine::{DType, Error, Tensor};

/// Points inside every row's smooth domain or outside it (skipped where the row is not
/// finite there): no kinks (0 for `abs`, `relu`, `sgn`) are straddled.
const POINTS: &[f64] = &[-1.7, -0.6, 0.35, 0.8, 1.45];
const WEIGHTS: &[f64] = &[0.5, 1.25, -0.75, 2.0, 1.5];
const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

fn leaf(values: &[f64]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[values.len()])
        .and_then(|t| t.with_requires_grad(true))
        .unwrap()
}

fn weights() -> Tensor {
    Tensor::from_vec(WEIGHTS.to_vec(), &[WEIGHTS.len()]).unwrap()
}

/// `d/dx f` at `x` by central differences of the forward kernel, where `f` is finite around it.
fn numeric(f: fn(f64) -> f64, x: f64) -> Option<f64> {
    let (a, b, c) = (f(x - EPS), f(x), f(x + EPS));
    (a.is_finite() && b.is_finite() && c.is_finite()).then(|| (c - a) / (2.0 * EPS))
}

fn assert_close(what: &str, analytic: f64, numeric: f64) {
    assert!(
        (analytic - numeric).abs() <= ATOL + RTOL * numeric.abs(),
        "{what}: analytic {analytic} vs numeric {numeric}"
    );
}

fn row(name: &str) -> &'static UnaryInfo {
    UNARY_ROWS
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no row {name}"))
}

/// The gradient of `sum(w * op(x))` at [`POINTS`], with `op` out of place or in place on
/// `x * 1` (a non-leaf).
fn gradient(row: &UnaryInfo, inplace: bool) -> Vec<f64> {
    let x = leaf(POINTS);
    let y = if inplace {
        let y = x.mul(1.0).unwrap();
        let r = (row.op_)(&y).unwrap();
        assert!(r.same(&y), "{}: returns its own tensor", row.inplace);
        y
    } else {
        (row.op)(&x).unwrap()
    };
    y.mul(weights())
        .and_then(|l| l.sum(None, false))
        .and_then(|l| l.backward())
        .unwrap();
    x.grad().unwrap().to_vec_f64()
}

#[test]
fn every_rows_backward_matches_finite_differences() {
    for row in UNARY_ROWS {
        for inplace in [false, true] {
            let g = gradient(row, inplace);
            let mut checked = 0;
            for (i, &p) in POINTS.iter().enumerate() {
                let Some(d) = numeric(row.f64, p) else {
                    continue;
                };
                let name = if inplace { row.inplace } else { row.name };
                assert_close(&format!("{name} at {p}"), g[i], d * WEIGHTS[i]);
                checked += 1;
            }
            assert!(checked >= 2, "{}: too few points in its domain", row.name);
        }
    }
}

#[test]
fn every_rows_inplace_form_on_a_view_rebases_the_base_with_copy_slices() {
    for row in UNARY_ROWS {
        let x = leaf(POINTS);
        let b = x.mul(1.0).unwrap();
        let v = b.narrow(0, 1, 3).unwrap();
        (row.op_)(&v).unwrap();
        assert_eq!(
            b.grad_fn_name().unwrap(),
            Some("CopySlices"),
            "{}",
            row.name
        );
        assert_eq!(
            v.grad_fn_name().unwrap(),
            Some("AsStridedBackward0"),
            "{}",
            row.name
        );
        assert_eq!((b.version(), v.version()), (1, 1), "{}", row.name);
        b.mul(weights())
            .and_then(|l| l.sum(None, false))
            .and_then(|l| l.backward())
            .unwrap();
        let g = x.grad().unwrap().to_vec_f64();
        for (i, &p) in POINTS.iter().enumerate() {
            let inside = (1..4).contains(&i);
            let want = if inside {
                match numeric(row.f64, p) {
                    Some(d) => d * WEIGHTS[i],
                    None => continue,
                }
            } else {
                WEIGHTS[i]
            };
            assert_close(&format!("{} on a view at {p}", row.inplace), g[i], want);
        }
    }
}

#[test]
fn every_row_computes_what_its_inplace_form_writes() {
    for row in UNARY_ROWS {
        let x = Tensor::from_vec(POINTS.to_vec(), &[5]).unwrap();
        let want: Vec<f64> = POINTS.iter().map(|&p| (row.f64)(p)).collect();
        let out = (row.op)(&x).unwrap().to_vec_f64();
        let y = x.clone_detached().unwrap();
        (row.op_)(&y).unwrap();
        for ((a, b), w) in out.iter().zip(y.to_vec_f64()).zip(&want) {
            let same = |u: f64, v: f64| u == v || u.is_nan() && v.is_nan();
            assert!(same(*a, *w) && same(b, *w), "{}: {a} {b} {w}", row.name);
        }
        assert_eq!(y.version(), 1, "{}", row.inplace);
    }
}

/// Python's `str.title()` of each `_`-separated part, joined: how libtorch's autograd codegen
/// names a node (`tools/autograd/load_derivatives.py`), so `log1p` is `Log1PBackward0`.
fn python_title(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_') {
        let mut after_letter = false;
        for c in part.chars() {
            out.push(if after_letter {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
            after_letter = c.is_ascii_alphabetic();
        }
    }
    out
}

/// libtorch's node names (`derivatives.yaml`, torch 2.13), and the rule its codegen follows
/// for every row: the op's name as Python's `title()` writes it, then `Backward0`.
#[test]
fn grad_fn_names_are_libtorchs() {
    const LIBTORCH: &[(&str, &str)] = &[
        ("neg", "NegBackward0"),
        ("exp", "ExpBackward0"),
        ("log", "LogBackward0"),
        ("sqrt", "SqrtBackward0"),
        ("abs", "AbsBackward0"),
        ("sin", "SinBackward0"),
        ("cos", "CosBackward0"),
        ("tanh", "TanhBackward0"),
        ("sigmoid", "SigmoidBackward0"),
        ("relu", "ReluBackward0"),
        ("reciprocal", "ReciprocalBackward0"),
        ("sgn", "SgnBackward0"),
        ("log1p", "Log1PBackward0"),
        ("expm1", "Expm1Backward0"),
    ];
    for (op, name) in LIBTORCH {
        assert_eq!(row(op).grad_fn, *name);
    }
    for row in UNARY_ROWS {
        assert_eq!(row.grad_fn, format!("{}Backward0", python_title(row.name)));
        assert_eq!(row.inplace, format!("{}_", row.name));
        let x = leaf(POINTS);
        let out = (row.op)(&x).unwrap();
        assert_eq!(out.grad_fn_name().unwrap(), Some(row.grad_fn));
        let y = x.mul(1.0).unwrap();
        (row.op_)(&y).unwrap();
        assert_eq!(y.grad_fn_name().unwrap(), Some(row.grad_fn));
        assert_eq!(y.version(), 1);
    }
}

#[test]
fn inplace_on_a_leaf_or_a_view_of_one_is_refused() {
    for row in UNARY_ROWS {
        let x = leaf(POINTS);
        assert_eq!(
            (row.op_)(&x).unwrap_err(),
            Error::LeafInplace,
            "{}",
            row.name
        );
        let v = x.narrow(0, 0, 2).unwrap();
        assert_eq!(
            (row.op_)(&v).unwrap_err(),
            Error::ViewOfLeafInplace,
            "{}",
            row.name
        );
        assert_eq!(x.version(), 0, "{}: nothing written", row.name);
        // Under no_grad a leaf may be written.
        engine::with_no_grad(|| (row.op_)(&x)).unwrap();
        assert_eq!(x.version(), 1);
    }
}

/// The integer and bool forms, as libtorch 2.13 gives them for `[2, 0, -3]`.
#[test]
fn integer_and_bool_inputs_follow_libtorch() {
    let ints = || Tensor::from_f64(&[2.0, 0.0, -3.0], &[3], DType::I64).unwrap();
    let bools = || Tensor::from_f64(&[2.0, 0.0, -3.0], &[3], DType::Bool).unwrap();
    let kept: &[(&str, [f64; 3])] = &[
        ("neg", [-2.0, 0.0, 3.0]),
        ("abs", [2.0, 0.0, 3.0]),
        ("relu", [2.0, 0.0, 0.0]),
        ("sgn", [1.0, 0.0, -1.0]),
    ];
    for row in UNARY_ROWS {
        let x = ints();
        let out = (row.op)(&x).unwrap();
        match kept.iter().find(|(n, _)| *n == row.name) {
            Some((_, want)) => {
                assert!(row.int, "{}", row.name);
                assert_eq!(out.dtype(), DType::I64, "{}", row.name);
                assert_eq!(out.to_vec_f64(), want, "{}", row.name);
                (row.op_)(&x).unwrap();
                assert_eq!(x.to_vec_f64(), want, "{}", row.inplace);
            }
            None => {
                assert!(!row.int, "{}", row.name);
                // Computed in the default float dtype; in place that cannot be written back.
                assert_eq!(out.dtype(), DType::F32, "{}", row.name);
                let e = (row.op_)(&x).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    "result type Float can't be cast to the desired output type Long",
                    "{}",
                    row.inplace
                );
                let e = (row.op_)(&bools()).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    "result type Float can't be cast to the desired output type Bool",
                    "{}",
                    row.inplace
                );
                assert_eq!(x.version(), 0, "{}: nothing written", row.inplace);
            }
        }
    }
    let refused: &[(&str, &str)] = &[
        (
            "neg",
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
        ),
        ("abs", "\"abs_cpu\" not implemented for 'Bool'"),
        ("relu", "Boolean inputs not supported for relu"),
    ];
    for (op, msg) in refused {
        assert_eq!((row(op).op)(&bools()).unwrap_err().to_string(), *msg);
        assert_eq!((row(op).op_)(&bools()).unwrap_err().to_string(), *msg);
    }
    let b = bools();
    (row("sgn").op_)(&b).unwrap();
    assert_eq!((b.to_vec_f64(), b.version()), (vec![1.0, 0.0, 1.0], 1));
}

/// A row that saves its output sees the in-place write after it (libtorch saves `result`
/// after the kernel); one that saves its input saved a clone before the write, so writing
/// the result again does not disturb its backward.
#[test]
fn what_the_inplace_form_saves_is_libtorchs() {
    for row in UNARY_ROWS {
        for view in [false, true] {
            let x = leaf(&[0.5, 1.25, 2.0]);
            let b = x.mul(1.0).unwrap();
            let y = if view {
                b.narrow(0, 1, 2).unwrap()
            } else {
                b.clone()
            };
            (row.op_)(&y).unwrap();
            y.add_(1.0).unwrap();
            let r = b.sum(None, false).and_then(|l| l.backward());
            match row.saves {
                Saves::Output => {
                    let e = r.unwrap_err().to_string();
                    let n = if view { 2 } else { 3 };
                    let node = row.grad_fn.trim_end_matches("Backward0");
                    let want = format!(
                        "[torch.DoubleTensor [{n}]], which is output 0 of {node}, is at version 2; expected version 1 instead."
                    );
                    assert!(e.contains(&want), "{}: {e}", row.inplace);
                }
                Saves::Input | Saves::Nothing => {
                    r.unwrap();
                    let g = x.grad().unwrap().to_vec_f64();
                    let (lo, vals): (usize, &[f64]) = if view {
                        (1, &[1.25, 2.0])
                    } else {
                        (0, &[0.5, 1.25, 2.0])
                    };
                    for (k, &p) in vals.iter().enumerate() {
                        let d = numeric(row.f64, p).unwrap();
                        assert_close(row.inplace, g[lo + k], d);
                    }
                }
            }
        }
    }
}

/// Signed zeros and NaN, as libtorch 2.13 gives them for `[nan, -0.0, 0.0, -2.0]`.
#[test]
fn zeros_and_nan_follow_libtorch() {
    let x = Tensor::from_vec(vec![f64::NAN, -0.0, 0.0, -2.0], &[4]).unwrap();
    let signs = |t: Tensor| -> Vec<(f64, bool)> {
        t.to_vec_f64()
            .into_iter()
            .map(|v| (if v.is_nan() { 7.0 } else { v }, v.is_sign_negative()))
            .collect()
    };
    // sgn: 0 for both zeros and for NaN.
    assert_eq!(
        signs(x.sgn().unwrap()),
        [(0.0, false), (0.0, false), (0.0, false), (-1.0, true)]
    );
    // relu keeps -0.0 and NaN.
    assert_eq!(
        signs(x.relu().unwrap())[1..],
        [(-0.0, true), (0.0, false), (0.0, false)]
    );
    assert!(x.relu().unwrap().to_vec_f64()[0].is_nan());
    // abs's gradient is `grad * sgn(x)`: 0 at NaN and at both zeros.
    let l = leaf(&[f64::NAN, -0.0, 0.0, -2.0]);
    l.abs()
        .and_then(|a| a.sum(None, false))
        .and_then(|s| s.backward())
        .unwrap();
    assert_eq!(
        signs(l.grad().unwrap()),
        [(0.0, false), (0.0, false), (0.0, false), (-1.0, true)]
    );
}

/// `pow_` as libtorch 2.13 gives it on `x * 1` for the leaf `[0.5, -1.25, 2.0]`.
#[test]
fn pow_inplace_follows_libtorch() {
    let run = |e: engine::ops::elementwise::Operand, modify: bool| {
        let x = leaf(&[0.5, -1.25, 2.0]);
        let y = x.mul(1.0).unwrap();
        assert!(y.pow_(e).unwrap().same(&y));
        let name = y.grad_fn_name().unwrap();
        let values = y.to_vec_f64();
        if modify {
            y.add_(1.0).unwrap();
        }
        let r = y.sum(None, false).and_then(|l| l.backward());
        (name, values, r.map(|_| x.grad().unwrap().to_vec_f64()))
    };
    let (name, v, g) = run(2.0.into(), true);
    assert_eq!(name, Some("PowBackward0"));
    assert_eq!(v, [0.25, 1.5625, 4.0]);
    // `self` was saved as a clone before the write: writing again is fine.
    assert_eq!(g.unwrap(), [1.0, -2.5, 4.0]);
    let (_, v, g) = run(2.5.into(), false);
    assert!((v[0] - 0.1767766952966369).abs() < 1e-15 && v[1].is_nan());
    let g = g.unwrap();
    assert!((g[0] - 0.8838834764831844).abs() < 1e-12 && g[1].is_nan());
    assert!((g[2] - 7.0710678118654755).abs() < 1e-12);
    let e = || Tensor::from_vec(vec![2.0f64, 3.0, 1.0], &[3]).unwrap();
    let (name, v, g) = run((&e()).into(), false);
    assert_eq!(name, Some("PowBackward1"));
    assert_eq!(v, [0.25, -1.953125, 2.0]);
    assert_eq!(g.unwrap(), [1.0, 4.6875, 1.0]);
    // PowBackward1 saves the result too.
    let (_, _, g) = run((&e()).into(), true);
    let msg = g.unwrap_err().to_string();
    assert!(
        msg.contains("which is output 0 of Pow1, is at version 2"),
        "{msg}"
    );
    // Dtypes: the result type must cast to self's.
    let ints = || Tensor::from_f64(&[2.0, 0.0, -3.0], &[3], DType::I64).unwrap();
    let i = ints();
    i.pow_(2i64).unwrap();
    assert_eq!(i.to_vec_f64(), [4.0, 0.0, 9.0]);
    let msg = |r: engine::Result<Tensor>| r.unwrap_err().to_string();
    assert_eq!(
        msg(ints().pow_(2.5)),
        "result type Float can't be cast to the desired output type Long"
    );
    let b = Tensor::from_f64(&[1.0, 0.0, 1.0], &[3], DType::Bool).unwrap();
    assert_eq!(
        msg(b.pow_(2i64)),
        "result type Long can't be cast to the desired output type Bool"
    );
    assert_eq!(
        msg(ints().pow_(e())),
        "result type Double can't be cast to the desired output type Long"
    );
    let f = Tensor::from_f64(&[2.0, 0.0, -3.0], &[3], DType::F32).unwrap();
    f.pow_(e()).unwrap();
    assert_eq!(
        (f.to_vec_f64(), f.dtype()),
        (vec![4.0, 0.0, -3.0], DType::F32)
    );
    assert_eq!(msg(leaf(&[1.0]).pow_(2.0)), Error::LeafInplace.to_string());
}

/// Which dtypes the kernels take is one decision the CPU and CUDA storages share
/// (`kernel::unary_runs`); here it agrees with what the row's op does on the CPU, and every
/// entry point the CUDA storage would launch for it is in the row's module (whose compiled
/// PTX `nvrtc_compile.rs` checks).
#[test]
fn every_row_routes_each_dtype_to_a_kernel_or_a_cast() {
    for row in UNARY_ROWS {
        assert!(
            (row.runs)(DType::F32) && (row.runs)(DType::F64),
            "{}",
            row.name
        );
        assert_eq!((row.runs)(DType::I64), row.int, "{}", row.name);
        assert!(!(row.runs)(DType::Bool), "{}", row.name);
        for d in [DType::F32, DType::F64, DType::I64, DType::Bool] {
            let x = Tensor::from_f64(&[2.0, -1.0], &[2], d).unwrap();
            let out = (row.op)(&x);
            if (row.runs)(d) {
                // The kernel of the input's own dtype.
                assert_eq!(out.unwrap().dtype(), d, "{} on {d:?}", row.name);
                let macro_ = if d == DType::I64 {
                    "UNARY_INT"
                } else {
                    "UNARY_FLOAT"
                };
                assert!(row.cuda.contains(&format!("{macro_}({},", row.name)));
                let e = entry(row.name, d);
                assert!(e.starts_with(row.name) && e.ends_with(&format!("{d:?}").to_lowercase()));
            } else if d == DType::I64 {
                assert_eq!(out.unwrap().dtype(), DType::F32, "{} on {d:?}", row.name);
            }
        }
        assert!(
            row.cuda
                .contains(&format!("BINARY_FLOAT({}_backward,", row.name)),
            "{}",
            row.name
        );
    }
    for row in BINARY_ROWS.iter().chain(COMPARE_ROWS) {
        assert!(
            row.cuda.contains(&format!("({},", row.name)),
            "{}",
            row.name
        );
    }
}

//! Linear algebra, conv2d and mse_loss: graph shapes and node names as libtorch 2.13 builds
//! them, libtorch's error messages, and forward values against naive loops (gradients against
//! finite differences are in `linalg_gradcheck.rs`).

use engine::ops::linalg::{Conv2dOptions, Reduction};
use engine::{DType, Node, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

// ------------------------------------------------------------------ helpers

fn tree(node: Option<Arc<Node>>) -> String {
    let Some(n) = node else {
        return "None".into();
    };
    let kids: Vec<String> = n
        .next_functions()
        .iter()
        .map(|e| tree(e.as_ref().map(|e| e.node.clone())))
        .collect();
    if kids.is_empty() {
        n.name().to_string()
    } else {
        format!("{}({})", n.name(), kids.join(", "))
    }
}

fn randn(shape: &[usize], requires_grad: bool, rng: &mut ChaCha8Rng) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_f64(&v, shape, DType::F32)
        .unwrap()
        .with_requires_grad(requires_grad)
        .unwrap()
}

fn r(shape: &[usize]) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.iter().sum::<usize>() as u64);
    randn(shape, true, &mut rng)
}

fn n(shape: &[usize]) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    randn(shape, false, &mut rng)
}

// ------------------------------------------------------------------ graphs

/// Each row: the graph below the result and the result's `_version`, printed by torch 2.13
/// for the same call (`/tmp/tree2.py` in the helper's notes: a recursive walk over
/// `grad_fn.next_functions` with `torch::autograd::` stripped), e.g.
/// `torch.matmul(torch.randn(3, requires_grad=True), torch.randn(3, 4, requires_grad=True))`.
#[test]
fn graphs_match_libtorch() {
    let conv = Conv2dOptions::default();
    let cases: Vec<(&str, Tensor, &str, u64)> = vec![
        (
            "dot",
            r(&[3]).matmul(&r(&[3])).unwrap(),
            "DotBackward0(AccumulateGrad, AccumulateGrad)",
            0,
        ),
        (
            "mv",
            r(&[2, 3]).matmul(&r(&[3])).unwrap(),
            "MvBackward0(AccumulateGrad, AccumulateGrad)",
            0,
        ),
        (
            "vm",
            r(&[3]).matmul(&r(&[3, 4])).unwrap(),
            "SqueezeBackward4(MmBackward0(UnsqueezeBackward0(AccumulateGrad), AccumulateGrad))",
            1,
        ),
        (
            "mm",
            r(&[2, 3]).matmul(&r(&[3, 4])).unwrap(),
            "MmBackward0(AccumulateGrad, AccumulateGrad)",
            0,
        ),
        (
            "2d@3d",
            r(&[2, 3]).matmul(&r(&[5, 3, 4])).unwrap(),
            "CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0(UnsafeViewBackward0(CloneBackward0(TransposeBackward0(AccumulateGrad))), TBackward0(AccumulateGrad)))))",
            0,
        ),
        (
            "1d@3d",
            r(&[3]).matmul(&r(&[5, 3, 4])).unwrap(),
            "UnsafeViewBackward0(MvBackward0(UnsafeViewBackward0(CloneBackward0(TransposeBackward0(AccumulateGrad))), AccumulateGrad))",
            0,
        ),
        (
            "3d@1d",
            r(&[5, 2, 3]).matmul(&r(&[3])).unwrap(),
            "UnsafeViewBackward0(MvBackward0(ViewBackward0(AccumulateGrad), AccumulateGrad))",
            0,
        ),
        (
            "3d@2d",
            r(&[5, 2, 3]).matmul(&r(&[3, 4])).unwrap(),
            "UnsafeViewBackward0(MmBackward0(ViewBackward0(AccumulateGrad), AccumulateGrad))",
            0,
        ),
        (
            "3d@3d",
            r(&[5, 2, 3]).matmul(&r(&[5, 3, 4])).unwrap(),
            "UnsafeViewBackward0(BmmBackward0(ViewBackward0(ExpandBackward0(AccumulateGrad)), ViewBackward0(ExpandBackward0(AccumulateGrad))))",
            0,
        ),
        (
            "4d bcast",
            r(&[2, 1, 2, 3]).matmul(&r(&[4, 3, 4])).unwrap(),
            "UnsafeViewBackward0(BmmBackward0(UnsafeViewBackward0(CloneBackward0(ExpandBackward0(AccumulateGrad))), UnsafeViewBackward0(CloneBackward0(ExpandBackward0(AccumulateGrad)))))",
            0,
        ),
        (
            "3d@3d bcast1",
            r(&[1, 2, 3]).matmul(&r(&[5, 3, 4])).unwrap(),
            "CloneBackward0(TransposeBackward0(UnsafeViewBackward0(MmBackward0(UnsafeViewBackward0(CloneBackward0(TransposeBackward0(AccumulateGrad))), TBackward0(SqueezeBackward1(AccumulateGrad))))))",
            0,
        ),
        (
            "3d@2d nograd rhs",
            r(&[5, 2, 3]).matmul(&n(&[3, 4])).unwrap(),
            "UnsafeViewBackward0(MmBackward0(ViewBackward0(AccumulateGrad), None))",
            0,
        ),
        (
            "3d@2d nograd lhs",
            n(&[5, 2, 3]).matmul(&r(&[3, 4])).unwrap(),
            "UnsafeViewBackward0(MmBackward0(None, AccumulateGrad))",
            0,
        ),
        (
            "2d nograd@3d",
            n(&[2, 3]).matmul(&r(&[5, 3, 4])).unwrap(),
            "UnsafeViewBackward0(BmmBackward0(None, ViewBackward0(ExpandBackward0(AccumulateGrad))))",
            0,
        ),
        (
            "3d@1d nograd",
            r(&[5, 2, 3]).matmul(&n(&[3])).unwrap(),
            "UnsafeViewBackward0(MvBackward0(ViewBackward0(AccumulateGrad), None))",
            0,
        ),
        (
            "linear2d",
            r(&[2, 3]).linear(&r(&[4, 3]), Some(&r(&[4]))).unwrap(),
            "AddmmBackward0(AccumulateGrad, AccumulateGrad, TBackward0(AccumulateGrad))",
            0,
        ),
        (
            "linear2d nobias",
            r(&[2, 3]).linear(&r(&[4, 3]), None).unwrap(),
            "MmBackward0(AccumulateGrad, TBackward0(AccumulateGrad))",
            0,
        ),
        (
            "linear3d",
            r(&[5, 2, 3]).linear(&r(&[4, 3]), Some(&r(&[4]))).unwrap(),
            "ViewBackward0(AddmmBackward0(AccumulateGrad, ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear3d nobias",
            r(&[5, 2, 3]).linear(&r(&[4, 3]), None).unwrap(),
            "UnsafeViewBackward0(MmBackward0(ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear1d",
            r(&[3]).linear(&r(&[4, 3]), Some(&r(&[4]))).unwrap(),
            "ViewBackward0(AddmmBackward0(AccumulateGrad, ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear1d nobias",
            r(&[3]).linear(&r(&[4, 3]), None).unwrap(),
            "SqueezeBackward4(MmBackward0(UnsqueezeBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            1,
        ),
        (
            "linear4d",
            r(&[6, 5, 2, 3])
                .linear(&r(&[4, 3]), Some(&r(&[4])))
                .unwrap(),
            "ViewBackward0(AddmmBackward0(AccumulateGrad, ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear3dT",
            r(&[5, 3, 2])
                .transpose(1, 2)
                .unwrap()
                .linear(&r(&[4, 3]), Some(&r(&[4])))
                .unwrap(),
            "AddBackward0(UnsafeViewBackward0(MmBackward0(UnsafeViewBackward0(CloneBackward0(TransposeBackward0(AccumulateGrad))), TBackward0(AccumulateGrad))), AccumulateGrad)",
            1,
        ),
        (
            "linear3d bias [1, 4]",
            r(&[5, 2, 3])
                .linear(&r(&[4, 3]), Some(&r(&[1, 4])))
                .unwrap(),
            "ViewBackward0(AddmmBackward0(AccumulateGrad, ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear3d bias 0-d",
            r(&[5, 2, 3]).linear(&r(&[4, 3]), Some(&r(&[]))).unwrap(),
            "AddBackward0(UnsafeViewBackward0(MmBackward0(ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad))), AccumulateGrad)",
            1,
        ),
        (
            "linear4d bias [2, 4]",
            r(&[6, 5, 2, 3])
                .linear(&r(&[4, 3]), Some(&r(&[2, 4])))
                .unwrap(),
            "AddBackward0(UnsafeViewBackward0(MmBackward0(ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad))), AccumulateGrad)",
            1,
        ),
        (
            "linear3d weight 1-d",
            r(&[5, 2, 3]).linear(&r(&[3]), None).unwrap(),
            "UnsafeViewBackward0(MvBackward0(ViewBackward0(AccumulateGrad), TBackward0(AccumulateGrad)))",
            0,
        ),
        (
            "linear2d bias 0-d",
            r(&[2, 3]).linear(&r(&[4, 3]), Some(&r(&[]))).unwrap(),
            "AddmmBackward0(AccumulateGrad, AccumulateGrad, TBackward0(AccumulateGrad))",
            0,
        ),
        (
            "linear frozen input",
            n(&[7, 3]).linear(&r(&[1, 3]), Some(&r(&[1]))).unwrap(),
            "AddmmBackward0(AccumulateGrad, None, TBackward0(AccumulateGrad))",
            0,
        ),
        (
            "conv",
            n(&[2, 3, 5, 5])
                .conv2d(&r(&[4, 3, 3, 3]), Some(&r(&[4])), conv)
                .unwrap(),
            "ConvolutionBackward0(None, AccumulateGrad, AccumulateGrad)",
            0,
        ),
        (
            "conv nobias",
            r(&[2, 3, 5, 5])
                .conv2d(&r(&[4, 3, 3, 3]), None, conv)
                .unwrap(),
            "ConvolutionBackward0(AccumulateGrad, AccumulateGrad, None)",
            0,
        ),
        (
            "conv unbatched",
            r(&[3, 5, 5])
                .conv2d(&r(&[4, 3, 3, 3]), Some(&r(&[4])), conv)
                .unwrap(),
            "SqueezeBackward1(ConvolutionBackward0(UnsqueezeBackward0(AccumulateGrad), AccumulateGrad, AccumulateGrad))",
            0,
        ),
        (
            "mse",
            r(&[2, 3]).mse_loss(&n(&[2, 3]), Reduction::Mean).unwrap(),
            "MseLossBackward0(AccumulateGrad, None)",
            0,
        ),
        (
            "mse both",
            r(&[2, 3]).mse_loss(&r(&[2, 3]), Reduction::Sum).unwrap(),
            "MseLossBackward0(AccumulateGrad, AccumulateGrad)",
            0,
        ),
    ];
    let mut bad = Vec::new();
    for (name, out, want, version) in cases {
        let got = tree(out.grad_fn().unwrap());
        if got != want || out.version() != version {
            bad.push(format!(
                "{name}:\n  got  {got} (version {})\n  want {want} (version {version})",
                out.version()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A non-contiguous but viewable `reshape` inside `matmul` is libtorch's `_reshape_alias`:
/// `torch.matmul(torch.randn(5, 3, 2, requires_grad=True).transpose(1, 2), torch.randn(3, 4))`.
#[test]
fn matmul_through_reshape_alias_matches_libtorch() {
    let out = r(&[5, 3, 2])
        .transpose(1, 2)
        .unwrap()
        .matmul(&n(&[3, 4]))
        .unwrap();
    assert_eq!(
        tree(out.grad_fn().unwrap()),
        "UnsafeViewBackward0(BmmBackward0(ReshapeAliasBackward0(ExpandBackward0(TransposeBackward0(AccumulateGrad))), None))"
    );
}

#[test]
fn results_under_no_grad_record_nothing() {
    let _g = engine::no_grad();
    let out = r(&[2, 3]).linear(&r(&[4, 3]), Some(&r(&[4]))).unwrap();
    assert!(!out.requires_grad());
    assert!(out.grad_fn().unwrap().is_none());
}

/// Frozen parameters (the documents' transfer-learning example): nothing requires grad.
#[test]
fn frozen_conv_output_does_not_require_grad() {
    let out = n(&[1, 3, 5, 5])
        .conv2d(&n(&[4, 3, 3, 3]), Some(&n(&[4])), Conv2dOptions::default())
        .unwrap();
    assert!(!out.requires_grad() && out.is_leaf());
}

/// `conv(x).sum().backward()` hands the convolution an expanded (stride-0) gradient; the
/// result must equal the one from an explicit all-ones gradient.
#[test]
fn conv_gradients_from_an_expanded_sum_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x = randn(&[2, 3, 6, 5], true, &mut rng);
    let w = randn(&[4, 3, 3, 2], true, &mut rng);
    let b = randn(&[4], true, &mut rng);
    let opts = Conv2dOptions {
        stride: [2, 1],
        padding: [1, 0],
        dilation: [1, 2],
        groups: 1,
    };
    let y = x.conv2d(&w, Some(&b), opts).unwrap();
    y.sum(None, false).unwrap().backward().unwrap();
    let first: Vec<Vec<f64>> = [&x, &w, &b]
        .iter()
        .map(|t| t.grad().unwrap().to_vec_f64())
        .collect();
    for t in [&x, &w, &b] {
        t.set_grad(None).unwrap();
    }
    let y = x.conv2d(&w, Some(&b), opts).unwrap();
    y.backward_with(
        Some(&Tensor::ones(&y.shape(), DType::F32).unwrap()),
        None,
        false,
    )
    .unwrap();
    for (t, g) in [&x, &w, &b].iter().zip(&first) {
        assert_eq!(&t.grad().unwrap().to_vec_f64(), g);
    }
}

// ------------------------------------------------------------------ errors

fn err<T: std::fmt::Debug>(r: engine::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

fn t(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32).unwrap()
}

fn t64(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F64).unwrap()
}

fn ti(shape: &[usize]) -> Tensor {
    Tensor::ones(shape, DType::I64).unwrap()
}

fn tb(shape: &[usize]) -> Tensor {
    Tensor::ones(shape, DType::Bool).unwrap()
}

fn conv(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    f: impl FnOnce(&mut Conv2dOptions),
) -> engine::Result<Tensor> {
    let mut o = Conv2dOptions::default();
    f(&mut o);
    x.conv2d(w, b, o)
}

/// Every message was printed by torch 2.13 for the same call (e.g.
/// `torch.mm(torch.randn(2,3), torch.randn(4,5))`); where two checks fail at once, the one
/// libtorch reports first is the one expected.
#[test]
fn error_messages_match_libtorch() {
    let cases: Vec<(String, &str)> = vec![
        (
            err(t(&[2, 3]).mm(&t(&[4, 5]))),
            "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
        ),
        (
            err(t(&[2, 3]).mm(&t64(&[4, 5]))),
            "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
        ),
        (
            err(t(&[2, 3]).matmul(&t(&[4, 5]))),
            "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
        ),
        (
            err(t(&[3]).matmul(&t(&[4]))),
            "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively",
        ),
        (
            err(Tensor::zeros(&[], DType::F32).unwrap().matmul(&t(&[4]))),
            "both arguments to matmul need to be at least 1D, but they are 0D and 1D",
        ),
        (
            err(t(&[3]).matmul(&t(&[4, 5]))),
            "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)",
        ),
        (
            err(t(&[2, 3]).matmul(&t(&[4]))),
            "size mismatch, got input (2), mat (2x3), vec (4)",
        ),
        (
            err(t(&[5, 2, 3]).matmul(&t(&[5, 4, 5]))),
            "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [5, 4].",
        ),
        (
            err(t(&[5, 2, 3]).matmul(&t(&[4, 3, 5]))),
            "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 0",
        ),
        (
            err(t(&[2, 2, 3]).matmul(&t(&[4, 2]))),
            "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x2)",
        ),
        (
            err(t(&[2, 2, 3]).matmul(&t(&[4]))),
            "size mismatch, got input (4), mat (4x3), vec (4)",
        ),
        (
            err(t(&[4]).matmul(&t(&[2, 3, 2]))),
            "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 3].",
        ),
        (
            err(t(&[3, 2, 2, 4]).matmul(&t(&[2, 3, 2]))),
            "Expected size for first two dimensions of batch2 tensor to be: [6, 4] but got: [6, 3].",
        ),
        (
            err(t(&[2, 2, 3]).matmul(&t64(&[3, 2]))),
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            err(t(&[2, 2, 3]).matmul(&t64(&[2, 3, 2]))),
            "expected scalar type Float but found Double",
        ),
        (
            err(ti(&[2, 2, 3]).matmul(&t(&[3, 2]))),
            "expected m1 and m2 to have the same dtype, but got: long int != float",
        ),
        (
            err(t(&[5, 2, 3]).bmm(&t(&[4, 3, 5]))),
            "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [4, 3].",
        ),
        (
            err(t(&[2, 3]).bmm(&t(&[3, 5]))),
            "batch1 must be a 3D tensor",
        ),
        (
            err(t(&[2, 2, 3]).bmm(&t(&[3, 2]))),
            "batch2 must be a 3D tensor",
        ),
        (err(t(&[2, 3, 3]).mm(&t(&[3, 5]))), "self must be a matrix"),
        (err(t(&[2, 3]).mm(&t(&[3]))), "mat2 must be a matrix"),
        (
            err(tb(&[2, 3]).mm(&tb(&[3, 2]))),
            "\"addmm_impl_cpu_\" not implemented for 'Bool'",
        ),
        (
            err(t(&[2, 3]).mv(&t(&[4, 1]))),
            "vector + matrix @ vector expected, got 1, 2, 2",
        ),
        (
            err(t(&[3]).mv(&t(&[3]))),
            "vector + matrix @ vector expected, got 1, 1, 1",
        ),
        (
            err(t(&[2, 3]).mv(&t64(&[3]))),
            "addmv input tensors must have the same dtype, but got Double, Float, and Double",
        ),
        (
            err(t(&[3, 1]).dot(&t(&[3]))),
            "1D tensors expected, but got 2D and 1D tensors",
        ),
        (
            err(t(&[3]).dot(&t64(&[3]))),
            "dot : expected both vectors to have same dtype, but found Float and Double",
        ),
        (
            err(t(&[2, 3]).linear(&t(&[4, 5]), None)),
            "mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)",
        ),
        (
            err(t(&[6, 2, 3]).linear(&t(&[4, 5]), None)),
            "mat1 and mat2 shapes cannot be multiplied (12x3 and 5x4)",
        ),
        (
            err(t(&[2, 3]).linear(&t(&[4, 3]), Some(&t(&[5])))),
            "The expanded size of the tensor (4) must match the existing size (5) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [5]",
        ),
        (
            err(t(&[2, 3]).linear(&t64(&[4, 3]), None)),
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            err(t(&[2, 3]).linear(&t(&[4, 3]), Some(&t64(&[4])))),
            "self and mat2 must have the same dtype, but got Double and Float",
        ),
        (
            err(Tensor::zeros(&[], DType::F32)
                .unwrap()
                .linear(&t(&[4, 3]), None)),
            "both arguments to linear need to be at least 1D, but they are 0D and 2D",
        ),
        (
            err(t(&[2, 3]).linear(&t(&[2, 4, 3]), None)),
            "t() expects a tensor with <= 2 dimensions, but self is 3D",
        ),
        (
            err(t(&[2, 3]).linear(&t(&[3]), Some(&t(&[1])))),
            "mat2 must be a matrix, got 1-D tensor",
        ),
        (
            err(t(&[4, 2, 3]).linear(&t(&[3]), Some(&t(&[1])))),
            "mat2 must be a matrix, got 1-D tensor",
        ),
        (
            err(conv(&t(&[1, 2, 5, 5]), &t(&[4, 3, 3, 3]), None, |_| {})),
            "Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 2, 5, 5] to have 3 channels, but got 2 channels instead",
        ),
        (
            err(conv(&t(&[1, 3, 2, 2]), &t(&[4, 3, 3, 3]), None, |_| {})),
            "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
        ),
        (
            err(conv(&t(&[3, 5]), &t(&[4, 3, 3, 3]), None, |_| {})),
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [3, 5]",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3]), None, |_| {})),
            "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=[1, 1]",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3]), None, |_| {})),
            "weight should have at least three dimensions",
        ),
        (
            err(conv(&t(&[1, 4, 5, 5]), &t(&[6, 2, 3, 3]), None, |o| {
                o.groups = 4
            })),
            "Given groups=4, expected weight to be divisible by 4 at dimension 0, but got weight of size [[6, 2, 3, 3]] instead",
        ),
        (
            err(conv(&t(&[1, 4, 5, 5]), &t(&[6, 2, 3, 3]), None, |o| {
                o.groups = 3
            })),
            "Given groups=3, weight of size [6, 2, 3, 3], expected input[1, 4, 5, 5] to have 6 channels, but got 4 channels instead",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[2, 3, 3, 3]), None, |o| {
                o.groups = 3
            })),
            "Given groups=3, expected weight to be at least 3 at dimension 0, but got weight of size [2, 3, 3, 3] instead",
        ),
        (
            err(conv(
                &t(&[1, 3, 5, 5]),
                &t(&[4, 3, 3, 3]),
                Some(&t(&[5])),
                |_| {},
            )),
            "Given weight of size [4, 3, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size [5] instead",
        ),
        (
            err(conv(
                &t(&[1, 3, 5, 5]),
                &t(&[4, 3, 3, 3]),
                Some(&t(&[4, 1])),
                |_| {},
            )),
            "Given weight of size [4, 3, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size [4, 1] instead",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.stride = [0, 0]
            })),
            "non-positive stride is not supported",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.groups = 0
            })),
            "non-positive groups is not supported",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.stride = [0, 0];
                o.groups = 0
            })),
            "non-positive groups is not supported",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.dilation = [0, 0]
            })),
            "dilation should be greater than zero, but got [0, 0]",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.dilation = [0, 1]
            })),
            "dilation should be greater than zero, but got [0, 1]",
        ),
        (
            err(conv(&t(&[1, 2, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.dilation = [0, 0]
            })),
            "Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 2, 5, 5] to have 3 channels, but got 2 channels instead",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |o| {
                o.dilation = [3, 3]
            })),
            "Calculated padded input size per channel: (5 x 5). Kernel size: (7 x 7). Kernel size can't be greater than actual input size",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t(&[0, 3, 3, 3]), None, |_| {})),
            "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 3, 3, 3] instead",
        ),
        (
            err(conv(&t(&[1, 3, 5, 5]), &t64(&[4, 3, 3, 3]), None, |_| {})),
            "expected scalar type Float but found Double",
        ),
        (
            err(conv(&t(&[1, 3, 2, 2]), &t64(&[4, 3, 3, 3]), None, |_| {})),
            "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
        ),
        (
            err(conv(
                &t(&[1, 3, 5, 5]),
                &t(&[4, 3, 3, 3]),
                Some(&t64(&[4])),
                |o| o.groups = 0,
            )),
            "Input type (float) and bias type (double) should be the same",
        ),
        (
            err(conv(
                &t(&[1, 3, 5, 5]),
                &t(&[4, 3, 3, 3]),
                Some(&ti(&[4])),
                |_| {},
            )),
            "Input type (float) and bias type (long int) should be the same",
        ),
        (
            err(conv(&ti(&[1, 3, 5, 5]), &t(&[4, 3, 3, 3]), None, |_| {})),
            "expected scalar type Long but found Float",
        ),
        (
            err(conv(&tb(&[1, 3, 5, 5]), &tb(&[4, 3, 3, 3]), None, |_| {})),
            "\"slow_conv2d_cpu\" not implemented for 'Bool'",
        ),
        (
            err(conv(&t(&[2, 5, 5]), &t(&[4, 3, 3, 3]), None, |_| {})),
            "Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 2, 5, 5] to have 3 channels, but got 2 channels instead",
        ),
        (
            err(t(&[2, 3]).mse_loss(&t(&[4, 3]), Reduction::Mean)),
            "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0",
        ),
        (
            err(ti(&[2]).mse_loss(&ti(&[2]), Reduction::Mean)),
            "\"mse_cpu\" not implemented for 'Long'",
        ),
    ];
    let bad: Vec<String> = cases
        .iter()
        .filter(|(got, want)| got != want)
        .map(|(got, want)| format!("  got  {got}\n  want {want}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

// ------------------------------------------------------------------ values

/// Integer products and convolutions work (libtorch supports them) and are exact.
#[test]
fn integer_products_and_convolutions() {
    let a = Tensor::from_vec((1..=6i64).collect(), &[2, 3]).unwrap();
    let b = Tensor::from_vec((1..=6i64).collect(), &[3, 2]).unwrap();
    let c = a.matmul(&b).unwrap();
    assert_eq!(c.dtype(), DType::I64);
    assert_eq!(c.to_vec::<i64>().unwrap(), vec![22, 28, 49, 64]);
    // torch.nn.functional.conv2d(torch.ones(1,3,5,5,dtype=torch.int64), torch.ones(4,3,3,3,dtype=torch.int64)) is all 27
    let y = ti(&[1, 3, 5, 5])
        .conv2d(&ti(&[4, 3, 3, 3]), None, Conv2dOptions::default())
        .unwrap();
    assert_eq!(y.shape(), vec![1, 4, 3, 3]);
    assert!(y.to_vec::<i64>().unwrap().iter().all(|&v| v == 27));
}

/// `torch._C._nn.mse_loss` values (the C++ op the harness calls): broadcast, promotion,
/// NaN for the mean of nothing.
#[test]
fn mse_loss_values() {
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
    let y = Tensor::from_vec(vec![0.0f64, 0.0, 0.0, 1.0, 1.0, 1.0], &[2, 3]).unwrap();
    let none = x.mse_loss(&y, Reduction::None).unwrap();
    assert_eq!(none.dtype(), DType::F64);
    assert_eq!(none.shape(), vec![2, 3]);
    assert_eq!(none.to_vec_f64(), vec![1.0, 4.0, 9.0, 0.0, 1.0, 4.0]);
    assert_eq!(
        x.mse_loss(&y, Reduction::Sum).unwrap().to_vec_f64(),
        vec![19.0]
    );
    assert!((x.mse_loss(&y, Reduction::Mean).unwrap().to_vec_f64()[0] - 19.0 / 6.0).abs() < 1e-12);
    let e = Tensor::zeros(&[0], DType::F32).unwrap();
    assert!(e.mse_loss(&e, Reduction::Mean).unwrap().to_vec_f64()[0].is_nan());
    // x = torch.ones(3, requires_grad=True); mse_loss(x, torch.zeros(2, 3), reduction=sum).backward(); x.grad == [4, 4, 4]
    let x = Tensor::ones(&[3], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    x.mse_loss(&Tensor::zeros(&[2, 3], DType::F32).unwrap(), Reduction::Sum)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![4.0, 4.0, 4.0]);
}

/// Products against the definition, for every `matmul` case and broadcasting.
#[test]
fn matmul_values_match_naive_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let shapes: &[(&[usize], &[usize])] = &[
        (&[3], &[3]),
        (&[2, 3], &[3]),
        (&[3], &[3, 4]),
        (&[2, 3], &[3, 4]),
        (&[5, 2, 3], &[3]),
        (&[3], &[5, 3, 4]),
        (&[5, 2, 3], &[3, 4]),
        (&[2, 3], &[5, 3, 4]),
        (&[5, 2, 3], &[5, 3, 4]),
        (&[1, 2, 3], &[5, 3, 4]),
        (&[2, 1, 2, 3], &[4, 3, 4]),
    ];
    for (sa, sb) in shapes {
        let a = randn(sa, false, &mut rng).to_dtype(DType::F64).unwrap();
        let b = randn(sb, false, &mut rng).to_dtype(DType::F64).unwrap();
        let got = a.matmul(&b).unwrap();
        let want = naive_matmul(&a, &b);
        assert_eq!(got.shape(), want.1, "{sa:?} @ {sb:?}");
        for (g, w) in got.to_vec_f64().iter().zip(&want.0) {
            assert!((g - w).abs() < 1e-12, "{sa:?} @ {sb:?}: {g} vs {w}");
        }
    }
}

/// numpy's matmul rules, written out: 1-D operands get a dim added then removed, batch dims
/// broadcast.
fn naive_matmul(a: &Tensor, b: &Tensor) -> (Vec<f64>, Vec<usize>) {
    let (mut sa, mut sb) = (a.shape(), b.shape());
    let (va, vb) = (a.to_vec_f64(), b.to_vec_f64());
    let a1 = sa.len() == 1;
    let b1 = sb.len() == 1;
    if a1 {
        sa.insert(0, 1);
    }
    if b1 {
        sb.push(1);
    }
    let (n, k, p) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
    let ba = &sa[..sa.len() - 2];
    let bb = &sb[..sb.len() - 2];
    let nb = ba.len().max(bb.len());
    let pad = |s: &[usize]| {
        let mut v = vec![1; nb - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (pa, pb) = (pad(ba), pad(bb));
    let batch: Vec<usize> = pa.iter().zip(&pb).map(|(x, y)| *x.max(y)).collect();
    let total: usize = batch.iter().product();
    let index = |shape: &[usize], flat: usize| -> usize {
        // Position of the broadcast batch index `flat` inside an operand's batch dims.
        let mut rem = flat;
        let mut idx = 0;
        let mut mul = 1;
        for d in (0..nb).rev() {
            let i = rem % batch[d];
            rem /= batch[d];
            if shape[d] != 1 {
                idx += i * mul;
            }
            mul *= shape[d];
        }
        idx
    };
    let mut out = Vec::new();
    for bi in 0..total {
        let (oa, ob) = (index(&pa, bi) * n * k, index(&pb, bi) * k * p);
        for i in 0..n {
            for j in 0..p {
                out.push(
                    (0..k)
                        .map(|q| va[oa + i * k + q] * vb[ob + q * p + j])
                        .sum(),
                );
            }
        }
    }
    let mut shape = batch;
    if !a1 {
        shape.push(n);
    }
    if !b1 {
        shape.push(p);
    }
    (out, shape)
}

/// A product over an inner dimension of 1 is the elementwise product, sign of zero included
/// (`0 * -1` is `-0.0`), as libtorch's MKL gives it; over more terms the sum starts at `+0.0`
/// (`(+0.0) + (-0.0)` is `+0.0`), as MKL's does. `cases/ops/mm_zero_sum_sign.yaml` checks the
/// same against libtorch.
#[test]
fn zero_products_keep_their_sign_over_an_inner_dimension_of_one() {
    let signs = |t: &Tensor| -> Vec<bool> {
        t.to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.is_sign_negative())
            .collect()
    };
    let z1 = Tensor::from_vec(vec![0.0f32, 0.0], &[2, 1]).unwrap();
    let w1 = Tensor::from_vec(vec![-1.0f32, 2.0], &[1, 2]).unwrap();
    assert_eq!(signs(&z1.mm(&w1).unwrap()), [true, false, true, false]);
    let z3 = Tensor::from_vec(vec![0.0f32; 6], &[2, 3]).unwrap();
    let w3 = Tensor::from_vec(vec![-1.0f32, 2.0, -3.0, 4.0, -5.0, -6.0], &[3, 2]).unwrap();
    assert_eq!(signs(&z3.mm(&w3).unwrap()), [false; 4]);
}

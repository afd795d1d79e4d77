//! `einsum`: values, the grad_fn of the result and the whole graph below it (libtorch lowers
//! einsum to permute/unsqueeze/diagonal/sum/mul/bmm/view, so its graph is made of those nodes),
//! and libtorch's messages for bad equations, all as observed from libtorch 2.13 (through
//! tch 0.26 and the harness's shim); gradients against finite differences in f64.

mod support;
use engine::{Node, Tensor};
use std::sync::Arc;
use support::*;

/// Names of every node reachable from the result's grad_fn, each node once, sorted.
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

fn ops() -> [Tensor; 7] {
    [
        leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]),
        leaf(&[1., 2., 3., 4., 5., 6.], &[3, 2]),
        leaf(&[1., 2., 3., 4.], &[2, 2]),
        leaf(&[1., 2., 3.], &[3]),
        leaf(&[4., 5.], &[2]),
        leaf(&(1..=12).map(f64::from).collect::<Vec<_>>(), &[2, 2, 3]),
        leaf(&(1..=12).map(f64::from).collect::<Vec<_>>(), &[2, 3, 2]),
    ]
}

/// (equation, operands, root grad_fn name, result values, every node of the graph).
type Case<'a> = (
    &'static str,
    Vec<&'a Tensor>,
    &'static str,
    Vec<f64>,
    Vec<&'static str>,
);

const BMM2: [&str; 14] = [
    "ViewBackward0",
    "PermuteBackward0",
    "ViewBackward0",
    "BmmBackward0",
    "ViewBackward0",
    "ViewBackward0",
    "PermuteBackward0",
    "PermuteBackward0",
    "PermuteBackward0",
    "PermuteBackward0",
    "UnsqueezeBackward0",
    "UnsqueezeBackward0",
    "AccumulateGrad",
    "AccumulateGrad",
];

#[test]
fn lowering_matches_libtorch() {
    let [a, b, sq, v, w, ba, bb] = ops();
    // (equation, operands, root name, result values, graph) observed from libtorch 2.13.
    let p = "PermuteBackward0";
    let cases: Vec<Case> = vec![
        (
            "ij,jk->ik",
            vec![&a, &b],
            "ViewBackward0",
            vec![22., 28., 49., 64.],
            BMM2.to_vec(),
        ),
        (
            "ij,jk",
            vec![&a, &b],
            "ViewBackward0",
            vec![22., 28., 49., 64.],
            BMM2.to_vec(),
        ),
        (
            "AB,BC->AC",
            vec![&a, &b],
            "ViewBackward0",
            vec![22., 28., 49., 64.],
            BMM2.to_vec(),
        ),
        (
            "i j , j k -> i k",
            vec![&a, &b],
            "ViewBackward0",
            vec![22., 28., 49., 64.],
            BMM2.to_vec(),
        ),
        (
            "bij,bjk->bik",
            vec![&ba, &bb],
            "ViewBackward0",
            vec![22., 28., 49., 64., 220., 244., 301., 334.],
            BMM2.to_vec(),
        ),
        (
            "...ij,...jk->...ik",
            vec![&ba, &bb],
            "ViewBackward0",
            vec![22., 28., 49., 64., 220., 244., 301., 334.],
            BMM2.to_vec(),
        ),
        (
            "i,j->ij",
            vec![&v, &w],
            "MulBackward0",
            vec![4., 5., 8., 10., 12., 15.],
            vec![
                "MulBackward0",
                p,
                p,
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "AccumulateGrad",
                "AccumulateGrad",
            ],
        ),
        (
            "ii->",
            vec![&sq],
            "SumBackward1",
            vec![5.],
            vec!["SumBackward1", p, p, "DiagonalBackward0", "AccumulateGrad"],
        ),
        (
            "ii->i",
            vec![&sq],
            p,
            vec![1., 4.],
            vec![p, p, "DiagonalBackward0", "AccumulateGrad"],
        ),
        (
            "ij->ji",
            vec![&a],
            p,
            vec![1., 4., 2., 5., 3., 6.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "ji",
            vec![&a],
            p,
            vec![1., 4., 2., 5., 3., 6.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "ij->ij",
            vec![&a],
            p,
            vec![1., 2., 3., 4., 5., 6.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "ij->",
            vec![&a],
            "SumBackward1",
            vec![21.],
            vec!["SumBackward1", p, "AccumulateGrad"],
        ),
        (
            "ij->i",
            vec![&a],
            "SumBackward1",
            vec![6., 15.],
            vec!["SumBackward1", p, "AccumulateGrad"],
        ),
        (
            "ij->j",
            vec![&a],
            "SumBackward1",
            vec![5., 7., 9.],
            vec!["SumBackward1", p, "AccumulateGrad"],
        ),
        (
            "i->",
            vec![&v],
            "SumBackward1",
            vec![6.],
            vec!["SumBackward1", p, "AccumulateGrad"],
        ),
        (
            "i->i",
            vec![&v],
            p,
            vec![1., 2., 3.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "i,i->",
            vec![&v, &v],
            "ViewBackward0",
            vec![14.],
            vec![
                "ViewBackward0",
                p,
                "ViewBackward0",
                "BmmBackward0",
                "ViewBackward0",
                "ViewBackward0",
                p,
                p,
                p,
                p,
                "AccumulateGrad",
            ],
        ),
        (
            "i,i->i",
            vec![&v, &v],
            "MulBackward0",
            vec![1., 4., 9.],
            vec!["MulBackward0", p, p, "AccumulateGrad"],
        ),
        (
            "ij,ij->ij",
            vec![&a, &a],
            "MulBackward0",
            vec![1., 4., 9., 16., 25., 36.],
            vec!["MulBackward0", p, p, "AccumulateGrad"],
        ),
        (
            "ij,ij->",
            vec![&a, &a],
            "ViewBackward0",
            vec![91.],
            vec![
                "ViewBackward0",
                p,
                "ViewBackward0",
                "BmmBackward0",
                "ViewBackward0",
                "ViewBackward0",
                p,
                p,
                p,
                p,
                "AccumulateGrad",
            ],
        ),
        (
            "ij,j->i",
            vec![&a, &v],
            "ViewBackward0",
            vec![14., 32.],
            vec![
                "ViewBackward0",
                p,
                "ViewBackward0",
                "BmmBackward0",
                "ViewBackward0",
                "ViewBackward0",
                p,
                p,
                p,
                p,
                "AccumulateGrad",
                "UnsqueezeBackward0",
                "AccumulateGrad",
            ],
        ),
        (
            "...ij->...ji",
            vec![&ba],
            p,
            vec![1., 4., 2., 5., 3., 6., 7., 10., 8., 11., 9., 12.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "bij->bji",
            vec![&ba],
            p,
            vec![1., 4., 2., 5., 3., 6., 7., 10., 8., 11., 9., 12.],
            vec![p, "AccumulateGrad"],
        ),
        (
            "bij,bjk",
            vec![&ba, &bb],
            "ViewBackward0",
            vec![242., 272., 350., 398.],
            vec![
                "ViewBackward0",
                p,
                "ViewBackward0",
                "BmmBackward0",
                "UnsafeViewBackward0",
                "ViewBackward0",
                "CloneBackward0",
                p,
                p,
                p,
                p,
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "AccumulateGrad",
                "AccumulateGrad",
            ],
        ),
        (
            "ij,kj->ik",
            vec![&a, &a],
            "ViewBackward0",
            vec![14., 32., 32., 77.],
            vec![
                "ViewBackward0",
                p,
                "ViewBackward0",
                "BmmBackward0",
                "ViewBackward0",
                "ReshapeAliasBackward0",
                p,
                p,
                p,
                p,
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "AccumulateGrad",
            ],
        ),
        (
            "i,j,k->ijk",
            vec![&v, &w, &v],
            "MulBackward0",
            vec![
                4., 8., 12., 5., 10., 15., 8., 16., 24., 10., 20., 30., 12., 24., 36., 15., 30.,
                45.,
            ],
            vec![
                "MulBackward0",
                "MulBackward0",
                p,
                p,
                p,
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "UnsqueezeBackward0",
                "AccumulateGrad",
                "AccumulateGrad",
            ],
        ),
    ];
    for (eq, xs, root, values, g) in cases {
        let xs: Vec<Tensor> = xs.into_iter().cloned().collect();
        let y = Tensor::einsum(eq, &xs).unwrap();
        assert_eq!(name(&y), Some(root), "{eq}");
        assert_eq!(y.to_vec_f64(), values, "{eq}");
        assert_eq!(graph(&y), sorted(&g), "{eq}");
    }
}

#[test]
fn bad_equations() {
    let [a, b, _, _, _, _, _] = ops();
    let msg = |eq: &str, xs: &[&Tensor]| {
        let xs: Vec<Tensor> = xs.iter().map(|t| (*t).clone()).collect();
        err(Tensor::einsum(eq, &xs))
    };
    // Observed from libtorch 2.13.
    let cases: [(&str, Vec<&Tensor>, &str); 12] = [
        (
            "ij,jk->ik",
            vec![&a],
            "einsum(): fewer operands were provided than specified in the equation",
        ),
        (
            "ij->k",
            vec![&a],
            "einsum(): output subscript k does not appear in the equation for any input operand",
        ),
        (
            "ijk->",
            vec![&a],
            "einsum(): the number of subscripts in the equation (3) does not match the number of dimensions (2) for operand 0 and no ellipsis was given",
        ),
        (
            "i->",
            vec![&a],
            "einsum(): the number of subscripts in the equation (1) does not match the number of dimensions (2) for operand 0 and no ellipsis was given",
        ),
        (
            "ij,jk->ik",
            vec![&a, &a],
            "einsum(): subscript j has size 2 for operand 1 which does not broadcast with previously seen size 3",
        ),
        (
            "ij->ii",
            vec![&a],
            "einsum(): output subscript i appears more than once in the output",
        ),
        (
            "i1->",
            vec![&a],
            "einsum(): invalid subscript given at index 1 in the equation string, subscripts must be in [a-zA-Z]",
        ),
        (
            "ij-jk",
            vec![&a],
            "einsum(): invalid subscript given at index 2 in the equation string, subscripts must be in [a-zA-Z]",
        ),
        (
            "ii->",
            vec![&a],
            "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2",
        ),
        (
            "ij,jk->ik",
            vec![&a, &b, &a],
            "einsum(): more operands were provided than specified in the equation",
        ),
        (
            "....ij->",
            vec![&a],
            "einsum(): found '.' for operand 0 for which an ellipsis was already found",
        ),
        (
            "",
            vec![&a],
            "einsum(): the number of subscripts in the equation (0) does not match the number of dimensions (2) for operand 0 and no ellipsis was given",
        ),
    ];
    for (eq, xs, want) in cases {
        assert_eq!(msg(eq, &xs), want, "{eq:?}");
    }
    let f = Tensor::from_vec(vec![1.0f32, 2., 3.], &[3]).unwrap();
    assert_eq!(
        err(Tensor::einsum("i,i->", &[leaf(&[1., 2., 3.], &[3]), f])),
        "expected scalar type Double but found Float"
    );
}

#[test]
fn gradcheck_equations() {
    let v: Vec<f64> = (0..24).map(|i| ((i * 5) % 13) as f64 * 0.2 - 1.1).collect();
    let two = |eq: &'static str, s1: &'static [usize], s2: &'static [usize]| {
        let n1: usize = s1.iter().product();
        let n2: usize = s2.iter().product();
        gradcheck(
            move |x| Tensor::einsum(eq, &[x[0].clone(), x[1].clone()]),
            &[(&v[..n1], s1), (&v[24 - n2..], s2)],
        );
    };
    two("ij,jk->ik", &[2, 3], &[3, 4]);
    two("bij,bjk->bik", &[2, 2, 3], &[2, 3, 2]);
    two("i,j->ij", &[3], &[4]);
    two("i,i->", &[5], &[5]);
    two("ij,kj->ik", &[2, 3], &[4, 3]);
    two("...ij,...jk->...ik", &[2, 2, 3], &[3, 2]);
    two("ij,ij->i", &[3, 4], &[3, 4]);
    for eq in ["ii->", "ii->i", "ij->ji", "ij->", "ij->j"] {
        gradcheck(
            move |x| Tensor::einsum(eq, &[x[0].clone()]),
            &[(&v[..9], &[3, 3])],
        );
    }
    gradcheck(|x| x[0].diagonal(1, 0, 1), &[(&v[..12], &[3, 4])]);
    gradcheck(|x| x[0].diagonal(-1, 1, 0), &[(&v[..12], &[3, 4])]);
}

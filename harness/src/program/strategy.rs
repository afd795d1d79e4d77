//! proptest strategies for random programs: every shape of the IR that program text can express,
//! so that `parse(print(p)) == p` can be tested for all of them. The programs are syntactically
//! valid, not meaningful: names, ops and arguments are random. The fuzzer's generator builds
//! meaningful programs; this one exercises the parser and printer.

use super::ast::*;
use super::parser::KEYWORDS;
use crate::error_kind::ErrorKind;
use proptest::prelude::*;

/// A random program of up to `max_stmts` top-level statements.
pub fn arb_program() -> impl Strategy<Value = Program> {
    prop::collection::vec(arb_stmt(), 0..8).prop_map(|stmts| Program { stmts })
}

pub fn arb_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,5}".prop_filter("keywords are not names", |s| {
        !KEYWORDS.contains(&s.as_str())
    })
}

fn arb_string() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.,:#'\"\\\\\n\té-]{0,8}"
}

fn arb_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i32..1000).prop_map(|i| f64::from(i) / 8.0),
        Just(1e-6),
        Just(0.1),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => arb_name().prop_map(ExprKind::Name),
        2 => any::<i64>().prop_map(ExprKind::Int),
        2 => (-5i64..10).prop_map(ExprKind::Int),
        2 => arb_float().prop_map(ExprKind::Float),
        1 => any::<bool>().prop_map(ExprKind::Bool),
        1 => Just(ExprKind::None),
        1 => arb_string().prop_map(ExprKind::Str),
    ]
    .prop_map(Expr::new)
}

fn binop() -> impl Strategy<Value = BinOp> {
    prop_oneof![
        Just(BinOp::Add),
        Just(BinOp::Sub),
        Just(BinOp::Mul),
        Just(BinOp::Div),
        Just(BinOp::FloorDiv),
        Just(BinOp::Mod),
        Just(BinOp::Pow),
        Just(BinOp::MatMul),
        Just(BinOp::And),
        Just(BinOp::Or),
    ]
}

fn cmpop() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ]
}

fn unop() -> impl Strategy<Value = UnaryOp> {
    prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Pos), Just(UnaryOp::Not)]
}

/// An expression of bounded depth.
pub fn arb_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        let items = prop::collection::vec(inner.clone(), 0..4);
        let kwargs = prop::collection::vec((arb_name(), inner.clone()), 0..3).prop_map(|kw| {
            // Python rejects a repeated keyword, so the parser does too.
            let mut seen = std::collections::HashSet::new();
            kw.into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .collect::<Vec<_>>()
        });
        prop_oneof![
            items.clone().prop_map(ExprKind::List),
            items.clone().prop_map(ExprKind::Tuple),
            (unop(), inner.clone()).prop_map(|(op, e)| ExprKind::Unary(op, Box::new(e))),
            (binop(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
            (cmpop(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| ExprKind::Compare(
                op,
                Box::new(a),
                Box::new(b)
            )),
            (inner.clone(), items.clone(), kwargs).prop_map(|(f, args, kwargs)| {
                ExprKind::Call {
                    func: Box::new(f),
                    args,
                    kwargs,
                }
            }),
            (inner.clone(), arb_name()).prop_map(|(e, n)| ExprKind::Attr(Box::new(e), n)),
            (inner.clone(), arb_index_items(inner.clone()))
                .prop_map(|(e, items)| ExprKind::Index(Box::new(e), items)),
        ]
        .prop_map(Expr::new)
    })
}

fn arb_index_items(inner: BoxedStrategy<Expr>) -> impl Strategy<Value = Vec<IndexItem>> {
    let opt = || prop::option::of(inner.clone());
    let item = prop_oneof![
        // `x[None]` is a new axis, never the value None.
        3 => inner
            .clone()
            .prop_filter("None alone is NewAxis", |e| e.kind != ExprKind::None)
            .prop_map(IndexItem::Expr),
        2 => (opt(), opt(), opt()).prop_map(|(a, b, c)| IndexItem::Slice(a, b, c)),
        1 => Just(IndexItem::Ellipsis),
        1 => Just(IndexItem::NewAxis),
    ];
    prop::collection::vec(item, 1..4)
}

fn arb_target() -> impl Strategy<Value = Target> {
    let simple = prop_oneof![
        3 => arb_name().prop_map(Target::Name),
        1 => (arb_expr(), arb_name()).prop_map(|(e, n)| Target::Attr(Box::new(e), n)),
        1 => (arb_expr(), arb_index_items(arb_expr().boxed()))
            .prop_map(|(e, items)| Target::Index(Box::new(e), items)),
    ];
    simple.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 1..4).prop_map(Target::Tuple)
    })
}

fn arb_single_target() -> impl Strategy<Value = Target> {
    arb_target().prop_filter("augmented assignment takes one target", |t| {
        !matches!(t, Target::Tuple(_))
    })
}

fn arb_expect() -> impl Strategy<Value = Option<ExpectedError>> {
    let kinds: Vec<&'static str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    prop::option::weighted(
        0.2,
        (prop::sample::select(kinds), prop::option::of(arb_string())).prop_map(|(k, m)| {
            ExpectedError {
                kind: k.to_owned(),
                message: m,
            }
        }),
    )
}

const IMPORTS: &[&str] = &[
    "import torch",
    "import torch.nn as nn",
    "import torch.nn.functional as F",
    "import math",
    "from torch import nn, optim",
    "from torch import nn as n2",
];

fn simple_stmt() -> impl Strategy<Value = Stmt> {
    let aug = prop_oneof![
        Just(BinOp::Add),
        Just(BinOp::Sub),
        Just(BinOp::Mul),
        Just(BinOp::Div),
        Just(BinOp::FloorDiv),
        Just(BinOp::Mod),
        Just(BinOp::Pow),
        Just(BinOp::MatMul),
    ];
    let kind = prop_oneof![
        3 => (arb_target(), arb_expr()).prop_map(|(target, value)| StmtKind::Assign { target, value }),
        1 => (arb_single_target(), aug, arb_expr())
            .prop_map(|(target, op, value)| StmtKind::AugAssign { target, op, value }),
        2 => arb_expr().prop_map(StmtKind::Expr),
        1 => Just(StmtKind::Pass),
        1 => prop::sample::select(IMPORTS).prop_map(|s| StmtKind::Import(s.to_owned())),
    ];
    (kind, arb_expect()).prop_map(|(kind, expect)| Stmt {
        kind,
        span: Span::default(),
        expect,
    })
}

/// A statement, compound ones nested at most two deep.
pub fn arb_stmt() -> impl Strategy<Value = Stmt> {
    simple_stmt().prop_recursive(2, 16, 4, |inner| {
        let body = prop::collection::vec(inner, 1..4);
        let for_target = prop_oneof![
            3 => arb_name().prop_map(Target::Name),
            1 => prop::collection::vec(arb_name().prop_map(Target::Name), 1..3).prop_map(Target::Tuple),
        ];
        prop_oneof![
            (arb_expr(), body.clone()).prop_map(|(context, body)| StmtKind::With { context, body }),
            (for_target, arb_expr(), body.clone())
                .prop_map(|(target, iter, body)| StmtKind::For { target, iter, body }),
            (arb_expr(), body.clone(), prop::option::of(body))
                .prop_map(|(cond, body, orelse)| StmtKind::If {
                    cond,
                    body,
                    orelse: orelse.unwrap_or_default(),
                }),
        ]
        .prop_map(Stmt::new)
    })
}

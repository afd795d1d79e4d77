//! The generator's AST builders, and its predictions of libtorch's shape rules.

use crate::backend::DType;
use crate::program::ast::{BinOp, CmpOp, Expr, ExprKind, Stmt, StmtKind, Target};
// ---- AST builders ----

pub(super) fn e(kind: ExprKind) -> Expr {
    Expr::new(kind)
}
pub(crate) fn name(s: &str) -> Expr {
    e(ExprKind::Name(s.to_string()))
}
/// Negative numbers are literals, as the parser reads `-1.5`.
pub(crate) fn int(i: i64) -> Expr {
    e(ExprKind::Int(i))
}
pub(crate) fn float(f: f64) -> Expr {
    e(ExprKind::Float(f))
}
pub(super) fn boolean(b: bool) -> Expr {
    e(ExprKind::Bool(b))
}
pub(super) fn attr(x: Expr, a: &str) -> Expr {
    e(ExprKind::Attr(Box::new(x), a.to_string()))
}
pub(super) fn call(f: Expr, args: Vec<Expr>, kwargs: Vec<(&str, Expr)>) -> Expr {
    e(ExprKind::Call {
        func: Box::new(f),
        args,
        kwargs: kwargs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    })
}
pub(super) fn method(x: Expr, m: &str, args: Vec<Expr>, kwargs: Vec<(&str, Expr)>) -> Expr {
    call(attr(x, m), args, kwargs)
}
pub(super) fn torch(f: &str) -> Expr {
    attr(name("torch"), f)
}
pub(super) fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}
pub(super) fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Compare(op, Box::new(a), Box::new(b)))
}
pub(super) fn list(xs: Vec<Expr>) -> Expr {
    e(ExprKind::List(xs))
}
pub(super) fn dtype_expr(d: DType) -> Expr {
    torch(match d {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I64 => "int64",
        DType::I32 => "int32",
        DType::I16 => "int16",
        DType::I8 => "int8",
        DType::Bool => "bool",
    })
}
pub(super) fn assign(target: &str, value: Expr) -> Stmt {
    Stmt::new(StmtKind::Assign {
        target: Target::Name(target.to_string()),
        value,
    })
}
pub(super) fn expr_stmt(x: Expr) -> Stmt {
    Stmt::new(StmtKind::Expr(x))
}
pub(super) fn ints(xs: &[i64]) -> Vec<Expr> {
    xs.iter().map(|&i| int(i)).collect()
}
pub(super) fn shape_args(shape: &[usize]) -> Vec<Expr> {
    shape.iter().map(|&s| int(s as i64)).collect()
}

// ---- shape and dtype rules (a prediction of libtorch's) ----

pub(super) fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

pub(super) fn norm_dim(dim: i64, rank: usize) -> Option<usize> {
    let r = rank.max(1) as i64;
    let d = if dim < 0 { dim + r } else { dim };
    (0..r).contains(&d).then_some(d as usize)
}

/// The Python operator written `symbol` (`"+"`, `"//"`).
pub(super) fn operator(symbol: &str) -> Option<BinOp> {
    use crate::program::printer::binop_symbol;
    [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::FloorDiv,
        BinOp::Mod,
        BinOp::Pow,
        BinOp::MatMul,
    ]
    .into_iter()
    .find(|&op| binop_symbol(op) == symbol)
}

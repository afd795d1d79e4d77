//! The structure-aware program generator: bytes (from libFuzzer or a seeded RNG) to a program IR
//! that prints as a valid case program.
//!
//! The generator keeps a typed environment (name, shape, dtype, requires_grad, leaf-ness, whether
//! the tensor is contiguous or a view of a leaf that requires grad) so that most statements are
//! meaningful: operands are picked broadcast-compatible, reshapes keep the element count, in-place
//! writes mostly avoid the leaf rule. A small share of statements deliberately break those rules
//! (a bad dim, a log of a negative, an in-place op on a leaf) so that error paths are fuzzed too.
//! The environment is a prediction, not the truth: when a statement is predicted to fail, its
//! target is left unbound so that later statements do not pile up name errors.
//!
//! In [`Mode::Differentiable`] the generator restricts itself to smooth, out-of-place float64 ops
//! on tensors written as literals, and ends with `loss = (y * w).sum()` and `loss.backward()`:
//! the shape [`super::gradcheck`] can re-run with perturbed leaf values.

use crate::backend::DType;
use crate::program::ast::{
    BinOp, CmpOp, Expr, ExprKind, IndexItem, Program, Stmt, StmtKind, Target,
};
use arbitrary::{Result, Unstructured};
use rand::{RngCore, SeedableRng};

/// What kind of program to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole surface: in-place ops, views, detach and `.data`, `no_grad`, repeated backward.
    General,
    /// Smooth, out-of-place, all-float64 programs ending in a scalar loss and one backward.
    Differentiable,
}

#[derive(Debug, Clone)]
pub struct GenConfig {
    pub mode: Mode,
    /// Upper bound on top-level statements (a `with` block counts as one).
    pub max_stmts: usize,
    /// Tensors have at most this many dimensions.
    pub max_rank: usize,
    /// Each dimension has at most this many elements.
    pub max_dim: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            mode: Mode::General,
            max_stmts: 26,
            max_rank: 4,
            max_dim: 3,
        }
    }
}

impl GenConfig {
    pub fn differentiable() -> Self {
        GenConfig {
            mode: Mode::Differentiable,
            max_stmts: 12,
            max_rank: 3,
            max_dim: 3,
        }
    }
}

/// Generates a program from fuzzer bytes. Never fails for lack of bytes: `arbitrary` answers
/// with its smallest choices once the input runs out.
pub fn program(u: &mut Unstructured, cfg: &GenConfig) -> Result<Program> {
    let mut g = Gen {
        u,
        cfg: cfg.clone(),
        vars: Vec::new(),
        next: 0,
        grad_enabled: true,
        pending: Vec::new(),
    };
    let mut p = g.program()?;
    number_lines(&mut p.stmts, &mut 0);
    Ok(p)
}

/// Gives each statement the line the printer puts it on, as a parsed case has: observations,
/// divergences and the numerics oracle's record of what each statement read go by line.
fn number_lines(stmts: &mut [crate::program::Stmt], next: &mut u32) {
    use crate::program::StmtKind;
    for s in stmts {
        *next += 1;
        s.span.line = *next;
        match &mut s.kind {
            StmtKind::With { body, .. } | StmtKind::For { body, .. } => number_lines(body, next),
            StmtKind::If { body, orelse, .. } => {
                number_lines(body, next);
                if !orelse.is_empty() {
                    *next += 1;
                    number_lines(orelse, next);
                }
            }
            _ => {}
        }
    }
}

/// Generates a program from a seed, the way the campaign and the proptest run do: the seed
/// drives ChaCha8, whose bytes feed the same generator libFuzzer drives.
pub fn program_from_seed(seed: u64, cfg: &GenConfig) -> Program {
    let mut bytes = vec![0u8; 4096];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    let mut u = Unstructured::new(&bytes);
    // An `arbitrary` error here can only be "not enough data", which `program` never returns.
    program(&mut u, cfg).unwrap_or_default()
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    shape: Vec<usize>,
    dtype: DType,
    requires_grad: bool,
    leaf: bool,
    contiguous: bool,
    /// A view of a leaf that requires grad: writes to it raise under grad mode.
    view_of_grad_leaf: bool,
    /// Probably has a `.grad` (a leaf that requires grad, after some backward).
    has_grad: bool,
}

impl Var {
    fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    fn is_float(&self) -> bool {
        self.dtype.is_float()
    }
    fn expr(&self) -> Expr {
        name(&self.name)
    }
    /// Whether writing to it in place is allowed with grad mode in the given state.
    fn writable(&self, grad_enabled: bool) -> bool {
        !grad_enabled || !((self.leaf && self.requires_grad) || self.view_of_grad_leaf)
    }
}

struct Gen<'a, 'b> {
    u: &'a mut Unstructured<'b>,
    cfg: GenConfig,
    vars: Vec<Var>,
    next: usize,
    grad_enabled: bool,
    /// Statements a generator needed before its own (a partner tensor, a module).
    pending: Vec<Stmt>,
}

// ---- AST builders ----

fn e(kind: ExprKind) -> Expr {
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
fn boolean(b: bool) -> Expr {
    e(ExprKind::Bool(b))
}
fn attr(x: Expr, a: &str) -> Expr {
    e(ExprKind::Attr(Box::new(x), a.to_string()))
}
fn call(f: Expr, args: Vec<Expr>, kwargs: Vec<(&str, Expr)>) -> Expr {
    e(ExprKind::Call {
        func: Box::new(f),
        args,
        kwargs: kwargs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    })
}
fn method(x: Expr, m: &str, args: Vec<Expr>, kwargs: Vec<(&str, Expr)>) -> Expr {
    call(attr(x, m), args, kwargs)
}
fn torch(f: &str) -> Expr {
    attr(name("torch"), f)
}
fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}
fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Compare(op, Box::new(a), Box::new(b)))
}
fn list(xs: Vec<Expr>) -> Expr {
    e(ExprKind::List(xs))
}
fn dtype_expr(d: DType) -> Expr {
    torch(match d {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I64 => "int64",
        DType::Bool => "bool",
    })
}
fn assign(target: &str, value: Expr) -> Stmt {
    Stmt::new(StmtKind::Assign {
        target: Target::Name(target.to_string()),
        value,
    })
}
fn expr_stmt(x: Expr) -> Stmt {
    Stmt::new(StmtKind::Expr(x))
}
fn ints(xs: &[i64]) -> Vec<Expr> {
    xs.iter().map(|&i| int(i)).collect()
}
fn shape_args(shape: &[usize]) -> Vec<Expr> {
    shape.iter().map(|&s| int(s as i64)).collect()
}

// ---- shape and dtype rules (a prediction of libtorch's) ----

fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
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

fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    match (a, b) {
        (F64, _) | (_, F64) => F64,
        (F32, _) | (_, F32) => F32,
        (I64, _) | (_, I64) => I64,
        _ => Bool,
    }
}

/// A tensor with a Python scalar: a float scalar lifts integer tensors to the default float.
fn promote_scalar(t: DType, scalar_is_float: bool) -> DType {
    match (t, scalar_is_float) {
        (DType::I64 | DType::Bool, true) => DType::F32,
        (DType::Bool, false) => DType::I64,
        (d, _) => d,
    }
}

/// Ops like exp or sigmoid on integers compute in the default float dtype.
fn float_result(d: DType) -> DType {
    if d.is_float() { d } else { DType::F32 }
}

fn norm_dim(dim: i64, rank: usize) -> Option<usize> {
    let r = rank.max(1) as i64;
    let d = if dim < 0 { dim + r } else { dim };
    (0..r).contains(&d).then_some(d as usize)
}

impl<'a, 'b> Gen<'a, 'b> {
    fn diff(&self) -> bool {
        self.cfg.mode == Mode::Differentiable
    }

    fn ratio(&mut self, num: u8, den: u8) -> Result<bool> {
        self.u.ratio(num, den)
    }

    fn below(&mut self, n: usize) -> Result<usize> {
        if n <= 1 {
            return Ok(0);
        }
        self.u.int_in_range(0..=n - 1)
    }

    fn fresh(&mut self) -> String {
        let n = format!("t{}", self.next);
        self.next += 1;
        n
    }

    /// A name to bind a new result to: usually fresh, sometimes an old one (the old tensor
    /// then dies, which is what exercises saved-tensor lifetimes).
    fn target_name(&mut self) -> Result<String> {
        // Gradcheck observes inputs by name, so differentiable programs never rebind.
        if !self.diff() && !self.vars.is_empty() && self.ratio(1, 10)? {
            let i = self.below(self.vars.len())?;
            return Ok(self.vars[i].name.clone());
        }
        Ok(self.fresh())
    }

    fn bind(&mut self, v: Var) {
        self.vars.retain(|x| x.name != v.name);
        self.vars.push(v);
    }

    fn unbind(&mut self, n: &str) {
        self.vars.retain(|x| x.name != n);
    }

    fn pick(&mut self, pred: impl Fn(&Var) -> bool) -> Result<Option<Var>> {
        let c: Vec<usize> = (0..self.vars.len())
            .filter(|&i| pred(&self.vars[i]))
            .collect();
        if c.is_empty() {
            return Ok(None);
        }
        let i = self.below(c.len())?;
        Ok(Some(self.vars[c[i]].clone()))
    }

    fn shape(&mut self) -> Result<Vec<usize>> {
        let rank = match self.u.int_in_range(0..=9u8)? {
            0 => 0,
            1..=3 => 1,
            4..=6 => 2,
            7 | 8 => 3,
            _ => 4,
        }
        .min(self.cfg.max_rank);
        let mut s = Vec::with_capacity(rank);
        for _ in 0..rank {
            // An empty dimension now and then: reductions and views of zero elements.
            let d = if !self.diff() && self.ratio(1, 60)? {
                0
            } else {
                self.u.int_in_range(1..=self.cfg.max_dim)?
            };
            s.push(d);
        }
        Ok(s)
    }

    /// A shape that broadcasts with `s`: some leading dims dropped, some dims set to 1.
    fn compatible_shape(&mut self, s: &[usize]) -> Result<Vec<usize>> {
        let drop = self.below(s.len() + 1)?;
        let mut out: Vec<usize> = s[drop..].to_vec();
        for d in out.iter_mut() {
            if self.ratio(1, 4)? {
                *d = 1;
            }
        }
        Ok(out)
    }

    fn value(&mut self) -> Result<f64> {
        // Quarter steps print exactly and keep sums exact in f32.
        Ok(self.u.int_in_range(-12i32..=12)? as f64 / 4.0)
    }

    fn literal(&mut self, shape: &[usize], float_vals: bool) -> Result<Expr> {
        if shape.is_empty() {
            return Ok(if float_vals {
                let v = if self.diff() {
                    self.smooth_value()?
                } else {
                    self.value()?
                };
                float(v)
            } else {
                int(self.u.int_in_range(-3i64..=5)?)
            });
        }
        let mut items = Vec::with_capacity(shape[0]);
        for _ in 0..shape[0] {
            items.push(self.literal(&shape[1..], float_vals)?);
        }
        Ok(list(items))
    }

    /// Values for gradcheck inputs: away from zero so that no op sits on a kink.
    fn smooth_value(&mut self) -> Result<f64> {
        let v = self.u.int_in_range(1i32..=16)? as f64 / 8.0;
        Ok(if self.ratio(1, 2)? { -v } else { v })
    }

    // ---- the program ----

    fn program(&mut self) -> Result<Program> {
        let mut stmts = Vec::new();
        let n = self
            .u
            .int_in_range((self.cfg.max_stmts / 2).max(4)..=self.cfg.max_stmts.max(4))?;
        // Two inputs first, so most programs have something to work on.
        for _ in 0..2 {
            stmts.push(self.create()?);
        }
        for _ in 2..n {
            if self.u.is_empty() {
                break;
            }
            let s = self.stmt()?;
            stmts.append(&mut self.pending);
            stmts.extend(s);
        }
        if self.diff() {
            self.finish_differentiable(&mut stmts)?;
        }
        Ok(Program { stmts })
    }

    fn stmt(&mut self) -> Result<Option<Stmt>> {
        if self.diff() {
            return Ok(Some(match self.u.int_in_range(0..=9u8)? {
                0 | 1 => self.create()?,
                2 => match self.reduction()? {
                    Some(s) => s,
                    None => return self.op(),
                },
                3 => match self.view()? {
                    Some(s) => s,
                    None => return self.op(),
                },
                4 => match self.matmul()? {
                    Some(s) => s,
                    None => return self.op(),
                },
                5 => match self.join()? {
                    Some(s) => s,
                    None => return self.op(),
                },
                _ => return self.op(),
            }));
        }
        for _ in 0..4 {
            let s = match self.u.int_in_range(0..=29u8)? {
                0..=2 => Some(self.create()?),
                3..=8 => self.op()?,
                9 | 10 => self.reduction()?,
                11..=13 => self.view()?,
                14 => self.matmul()?,
                15 => self.join()?,
                16..=18 => self.inplace()?,
                19 | 20 => self.backward()?,
                21 => self.grad_zero()?,
                22 => self.detach()?,
                23 => self.no_grad_block()?,
                24 => self.flags()?,
                25 | 26 => self.read()?,
                27 => self.nn()?,
                28 => self.index_assign()?,
                _ => self.misc()?,
            };
            if s.is_some() {
                return Ok(s);
            }
        }
        Ok(None)
    }

    /// A new input tensor.
    fn create(&mut self) -> Result<Stmt> {
        // Most new tensors broadcast with one already there, so binary ops have partners.
        let shape = match self.pick(|_| true)? {
            Some(v) if self.ratio(2, 3)? => self.compatible_shape(&v.shape)?,
            _ => self.shape()?,
        };
        let n = self.fresh();
        if self.diff() {
            let rg = self.vars.iter().all(|v| !v.requires_grad) || self.ratio(3, 4)?;
            let lit = self.literal(&shape, true)?;
            let mut kw = vec![("dtype", dtype_expr(DType::F64))];
            if rg {
                kw.push(("requires_grad", boolean(true)));
            }
            self.bind(Var {
                name: n.clone(),
                shape,
                dtype: DType::F64,
                requires_grad: rg,
                leaf: true,
                contiguous: true,
                view_of_grad_leaf: false,
                has_grad: false,
            });
            return Ok(assign(&n, call(name("tensor"), vec![lit], kw)));
        }
        let dtype = match self.u.int_in_range(0..=9u8)? {
            0..=5 => DType::F32,
            6 | 7 => DType::F64,
            8 => DType::I64,
            _ => DType::Bool,
        };
        let rg = dtype.is_float() && self.ratio(2, 3)?;
        // Now and then ask an integer tensor to require grad: a requires_grad_dtype error.
        let bad_rg = !dtype.is_float() && self.ratio(1, 12)?;
        let rg_kw = |rg: bool| {
            if rg {
                vec![("requires_grad", boolean(true))]
            } else {
                vec![]
            }
        };
        let mut kw = Vec::new();
        let value = match (dtype, self.u.int_in_range(0..=5u8)?) {
            (DType::Bool, _) => {
                let src = self.pick(|v| v.is_float())?;
                match src {
                    Some(v) => {
                        let stmt = assign(&n, cmp(CmpOp::Gt, v.expr(), float(0.0)));
                        self.bind(Var {
                            name: n,
                            shape: v.shape.clone(),
                            dtype: DType::Bool,
                            requires_grad: false,
                            leaf: true,
                            contiguous: true,
                            view_of_grad_leaf: false,
                            has_grad: false,
                        });
                        return Ok(stmt);
                    }
                    None => {
                        let lit = self.literal(&shape, false)?;
                        cmp(CmpOp::Gt, call(name("tensor"), vec![lit], vec![]), int(0))
                    }
                }
            }
            (DType::I64, 0) if shape.len() == 1 => {
                call(name("arange"), vec![int(shape[0] as i64)], vec![])
            }
            (DType::I64, _) => {
                let lit = self.literal(&shape, false)?;
                kw = rg_kw(bad_rg);
                call(name("tensor"), vec![lit], std::mem::take(&mut kw))
            }
            (_, 0 | 1) => {
                let lit = self.literal(&shape, true)?;
                kw.extend(rg_kw(rg));
                if dtype == DType::F64 {
                    kw.insert(0, ("dtype", dtype_expr(dtype)));
                }
                call(name("tensor"), vec![lit], std::mem::take(&mut kw))
            }
            (_, 2) if !shape.is_empty() => {
                let f = if self.ratio(1, 2)? { "ones" } else { "zeros" };
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                call(name(f), shape_args(&shape), std::mem::take(&mut kw))
            }
            (_, 3) if !shape.is_empty() => {
                let v = self.value()?;
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                let dims = e(ExprKind::Tuple(shape_args(&shape)));
                call(name("full"), vec![dims, float(v)], std::mem::take(&mut kw))
            }
            (_, 4) if !self.vars.is_empty() => {
                // `ones_like` copies the dtype and shape of another tensor.
                let v = self.pick(|_| true)?.expect("vars is not empty");
                let f = if self.ratio(1, 2)? {
                    "ones_like"
                } else {
                    "zeros_like"
                };
                let rg = v.is_float() && rg;
                let stmt = assign(&n, call(torch(f), vec![v.expr()], rg_kw(rg)));
                self.bind(Var {
                    name: n,
                    shape: v.shape.clone(),
                    dtype: v.dtype,
                    requires_grad: rg,
                    leaf: true,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                });
                return Ok(stmt);
            }
            _ if !shape.is_empty() => {
                let f = if self.ratio(1, 2)? { "randn" } else { "rand" };
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                call(name(f), shape_args(&shape), std::mem::take(&mut kw))
            }
            _ => {
                let v = self.value()?;
                kw.extend(rg_kw(rg));
                if dtype == DType::F64 {
                    kw.insert(0, ("dtype", dtype_expr(dtype)));
                }
                call(name("tensor"), vec![float(v)], kw)
            }
        };
        if bad_rg {
            return Ok(assign(&n, value));
        }
        self.bind(Var {
            name: n.clone(),
            shape,
            dtype,
            requires_grad: rg,
            leaf: true,
            contiguous: true,
            view_of_grad_leaf: false,
            has_grad: false,
        });
        Ok(assign(&n, value))
    }

    /// Binds the result of an out-of-place op, predicting its autograd flags.
    fn result(
        &mut self,
        value: Expr,
        shape: Option<Vec<usize>>,
        dtype: DType,
        inputs: &[&Var],
    ) -> Result<Stmt> {
        let n = self.target_name()?;
        match shape {
            Some(shape) => {
                let rg =
                    self.grad_enabled && dtype.is_float() && inputs.iter().any(|v| v.requires_grad);
                self.bind(Var {
                    name: n.clone(),
                    shape,
                    dtype,
                    requires_grad: rg,
                    leaf: !rg,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                });
            }
            None => self.unbind(&n),
        }
        Ok(assign(&n, value))
    }

    /// Elementwise ops: binary with tensors or scalars, unary, clamp, where, to(dtype).
    fn op(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let kind = self.u.int_in_range(0..=9u8)?;
        match kind {
            0..=3 => {
                let ops: &[BinOp] = if diff {
                    &[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]
                } else {
                    &[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Pow]
                };
                let op = *self.u.choose(ops)?;
                let b = if self.ratio(1, 3)? {
                    None
                } else {
                    let s = a.shape.clone();
                    let compatible =
                        |v: &Var| broadcast(&s, &v.shape).is_some() && (!diff || v.is_float());
                    if self.ratio(4, 5)? {
                        self.pick(compatible)?
                    } else {
                        self.pick(|_| true)?
                    }
                };
                match b {
                    Some(b) => {
                        // Dividing by something that cannot be zero keeps values finite.
                        let rhs = if op == BinOp::Div && (diff || self.ratio(3, 4)?) {
                            bin(BinOp::Add, method(b.expr(), "abs", vec![], vec![]), int(1))
                        } else if op == BinOp::Pow {
                            method(b.expr(), "abs", vec![], vec![])
                        } else {
                            b.expr()
                        };
                        let lhs = if op == BinOp::Pow {
                            bin(BinOp::Add, method(a.expr(), "abs", vec![], vec![]), int(1))
                        } else {
                            a.expr()
                        };
                        let mut dt = promote(a.dtype, b.dtype);
                        if op == BinOp::Div && !dt.is_float() {
                            dt = DType::F32;
                        }
                        if dt == DType::Bool {
                            dt = DType::I64;
                        }
                        let shape = broadcast(&a.shape, &b.shape);
                        // torch.maximum now and then: a binary op without an operator.
                        let value = if !diff && op == BinOp::Sub && self.ratio(1, 4)? {
                            call(torch("maximum"), vec![a.expr(), b.expr()], vec![])
                        } else {
                            bin(op, lhs, rhs)
                        };
                        self.result(value, shape, dt, &[&a, &b]).map(Some)
                    }
                    None => {
                        let s = if diff {
                            self.smooth_value()?
                        } else {
                            self.value()?
                        };
                        let as_int = !diff && self.ratio(1, 3)?;
                        let sc = if as_int { int(s as i64) } else { float(s) };
                        let reflected = self.ratio(1, 3)?;
                        let (value, op) = match (op, reflected) {
                            (BinOp::Pow, false) => (bin(op, a.expr(), int(2)), op),
                            (BinOp::Pow, true) => (bin(op, float(1.5), a.expr()), op),
                            (BinOp::Div, true) => (
                                bin(
                                    op,
                                    sc,
                                    bin(
                                        BinOp::Add,
                                        method(a.expr(), "abs", vec![], vec![]),
                                        int(1),
                                    ),
                                ),
                                op,
                            ),
                            (_, true) => (bin(op, sc, a.expr()), op),
                            (_, false)
                                if op == BinOp::Div && s == 0.0 && !diff && self.ratio(1, 2)? =>
                            {
                                (bin(op, a.expr(), float(0.5)), op)
                            }
                            (_, false) => (bin(op, a.expr(), sc), op),
                        };
                        let mut dt =
                            promote_scalar(a.dtype, !as_int || op == BinOp::Pow && reflected);
                        if op == BinOp::Div && !dt.is_float() {
                            dt = DType::F32;
                        }
                        self.result(value, Some(a.shape.clone()), dt, &[&a])
                            .map(Some)
                    }
                }
            }
            4..=7 => {
                let smooth: &[&str] = &[
                    "exp",
                    "log",
                    "sqrt",
                    "sin",
                    "cos",
                    "tanh",
                    "sigmoid",
                    "neg",
                    "reciprocal",
                ];
                let all: &[&str] = &[
                    "exp",
                    "log",
                    "sqrt",
                    "abs",
                    "sin",
                    "cos",
                    "tanh",
                    "sigmoid",
                    "relu",
                    "neg",
                    "reciprocal",
                ];
                let f = *self.u.choose(if diff { smooth } else { all })?;
                // Mostly keep log, sqrt and reciprocal in their domain; sometimes not.
                let guarded =
                    matches!(f, "log" | "sqrt" | "reciprocal") && (diff || self.ratio(4, 5)?);
                let x = if guarded {
                    bin(BinOp::Add, bin(BinOp::Mul, a.expr(), a.expr()), int(1))
                } else if diff && f == "exp" {
                    method(a.expr(), "tanh", vec![], vec![])
                } else {
                    a.expr()
                };
                let dt = match f {
                    "abs" | "relu" | "neg" => {
                        if a.dtype == DType::Bool && f == "neg" {
                            DType::Bool
                        } else {
                            a.dtype
                        }
                    }
                    _ if guarded => float_result(promote_scalar(a.dtype, false)),
                    _ => float_result(a.dtype),
                };
                // Function spelling (torch.exp(x)) and method spelling (x.exp()) both occur.
                let value = if self.ratio(1, 4)? && f != "relu" {
                    call(torch(f), vec![x], vec![])
                } else {
                    method(x, f, vec![], vec![])
                };
                let ok = !(a.dtype == DType::Bool && f == "neg");
                self.result(value, ok.then(|| a.shape.clone()), dt, &[&a])
                    .map(Some)
            }
            8 if !diff => {
                let lo = self.value()?;
                let hi = lo + 1.0;
                let kw = match self.u.int_in_range(0..=2u8)? {
                    0 => vec![("min", float(lo))],
                    1 => vec![("max", float(hi))],
                    _ => vec![("min", float(lo)), ("max", float(hi))],
                };
                self.result(
                    method(a.expr(), "clamp", vec![], kw),
                    Some(a.shape.clone()),
                    a.dtype,
                    &[&a],
                )
                .map(Some)
            }
            8 | 9 if diff => {
                // where with a condition on a constant keeps the program smooth.
                let s = a.shape.clone();
                let Some(b) = self.pick(|v| v.is_float() && broadcast(&s, &v.shape).is_some())?
                else {
                    return Ok(None);
                };
                let Some(c) =
                    self.pick(|v| !v.requires_grad && broadcast(&s, &v.shape).is_some())?
                else {
                    return Ok(None);
                };
                let shape = broadcast(&a.shape, &b.shape).and_then(|s| broadcast(&s, &c.shape));
                let value = call(
                    torch("where"),
                    vec![cmp(CmpOp::Gt, c.expr(), float(0.0)), a.expr(), b.expr()],
                    vec![],
                );
                self.result(value, shape, promote(a.dtype, b.dtype), &[&a, &b])
                    .map(Some)
            }
            _ => {
                if self.ratio(1, 2)? {
                    let s = a.shape.clone();
                    let b = self.pick(|v| broadcast(&s, &v.shape).is_some())?;
                    let cond = cmp(CmpOp::Lt, a.expr(), float(0.0));
                    let (other, shape, dt) = match b {
                        Some(b) => (
                            b.expr(),
                            broadcast(&a.shape, &b.shape),
                            promote(a.dtype, b.dtype),
                        ),
                        None => (
                            float(0.0),
                            Some(a.shape.clone()),
                            promote_scalar(a.dtype, true),
                        ),
                    };
                    let value = call(torch("where"), vec![cond, other, a.expr()], vec![]);
                    self.result(value, shape, dt, &[&a]).map(Some)
                } else {
                    let (dt, value) = match self.u.int_in_range(0..=3u8)? {
                        0 => (DType::F64, method(a.expr(), "double", vec![], vec![])),
                        1 => (DType::F32, method(a.expr(), "float", vec![], vec![])),
                        2 => (
                            DType::F64,
                            method(a.expr(), "to", vec![dtype_expr(DType::F64)], vec![]),
                        ),
                        _ => (
                            DType::I64,
                            method(a.expr(), "to", vec![dtype_expr(DType::I64)], vec![]),
                        ),
                    };
                    self.result(value, Some(a.shape.clone()), dt, &[&a])
                        .map(Some)
                }
            }
        }
    }

    fn reduction(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let rank = a.shape.len();
        let dim = if rank == 0 {
            0
        } else if !diff && self.ratio(1, 20)? {
            rank as i64 // out of range
        } else {
            let d = self.below(rank)? as i64;
            if self.ratio(1, 3)? {
                d - rank as i64
            } else {
                d
            }
        };
        let keepdim = self.ratio(1, 3)?;
        let reduced = |keep: bool| -> Option<Vec<usize>> {
            let d = norm_dim(dim, rank)?;
            if rank == 0 {
                return Some(vec![]);
            }
            let mut s = a.shape.clone();
            if keep {
                s[d] = 1;
            } else {
                s.remove(d);
            }
            Some(s)
        };
        let choices: &[u8] = if diff {
            &[0, 1, 2, 3, 6, 7]
        } else {
            &[0, 1, 2, 3, 4, 5, 6, 7, 8]
        };
        let k = *self.u.choose(choices)?;
        let sum_dt = if a.is_float() { a.dtype } else { DType::I64 };
        match k {
            0 | 1 => {
                let f = if k == 0 { "sum" } else { "mean" };
                let dt = if k == 0 { sum_dt } else { a.dtype };
                let ok = k == 0 || a.is_float();
                self.result(
                    method(a.expr(), f, vec![], vec![]),
                    ok.then(Vec::new),
                    dt,
                    &[&a],
                )
                .map(Some)
            }
            2 | 3 => {
                let f = if k == 2 { "sum" } else { "mean" };
                let dt = if k == 2 { sum_dt } else { a.dtype };
                let ok = k == 2 || a.is_float();
                let kw = if keepdim {
                    vec![("keepdim", boolean(true))]
                } else {
                    vec![]
                };
                let shape = reduced(keepdim).filter(|_| ok);
                self.result(method(a.expr(), f, vec![int(dim)], kw), shape, dt, &[&a])
                    .map(Some)
            }
            4 => {
                let f = if self.ratio(1, 2)? { "max" } else { "min" };
                let ok = a.numel() > 0;
                self.result(
                    method(a.expr(), f, vec![], vec![]),
                    ok.then(Vec::new),
                    a.dtype,
                    &[&a],
                )
                .map(Some)
            }
            5 => {
                // `v, i = x.max(d)`: a tuple target.
                let f = if self.ratio(1, 2)? { "max" } else { "min" };
                let vn = self.fresh();
                let iname = self.fresh();
                let shape = reduced(keepdim).filter(|s| {
                    a.numel() > 0
                        || s.iter().product::<usize>() == 0
                            && rank > 0
                            && a.shape[norm_dim(dim, rank).unwrap_or(0)] > 0
                });
                let mut kw = Vec::new();
                if keepdim {
                    kw.push(("keepdim", boolean(true)));
                }
                let value = method(a.expr(), f, vec![int(dim)], kw);
                if let Some(shape) = shape {
                    let rg = self.grad_enabled && a.requires_grad;
                    let base = Var {
                        name: vn.clone(),
                        shape: shape.clone(),
                        dtype: a.dtype,
                        requires_grad: rg,
                        leaf: !rg,
                        contiguous: true,
                        view_of_grad_leaf: false,
                        has_grad: false,
                    };
                    self.bind(base.clone());
                    self.bind(Var {
                        name: iname.clone(),
                        dtype: DType::I64,
                        requires_grad: false,
                        leaf: true,
                        ..base
                    });
                }
                Ok(Some(Stmt::new(StmtKind::Assign {
                    target: Target::Tuple(vec![Target::Name(vn), Target::Name(iname)]),
                    value,
                })))
            }
            6 | 7 => {
                let f = if k == 6 { "softmax" } else { "log_softmax" };
                let shape = norm_dim(dim, rank)
                    .map(|_| a.shape.clone())
                    .filter(|_| a.is_float());
                let value = if self.ratio(1, 2)? {
                    method(a.expr(), f, vec![int(dim)], vec![])
                } else {
                    call(torch(f), vec![a.expr(), int(dim)], vec![])
                };
                self.result(value, shape, a.dtype, &[&a]).map(Some)
            }
            _ => {
                let Some(b) = self.pick(|v| v.shape == a.shape && v.is_float())? else {
                    return Ok(None);
                };
                let red = *self.u.choose(&["mean", "sum", "none"])?;
                let value = call(
                    attr(name("F"), "mse_loss"),
                    vec![a.expr(), b.expr()],
                    vec![("reduction", e(ExprKind::Str(red.to_string())))],
                );
                let shape = if red == "none" {
                    a.shape.clone()
                } else {
                    vec![]
                };
                let ok = a.is_float();
                self.result(
                    value,
                    ok.then_some(shape),
                    promote(a.dtype, b.dtype),
                    &[&a, &b],
                )
                .map(Some)
            }
        }
    }

    /// View ops: the result shares storage with its input.
    fn view(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let rank = a.shape.len();
        let s = &a.shape;
        let (value, shape, contiguous): (Expr, Option<Vec<usize>>, bool) =
            match self.u.int_in_range(0..=12u8)? {
                0 | 1 => {
                    // view/reshape to a factorisation of numel, sometimes with -1.
                    let n = a.numel();
                    let mut dims: Vec<i64> = if n > 1 && n % 2 == 0 && self.ratio(1, 2)? {
                        vec![2, (n / 2) as i64]
                    } else {
                        vec![n as i64]
                    };
                    if self.ratio(1, 3)? && n > 0 {
                        dims[0] = -1;
                    }
                    if !diff && self.ratio(1, 15)? {
                        dims = vec![n as i64 + 1];
                    }
                    let shape: Option<Vec<usize>> = {
                        let known: i64 = dims.iter().filter(|&&d| d >= 0).product();
                        if dims.contains(&-1) {
                            (known > 0 && n as i64 % known == 0).then(|| {
                                dims.iter()
                                    .map(|&d| {
                                        if d < 0 {
                                            n / known as usize
                                        } else {
                                            d as usize
                                        }
                                    })
                                    .collect()
                            })
                        } else {
                            (known == n as i64).then(|| dims.iter().map(|&d| d as usize).collect())
                        }
                    };
                    let reshape = self.ratio(1, 2)?;
                    let f = if reshape { "reshape" } else { "view" };
                    let ok = reshape || a.contiguous;
                    (
                        method(a.expr(), f, ints(&dims), vec![]),
                        shape.filter(|_| ok),
                        true,
                    )
                }
                2 => {
                    let dim = self.below(rank + 1)? as i64;
                    let mut sh = s.clone();
                    if (dim as usize) <= sh.len() {
                        sh.insert(dim as usize, 1);
                    }
                    (
                        method(a.expr(), "unsqueeze", vec![int(dim)], vec![]),
                        Some(sh),
                        a.contiguous,
                    )
                }
                3 => {
                    if self.ratio(1, 2)? || rank == 0 {
                        let sh: Vec<usize> = s.iter().copied().filter(|&d| d != 1).collect();
                        (
                            method(a.expr(), "squeeze", vec![], vec![]),
                            Some(sh),
                            a.contiguous,
                        )
                    } else {
                        let d = self.below(rank)?;
                        let mut sh = s.clone();
                        if sh[d] == 1 {
                            sh.remove(d);
                        }
                        (
                            method(a.expr(), "squeeze", vec![int(d as i64)], vec![]),
                            Some(sh),
                            a.contiguous,
                        )
                    }
                }
                4 => {
                    let sh = if rank == 0 { vec![1] } else { vec![a.numel()] };
                    (method(a.expr(), "flatten", vec![], vec![]), Some(sh), true)
                }
                5 => {
                    let ok = rank <= 2;
                    let mut sh = s.clone();
                    sh.reverse();
                    (
                        method(a.expr(), "t", vec![], vec![]),
                        ok.then_some(sh),
                        rank < 2,
                    )
                }
                6 => {
                    let d0 = self.below(rank)?;
                    let d1 = self.below(rank)?;
                    let mut sh = s.clone();
                    if rank > 0 {
                        sh.swap(d0, d1);
                    }
                    (
                        method(
                            a.expr(),
                            "transpose",
                            ints(&[d0 as i64, d1 as i64 - rank as i64]),
                            vec![],
                        ),
                        Some(sh),
                        d0 == d1 || rank < 2,
                    )
                }
                7 => {
                    let mut perm: Vec<usize> = (0..rank).collect();
                    for i in (1..rank).rev() {
                        let j = self.below(i + 1)?;
                        perm.swap(i, j);
                    }
                    let sh = perm.iter().map(|&p| s[p]).collect();
                    let ident = perm.iter().enumerate().all(|(i, &p)| i == p);
                    let p: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
                    (
                        method(a.expr(), "permute", ints(&p), vec![]),
                        Some(sh),
                        ident,
                    )
                }
                8 => {
                    // expand size-1 dims, and sometimes a new leading dim.
                    let mut sizes: Vec<i64> =
                        s.iter().map(|&d| if d == 1 { 3 } else { -1 }).collect();
                    if self.ratio(1, 2)? || sizes.is_empty() {
                        sizes.insert(0, 2);
                    }
                    let sh: Vec<usize> = sizes
                        .iter()
                        .enumerate()
                        .map(|(i, &d)| {
                            let off = sizes.len() - rank;
                            if d < 0 { s[i - off] } else { d as usize }
                        })
                        .collect();
                    (
                        method(a.expr(), "expand", ints(&sizes), vec![]),
                        Some(sh),
                        false,
                    )
                }
                9 if rank > 0 => {
                    let d = self.below(rank)?;
                    let len = s[d];
                    let start = self.below(len.max(1))?;
                    let length = self.u.int_in_range(0..=(len - start.min(len)))?;
                    let mut sh = s.clone();
                    sh[d] = length;
                    (
                        method(
                            a.expr(),
                            "narrow",
                            ints(&[d as i64, start as i64, length as i64]),
                            vec![],
                        ),
                        (start + length <= len).then_some(sh),
                        d == 0 || length == len,
                    )
                }
                10 if rank > 0 => {
                    let d = self.below(rank)?;
                    let i = self.below(s[d] + 1)? as i64; // s[d] itself is out of range
                    let mut sh = s.clone();
                    sh.remove(d);
                    (
                        method(a.expr(), "select", ints(&[d as i64, i]), vec![]),
                        ((i as usize) < s[d]).then_some(sh),
                        d == 0,
                    )
                }
                11 | 12 if rank > 0 => {
                    let (items, sh) = self.index_items(s)?;
                    (e(ExprKind::Index(Box::new(a.expr()), items)), sh, false)
                }
                _ => {
                    let f = if self.ratio(1, 2)? {
                        "contiguous"
                    } else {
                        "clone"
                    };
                    let n = self.target_name()?;
                    let rg = self.grad_enabled && a.requires_grad;
                    let same = f == "contiguous" && a.contiguous;
                    let v = if same {
                        Var {
                            name: n.clone(),
                            ..a.clone()
                        }
                    } else {
                        Var {
                            name: n.clone(),
                            requires_grad: rg,
                            leaf: !rg,
                            contiguous: true,
                            view_of_grad_leaf: false,
                            has_grad: false,
                            ..a.clone()
                        }
                    };
                    self.bind(v);
                    return Ok(Some(assign(&n, method(a.expr(), f, vec![], vec![]))));
                }
            };
        let n = self.target_name()?;
        match shape {
            Some(shape) => {
                let rg = self.grad_enabled && a.requires_grad;
                self.bind(Var {
                    name: n.clone(),
                    shape,
                    dtype: a.dtype,
                    requires_grad: if self.grad_enabled {
                        a.requires_grad
                    } else {
                        false
                    },
                    leaf: !rg,
                    contiguous,
                    view_of_grad_leaf: (a.leaf && a.requires_grad) || a.view_of_grad_leaf,
                    has_grad: false,
                });
            }
            None => self.unbind(&n),
        }
        Ok(Some(assign(&n, value)))
    }

    /// Basic indexing items for a tensor of shape `s`, and the result's shape (None: out of range).
    fn index_items(&mut self, s: &[usize]) -> Result<(Vec<IndexItem>, Option<Vec<usize>>)> {
        let mut items = Vec::new();
        let mut sh = Vec::new();
        let mut ok = true;
        let k = 1 + self.below(s.len())?;
        for &d in &s[..k] {
            match self.u.int_in_range(0..=4u8)? {
                0 | 1 => {
                    let i = self.below(d + 1)? as i64;
                    ok &= (i as usize) < d;
                    let i = if self.ratio(1, 4)? && ok {
                        i - d as i64
                    } else {
                        i
                    };
                    items.push(IndexItem::Expr(int(i)));
                }
                2 => {
                    let start = self.below(d.max(1))?;
                    items.push(IndexItem::Slice(Some(int(start as i64)), None, None));
                    sh.push(d.saturating_sub(start));
                }
                3 => {
                    items.push(IndexItem::Slice(None, None, None));
                    sh.push(d);
                }
                _ => {
                    items.push(IndexItem::NewAxis);
                    sh.push(1);
                    items.push(IndexItem::Slice(None, None, None));
                    sh.push(d);
                }
            }
        }
        sh.extend_from_slice(&s[k..]);
        if self.ratio(1, 8)? {
            items.insert(0, IndexItem::Ellipsis);
        }
        // An ellipsis in front of fewer items than dims indexes the trailing dims instead; the
        // shape prediction then is only a guess, so give up on predicting it.
        let predicted = if matches!(items.first(), Some(IndexItem::Ellipsis)) && k < s.len() {
            None
        } else {
            ok.then_some(sh)
        };
        Ok((items, predicted))
    }

    fn matmul(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| v.is_float() && (1..=3).contains(&v.shape.len()))? else {
            return Ok(None);
        };
        let k = *a.shape.last().expect("rank >= 1");
        // A partner of the right shape, made here when the environment has none.
        let m = self.u.int_in_range(1..=self.cfg.max_dim)?;
        let want: Vec<usize> = match a.shape.len() {
            3 if self.ratio(1, 2)? => vec![a.shape[0], k, m],
            1 => vec![k],
            _ => vec![k, m],
        };
        let partner = self.pick(|v| v.shape == want && v.is_float())?;
        let mut pre = Vec::new();
        let b = match partner {
            Some(b) => b,
            None => {
                let n = self.fresh();
                let lit = self.literal(&want, true)?;
                let dt = a.dtype;
                let mut kw = Vec::new();
                if dt == DType::F64 {
                    kw.push(("dtype", dtype_expr(dt)));
                }
                let rg = diff || self.ratio(1, 2)?;
                if rg {
                    kw.push(("requires_grad", boolean(true)));
                }
                pre.push(assign(&n, call(name("tensor"), vec![lit], kw)));
                let v = Var {
                    name: n,
                    shape: want.clone(),
                    dtype: dt,
                    requires_grad: rg,
                    leaf: true,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                };
                self.bind(v.clone());
                v
            }
        };
        let mut shape: Vec<usize> = a.shape[..a.shape.len() - 1].to_vec();
        if b.shape.len() >= 2 {
            shape.push(*b.shape.last().expect("rank >= 2"));
        }
        let (value, shape) = match (a.shape.len(), b.shape.len(), self.u.int_in_range(0..=3u8)?) {
            (2, 2, 0) => (method(a.expr(), "mm", vec![b.expr()], vec![]), Some(shape)),
            (3, 3, 0) => (
                call(torch("bmm"), vec![a.expr(), b.expr()], vec![]),
                Some(shape),
            ),
            (_, 2, 1) if !diff => {
                // F.linear takes the weight as [out, in]: pass its transpose.
                let value = call(
                    attr(name("F"), "linear"),
                    vec![a.expr(), method(b.expr(), "t", vec![], vec![])],
                    vec![],
                );
                (value, Some(shape))
            }
            (_, _, 2) => (
                call(torch("matmul"), vec![a.expr(), b.expr()], vec![]),
                Some(shape),
            ),
            _ => (bin(BinOp::MatMul, a.expr(), b.expr()), Some(shape)),
        };
        let dt = promote(a.dtype, b.dtype);
        self.pending.extend(pre);
        self.result(value, shape, dt, &[&a, &b]).map(Some)
    }

    /// cat and stack.
    fn join(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let s = a.shape.clone();
        let b = self
            .pick(|v| v.shape == s && (!diff || v.is_float()))?
            .unwrap_or_else(|| a.clone());
        let stack = self.ratio(1, 2)?;
        let rank = s.len();
        let dim = self.below(rank + usize::from(stack))? as i64;
        let mut sh = s.clone();
        let shape = if stack {
            sh.insert(dim as usize, 2);
            Some(sh)
        } else if rank == 0 {
            None // zero-dimensional tensors cannot be concatenated
        } else {
            sh[dim as usize] *= 2;
            Some(sh)
        };
        let f = if stack { "stack" } else { "cat" };
        let value = call(
            torch(f),
            vec![list(vec![a.expr(), b.expr()])],
            vec![("dim", int(dim))],
        );
        self.result(value, shape, promote(a.dtype, b.dtype), &[&a, &b])
            .map(Some)
    }

    // ---- in-place ----

    fn inplace(&mut self) -> Result<Option<Stmt>> {
        let ge = self.grad_enabled;
        // Mostly pick tensors that may be written; one in six breaks the rule on purpose.
        let bad = self.ratio(1, 6)?;
        let Some(a) = self.pick(|v| bad || v.writable(ge))? else {
            return Ok(None);
        };
        let ok_write = a.writable(ge);
        let (stmt, other) = match self.u.int_in_range(0..=7u8)? {
            0..=3 => {
                let op = *self
                    .u
                    .choose(&[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div])?;
                let s = a.shape.clone();
                let b = if self.ratio(1, 2)? {
                    self.pick(|v| {
                        broadcast(&s, &v.shape).as_deref() == Some(&s[..]) && v.name != a.name
                    })?
                } else {
                    None
                };
                let rhs = match &b {
                    Some(b) if op == BinOp::Div => {
                        bin(BinOp::Add, method(b.expr(), "abs", vec![], vec![]), int(1))
                    }
                    Some(b) => b.expr(),
                    None => float(self.value()?.abs() + 0.5),
                };
                let stmt = if self.ratio(1, 2)? {
                    Stmt::new(StmtKind::AugAssign {
                        target: Target::Name(a.name.clone()),
                        op,
                        value: rhs,
                    })
                } else {
                    let m = match op {
                        BinOp::Add => "add_",
                        BinOp::Sub => "sub_",
                        BinOp::Mul => "mul_",
                        _ => "div_",
                    };
                    expr_stmt(method(a.expr(), m, vec![rhs], vec![]))
                };
                // Writing a float into an integer tensor fails (and so does `/=` on integers).
                let dtype_ok =
                    a.is_float() || (b.as_ref().is_some_and(|b| !b.is_float()) && op != BinOp::Div);
                (stmt.clone(), if dtype_ok { b.map(Some) } else { None })
            }
            4 => (
                expr_stmt(method(a.expr(), "zero_", vec![], vec![])),
                Some(None),
            ),
            5 => {
                let v = self.value()?;
                (
                    expr_stmt(method(a.expr(), "fill_", vec![float(v)], vec![])),
                    Some(None),
                )
            }
            6 => {
                let s = a.shape.clone();
                let Some(b) = self.pick(|v| broadcast(&s, &v.shape).as_deref() == Some(&s[..]))?
                else {
                    return Ok(None);
                };
                (
                    expr_stmt(method(a.expr(), "copy_", vec![b.expr()], vec![])),
                    Some(Some(b)),
                )
            }
            _ => {
                let kw = vec![("min", float(self.value()?))];
                (
                    expr_stmt(method(a.expr(), "clamp_", vec![], kw)),
                    Some(None),
                )
            }
        };
        if let Some(other) = other.filter(|_| ok_write) {
            self.after_write(&a.name, other.as_ref());
        }
        Ok(Some(stmt))
    }

    /// After a successful in-place write: the tensor joins the graph when the source requires grad.
    fn after_write(&mut self, target: &str, src: Option<&Var>) {
        let ge = self.grad_enabled;
        let src_rg = src.is_some_and(|s| s.requires_grad);
        if let Some(v) = self.vars.iter_mut().find(|v| v.name == target)
            && ge
            && (v.requires_grad || src_rg)
            && v.is_float()
        {
            v.requires_grad = true;
            v.leaf = false;
        }
    }

    fn index_assign(&mut self) -> Result<Option<Stmt>> {
        let ge = self.grad_enabled;
        let bad = self.ratio(1, 6)?;
        let Some(a) = self.pick(|v| !v.shape.is_empty() && (bad || v.writable(ge)))? else {
            return Ok(None);
        };
        let (items, shape) = self.index_items(&a.shape)?;
        let (value, src) = match &shape {
            Some(sh) if self.ratio(1, 2)? => {
                match self.pick(|v| broadcast(sh, &v.shape).as_deref() == Some(&sh[..]))? {
                    Some(b) => (b.expr(), Some(b)),
                    None => (float(self.value()?), None),
                }
            }
            _ => (float(self.value()?), None),
        };
        if shape.is_some() && a.writable(ge) {
            self.after_write(&a.name, src.as_ref());
        }
        Ok(Some(Stmt::new(StmtKind::Assign {
            target: Target::Index(Box::new(a.expr()), items),
            value,
        })))
    }

    // ---- autograd ----

    fn backward(&mut self) -> Result<Option<Stmt>> {
        let Some(y) = self.pick(|v| v.requires_grad || v.is_float())? else {
            return Ok(None);
        };
        let mut kw = Vec::new();
        if self.ratio(1, 2)? {
            kw.push(("retain_graph", boolean(true)));
        }
        let root_scalar = y.shape.is_empty();
        let (root, args) = if root_scalar || y.numel() == 1 && self.ratio(1, 2)? {
            (y.expr(), vec![])
        } else {
            match self.u.int_in_range(0..=3u8)? {
                0 => (method(y.expr(), "sum", vec![], vec![]), vec![]),
                1 => (
                    y.expr(),
                    vec![call(torch("ones_like"), vec![y.expr()], vec![])],
                ),
                2 => {
                    let lit = self.literal(&y.shape, true)?;
                    let dt = if y.dtype == DType::F64 {
                        vec![("dtype", dtype_expr(DType::F64))]
                    } else {
                        vec![]
                    };
                    (y.expr(), vec![call(name("tensor"), vec![lit], dt)])
                }
                // No gradient for a non-scalar root: implicit_grad_non_scalar.
                _ => (y.expr(), vec![]),
            }
        };
        let gradient_kw = !args.is_empty() && self.ratio(1, 3)?;
        let (args, kw) = if gradient_kw {
            let mut kw2 = vec![("gradient", args.into_iter().next().expect("one arg"))];
            kw2.extend(kw);
            (vec![], kw2)
        } else {
            (args, kw)
        };
        if y.requires_grad && self.grad_enabled {
            for v in self.vars.iter_mut() {
                if v.leaf && v.requires_grad {
                    v.has_grad = true;
                }
            }
        }
        Ok(Some(expr_stmt(method(root, "backward", args, kw))))
    }

    fn grad_zero(&mut self) -> Result<Option<Stmt>> {
        let Some(x) = self.pick(|v| v.has_grad)? else {
            return Ok(None);
        };
        if self.ratio(1, 2)? {
            if let Some(v) = self.vars.iter_mut().find(|v| v.name == x.name) {
                v.has_grad = false;
            }
            Ok(Some(Stmt::new(StmtKind::Assign {
                target: Target::Attr(Box::new(x.expr()), "grad".into()),
                value: e(ExprKind::None),
            })))
        } else {
            Ok(Some(expr_stmt(method(
                attr(x.expr(), "grad"),
                "zero_",
                vec![],
                vec![],
            ))))
        }
    }

    fn detach(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        match self.u.int_in_range(0..=3u8)? {
            0 | 1 => {
                let n = self.target_name()?;
                let dot_data = self.ratio(1, 2)?;
                let value = if dot_data {
                    attr(a.expr(), "data")
                } else {
                    method(a.expr(), "detach", vec![], vec![])
                };
                self.bind(Var {
                    name: n.clone(),
                    requires_grad: false,
                    leaf: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                    ..a
                });
                Ok(Some(assign(&n, value)))
            }
            2 => {
                // `x.data *= 2`: an untracked write through .data.
                let op = *self.u.choose(&[BinOp::Add, BinOp::Mul])?;
                let v = float(self.value()?.abs() + 1.0);
                if !a.is_float() {
                    return Ok(None);
                }
                Ok(Some(Stmt::new(StmtKind::AugAssign {
                    target: Target::Attr(Box::new(a.expr()), "data".into()),
                    op,
                    value: v,
                })))
            }
            _ => {
                if let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                    && !v.view_of_grad_leaf
                {
                    v.requires_grad = false;
                    v.leaf = true;
                }
                Ok(Some(expr_stmt(method(a.expr(), "detach_", vec![], vec![]))))
            }
        }
    }

    fn no_grad_block(&mut self) -> Result<Option<Stmt>> {
        if !self.grad_enabled {
            return Ok(None);
        }
        self.grad_enabled = false;
        let mut body = Vec::new();
        let n = 1 + self.below(3)?;
        for _ in 0..n {
            let s = match self.u.int_in_range(0..=4u8)? {
                // The SGD step by hand: `w -= lr * w.grad`.
                0 | 1 => match self.pick(|v| v.has_grad && v.is_float())? {
                    Some(w) => Some(Stmt::new(StmtKind::AugAssign {
                        target: Target::Name(w.name.clone()),
                        op: BinOp::Sub,
                        value: bin(BinOp::Mul, float(0.1), attr(w.expr(), "grad")),
                    })),
                    None => self.inplace()?,
                },
                2 => self.op()?,
                3 => self.view()?,
                _ => self.inplace()?,
            };
            body.append(&mut self.pending);
            body.extend(s);
        }
        self.grad_enabled = true;
        if body.is_empty() {
            return Ok(None);
        }
        let context = if self.ratio(1, 5)? {
            call(torch("set_grad_enabled"), vec![boolean(false)], vec![])
        } else {
            call(torch("no_grad"), vec![], vec![])
        };
        Ok(Some(Stmt::new(StmtKind::With { context, body })))
    }

    fn flags(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        match self.u.int_in_range(0..=3u8)? {
            0 => {
                let ok = a.requires_grad || a.is_float();
                if ok
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = true;
                }
                Ok(Some(expr_stmt(method(
                    a.expr(),
                    "retain_grad",
                    vec![],
                    vec![],
                ))))
            }
            1 => {
                let flag = self.ratio(2, 3)?;
                if a.leaf
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = flag;
                }
                let args = if flag && self.ratio(1, 2)? {
                    vec![]
                } else {
                    vec![boolean(flag)]
                };
                Ok(Some(expr_stmt(method(
                    a.expr(),
                    "requires_grad_",
                    args,
                    vec![],
                ))))
            }
            _ => {
                let flag = self.ratio(1, 2)?;
                if a.leaf
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = flag;
                }
                Ok(Some(Stmt::new(StmtKind::Assign {
                    target: Target::Attr(Box::new(a.expr()), "requires_grad".into()),
                    value: boolean(flag),
                })))
            }
        }
    }

    /// Reads of attributes and conversions, as bare expressions or via print.
    fn read(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        let x = match self.u.int_in_range(0..=8u8)? {
            0 | 1 => attr(a.expr(), "grad"),
            2 => attr(a.expr(), "grad_fn"),
            3 => attr(a.expr(), "is_leaf"),
            4 => attr(a.expr(), "_version"),
            5 => attr(a.expr(), "requires_grad"),
            6 => method(a.expr(), "item", vec![], vec![]),
            7 => method(a.expr(), "tolist", vec![], vec![]),
            _ => attr(a.expr(), "shape"),
        };
        let x = if self.ratio(1, 4)? {
            call(name("print"), vec![x], vec![])
        } else {
            x
        };
        Ok(Some(expr_stmt(x)))
    }

    /// A module, built and called.
    fn nn(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.dtype == DType::F32 && !v.shape.is_empty())? else {
            return Ok(None);
        };
        let inf = *a.shape.last().expect("rank >= 1");
        let out = self.u.int_in_range(1..=self.cfg.max_dim)?;
        let m = self.fresh();
        let mut shape = a.shape.clone();
        *shape.last_mut().expect("rank >= 1") = out;
        let bias = self.ratio(3, 4)?;
        let kw = if bias {
            vec![]
        } else {
            vec![("bias", boolean(false))]
        };
        let module = call(
            attr(name("nn"), "Linear"),
            ints(&[inf as i64, out as i64]),
            kw,
        );
        let module = if self.ratio(1, 3)? {
            call(
                attr(name("nn"), "Sequential"),
                vec![module, call(attr(name("nn"), "Sigmoid"), vec![], vec![])],
                vec![],
            )
        } else {
            module
        };
        let y = self.fresh();
        // Parameters require grad, so the output does whenever grad mode is on.
        let rg = self.grad_enabled;
        self.pending.push(assign(&m, module));
        self.bind(Var {
            name: y.clone(),
            shape,
            dtype: DType::F32,
            requires_grad: rg,
            leaf: !rg,
            contiguous: true,
            view_of_grad_leaf: false,
            has_grad: false,
        });
        Ok(Some(assign(&y, call(name(&m), vec![a.expr()], vec![]))))
    }

    /// Things that rarely come up: deleting by rebinding to None-like values, item arithmetic.
    fn misc(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.numel() == 1)? else {
            return self.read();
        };
        // A Python float from item() used as a scalar operand.
        let n = self.fresh();
        Ok(Some(assign(
            &n,
            bin(
                BinOp::Mul,
                method(a.expr(), "item", vec![], vec![]),
                float(2.0),
            ),
        )))
    }

    fn finish_differentiable(&mut self, stmts: &mut Vec<Stmt>) -> Result<()> {
        // The loss depends on the latest tensor that requires grad.
        let y = match self.vars.iter().rev().find(|v| v.requires_grad && !v.leaf) {
            Some(y) => y.clone(),
            None => match self.vars.iter().rev().find(|v| v.requires_grad) {
                Some(y) => y.clone(),
                None => return Ok(()),
            },
        };
        // Weights break symmetries that a plain sum would hide (softmax rows sum to one).
        let w = self.fresh();
        let lit = self.literal(&y.shape, true)?;
        stmts.push(assign(
            &w,
            call(
                name("tensor"),
                vec![lit],
                vec![("dtype", dtype_expr(DType::F64))],
            ),
        ));
        stmts.push(assign(
            "loss",
            method(bin(BinOp::Mul, y.expr(), name(&w)), "sum", vec![], vec![]),
        ));
        stmts.push(expr_stmt(method(name("loss"), "backward", vec![], vec![])));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast(&[2, 1], &[1, 4]), Some(vec![2, 4]));
        assert_eq!(broadcast(&[], &[4]), Some(vec![4]));
        assert_eq!(broadcast(&[2], &[3]), None);
    }

    #[test]
    fn seeded_programs_are_deterministic_and_nonempty() {
        let cfg = GenConfig::default();
        for seed in 0..50 {
            let a = program_from_seed(seed, &cfg);
            let b = program_from_seed(seed, &cfg);
            assert_eq!(a, b);
            assert!(a.stmts.len() >= 2, "seed {seed}");
        }
    }

    #[test]
    fn empty_input_still_gives_a_program() {
        let mut u = Unstructured::new(&[]);
        let p = program(&mut u, &GenConfig::default()).unwrap();
        assert!(!p.stmts.is_empty());
    }

    #[test]
    fn differentiable_programs_end_in_backward() {
        for seed in 0..50 {
            let p = program_from_seed(seed, &GenConfig::differentiable());
            let last = p.stmts.last().expect("nonempty");
            match &last.kind {
                StmtKind::Expr(x) => match &x.kind {
                    ExprKind::Call { func, .. } => {
                        assert!(matches!(&func.kind, ExprKind::Attr(_, m) if m == "backward"))
                    }
                    other => panic!("seed {seed}: {other:?}"),
                },
                other => panic!("seed {seed}: {other:?}"),
            }
        }
    }

    #[test]
    fn programs_print_and_reparse_to_the_same_program() {
        for (seed, cfg) in (0..300).map(|s| {
            let c = if s % 5 == 0 {
                GenConfig::differentiable()
            } else {
                GenConfig::default()
            };
            (s, c)
        }) {
            let p = program_from_seed(seed, &cfg);
            let text = crate::program::print(&p);
            let q =
                crate::program::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            assert_eq!(p, q, "seed {seed}:\n{text}");
        }
    }

    /// Every statement kind and op family the brief names shows up in a few hundred programs.
    #[test]
    fn covers_the_op_set() {
        let mut text = String::new();
        for seed in 0..400 {
            text.push_str(&crate::program::print(&program_from_seed(
                seed,
                &GenConfig::default(),
            )));
        }
        let wanted = [
            "randn(",
            "rand(",
            "tensor(",
            "ones(",
            "zeros(",
            "full(",
            "arange(",
            "_like(",
            " + ",
            " - ",
            " * ",
            " / ",
            " ** ",
            " @ ",
            ".exp()",
            ".log()",
            ".sqrt()",
            ".sigmoid()",
            ".relu()",
            ".tanh()",
            ".clamp(",
            "torch.where(",
            "torch.maximum(",
            ".sum(",
            ".mean(",
            ".max(",
            ".min(",
            "softmax(",
            "log_softmax(",
            ".mm(",
            "matmul(",
            "F.linear(",
            "F.mse_loss(",
            ".view(",
            ".reshape(",
            ".squeeze(",
            ".unsqueeze(",
            ".flatten()",
            ".t()",
            ".transpose(",
            ".permute(",
            ".expand(",
            ".narrow(",
            ".select(",
            "[",
            "torch.cat(",
            "torch.stack(",
            ".double()",
            ".float()",
            ".to(",
            ".add_(",
            "+=",
            "-=",
            ".zero_()",
            ".fill_(",
            ".copy_(",
            ".clamp_(",
            "] = ",
            ".detach()",
            ".detach_()",
            ".data",
            ".data *=",
            "with torch.no_grad():",
            ".retain_grad()",
            ".requires_grad_(",
            ".requires_grad = ",
            ".backward()",
            "retain_graph=True",
            ".backward(torch.ones_like(",
            "gradient=",
            ".grad = None",
            ".grad.zero_()",
            ".grad_fn",
            ".is_leaf",
            "._version",
            ".item()",
            ".tolist()",
            "print(",
            "nn.Linear(",
            "nn.Sequential(",
            ".contiguous()",
            ".clone()",
            "requires_grad=True",
            "dtype=torch.float64",
        ];
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !text.contains(w))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
    }
}

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
//!
//! [`Gen`] holds the environment every statement draws against; each generator family is a
//! module of its own (`create`, `elementwise`, `reduce`, `view`, `inplace`, `autograd`, `nn`),
//! and the elementwise and in-place families draw their ops from the ops table's rows
//! (`crate::ops`), by the rows' `draw` and `domain` columns. A test holds every row that names a
//! generator to showing up in generated programs.

use crate::backend::DType;
use crate::program::ast::{BinOp, Expr, Program, Stmt};
use arbitrary::{Result, Unstructured};
use rand::{RngCore, SeedableRng};

// The generator families, and the AST builders they share.
mod autograd;
mod build;
mod create;
mod elementwise;
mod inplace;
mod nn;
mod reduce;
mod view;

use build::*;
pub(crate) use build::{float, int, name};

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
mod tests;

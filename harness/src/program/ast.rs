//! The program IR: a small, real subset of PyTorch's Python surface.
//!
//! Cases carry programs as text, the fuzzer builds them as data, and the report shows them; one
//! parser (`parser.rs`), one printer (`printer.rs`) and one interpreter (`crate::interp`) serve
//! all three. Spans are 1-based positions in the program text; the case loader adds the offset of
//! the `program:` block so errors name the YAML file's own line and column.

use serde::{Deserialize, Serialize};

/// A position in program text (1-based). Spans never take part in equality, so a printed and
/// re-parsed program compares equal to the original.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Program {
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
    /// `# raises: leaf_inplace` or `# raises: backward_twice "second time"` trailing the statement.
    pub expect: Option<ExpectedError>,
}

/// An error a statement is expected to raise: a kind from [`crate::error_kind::ErrorKind`]'s
/// snake_case names, and optionally a substring of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedError {
    pub kind: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StmtKind {
    /// `import torch`, `from torch import nn`: accepted and ignored, so snippets paste unchanged.
    Import(String),
    /// `a = expr`, `a, b = expr`, `x.grad = None`, `b[0] = 1000.0`, `model.fc = Linear(512, 100)`.
    Assign { target: Target, value: Expr },
    /// `x += 1`, `x.data *= 100`: Python's in-place operators (`add_`, `sub_`, `mul_`, `div_`).
    AugAssign {
        target: Target,
        op: BinOp,
        value: Expr,
    },
    /// A bare expression: `out.backward()`, `print(x.grad)`, `x.grad`.
    Expr(Expr),
    /// `with torch.no_grad():`, `with torch.enable_grad():`, `with torch.set_grad_enabled(False):`.
    With { context: Expr, body: Vec<Stmt> },
    /// `for p in net.parameters():`, `for name, p in net.named_parameters():`, `for t in range(N):`.
    For {
        target: Target,
        iter: Expr,
        body: Vec<Stmt>,
    },
    /// `if t % 100 == 99:` with an optional `else:`.
    If {
        cond: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    /// `pass`
    Pass,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    Name(String),
    /// `a, b` (for loops over named_parameters, tuple unpacking).
    Tuple(Vec<Target>),
    /// `x.grad`, `p.requires_grad`, `model.fc`.
    Attr(Box<Expr>, String),
    /// `b[0]`, `a[:]`, `x[1:, None]`.
    Index(Box<Expr>, Vec<IndexItem>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Name(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    Str(String),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `f(args, key=value)`; `func` is a name (`ones`), a dotted path (`torch.nn.Linear`), or a
    /// method on a value (`x.add_`).
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
    },
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Vec<IndexItem>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IndexItem {
    Expr(Expr),
    /// `start:stop:step`, each optional.
    Slice(Option<Expr>, Option<Expr>, Option<Expr>),
    Ellipsis,
    /// `None` inside an index adds a dimension.
    NewAxis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    MatMul,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Expr {
    pub fn new(kind: ExprKind) -> Self {
        Expr {
            kind,
            span: Span::default(),
        }
    }
}

impl Stmt {
    pub fn new(kind: StmtKind) -> Self {
        Stmt {
            kind,
            span: Span::default(),
            expect: None,
        }
    }
}

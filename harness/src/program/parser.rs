//! Parses program text into the IR: a hand-written recursive-descent parser over the tokens of
//! [`super::lexer`], with Python's precedence (lowest first): `or`, `and`, `not`, comparisons,
//! `+ -`, `* / // % @`, unary `- +`, `**` (right-associative; its right operand may carry a unary
//! minus, its left may not), then calls, attributes and indexing.
//!
//! A unary minus written directly before a number literal (`-1.5`, but not `-(1.5)` or `-2 ** 2`)
//! folds into a negative literal, so that every literal the printer writes parses back to itself.
//!
//! Spans: a statement's span is its first token; an expression's span is the token that names
//! it: a literal or name itself, the operator of a unary, binary or comparison expression, the
//! attribute name of `a.b`, the `(` of a call, the `[` of an index, the opening bracket of a list
//! or parenthesised tuple, the first element of a bare tuple.

use super::ast::*;
pub use super::lexer::SyntaxError;
use super::lexer::{Tok, Token, tokenize};
use crate::error_kind::ErrorKind;

/// Parses a whole program.
pub fn parse(text: &str) -> Result<Program, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let stmts = p.block_body(true)?;
    Ok(Program { stmts })
}

/// Parses one expression (a `doc` claim such as `x.grad` or `loss.item()`), nothing else.
pub fn parse_expr(text: &str) -> Result<Expr, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &Tok::Eof {
        return Err(p.error_here("expected an expression, found nothing"));
    }
    let e = p.expr_list()?;
    if p.peek() == &Tok::Newline {
        p.pos += 1;
    }
    if p.peek() != &Tok::Eof {
        return Err(p.expected("end of expression"));
    }
    Ok(e)
}

/// Words that are never names.
pub const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "True",
    "False", "None",
];

/// Statements of Python that the language leaves out, named so the message can say so.
const UNSUPPORTED_STMTS: &[&str] = &[
    "assert", "break", "class", "continue", "def", "del", "global", "nonlocal", "raise", "return",
    "try", "while", "yield", "async", "lambda",
];

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Nesting of expressions and blocks; bounded so hostile input cannot exhaust the stack.
    depth: usize,
}

/// Deeper than any real program nests; shallow enough for a 2 MiB test thread in a debug build.
const MAX_DEPTH: usize = 64;

type PResult<T> = Result<T, SyntaxError>;
/// A call's positional and keyword arguments.
type Args = (Vec<Expr>, Vec<(String, Expr)>);

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }
    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }
    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    /// Rejects an expression that nests deeper than [`MAX_HEIGHT`]; `e` was just built from
    /// children that passed this check, so the walk is bounded too.
    fn built(&self, e: Expr) -> PResult<Expr> {
        if height(&e) > MAX_HEIGHT {
            return Err(SyntaxError {
                span: e.span,
                message: format!("expression nested more than {MAX_HEIGHT} levels deep"),
            });
        }
        Ok(e)
    }

    fn error_here(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            span: self.span(),
            message: message.into(),
        }
    }
    fn expected(&self, what: &str) -> SyntaxError {
        if self.is_kw("for") && what.starts_with("','") {
            return self.error_here("comprehensions ('... for x in ...') are not supported");
        }
        self.error_here(format!("expected {what}, found {}", self.peek().describe()))
    }
    fn expect_op(&mut self, op: &str) -> PResult<Span> {
        if self.is_op(op) {
            Ok(self.bump().span)
        } else {
            Err(self.expected(&format!("'{op}'")))
        }
    }
    fn expect_name(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.peek().clone() {
            Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => {
                let span = self.bump().span;
                Ok((n, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    // ---------------------------------------------------------------- statements

    /// Statements up to a DEDENT (or EOF at top level).
    fn block_body(&mut self, top: bool) -> PResult<Vec<Stmt>> {
        let mut stmts = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => {
                    if top {
                        return Ok(stmts);
                    }
                    return Err(self.expected("an indented statement"));
                }
                Tok::Dedent if !top => {
                    self.bump();
                    return Ok(stmts);
                }
                Tok::Indent => return Err(self.error_here("unexpected indent")),
                Tok::Newline => {
                    // Only a `;`-free empty logical line; the lexer drops blank lines.
                    self.bump();
                }
                _ => stmts.push(self.statement()?),
            }
        }
    }

    fn suite(&mut self, header: &str) -> PResult<Vec<Stmt>> {
        self.expect_op(":")?;
        if let Tok::Raises { .. } = self.peek() {
            return Err(self.error_here(format!(
                "a '# raises:' comment belongs on a simple statement, not on a '{header}' header"
            )));
        }
        if self.peek() != &Tok::Newline {
            return Err(self.expected(&format!(
                "a new line after ':' (the body of '{header}' goes on the following lines)"
            )));
        }
        self.bump();
        if self.peek() != &Tok::Indent {
            return Err(self.expected(&format!("an indented block after '{header}'")));
        }
        self.bump();
        self.enter()?;
        let body = self.block_body(false)?;
        self.depth -= 1;
        Ok(body)
    }

    fn statement(&mut self) -> PResult<Stmt> {
        let span = self.span();
        if let Tok::Name(n) = self.peek().clone() {
            match n.as_str() {
                "with" => return self.with_stmt(span),
                "for" => return self.for_stmt(span),
                "if" => {
                    self.bump();
                    return self.if_rest(span, "if");
                }
                "elif" | "else" => {
                    return Err(self.error_here(format!("'{n}' without a matching 'if'")));
                }
                "import" | "from" => {
                    let kind = self.import()?;
                    return self.end_simple(kind, span);
                }
                "pass" => {
                    self.bump();
                    return self.end_simple(StmtKind::Pass, span);
                }
                other if UNSUPPORTED_STMTS.contains(&other) => {
                    return Err(self.error_here(format!(
                        "'{other}' statements are not part of the case language"
                    )));
                }
                _ => {}
            }
        }
        let kind = self.simple()?;
        self.end_simple(kind, span)
    }

    /// Ends a simple statement: an optional `# raises:` comment, then the end of the line.
    fn end_simple(&mut self, kind: StmtKind, span: Span) -> PResult<Stmt> {
        let mut expect = None;
        if let Tok::Raises {
            kind: k,
            kind_span,
            message,
        } = self.peek().clone()
        {
            if ErrorKind::from_name(&k).is_none() {
                let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
                let hint = match super::check::suggest(&k, names.iter().copied()) {
                    s if s.is_empty() => format!(" (expected one of {})", names.join(", ")),
                    s => s,
                };
                return Err(SyntaxError {
                    span: kind_span,
                    message: format!("unknown error kind '{k}'{hint}"),
                });
            }
            self.bump();
            expect = Some(ExpectedError { kind: k, message });
        }
        if self.is_op(";") {
            return Err(self.error_here("one statement per line: ';' is not supported"));
        }
        if self.peek() != &Tok::Newline {
            return Err(self.expected("end of line"));
        }
        self.bump();
        Ok(Stmt { kind, span, expect })
    }

    fn simple(&mut self) -> PResult<StmtKind> {
        let first = self.expr_list()?;
        if self.is_op("=") {
            let eq = self.bump().span;
            let target = to_target(first, eq)?;
            if let Tok::Raises { .. } | Tok::Newline = self.peek() {
                return Err(self.expected("a value after '='"));
            }
            let value = self.expr_list()?;
            if self.is_op("=") {
                return Err(self.error_here("chained assignment 'a = b = ...' is not supported"));
            }
            return Ok(StmtKind::Assign { target, value });
        }
        let aug = match self.peek() {
            Tok::Op("+=") => Some(BinOp::Add),
            Tok::Op("-=") => Some(BinOp::Sub),
            Tok::Op("*=") => Some(BinOp::Mul),
            Tok::Op("/=") => Some(BinOp::Div),
            Tok::Op("//=") => Some(BinOp::FloorDiv),
            Tok::Op("%=") => Some(BinOp::Mod),
            Tok::Op("**=") => Some(BinOp::Pow),
            Tok::Op("@=") => Some(BinOp::MatMul),
            _ => None,
        };
        if let Some(op) = aug {
            let op_span = self.bump().span;
            let target = to_target(first, op_span)?;
            if let Target::Tuple(_) = target {
                return Err(SyntaxError {
                    span: op_span,
                    message: "augmented assignment needs a single target, not a tuple".into(),
                });
            }
            let value = self.expr_list()?;
            return Ok(StmtKind::AugAssign { target, op, value });
        }
        Ok(StmtKind::Expr(first))
    }

    fn import(&mut self) -> PResult<StmtKind> {
        // Rebuilt with single spaces, so the printer writes it back canonically.
        let mut text = String::new();
        if self.eat_kw("import") {
            text.push_str("import ");
            loop {
                text.push_str(&self.dotted_name()?);
                if self.eat_kw("as") {
                    let (alias, _) = self.expect_name("a name after 'as'")?;
                    text.push_str(" as ");
                    text.push_str(&alias);
                }
                if !self.eat_op(",") {
                    break;
                }
                text.push_str(", ");
            }
        } else {
            self.bump(); // from
            text.push_str("from ");
            text.push_str(&self.dotted_name()?);
            if !self.eat_kw("import") {
                return Err(self.expected("'import'"));
            }
            text.push_str(" import ");
            let paren = self.eat_op("(");
            loop {
                let (name, _) = self.expect_name("a name to import")?;
                text.push_str(&name);
                if self.eat_kw("as") {
                    let (alias, _) = self.expect_name("a name after 'as'")?;
                    text.push_str(" as ");
                    text.push_str(&alias);
                }
                if !self.eat_op(",") {
                    break;
                }
                if paren && self.is_op(")") {
                    break;
                }
                text.push_str(", ");
            }
            if paren {
                self.expect_op(")")?;
            }
        }
        Ok(StmtKind::Import(text))
    }

    fn dotted_name(&mut self) -> PResult<String> {
        let (mut name, _) = self.expect_name("a module name")?;
        while self.eat_op(".") {
            let (part, _) = self.expect_name("a module name after '.'")?;
            name.push('.');
            name.push_str(&part);
        }
        Ok(name)
    }

    fn with_stmt(&mut self, span: Span) -> PResult<Stmt> {
        self.bump();
        let context = self.expr()?;
        if self.is_kw("as") {
            return Err(self.error_here("'with ... as name' is not supported"));
        }
        if self.is_op(",") {
            return Err(self.error_here("one context manager per 'with'"));
        }
        let body = self.suite("with")?;
        Ok(Stmt {
            kind: StmtKind::With { context, body },
            span,
            expect: None,
        })
    }

    fn for_stmt(&mut self, span: Span) -> PResult<Stmt> {
        self.bump();
        let target_span = self.span();
        // Parsed below comparisons' level, so `in` is never taken for an operator.
        let mut items = vec![self.arith()?];
        let mut bare_tuple = false;
        while self.eat_op(",") {
            bare_tuple = true;
            if self.is_kw("in") {
                break;
            }
            items.push(self.arith()?);
        }
        let target_expr = if bare_tuple {
            Expr {
                kind: ExprKind::Tuple(items),
                span: target_span,
            }
        } else {
            items.pop().expect("one item")
        };
        if !self.is_kw("in") {
            return Err(self.expected("'in'"));
        }
        let in_span = self.bump().span;
        let target = to_target(target_expr, in_span)?;
        let iter = self.expr_list()?;
        let body = self.suite("for")?;
        Ok(Stmt {
            kind: StmtKind::For { target, iter, body },
            span,
            expect: None,
        })
    }

    /// After `if` or `elif`: condition, body, and an optional `elif`/`else` chain.
    fn if_rest(&mut self, span: Span, header: &str) -> PResult<Stmt> {
        let cond = self.expr()?;
        let body = self.suite(header)?;
        let orelse = if self.is_kw("elif") {
            let elif_span = self.bump().span;
            vec![self.if_rest(elif_span, "elif")?]
        } else if self.is_kw("else") {
            self.bump();
            self.suite("else")?
        } else {
            Vec::new()
        };
        Ok(Stmt {
            kind: StmtKind::If { cond, body, orelse },
            span,
            expect: None,
        })
    }

    // ---------------------------------------------------------------- expressions

    /// `a` or a bare tuple `a, b` (as on the right of `=` or as a statement).
    fn expr_list(&mut self) -> PResult<Expr> {
        let first = self.expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let span = first.span;
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expr() {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            span,
        })
    }

    fn starts_expr(&self) -> bool {
        match self.peek() {
            Tok::Name(n) => {
                !KEYWORDS.contains(&n.as_str())
                    || matches!(n.as_str(), "not" | "True" | "False" | "None")
            }
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) => true,
            Tok::Op(o) => matches!(*o, "(" | "[" | "-" | "+"),
            _ => false,
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.expr_inner();
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self) -> PResult<Expr> {
        if self.is_kw("lambda") {
            return Err(self.error_here("'lambda' is not part of the case language"));
        }
        let e = self.or_expr()?;
        if self.is_kw("if") {
            return Err(
                self.error_here("conditional expressions 'a if c else b' are not supported")
            );
        }
        Ok(e)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut left = self.and_expr()?;
        while self.is_kw("or") {
            let span = self.bump().span;
            let right = self.and_expr()?;
            left = self.built(bin(BinOp::Or, left, right, span))?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut left = self.not_expr()?;
        while self.is_kw("and") {
            let span = self.bump().span;
            let right = self.not_expr()?;
            left = self.built(bin(BinOp::And, left, right, span))?;
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.is_kw("not") {
            let span = self.bump().span;
            self.enter()?;
            let e = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr {
                kind: ExprKind::Unary(UnaryOp::Not, Box::new(e)),
                span,
            });
        }
        self.comparison()
    }

    fn cmp_op(&self) -> Option<CmpOp> {
        match self.peek() {
            Tok::Op("==") => Some(CmpOp::Eq),
            Tok::Op("!=") => Some(CmpOp::Ne),
            Tok::Op("<") => Some(CmpOp::Lt),
            Tok::Op("<=") => Some(CmpOp::Le),
            Tok::Op(">") => Some(CmpOp::Gt),
            Tok::Op(">=") => Some(CmpOp::Ge),
            _ => None,
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.arith()?;
        if self.is_kw("in") || self.is_kw("is") {
            return Err(self.error_here(format!(
                "the '{}' operator is not supported",
                match self.peek() {
                    Tok::Name(n) => n.clone(),
                    _ => unreachable!("checked above"),
                }
            )));
        }
        let Some(op) = self.cmp_op() else {
            return Ok(left);
        };
        let span = self.bump().span;
        let right = self.arith()?;
        if self.cmp_op().is_some() {
            return Err(self
                .error_here("chained comparisons 'a < b < c' are not supported; use parentheses"));
        }
        Ok(Expr {
            kind: ExprKind::Compare(op, Box::new(left), Box::new(right)),
            span,
        })
    }

    /// `+` and `-`, left-associative.
    fn arith(&mut self) -> PResult<Expr> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            let span = self.bump().span;
            let right = self.term()?;
            left = self.built(bin(op, left, right, span))?;
        }
    }

    /// `* / // % @`, left-associative.
    fn term(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("//") => BinOp::FloorDiv,
                Tok::Op("%") => BinOp::Mod,
                Tok::Op("@") => BinOp::MatMul,
                _ => return Ok(left),
            };
            let span = self.bump().span;
            let right = self.unary()?;
            left = self.built(bin(op, left, right, span))?;
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => UnaryOp::Neg,
            Tok::Op("+") => UnaryOp::Pos,
            _ => return self.power(),
        };
        let span = self.bump().span;
        // `-1.5` is a literal, unless the number is the base of `**` or has trailers.
        if op == UnaryOp::Neg {
            let follows = |t: &Tok| matches!(t, Tok::Op("**" | "(" | "[" | "."));
            match self.peek().clone() {
                Tok::Int(v) if !follows(self.peek_at(1)) => {
                    self.bump();
                    let value = if v == i64::MAX as u64 + 1 {
                        i64::MIN
                    } else {
                        -(v as i64)
                    };
                    return Ok(Expr {
                        kind: ExprKind::Int(value),
                        span,
                    });
                }
                Tok::Float(f) if !follows(self.peek_at(1)) => {
                    self.bump();
                    return Ok(Expr {
                        kind: ExprKind::Float(-f),
                        span,
                    });
                }
                _ => {}
            }
        }
        self.enter()?;
        let e = self.unary()?;
        self.depth -= 1;
        Ok(Expr {
            kind: ExprKind::Unary(op, Box::new(e)),
            span,
        })
    }

    /// `primary ** unary`: right-associative, binding tighter than a unary minus on its left.
    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.is_op("**") {
            let span = self.bump().span;
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return self.built(bin(BinOp::Pow, base, exp, span));
        }
        Ok(base)
    }

    /// An atom followed by calls, attributes and indexing.
    fn primary(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.is_op("(") {
                let span = self.bump().span;
                let (args, kwargs) = self.call_args()?;
                e = self.built(Expr {
                    kind: ExprKind::Call {
                        func: Box::new(e),
                        args,
                        kwargs,
                    },
                    span,
                })?;
            } else if self.is_op(".") {
                self.bump();
                let (name, span) = self.expect_name("an attribute name after '.'")?;
                e = self.built(Expr {
                    kind: ExprKind::Attr(Box::new(e), name),
                    span,
                })?;
            } else if self.is_op("[") {
                let span = self.bump().span;
                let items = self.index_items()?;
                e = self.built(Expr {
                    kind: ExprKind::Index(Box::new(e), items),
                    span,
                })?;
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self) -> PResult<Args> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Expr)> = Vec::new();
        loop {
            if self.eat_op(")") {
                return Ok((args, kwargs));
            }
            if self.is_op("*") || self.is_op("**") {
                return Err(self.error_here("argument unpacking '*args' is not supported"));
            }
            let is_kwarg = matches!(self.peek(), Tok::Name(n) if !KEYWORDS.contains(&n.as_str()))
                && matches!(self.peek_at(1), Tok::Op("="));
            if is_kwarg {
                let (name, name_span) = self.expect_name("a keyword")?;
                self.bump(); // =
                if kwargs.iter().any(|(k, _)| *k == name) {
                    return Err(SyntaxError {
                        span: name_span,
                        message: format!("keyword argument '{name}' repeated"),
                    });
                }
                let value = self.expr()?;
                kwargs.push((name, value));
            } else {
                if !kwargs.is_empty() {
                    return Err(self.error_here("positional argument follows keyword argument"));
                }
                if !self.starts_expr() {
                    return Err(self.expected("an argument or ')'"));
                }
                args.push(self.expr()?);
            }
            if !self.eat_op(",") && !self.is_op(")") {
                return Err(self.expected("',' or ')'"));
            }
        }
    }

    fn index_items(&mut self) -> PResult<Vec<IndexItem>> {
        let mut items = Vec::new();
        loop {
            if self.is_op("]") {
                if items.is_empty() {
                    return Err(self.expected("an index"));
                }
                self.bump();
                return Ok(items);
            }
            items.push(self.index_item()?);
            if !self.eat_op(",") && !self.is_op("]") {
                return Err(self.expected("',' or ']'"));
            }
        }
    }

    fn index_item(&mut self) -> PResult<IndexItem> {
        if self.eat_op("...") {
            return Ok(IndexItem::Ellipsis);
        }
        if self.is_kw("None") && matches!(self.peek_at(1), Tok::Op("," | "]")) {
            self.bump();
            return Ok(IndexItem::NewAxis);
        }
        let start = if self.is_op(":") {
            None
        } else {
            Some(self.expr()?)
        };
        if !self.eat_op(":") {
            return Ok(IndexItem::Expr(start.expect("parsed above")));
        }
        let stop = if self.is_op(":") || self.is_op(",") || self.is_op("]") {
            None
        } else {
            Some(self.expr()?)
        };
        let step = if self.eat_op(":") {
            if self.is_op(",") || self.is_op("]") {
                None
            } else {
                Some(self.expr()?)
            }
        } else {
            None
        };
        Ok(IndexItem::Slice(start, stop, step))
    }

    fn atom(&mut self) -> PResult<Expr> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Tok::Int(v) => {
                if v > i64::MAX as u64 {
                    return Err(
                        self.error_here(format!("integer literal {v} does not fit in 64 bits"))
                    );
                }
                self.bump();
                ExprKind::Int(v as i64)
            }
            Tok::Float(f) => {
                self.bump();
                ExprKind::Float(f)
            }
            Tok::Str(s) => {
                self.bump();
                let mut s = s;
                // Adjacent literals concatenate, as in Python.
                while let Tok::Str(more) = self.peek().clone() {
                    self.bump();
                    s.push_str(&more);
                }
                ExprKind::Str(s)
            }
            Tok::Name(n) => match n.as_str() {
                "True" => {
                    self.bump();
                    ExprKind::Bool(true)
                }
                "False" => {
                    self.bump();
                    ExprKind::Bool(false)
                }
                "None" => {
                    self.bump();
                    ExprKind::None
                }
                _ if KEYWORDS.contains(&n.as_str()) => {
                    return Err(self.expected("an expression"));
                }
                _ => {
                    let t = self.bump();
                    // `f'...'`: a prefix written against a string literal.
                    if let Tok::Str(_) = self.peek()
                        && self.span().line == t.span.line
                        && self.span().col as usize == t.span.col as usize + n.len()
                    {
                        return Err(SyntaxError {
                            span: t.span,
                            message: format!(
                                "string prefixes such as {n}'...' (f-strings, raw, bytes) are not supported"
                            ),
                        });
                    }
                    ExprKind::Name(n)
                }
            },
            Tok::Op("(") => {
                self.bump();
                if self.eat_op(")") {
                    ExprKind::Tuple(Vec::new())
                } else {
                    let first = self.expr()?;
                    if self.eat_op(")") {
                        // Parentheses only group; the inner expression keeps its own span.
                        return Ok(first);
                    }
                    if !self.is_op(",") {
                        return Err(self.expected("',' or ')'"));
                    }
                    let mut items = vec![first];
                    while self.eat_op(",") {
                        if self.is_op(")") {
                            break;
                        }
                        items.push(self.expr()?);
                    }
                    self.expect_op(")")?;
                    ExprKind::Tuple(items)
                }
            }
            Tok::Op("[") => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    if self.eat_op("]") {
                        break;
                    }
                    items.push(self.expr()?);
                    if !self.eat_op(",") && !self.is_op("]") {
                        return Err(self.expected("',' or ']'"));
                    }
                }
                ExprKind::List(items)
            }
            Tok::Op("{") => {
                return Err(self.error_here("dicts and sets are not part of the case language"));
            }
            Tok::Op(_)
            | Tok::Raises { .. }
            | Tok::Newline
            | Tok::Indent
            | Tok::Dedent
            | Tok::Eof => return Err(self.expected("an expression")),
        };
        Ok(Expr { kind, span })
    }
}

fn bin(op: BinOp, left: Expr, right: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
        span,
    }
}

/// The most nodes on any path from an expression to a leaf. Long operator chains (`1 + 1 + ...`)
/// and trailer chains (`a[0][0]...`) nest without recursing in the parser, but everything that
/// later walks the tree (printing, checking, dropping) recurses once per level.
const MAX_HEIGHT: usize = 256;

fn height(e: &Expr) -> usize {
    let sub = |e: &Expr| height(e);
    1 + match &e.kind {
        ExprKind::Name(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Str(_) => 0,
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().map(sub).max().unwrap_or(0),
        ExprKind::Unary(_, x) | ExprKind::Attr(x, _) => sub(x),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => sub(a).max(sub(b)),
        ExprKind::Call { func, args, kwargs } => args
            .iter()
            .chain(kwargs.iter().map(|(_, v)| v))
            .map(sub)
            .max()
            .unwrap_or(0)
            .max(sub(func)),
        ExprKind::Index(base, items) => items
            .iter()
            .map(|i| match i {
                IndexItem::Expr(e) => sub(e),
                IndexItem::Slice(a, b, c) => {
                    [a, b, c].into_iter().flatten().map(sub).max().unwrap_or(0)
                }
                IndexItem::Ellipsis | IndexItem::NewAxis => 0,
            })
            .max()
            .unwrap_or(0)
            .max(sub(base)),
    }
}

/// Turns the expression on the left of `=` (or after `for`) into an assignment target.
fn to_target(e: Expr, at: Span) -> PResult<Target> {
    match e.kind {
        ExprKind::Name(n) => Ok(Target::Name(n)),
        ExprKind::Tuple(items) if !items.is_empty() => Ok(Target::Tuple(
            items
                .into_iter()
                .map(|i| to_target(i, at))
                .collect::<PResult<_>>()?,
        )),
        ExprKind::Attr(base, name) => Ok(Target::Attr(base, name)),
        ExprKind::Index(base, items) => Ok(Target::Index(base, items)),
        _ => Err(SyntaxError {
            span: e.span,
            message: format!(
                "cannot assign to {}: expected a name, a tuple of names, an attribute or an index",
                describe_expr(&e.kind)
            ),
        }),
    }
    .map_err(|mut err: SyntaxError| {
        if err.span.line == 0 {
            err.span = at;
        }
        err
    })
}

fn describe_expr(kind: &ExprKind) -> &'static str {
    match kind {
        ExprKind::Name(_) => "a name",
        ExprKind::Int(_) | ExprKind::Float(_) => "a number",
        ExprKind::Bool(_) | ExprKind::None => "a constant",
        ExprKind::Str(_) => "a string",
        ExprKind::List(_) => "a list",
        ExprKind::Tuple(_) => "an empty tuple",
        ExprKind::Unary(..) | ExprKind::Binary(..) => "an operator expression",
        ExprKind::Compare(..) => "a comparison",
        ExprKind::Call { .. } => "a function call",
        ExprKind::Attr(..) => "an attribute",
        ExprKind::Index(..) => "an index",
    }
}

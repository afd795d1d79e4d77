//! Prints the IR back as program text, canonically: 4-space indentation, single spaces around
//! binary operators, the fewest parentheses Python's precedence allows, tuples always in
//! parentheses (except as assignment and loop targets), strings in single quotes, floats in
//! Rust's shortest round-trip form (`0.1`, `1e-6`, `1.0`). `parse(print(p)) == p` for every
//! program the parser can produce; the few IR shapes no text can produce (an empty block, a
//! non-finite float (printed `math.inf`), `IndexItem::Expr(None)`) print as the nearest readable text.

use super::ast::*;
use std::fmt::Write;

pub fn print(program: &Program) -> String {
    let mut out = String::new();
    for s in &program.stmts {
        stmt(&mut out, s, 0);
    }
    out
}

/// Prints one statement (with its body, if any) at indentation 0.
pub fn print_stmt(s: &Stmt) -> String {
    let mut out = String::new();
    stmt(&mut out, s, 0);
    out
}

/// Prints one expression.
pub fn print_expr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e, 0);
    out
}

/// Prints an assignment target.
pub fn print_target(t: &Target) -> String {
    let mut out = String::new();
    target(&mut out, t, true);
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn block(out: &mut String, body: &[Stmt], depth: usize) {
    if body.is_empty() {
        indent(out, depth);
        out.push_str("pass\n");
    }
    for s in body {
        stmt(out, s, depth);
    }
}

fn stmt(out: &mut String, s: &Stmt, depth: usize) {
    indent(out, depth);
    match &s.kind {
        StmtKind::Import(text) => out.push_str(text),
        StmtKind::Assign { target: t, value } => {
            target(out, t, true);
            out.push_str(" = ");
            expr(out, value, 0);
        }
        StmtKind::AugAssign {
            target: t,
            op,
            value,
        } => {
            target(out, t, true);
            let _ = write!(out, " {}= ", binop_symbol(*op));
            expr(out, value, 0);
        }
        StmtKind::Expr(e) => expr(out, e, 0),
        StmtKind::With { context, body } => {
            out.push_str("with ");
            expr(out, context, 0);
            out.push_str(":\n");
            block(out, body, depth + 1);
            return;
        }
        StmtKind::For {
            target: t,
            iter,
            body,
        } => {
            out.push_str("for ");
            target(out, t, true);
            out.push_str(" in ");
            expr(out, iter, 0);
            out.push_str(":\n");
            block(out, body, depth + 1);
            return;
        }
        StmtKind::If { cond, body, orelse } => {
            if_chain(out, cond, body, orelse, depth);
            return;
        }
        StmtKind::Pass => out.push_str("pass"),
    }
    if let Some(e) = &s.expect {
        let _ = write!(out, "  # raises: {}", e.kind);
        if let Some(m) = &e.message {
            out.push(' ');
            quoted(out, m, '"');
        }
    }
    out.push('\n');
}

fn if_chain(out: &mut String, cond: &Expr, body: &[Stmt], orelse: &[Stmt], depth: usize) {
    out.push_str("if ");
    expr(out, cond, 0);
    out.push_str(":\n");
    block(out, body, depth + 1);
    if orelse.is_empty() {
        return;
    }
    // `else:` holding only an `if` is what `elif` parses to.
    if let [
        Stmt {
            kind: StmtKind::If { cond, body, orelse },
            expect: None,
            ..
        },
    ] = orelse
    {
        indent(out, depth);
        out.push_str("el");
        if_chain(out, cond, body, orelse, depth);
        return;
    }
    indent(out, depth);
    out.push_str("else:\n");
    block(out, orelse, depth + 1);
}

/// `top`: a tuple at the top of a target is written bare (`a, b = ...`).
fn target(out: &mut String, t: &Target, top: bool) {
    match t {
        Target::Name(n) => out.push_str(n),
        Target::Tuple(items) => {
            let bare = top && items.len() > 1;
            if !bare {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                target(out, item, false);
            }
            if items.len() == 1 {
                out.push(',');
            }
            if !bare {
                out.push(')');
            }
        }
        Target::Attr(base, name) => {
            attr_base(out, base);
            out.push('.');
            out.push_str(name);
        }
        Target::Index(base, items) => {
            expr(out, base, PRIMARY);
            index_items(out, items);
        }
    }
}

// Precedence levels, lowest first; a subexpression below the level its position needs is
// parenthesised.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const ARITH: u8 = 5;
const TERM: u8 = 6;
const UNARY: u8 = 7;
const POWER: u8 = 8;
const PRIMARY: u8 = 9;

fn binop_level(op: BinOp) -> u8 {
    match op {
        BinOp::Or => OR,
        BinOp::And => AND,
        BinOp::Add | BinOp::Sub => ARITH,
        BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod | BinOp::MatMul => TERM,
        BinOp::Pow => POWER,
    }
}

pub fn binop_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::FloorDiv => "//",
        BinOp::Mod => "%",
        BinOp::Pow => "**",
        BinOp::MatMul => "@",
        BinOp::And => "and",
        BinOp::Or => "or",
    }
}

pub fn cmpop_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Int(v) if *v < 0 => UNARY,
        ExprKind::Float(f) if f.is_sign_negative() && !f.is_nan() => UNARY,
        ExprKind::Unary(UnaryOp::Not, _) => NOT,
        ExprKind::Unary(..) => UNARY,
        ExprKind::Binary(op, ..) => binop_level(*op),
        ExprKind::Compare(..) => CMP,
        _ => PRIMARY,
    }
}

fn is_number(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Int(_) | ExprKind::Float(_))
}

fn expr(out: &mut String, e: &Expr, min: u8) {
    let paren = level(e) < min;
    if paren {
        out.push('(');
    }
    match &e.kind {
        ExprKind::Name(n) => out.push_str(n),
        ExprKind::Int(v) => {
            let _ = write!(out, "{v}");
        }
        ExprKind::Float(f) => float(out, *f),
        ExprKind::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        ExprKind::None => out.push_str("None"),
        ExprKind::Str(s) => quoted(out, s, '\''),
        ExprKind::List(items) => {
            out.push('[');
            comma_list(out, items);
            out.push(']');
        }
        ExprKind::Tuple(items) => {
            out.push('(');
            comma_list(out, items);
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ExprKind::Unary(op, x) => {
            match op {
                UnaryOp::Neg => out.push('-'),
                UnaryOp::Pos => out.push('+'),
                UnaryOp::Not => out.push_str("not "),
            }
            let inner = if *op == UnaryOp::Not { NOT } else { UNARY };
            // `-1` would read back as the literal -1, so the negation of a literal keeps
            // its parentheses.
            if *op == UnaryOp::Neg && is_number(x) && level(x) == PRIMARY {
                out.push('(');
                expr(out, x, 0);
                out.push(')');
            } else {
                expr(out, x, inner);
            }
        }
        ExprKind::Binary(op, a, b) => {
            let l = binop_level(*op);
            let (lmin, rmin) = if *op == BinOp::Pow {
                (PRIMARY, UNARY)
            } else {
                (l, l + 1)
            };
            expr(out, a, lmin);
            let _ = write!(out, " {} ", binop_symbol(*op));
            expr(out, b, rmin);
        }
        ExprKind::Compare(op, a, b) => {
            expr(out, a, ARITH);
            let _ = write!(out, " {} ", cmpop_symbol(*op));
            expr(out, b, ARITH);
        }
        ExprKind::Call { func, args, kwargs } => {
            attr_base(out, func);
            out.push('(');
            comma_list(out, args);
            for (i, (k, v)) in kwargs.iter().enumerate() {
                if i > 0 || !args.is_empty() {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                expr(out, v, 0);
            }
            out.push(')');
        }
        ExprKind::Attr(base, name) => {
            attr_base(out, base);
            out.push('.');
            out.push_str(name);
        }
        ExprKind::Index(base, items) => {
            attr_base(out, base);
            index_items(out, items);
        }
    }
    if paren {
        out.push(')');
    }
}

/// The thing before `.name`, `(...)` or `[...]`: a primary, and never a bare number (`1.real`
/// would lex as the float `1.`, and `-1` has lower precedence than a call anyway).
fn attr_base(out: &mut String, base: &Expr) {
    if is_number(base) && level(base) == PRIMARY {
        out.push('(');
        expr(out, base, 0);
        out.push(')');
    } else {
        expr(out, base, PRIMARY);
    }
}

fn comma_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        expr(out, item, 0);
    }
}

fn index_items(out: &mut String, items: &[IndexItem]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match item {
            IndexItem::Expr(e) => expr(out, e, 0),
            IndexItem::Slice(start, stop, step) => {
                if let Some(s) = start {
                    expr(out, s, 0);
                }
                out.push(':');
                if let Some(s) = stop {
                    expr(out, s, 0);
                }
                if let Some(s) = step {
                    out.push(':');
                    expr(out, s, 0);
                }
            }
            IndexItem::Ellipsis => out.push_str("..."),
            IndexItem::NewAxis => out.push_str("None"),
        }
    }
    out.push(']');
}

fn float(out: &mut String, f: f64) {
    // No literal spells these; `math.inf` is the name the language gives them.
    if f.is_nan() {
        out.push_str("math.nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "math.inf" } else { "-math.inf" });
    } else {
        // Debug is Rust's shortest form that parses back to the same f64, and always has a
        // `.` or an exponent, so it never reads back as an int.
        let _ = write!(out, "{f:?}");
    }
}

fn quoted(out: &mut String, s: &str, q: char) {
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

//! Static checks after parsing, so a case's mistakes are reported with a position before anything
//! runs: unknown functions, methods, attributes, modules and keyword arguments (against
//! [`super::names::TABLE`]), names read before any assignment, arity where it is fixed, literal
//! arguments of the wrong type, and unknown error kinds in `# raises:`.
//!
//! Types are inferred only as far as they are certain (a tensor from a creation call, a module
//! from `nn.Linear(...)`); where a value's type is unknown, anything that some value could accept
//! is accepted, so a valid program is never rejected for the checker's ignorance.

use super::ast::*;
use super::names::{self, BindError, ConstValue, Function, Module, Ret, TABLE, Ty};
use crate::error_kind::ErrorKind;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", span.line, span.col)]
pub struct CheckError {
    pub span: Span,
    pub message: String,
}

/// The first error in program order, if any.
pub fn check(program: &Program) -> Result<(), CheckError> {
    match check_all(program, None).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every error, in program order. With the program's `source`, a bad keyword argument is located
/// at the keyword itself rather than at its value.
pub fn check_all(program: &Program, source: Option<&str>) -> Vec<CheckError> {
    let mut c = Checker::new(program, source);
    c.block(&program.stmts);
    c.errors
}

/// Checks a `doc` claim's expression as if evaluated after the statement on program line
/// `after`: its names must have been assigned by then.
pub fn check_claim(program: &Program, after: u32, claim: &Expr) -> Result<(), CheckError> {
    ClaimScope::new(program).check(after, claim)
}

/// What a program binds, for checking many `doc` claims against one program.
pub struct ClaimScope {
    vars: HashMap<String, T>,
    first_assigned: HashMap<String, u32>,
}

impl ClaimScope {
    pub fn new(program: &Program) -> Self {
        let mut c = Checker::new(program, None);
        c.block(&program.stmts);
        ClaimScope {
            vars: c.vars,
            first_assigned: c.first_assigned,
        }
    }

    /// Checks `claim` as if evaluated after program line `after`.
    pub fn check(&self, after: u32, claim: &Expr) -> Result<(), CheckError> {
        let mut c = Checker {
            vars: self.vars.clone(),
            first_assigned: self.first_assigned.clone(),
            errors: Vec::new(),
            source: None,
        };
        c.vars
            .retain(|name, _| c.first_assigned.get(name).is_some_and(|&l| l <= after));
        c.expr(claim);
        match c.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// What the checker knows about a value.
#[derive(Debug, Clone, PartialEq)]
enum T {
    Unknown,
    Tensor,
    /// An `nn` module instance.
    NnModule,
    Optimizer,
    Int,
    Float,
    Bool,
    Str,
    None,
    List,
    Tuple,
    Dtype,
    Context,
    Params,
    NamedParams,
    Range,
    /// `torch`, `nn`, `F`, `optim`, `math`.
    Namespace(Module),
    Func(&'static Function),
}

impl T {
    fn from_ret(r: Ret) -> T {
        match r {
            Ret::Tensor => T::Tensor,
            Ret::TensorPair => T::Tuple,
            Ret::Int => T::Int,
            Ret::Float => T::Float,
            Ret::Bool => T::Bool,
            Ret::Str => T::Str,
            Ret::None => T::None,
            Ret::List => T::List,
            Ret::Module => T::NnModule,
            Ret::Optimizer => T::Optimizer,
            Ret::Params => T::Params,
            Ret::NamedParams => T::NamedParams,
            Ret::Range => T::Range,
            Ret::Context => T::Context,
            Ret::Dtype => T::Dtype,
            Ret::Any => T::Unknown,
        }
    }

    fn describe(&self) -> String {
        match self {
            T::Unknown => "a value".into(),
            T::Tensor => "a tensor".into(),
            T::NnModule => "a module".into(),
            T::Optimizer => "an optimizer".into(),
            T::Int => "an int".into(),
            T::Float => "a float".into(),
            T::Bool => "a bool".into(),
            T::Str => "a string".into(),
            T::None => "None".into(),
            T::List => "a list".into(),
            T::Tuple => "a tuple".into(),
            T::Dtype => "a dtype".into(),
            T::Context => "a grad-mode context".into(),
            T::Params | T::NamedParams => "a parameter iterator".into(),
            T::Range => "a range".into(),
            T::Namespace(m) => format!("module '{}'", m.path()),
            T::Func(f) => format!("function '{}'", f.name),
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, T::Int | T::Float | T::Bool)
    }
}

struct Checker<'s> {
    vars: HashMap<String, T>,
    /// Line of each name's first assignment anywhere in the program.
    first_assigned: HashMap<String, u32>,
    errors: Vec<CheckError>,
    source: Option<Vec<&'s str>>,
}

const NAMESPACES: &[(&str, Module)] = &[
    ("torch", Module::Torch),
    ("nn", Module::Nn),
    ("F", Module::Functional),
    ("optim", Module::Optim),
    ("math", Module::Math),
];

impl<'s> Checker<'s> {
    fn new(program: &Program, source: Option<&'s str>) -> Self {
        let mut first_assigned = HashMap::new();
        collect_assigned(&program.stmts, &mut |name, line| {
            first_assigned.entry(name.to_owned()).or_insert(line);
        });
        Checker {
            vars: HashMap::new(),
            first_assigned,
            errors: Vec::new(),
            source: source.map(|s| s.split('\n').collect()),
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(CheckError {
            span,
            message: message.into(),
        });
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        if let Some(e) = &s.expect
            && ErrorKind::from_name(&e.kind).is_none()
        {
            self.error(
                s.span,
                format!(
                    "unknown error kind '{}' in '# raises:'{}",
                    e.kind,
                    suggest(&e.kind, ErrorKind::ALL.iter().map(|k| k.name()))
                ),
            );
        }
        if s.expect.is_some()
            && matches!(
                s.kind,
                StmtKind::With { .. } | StmtKind::For { .. } | StmtKind::If { .. }
            )
        {
            // The text form has no place for it, so it would vanish when printed.
            self.error(
                s.span,
                "an expected error belongs on a simple statement, not on a with/for/if block",
            );
        }
        match &s.kind {
            StmtKind::Import(text) => self.import(text, s.span),
            StmtKind::Pass => {}
            StmtKind::Expr(e) => {
                self.expr(e);
            }
            StmtKind::Assign { target, value } => {
                let t = self.expr(value);
                self.assign(target, t, s.span);
            }
            StmtKind::AugAssign { target, op, value } => {
                let current = self.target_read(target, s.span);
                let v = self.expr(value);
                let result = binary_type(*op, &current, &v);
                self.assign(target, result, s.span);
            }
            StmtKind::With { context, body } => {
                let t = self.expr(context);
                if !matches!(t, T::Context | T::Unknown) {
                    self.error(
                        start(context),
                        format!(
                            "expected a grad-mode context (torch.no_grad(), torch.enable_grad(), \
                             torch.set_grad_enabled(...)), found {}",
                            t.describe()
                        ),
                    );
                }
                self.block(body);
            }
            StmtKind::For { target, iter, body } => {
                let it = self.expr(iter);
                let item = match it {
                    T::Params => T::Tensor,
                    T::Range => T::Int,
                    T::Int | T::Float | T::Bool | T::None | T::NnModule | T::Optimizer => {
                        self.error(
                            start(iter),
                            format!("cannot iterate over {}", it.describe()),
                        );
                        T::Unknown
                    }
                    _ => T::Unknown,
                };
                let before = self.vars.clone();
                // A loop body may read what a later line of the same body assigns (on the next
                // iteration), so every name it assigns counts as possibly bound inside it.
                collect_assigned(body, &mut |name, _| {
                    self.vars.entry(name.to_owned()).or_insert(T::Unknown);
                });
                match (target, &it) {
                    (Target::Tuple(items), T::NamedParams) if items.len() == 2 => {
                        self.assign(&items[0], T::Str, s.span);
                        self.assign(&items[1], T::Tensor, s.span);
                    }
                    _ => self.assign(target, item, s.span),
                }
                self.block(body);
                let after = std::mem::take(&mut self.vars);
                self.vars = merge(&before, &after);
            }
            StmtKind::If { cond, body, orelse } => {
                self.expr(cond);
                let before = self.vars.clone();
                self.block(body);
                let after_body = std::mem::replace(&mut self.vars, before);
                self.block(orelse);
                let after_else = std::mem::take(&mut self.vars);
                self.vars = merge(&after_body, &after_else);
            }
        }
    }

    fn import(&mut self, text: &str, span: Span) {
        if let Some(rest) = text.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                return;
            };
            let Some(m) = Module::from_path(module).filter(|_| module != "F") else {
                self.error(span, unknown_module(module));
                return;
            };
            for item in names.split(", ") {
                let (name, alias) = item.split_once(" as ").unwrap_or((item, item));
                let full = format!("{module}.{name}");
                let t = if let Some(sub) = Module::from_path(&full) {
                    T::Namespace(sub)
                } else if let Some(f) = TABLE.function(Some(m), name) {
                    T::Func(f)
                } else if TABLE.constant(m, name).is_some() {
                    T::Unknown
                } else {
                    self.error(
                        span,
                        format!(
                            "cannot import '{name}' from '{module}'{}",
                            suggest(name, TABLE.names_in(m))
                        ),
                    );
                    continue;
                };
                self.vars.insert(alias.to_owned(), t);
            }
        } else if let Some(rest) = text.strip_prefix("import ") {
            for item in rest.split(", ") {
                let (module, alias) = match item.split_once(" as ") {
                    Some((m, a)) => (m, Some(a)),
                    None => (item, None),
                };
                if !names::Module::IMPORTABLE.contains(&module) {
                    self.error(span, unknown_module(module));
                    continue;
                }
                match alias {
                    Some(a) => {
                        let m = Module::from_path(module).expect("importable modules resolve");
                        self.vars.insert(a.to_owned(), T::Namespace(m));
                    }
                    None => {
                        let head = module.split('.').next().unwrap_or(module);
                        let m = Module::from_path(head).expect("importable heads resolve");
                        self.vars.insert(head.to_owned(), T::Namespace(m));
                    }
                }
            }
        }
    }

    /// Reads the current value of an augmented assignment's target.
    /// `span` is the statement's, which is where the target starts.
    fn target_read(&mut self, target: &Target, span: Span) -> T {
        match target {
            Target::Name(n) => self.name(n, span, false),
            Target::Attr(base, name) => self.attr(base, name, span),
            Target::Index(base, items) => self.index(base, items),
            Target::Tuple(_) => T::Unknown,
        }
    }

    fn assign(&mut self, target: &Target, value: T, span: Span) {
        match target {
            Target::Name(n) => {
                self.vars.insert(n.clone(), value);
            }
            Target::Tuple(items) => {
                for item in items {
                    self.assign(item, T::Unknown, span);
                }
            }
            Target::Attr(base, name) => {
                let b = self.expr(base);
                match b {
                    T::Tensor if !names::TENSOR_WRITABLE_ATTRS.contains(&name.as_str()) => {
                        self.error(
                            span,
                            format!(
                                "cannot assign tensor attribute '{name}' (expected one of {})",
                                names::TENSOR_WRITABLE_ATTRS.join(", ")
                            ),
                        );
                    }
                    T::Namespace(m) => self.error(
                        span,
                        format!("cannot assign to '{name}' of module '{}'", m.path()),
                    ),
                    _ => {}
                }
            }
            Target::Index(base, items) => {
                self.index(base, items);
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &Expr) -> T {
        match &e.kind {
            ExprKind::Name(n) => self.name(n, e.span, false),
            ExprKind::Int(_) => T::Int,
            ExprKind::Float(_) => T::Float,
            ExprKind::Bool(_) => T::Bool,
            ExprKind::None => T::None,
            ExprKind::Str(_) => T::Str,
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i);
                }
                T::List
            }
            ExprKind::Tuple(items) => {
                for i in items {
                    self.expr(i);
                }
                T::Tuple
            }
            ExprKind::Unary(op, x) => {
                let t = self.expr(x);
                match (op, t) {
                    (UnaryOp::Not, _) => T::Bool,
                    (_, T::Tensor) => T::Tensor,
                    (_, T::Int) | (_, T::Bool) => T::Int,
                    (_, T::Float) => T::Float,
                    _ => T::Unknown,
                }
            }
            ExprKind::Binary(op, a, b) => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                binary_type(*op, &ta, &tb)
            }
            ExprKind::Compare(_, a, b) => {
                let ta = self.expr(a);
                let tb = self.expr(b);
                if ta == T::Tensor || tb == T::Tensor {
                    T::Tensor
                } else if ta == T::Unknown || tb == T::Unknown {
                    // `t3 > 0.0` of a name the checker cannot type (a tensor out of `split`)
                    // may be a tensor.
                    T::Unknown
                } else {
                    T::Bool
                }
            }
            ExprKind::Attr(base, name) => self.attr(base, name, e.span),
            ExprKind::Index(base, items) => self.index(base, items),
            ExprKind::Call { func, args, kwargs } => self.call(e, func, args, kwargs),
        }
    }

    fn name(&mut self, n: &str, span: Span, called: bool) -> T {
        if let Some(t) = self.vars.get(n) {
            return t.clone();
        }
        if let Some((_, m)) = NAMESPACES.iter().find(|(a, _)| *a == n) {
            return T::Namespace(*m);
        }
        if let Some(f) = TABLE.function(None, n) {
            return T::Func(f);
        }
        if let Some(&line) = self.first_assigned.get(n) {
            self.error(
                span,
                format!(
                    "name '{n}' is used before it is assigned (first assigned on program line {line})"
                ),
            );
        } else if called {
            let all = TABLE.functions.iter().map(|f| f.name);
            self.error(span, format!("unknown function '{n}'{}", suggest(n, all)));
        } else {
            let vars: Vec<String> = self.vars.keys().cloned().collect();
            let fns = TABLE.functions.iter().map(|f| f.name);
            let candidates = vars.iter().map(String::as_str).chain(fns);
            self.error(
                span,
                format!("unknown name '{n}'{}", suggest(n, candidates)),
            );
        }
        T::Unknown
    }

    fn attr(&mut self, base: &Expr, name: &str, span: Span) -> T {
        let b = self.expr(base);
        match b {
            T::Namespace(m) => {
                let full = format!("{}.{name}", m.path());
                if let Some(sub) = Module::from_path(&full) {
                    return T::Namespace(sub);
                }
                if let Some(f) = TABLE.function(Some(m), name) {
                    return T::Func(f);
                }
                if let Some(c) = TABLE.constant(m, name) {
                    return match c.value {
                        ConstValue::Dtype(_) => T::Dtype,
                        ConstValue::Float(_) => T::Float,
                    };
                }
                self.error(
                    span,
                    format!(
                        "module '{}' has no function or constant '{name}'{}",
                        m.path(),
                        suggest(name, TABLE.names_in(m))
                    ),
                );
                T::Unknown
            }
            T::Tensor => {
                if let Some(r) = TABLE.tensor_attr(name) {
                    return T::from_ret(r);
                }
                if TABLE.tensor_method(name).is_some() {
                    return T::Unknown;
                }
                let attrs = TABLE.tensor_attrs.iter().map(|(n, _)| *n);
                self.error(
                    span,
                    format!(
                        "unknown tensor attribute '{name}' (expected one of {})",
                        attrs.collect::<Vec<_>>().join(", ")
                    ),
                );
                T::Unknown
            }
            T::NnModule => match name {
                "weight" | "bias" => T::Tensor,
                "training" => T::Bool,
                "running_mean" | "running_var" | "num_batches_tracked" => T::Tensor,
                _ => T::Unknown,
            },
            T::Optimizer => {
                if TABLE.optimizer_method(name).is_none() && name != "param_groups" {
                    self.error(
                        span,
                        format!(
                            "unknown optimizer attribute '{name}' (expected one of step, zero_grad, param_groups)"
                        ),
                    );
                }
                T::Unknown
            }
            T::Int | T::Float | T::Bool | T::None | T::Str | T::Dtype | T::Context => {
                self.error(span, format!("{} has no attribute '{name}'", b.describe()));
                T::Unknown
            }
            _ => T::Unknown,
        }
    }

    fn index(&mut self, base: &Expr, items: &[IndexItem]) -> T {
        let b = self.expr(base);
        for item in items {
            match item {
                IndexItem::Expr(e) => {
                    self.expr(e);
                }
                IndexItem::Slice(a, z, s) => {
                    for e in [a, z, s].into_iter().flatten() {
                        self.expr(e);
                    }
                }
                IndexItem::Ellipsis | IndexItem::NewAxis => {}
            }
        }
        match b {
            T::Tensor => T::Tensor,
            T::Int | T::Float | T::Bool | T::None | T::Optimizer | T::Dtype | T::Context => {
                self.error(start(base), format!("{} cannot be indexed", b.describe()));
                T::Unknown
            }
            _ => T::Unknown,
        }
    }

    fn call(&mut self, call: &Expr, func: &Expr, args: &[Expr], kwargs: &[(String, Expr)]) -> T {
        // Resolve what is called, with the most precise message for each way it can be unknown.
        let (callee, display): (T, String) = match &func.kind {
            ExprKind::Name(n)
                if names::BUILTIN_OR_TORCH.contains(&n.as_str()) && !self.vars.contains_key(n) =>
            {
                // Which of the two it is depends on the first argument's runtime type.
                self.skip_args(args, kwargs);
                return T::Unknown;
            }
            ExprKind::Name(n) => (self.name(n, func.span, true), n.clone()),
            ExprKind::Attr(base, name) => {
                let b = self.expr(base);
                let t = match &b {
                    T::Tensor => match TABLE.tensor_method(name) {
                        Some(m) => {
                            let sig = &m.sig;
                            let ret = m.ret;
                            self.args(name, sig, args, kwargs, call.span);
                            return T::from_ret(ret);
                        }
                        None => {
                            let names = TABLE.tensor_methods.iter().map(|m| m.name);
                            self.error(
                                func.span,
                                format!("unknown tensor method '{name}'{}", suggest(name, names)),
                            );
                            self.skip_args(args, kwargs);
                            return T::Unknown;
                        }
                    },
                    T::NnModule => match TABLE.module_method(name) {
                        Some(m) => {
                            self.args(name, &m.sig, args, kwargs, call.span);
                            return T::from_ret(m.ret);
                        }
                        // A child module (`model.fc(x)`) or anything set on the module.
                        None => T::Unknown,
                    },
                    T::Optimizer => match TABLE.optimizer_method(name) {
                        Some(m) => {
                            self.args(name, &m.sig, args, kwargs, call.span);
                            return T::from_ret(m.ret);
                        }
                        None => {
                            self.error(
                                func.span,
                                format!(
                                    "unknown optimizer method '{name}' (expected one of step, zero_grad)"
                                ),
                            );
                            self.skip_args(args, kwargs);
                            return T::Unknown;
                        }
                    },
                    T::Namespace(_) => self.attr_of_known(b.clone(), name, func.span),
                    T::Unknown => {
                        // Bound to nothing we can see: any method of any value, or a child
                        // module's call.
                        T::Unknown
                    }
                    other => {
                        self.error(
                            func.span,
                            format!("{} has no method '{name}'", other.describe()),
                        );
                        T::Unknown
                    }
                };
                (t, name.clone())
            }
            _ => (self.expr(func), String::new()),
        };
        match callee {
            T::Func(f) => {
                let shown = if display.is_empty() { f.name } else { &display };
                let shown = shown.to_owned();
                self.args(&shown, &f.sig, args, kwargs, call.span);
                T::from_ret(f.ret)
            }
            // Every module the language has maps tensors to a tensor.
            T::NnModule => {
                self.skip_args(args, kwargs);
                T::Tensor
            }
            T::Unknown => {
                self.skip_args(args, kwargs);
                T::Unknown
            }
            other => {
                self.error(start(func), format!("{} is not callable", other.describe()));
                self.skip_args(args, kwargs);
                T::Unknown
            }
        }
    }

    fn attr_of_known(&mut self, b: T, name: &str, span: Span) -> T {
        // Re-resolve without re-checking the base expression.
        if let T::Namespace(m) = b {
            let full = format!("{}.{name}", m.path());
            if let Some(sub) = Module::from_path(&full) {
                return T::Namespace(sub);
            }
            if let Some(f) = TABLE.function(Some(m), name) {
                return T::Func(f);
            }
            let what = if TABLE.constant(m, name).is_some() {
                format!("'{}.{name}' is a constant, not a function", m.path())
            } else {
                format!(
                    "unknown function '{name}' in module '{}'{}",
                    m.path(),
                    suggest(name, TABLE.names_in(m))
                )
            };
            self.error(span, what);
        }
        T::Unknown
    }

    fn skip_args(&mut self, args: &[Expr], kwargs: &[(String, Expr)]) {
        for a in args {
            self.expr(a);
        }
        for (_, v) in kwargs {
            self.expr(v);
        }
    }

    /// Checks arguments against a signature: binding, then literal types.
    fn args(
        &mut self,
        func: &str,
        sig: &names::Signature,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        call_span: Span,
    ) {
        self.skip_args(args, kwargs);
        let bound = match names::bind(func, sig, args, kwargs) {
            Ok(b) => b,
            Err(e) => {
                let span = match &e {
                    BindError::UnknownKeyword { index, .. }
                    | BindError::Duplicate { index, .. } => self.keyword_span(&kwargs[*index]),
                    BindError::TooMany { max, .. } => start(&args[(*max).min(args.len() - 1)]),
                    BindError::Missing { .. } => call_span,
                };
                self.error(span, e.to_string());
                return;
            }
        };
        for (p, (_, arg)) in sig.params.iter().zip(&bound.slots) {
            if let Some(arg) = arg {
                self.arg_type(func, p.name, p.ty, p.default == Some("None"), arg);
            }
        }
        if let Some(v) = sig.variadic() {
            // `ones((2, 2))`: one sequence stands for the whole variadic list.
            let single_seq = bound.rest.len() == 1
                && matches!(bound.rest[0].kind, ExprKind::List(_) | ExprKind::Tuple(_));
            if !single_seq {
                for a in &bound.rest {
                    let ty = if v.ty == Ty::Ints { Ty::Int } else { v.ty };
                    self.arg_type(func, v.name, ty, false, a);
                }
            } else {
                self.arg_type(func, v.name, v.ty, false, bound.rest[0]);
            }
        }
    }

    fn arg_type(&mut self, func: &str, param: &str, ty: Ty, none_ok: bool, arg: &Expr) {
        let ok = match (&arg.kind, ty) {
            (_, Ty::Any) => true,
            (ExprKind::None, _) => none_ok,
            (ExprKind::Int(_), t) => {
                matches!(t, Ty::Int | Ty::Number | Ty::TensorOrNumber | Ty::Ints)
            }
            (ExprKind::Bool(_), t) => {
                matches!(
                    t,
                    Ty::Bool | Ty::Int | Ty::Number | Ty::TensorOrNumber | Ty::Ints
                )
            }
            (ExprKind::Float(_), t) => matches!(t, Ty::Number | Ty::TensorOrNumber),
            (ExprKind::Str(_), t) => t == Ty::Str,
            (ExprKind::List(items) | ExprKind::Tuple(items), t) => match t {
                Ty::Tensors => true,
                Ty::Ints => items.iter().all(|i| {
                    !matches!(
                        i.kind,
                        ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::None | ExprKind::List(_)
                    )
                }),
                _ => false,
            },
            _ => true,
        };
        if !ok {
            let found = match &arg.kind {
                ExprKind::Int(_) => "int".to_owned(),
                ExprKind::Float(_) => "float".to_owned(),
                ExprKind::Bool(_) => "bool".to_owned(),
                ExprKind::Str(s) => format!("str '{s}'"),
                ExprKind::None => "None".to_owned(),
                ExprKind::List(_) => "list".to_owned(),
                _ => "tuple".to_owned(),
            };
            self.error(
                start(arg),
                format!(
                    "{func}(): argument '{param}' must be {}, found {found}",
                    ty.name()
                ),
            );
        }
    }

    /// Where `name=value` starts: found in the source by walking left from the value, since the
    /// IR keeps no span for the keyword itself.
    fn keyword_span(&self, (name, value): &(String, Expr)) -> Span {
        let at = start(value);
        let Some(lines) = &self.source else {
            return at;
        };
        let Some(line) = lines.get(at.line as usize - 1) else {
            return at;
        };
        let chars: Vec<char> = line.chars().collect();
        let mut i = (at.col as usize).saturating_sub(1).min(chars.len());
        while i > 0 && chars[i - 1] == ' ' {
            i -= 1;
        }
        if i == 0 || chars[i - 1] != '=' {
            return at;
        }
        i -= 1;
        while i > 0 && chars[i - 1] == ' ' {
            i -= 1;
        }
        let n = name.chars().count();
        if i >= n && chars[i - n..i].iter().copied().eq(name.chars()) {
            return Span {
                line: at.line,
                col: (i - n + 1) as u32,
            };
        }
        at
    }
}

fn binary_type(op: BinOp, a: &T, b: &T) -> T {
    match (a, b) {
        (T::Tensor, _) | (_, T::Tensor) => T::Tensor,
        _ if matches!(op, BinOp::And | BinOp::Or) => T::Unknown,
        (T::Int | T::Bool, T::Int | T::Bool) if op != BinOp::Div => T::Int,
        (x, y) if x.is_scalar() && y.is_scalar() => T::Float,
        (T::Str, _) | (_, T::Str) => T::Str,
        _ => T::Unknown,
    }
}

/// Types that agree on both paths stay; where they differ the value is unknown.
fn merge(a: &HashMap<String, T>, b: &HashMap<String, T>) -> HashMap<String, T> {
    let mut out = a.clone();
    for (k, tb) in b {
        match out.get(k) {
            Some(ta) if ta != tb => {
                out.insert(k.clone(), T::Unknown);
            }
            Some(_) => {}
            None => {
                out.insert(k.clone(), tb.clone());
            }
        }
    }
    out
}

fn collect_assigned(stmts: &[Stmt], f: &mut impl FnMut(&str, u32)) {
    fn target(t: &Target, line: u32, f: &mut impl FnMut(&str, u32)) {
        match t {
            Target::Name(n) => f(n, line),
            Target::Tuple(items) => items.iter().for_each(|i| target(i, line, f)),
            _ => {}
        }
    }
    for s in stmts {
        match &s.kind {
            StmtKind::Assign { target: t, .. } | StmtKind::AugAssign { target: t, .. } => {
                target(t, s.span.line, f)
            }
            StmtKind::Import(text) => {
                let names = text
                    .strip_prefix("from ")
                    .and_then(|r| r.split_once(" import ").map(|(_, n)| n))
                    .or_else(|| text.strip_prefix("import "))
                    .unwrap_or("");
                for item in names.split(", ") {
                    let bound = match item.split_once(" as ") {
                        Some((_, a)) => a,
                        None => item.split('.').next().unwrap_or(item),
                    };
                    f(bound, s.span.line);
                }
            }
            StmtKind::For {
                target: t, body, ..
            } => {
                target(t, s.span.line, f);
                collect_assigned(body, f);
            }
            StmtKind::With { body, .. } => collect_assigned(body, f),
            StmtKind::If { body, orelse, .. } => {
                collect_assigned(body, f);
                collect_assigned(orelse, f);
            }
            StmtKind::Expr(_) | StmtKind::Pass => {}
        }
    }
}

/// The leftmost position of an expression (its span is the token that names it).
pub fn start(e: &Expr) -> Span {
    match &e.kind {
        ExprKind::Binary(_, a, _) | ExprKind::Compare(_, a, _) => start(a),
        ExprKind::Call { func, .. } => start(func),
        ExprKind::Attr(base, _) | ExprKind::Index(base, _) => start(base),
        ExprKind::Tuple(items) if !items.is_empty() && start(&items[0]).line != 0 => {
            let s = start(&items[0]);
            // A parenthesised tuple's span is its '(' which is before the first item.
            if (e.span.line, e.span.col) < (s.line, s.col) {
                e.span
            } else {
                s
            }
        }
        _ => e.span,
    }
}

fn unknown_module(module: &str) -> String {
    format!(
        "unknown module '{module}' (expected one of {})",
        Module::IMPORTABLE.join(", ")
    )
}

/// ` (did you mean 'ones'?)` when a candidate is a small edit away.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    // One- and two-letter names are a small edit away from too much to suggest anything useful.
    if name.chars().count() < 3 {
        return String::new();
    }
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min();
    match best {
        Some((_, c)) => format!(" (did you mean '{c}'?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;

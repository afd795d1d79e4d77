//! The one table of names the case language knows: functions (with the module paths they may be
//! written under), tensor, module and optimizer methods, attributes and constants, each with a
//! Python-style signature. The tensor ops come from the ops table (`crate::ops`); the language's
//! own functions (grad mode, `nn`, `optim`, Python's builtins, `math`) are listed here. The
//! checker ([`super::check`]) validates programs against it and the interpreter binds arguments
//! with [`bind`].
//!
//! Signatures are written the way PyTorch's docs write them, `"input: tensor, dim: int = None, *,
//! keepdim: bool = False"`, and parsed once. `*name: ty` collects the remaining positional
//! arguments (`ones(2, 2)`); a lone `*` makes what follows keyword-only. A variadic `ints`
//! parameter given exactly one list or tuple takes it as the whole sequence (`ones((2, 2))`).

mod bind;

pub use bind::{BindError, Bound, bind};

use crate::ops::{BINARY, ROWS, Spelling, UNARY};
use std::collections::HashMap;
use std::sync::LazyLock;

/// What a parameter accepts, as far as it can be known without running the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Tensor,
    /// A tensor or a Python number (`other` of `add`).
    TensorOrNumber,
    Int,
    /// A Python int or float.
    Number,
    Bool,
    Str,
    /// `torch.float32` and friends.
    Dtype,
    /// An int or a list/tuple of ints (`size`, `dim`, `kernel_size`).
    Ints,
    /// A list or tuple of tensors (`cat`, `stack`).
    Tensors,
    /// An `nn` module.
    Module,
    Any,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Tensor => "tensor",
            Ty::TensorOrNumber => "tensor or number",
            Ty::Int => "int",
            Ty::Number => "number",
            Ty::Bool => "bool",
            Ty::Str => "str",
            Ty::Dtype => "dtype",
            Ty::Ints => "int or sequence of ints",
            Ty::Tensors => "sequence of tensors",
            Ty::Module => "module",
            Ty::Any => "any value",
        }
    }

    fn parse(s: &str) -> Ty {
        match s {
            "tensor" => Ty::Tensor,
            "tensor_or_number" => Ty::TensorOrNumber,
            "int" => Ty::Int,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            "str" => Ty::Str,
            "dtype" => Ty::Dtype,
            "ints" => Ty::Ints,
            "tensors" => Ty::Tensors,
            "module" => Ty::Module,
            "any" => Ty::Any,
            other => panic!("names table: unknown type '{other}'"),
        }
    }
}

/// What a call returns, for the checker's light type inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    Tensor,
    /// `x.max(0)`: `(values, indices)`.
    TensorPair,
    Int,
    Float,
    Bool,
    Str,
    None,
    /// `tolist()`, `size()`.
    List,
    Module,
    Optimizer,
    /// `parameters()`: iterates tensors.
    Params,
    /// `named_parameters()`: iterates `(name, tensor)` pairs.
    NamedParams,
    /// `range(...)`: iterates ints.
    Range,
    /// `no_grad()`, `enable_grad()`, `set_grad_enabled(b)`: used by `with`.
    Context,
    Dtype,
    Any,
}

impl Ret {
    /// An ops-table row's `ret` (`tensor`, `int`, `bool`, `list`, `none`, `any`).
    fn parse(s: &str) -> Ret {
        match s {
            "tensor" => Ret::Tensor,
            "int" => Ret::Int,
            "float" => Ret::Float,
            "bool" => Ret::Bool,
            "list" => Ret::List,
            "none" => Ret::None,
            "any" => Ret::Any,
            other => panic!("ops table: unknown return kind '{other}'"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// May be given by position or by keyword.
    Positional,
    /// `*size`: takes every remaining positional argument.
    Variadic,
    KeywordOnly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub kind: ParamKind,
    /// The default as PyTorch writes it (`None`, `False`, `1`, `'mean'`); `None` here means the
    /// parameter is required. A variadic parameter is never required.
    pub default: Option<&'static str>,
}

impl Param {
    pub fn required(&self) -> bool {
        self.default.is_none() && self.kind != ParamKind::Variadic
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub params: Vec<Param>,
}

impl Signature {
    fn parse(text: &'static str) -> Signature {
        let mut params = Vec::new();
        let mut kw_only = false;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "*" {
                kw_only = true;
                continue;
            }
            let (decl, default) = match part.split_once('=') {
                Some((d, v)) => (d.trim(), Some(v.trim())),
                None => (part, None),
            };
            let (name, ty) = decl
                .split_once(':')
                .unwrap_or_else(|| panic!("names table: '{part}' has no type"));
            let (name, ty) = (name.trim(), Ty::parse(ty.trim()));
            let kind = if let Some(n) = name.strip_prefix('*') {
                params.push(Param {
                    name: n,
                    ty,
                    kind: ParamKind::Variadic,
                    default: None,
                });
                kw_only = true;
                continue;
            } else if kw_only {
                ParamKind::KeywordOnly
            } else {
                ParamKind::Positional
            };
            params.push(Param {
                name,
                ty,
                kind,
                default,
            });
        }
        Signature { params }
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn variadic(&self) -> Option<&Param> {
        self.params.iter().find(|p| p.kind == ParamKind::Variadic)
    }

    /// The names a keyword argument may take.
    pub fn keywords(&self) -> Vec<&'static str> {
        self.params
            .iter()
            .filter(|p| p.kind != ParamKind::Variadic)
            .map(|p| p.name)
            .collect()
    }

    /// Python's `f(a, b)` rendering of the parameter list, for messages.
    pub fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut star = false;
        for p in &self.params {
            match p.kind {
                ParamKind::Variadic => {
                    parts.push(format!("*{}", p.name));
                    star = true;
                    continue;
                }
                ParamKind::KeywordOnly if !star => {
                    parts.push("*".to_owned());
                    star = true;
                }
                _ => {}
            }
            match p.default {
                Some(d) => parts.push(format!("{}={d}", p.name)),
                None => parts.push(p.name.to_owned()),
            }
        }
        parts.join(", ")
    }
}

/// Where a function may be named from. Every function may also be written bare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Module {
    /// `torch.ones`
    Torch,
    /// `torch.nn.Linear`, `nn.Linear`
    Nn,
    /// `torch.nn.functional.relu`, `nn.functional.relu`, `F.relu`
    Functional,
    /// `torch.optim.SGD`, `optim.SGD`
    Optim,
    /// `math.sqrt`
    Math,
    /// Python's builtins: `print`, `range`, `len`.
    Builtin,
}

impl Module {
    /// The canonical dotted path.
    pub fn path(self) -> &'static str {
        match self {
            Module::Torch => "torch",
            Module::Nn => "torch.nn",
            Module::Functional => "torch.nn.functional",
            Module::Optim => "torch.optim",
            Module::Math => "math",
            Module::Builtin => "builtins",
        }
    }

    /// Resolves a dotted module path as a program may write it, including the usual aliases
    /// (`nn`, `F`, `optim`), which are always bound whether or not the program imports them.
    pub fn from_path(path: &str) -> Option<Module> {
        Some(match path {
            "torch" => Module::Torch,
            "torch.nn" | "nn" => Module::Nn,
            "torch.nn.functional" | "nn.functional" | "F" => Module::Functional,
            "torch.optim" | "optim" => Module::Optim,
            "math" => Module::Math,
            _ => return None,
        })
    }

    /// Module paths an `import` may name.
    pub const IMPORTABLE: &'static [&'static str] = &[
        "torch",
        "torch.nn",
        "torch.nn.functional",
        "torch.optim",
        "math",
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The name as written after the module (`ones`, `Linear`, `SGD`).
    pub name: &'static str,
    pub modules: &'static [Module],
    pub sig: Signature,
    pub ret: Ret,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    pub name: &'static str,
    pub sig: Signature,
    pub ret: Ret,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstValue {
    Dtype(crate::backend::DType),
    Float(f64),
}

/// `torch.float32`, `math.pi`: names that are values, not functions.
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    pub module: Module,
    pub name: &'static str,
    pub value: ConstValue,
}

use Module::*;

const TORCH: &[Module] = &[Torch];
const TORCH_F: &[Module] = &[Torch, Functional];
const NN: &[Module] = &[Nn];
const F_ONLY: &[Module] = &[Functional];
const OPTIM: &[Module] = &[Optim];
const BUILTIN: &[Module] = &[Builtin];
const MATH: &[Module] = &[Math];

/// (name, modules, signature, return)
type FnRow = (&'static str, &'static [Module], &'static str, Ret);

/// The functions that are no tensor op: grad-mode contexts, `nn` modules, the optimizer, Python
/// builtins and `math`. The tensor ops come from the ops table ([`crate::ops`]).
const LANGUAGE_FUNCTIONS: &[FnRow] = &[
    // ---- grad mode ----
    ("no_grad", TORCH, "", Ret::Context),
    ("enable_grad", TORCH, "", Ret::Context),
    ("set_grad_enabled", TORCH, "mode: bool", Ret::Context),
    ("is_grad_enabled", TORCH, "", Ret::Bool),
    // Accepted so snippets paste unchanged; randomness always comes from the case's seed.
    ("manual_seed", TORCH, "seed: int", Ret::None),
    // ---- nn modules ----
    (
        "Linear",
        NN,
        "in_features: int, out_features: int, bias: bool = True",
        Ret::Module,
    ),
    (
        "Conv2d",
        NN,
        "in_channels: int, out_channels: int, kernel_size: ints, stride: ints = 1, \
         padding: ints = 0, dilation: ints = 1, groups: int = 1, bias: bool = True",
        Ret::Module,
    ),
    ("Sequential", NN, "*modules: module", Ret::Module),
    (
        "Flatten",
        NN,
        "start_dim: int = 1, end_dim: int = -1",
        Ret::Module,
    ),
    ("ReLU", NN, "", Ret::Module),
    ("Sigmoid", NN, "", Ret::Module),
    ("Tanh", NN, "", Ret::Module),
    (
        "Dropout",
        NN,
        "p: number = 0.5, inplace: bool = False",
        Ret::Module,
    ),
    (
        "BatchNorm2d",
        NN,
        "num_features: int, eps: number = 1e-05, momentum: any = 0.1, affine: bool = True, \
         track_running_stats: bool = True",
        Ret::Module,
    ),
    ("MSELoss", NN, "reduction: str = 'mean'", Ret::Module),
    // ---- optim ----
    (
        "SGD",
        OPTIM,
        "params: any, lr: number = 0.001, momentum: number = 0, dampening: number = 0, \
         weight_decay: number = 0, nesterov: bool = False",
        Ret::Optimizer,
    ),
    // `betas` is a tuple, which a signature's default cannot spell; its default is the
    // lowering's.
    (
        "Adam",
        OPTIM,
        "params: any, lr: number = 0.001, betas: any = None, eps: number = 1e-08, \
         weight_decay: number = 0, amsgrad: bool = False",
        Ret::Optimizer,
    ),
    // ---- Python builtins ----
    ("print", BUILTIN, "*args: any", Ret::None),
    (
        "range",
        BUILTIN,
        "start: int, stop: int = None, step: int = 1",
        Ret::Range,
    ),
    ("len", BUILTIN, "obj: any", Ret::Int),
    ("id", BUILTIN, "obj: any", Ret::Int),
    ("type", BUILTIN, "obj: any", Ret::Any),
    ("float", BUILTIN, "x: any", Ret::Float),
    ("int", BUILTIN, "x: any", Ret::Int),
    ("bool", BUILTIN, "x: any", Ret::Bool),
    ("list", BUILTIN, "iterable: any", Ret::List),
    ("tuple", BUILTIN, "iterable: any", Ret::Any),
    ("isinstance", BUILTIN, "obj: any, cls: any", Ret::Bool),
    (
        "round",
        BUILTIN,
        "number: any, ndigits: int = None",
        Ret::Any,
    ),
    // Bare `abs`, `min`, `max`, `sum` are these when the first argument is not a tensor
    // (see [`BUILTIN_OR_TORCH`]).
    ("abs", BUILTIN, "x: any", Ret::Any),
    ("min", BUILTIN, "*args: any", Ret::Any),
    ("max", BUILTIN, "*args: any", Ret::Any),
    ("sum", BUILTIN, "*args: any", Ret::Any),
    ("sqrt", MATH, "x: number", Ret::Float),
    ("exp", MATH, "x: number", Ret::Float),
    ("log", MATH, "x: number", Ret::Float),
];

/// The modules a function spelled this way belongs to (methods and attributes are no function).
fn modules_of(spelled: &[Spelling]) -> &'static [Module] {
    match (
        spelled.contains(&Spelling::Torch),
        spelled.contains(&Spelling::F),
    ) {
        (true, true) => TORCH_F,
        (true, false) => TORCH,
        (false, true) => F_ONLY,
        (false, false) => &[],
    }
}

/// One spelling of a table op: its name, signature and return.
struct OpName {
    name: &'static str,
    spelled: &'static [Spelling],
    sig: &'static str,
    method_sig: Option<&'static str>,
    ret: Ret,
}

/// Every op of the ops table, elementwise rows first, with the in-place methods the elementwise
/// rows switch on.
fn op_names() -> Vec<OpName> {
    let mut out = Vec::new();
    for r in UNARY {
        out.push(OpName {
            name: r.name,
            spelled: r.spelled,
            sig: "input: tensor",
            method_sig: None,
            ret: Ret::Tensor,
        });
        if let Some(name) = r.in_place {
            out.push(OpName {
                name,
                spelled: &[Spelling::Method],
                sig: "input: tensor",
                method_sig: None,
                ret: Ret::Tensor,
            });
        }
    }
    for r in BINARY {
        out.push(OpName {
            name: r.name,
            spelled: r.spelled,
            sig: r.sig,
            method_sig: None,
            ret: Ret::Tensor,
        });
        if let Some(op) = r.in_place {
            out.push(OpName {
                name: op.name(),
                spelled: &[Spelling::Method],
                sig: r.sig,
                method_sig: None,
                ret: Ret::Tensor,
            });
        }
    }
    for r in ROWS {
        out.push(OpName {
            name: r.name,
            spelled: r.spelled,
            sig: r.sig,
            method_sig: r.method_sig,
            ret: Ret::parse(r.ret),
        });
    }
    out
}

fn function_rows(ops: &[OpName]) -> Vec<FnRow> {
    let mut rows: Vec<FnRow> = ops
        .iter()
        .filter(|o| !modules_of(o.spelled).is_empty())
        .map(|o| (o.name, modules_of(o.spelled), o.sig, o.ret))
        .collect();
    rows.extend_from_slice(LANGUAGE_FUNCTIONS);
    rows
}

/// A method's signature: `method_sig`, or the function's without the receiver `input`.
fn method_signature(o: &OpName) -> Signature {
    match o.method_sig {
        Some(m) => Signature::parse(m),
        None => {
            let mut sig = Signature::parse(o.sig);
            sig.params.retain(|p| p.name != "input");
            sig
        }
    }
}

const MODULE_METHOD_ROWS: &[(&str, &str, Ret)] = &[
    ("parameters", "recurse: bool = True", Ret::Params),
    (
        "named_parameters",
        "prefix: str = '', recurse: bool = True",
        Ret::NamedParams,
    ),
    ("zero_grad", "set_to_none: bool = True", Ret::None),
    ("requires_grad_", "requires_grad: bool = True", Ret::Module),
    ("train", "mode: bool = True", Ret::Module),
    ("eval", "", Ret::Module),
    ("children", "", Ret::List),
    // `target` is the loss modules' second input (`MSELoss()(input, target)`).
    ("forward", "input: any, target: any = None", Ret::Any),
];

const OPTIMIZER_METHOD_ROWS: &[(&str, &str, Ret)] = &[
    ("step", "", Ret::None),
    ("zero_grad", "set_to_none: bool = True", Ret::None),
];

/// The attributes a tensor has besides the ops table's (`x.T`), with what reading them gives.
pub const TENSOR_ATTRS: &[(&str, Ret)] = &[
    ("grad", Ret::Tensor),
    ("data", Ret::Tensor),
    ("is_leaf", Ret::Bool),
    ("requires_grad", Ret::Bool),
    ("grad_fn", Ret::Any),
    ("_version", Ret::Int),
    ("retains_grad", Ret::Bool),
    ("shape", Ret::List),
    ("dtype", Ret::Dtype),
    ("ndim", Ret::Int),
    ("device", Ret::Any),
    ("is_cuda", Ret::Bool),
];

/// Names that are both Python builtins and torch functions when written bare: torch's when the
/// first argument is a tensor (`sum(x, dim=0)`), Python's otherwise (`sum([1, 2])`).
pub const BUILTIN_OR_TORCH: &[&str] = &["abs", "min", "max", "sum"];

/// Tensor attributes a program may assign.
pub const TENSOR_WRITABLE_ATTRS: &[&str] = &["grad", "data", "requires_grad"];

pub struct Table {
    pub functions: Vec<Function>,
    pub tensor_methods: Vec<Method>,
    pub module_methods: Vec<Method>,
    pub optimizer_methods: Vec<Method>,
    /// [`TENSOR_ATTRS`], then the ops table's attributes.
    pub tensor_attrs: Vec<(&'static str, Ret)>,
    pub constants: Vec<Constant>,
    by_name: HashMap<&'static str, Vec<usize>>,
}

pub static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let ops = op_names();
    let functions: Vec<Function> = function_rows(&ops)
        .into_iter()
        .map(|(name, modules, sig, ret)| Function {
            name,
            modules,
            sig: Signature::parse(sig),
            ret,
        })
        .collect();
    let tensor_methods = ops
        .iter()
        .filter(|o| o.spelled.contains(&Spelling::Method))
        .map(|o| Method {
            name: o.name,
            sig: method_signature(o),
            ret: o.ret,
        })
        .collect();
    let methods = |rows: &[(&'static str, &'static str, Ret)]| -> Vec<Method> {
        rows.iter()
            .map(|&(name, sig, ret)| Method {
                name,
                sig: Signature::parse(sig),
                ret,
            })
            .collect()
    };
    let mut tensor_attrs = TENSOR_ATTRS.to_vec();
    tensor_attrs.extend(
        ops.iter()
            .filter(|o| o.spelled.contains(&Spelling::Attr))
            .map(|o| (o.name, o.ret)),
    );
    let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (i, f) in functions.iter().enumerate() {
        by_name.entry(f.name).or_default().push(i);
    }
    Table {
        functions,
        tensor_methods,
        module_methods: methods(MODULE_METHOD_ROWS),
        optimizer_methods: methods(OPTIMIZER_METHOD_ROWS),
        tensor_attrs,
        constants: constants(),
        by_name,
    }
});

fn constants() -> Vec<Constant> {
    use crate::backend::DType as D;
    let mut out = Vec::new();
    for (name, d) in [
        ("float", D::F32),
        ("float32", D::F32),
        ("double", D::F64),
        ("float64", D::F64),
        ("long", D::I64),
        ("int64", D::I64),
        ("int", D::I32),
        ("int32", D::I32),
        ("short", D::I16),
        ("int16", D::I16),
        ("int8", D::I8),
        ("bool", D::Bool),
    ] {
        out.push(Constant {
            module: Torch,
            name,
            value: ConstValue::Dtype(d),
        });
    }
    for (name, v) in [
        ("pi", std::f64::consts::PI),
        ("e", std::f64::consts::E),
        ("inf", f64::INFINITY),
        ("nan", f64::NAN),
    ] {
        out.push(Constant {
            module: Math,
            name,
            value: ConstValue::Float(v),
        });
    }
    out
}

impl Table {
    /// A function named `name` under `module` (`None`: written bare, which every function may be;
    /// a program variable of the same name shadows it).
    pub fn function(&self, module: Option<Module>, name: &str) -> Option<&Function> {
        let idx = self.by_name.get(name)?;
        let mut candidates = idx.iter().map(|&i| &self.functions[i]);
        match module {
            Some(m) => candidates.find(|f| f.modules.contains(&m)),
            // Bare `exp` is torch's, not math's; builtins win where Python's would (`print`),
            // except for [`BUILTIN_OR_TORCH`], which resolve to torch's unless asked for
            // `Builtin` explicitly (the interpreter does when the first argument is no tensor).
            None => {
                let all: Vec<&Function> = candidates.collect();
                let torch_first = BUILTIN_OR_TORCH.contains(&name);
                all.iter()
                    .find(|f| f.modules.contains(&Builtin) && !torch_first)
                    .or_else(|| {
                        all.iter()
                            .find(|f| !f.modules.contains(&Math) && !f.modules.contains(&Builtin))
                    })
                    .or_else(|| all.first())
                    .copied()
            }
        }
    }

    /// Every name `module.<name>` may be followed by (functions and constants), sorted.
    pub fn names_in(&self, module: Module) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .functions
            .iter()
            .filter(|f| f.modules.contains(&module))
            .map(|f| f.name)
            .chain(
                self.constants
                    .iter()
                    .filter(|c| c.module == module)
                    .map(|c| c.name),
            )
            .collect();
        if module == Torch {
            v.extend(["nn", "optim"]);
        }
        if module == Nn {
            v.push("functional");
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn constant(&self, module: Module, name: &str) -> Option<&Constant> {
        self.constants
            .iter()
            .find(|c| c.module == module && c.name == name)
    }

    pub fn tensor_method(&self, name: &str) -> Option<&Method> {
        self.tensor_methods.iter().find(|m| m.name == name)
    }
    pub fn module_method(&self, name: &str) -> Option<&Method> {
        self.module_methods.iter().find(|m| m.name == name)
    }
    pub fn optimizer_method(&self, name: &str) -> Option<&Method> {
        self.optimizer_methods.iter().find(|m| m.name == name)
    }

    pub fn tensor_attr(&self, name: &str) -> Option<Ret> {
        self.tensor_attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
    }

    /// A method of any kind of value; what the checker accepts when it cannot tell the type.
    pub fn any_method(&self, name: &str) -> Option<&Method> {
        self.tensor_method(name)
            .or_else(|| self.module_method(name))
            .or_else(|| self.optimizer_method(name))
    }

    /// Every method name of every kind of value, sorted, for "expected one of" messages.
    pub fn all_method_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .tensor_methods
            .iter()
            .chain(&self.module_methods)
            .chain(&self.optimizer_methods)
            .map(|m| m.name)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests;

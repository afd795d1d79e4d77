//! The one table of names the case language knows: functions (with the module paths they may be
//! written under), tensor, module and optimizer methods, attributes and constants, each with a
//! Python-style signature. The checker ([`super::check`]) validates programs against it, the
//! interpreter binds arguments with [`bind`], and the fuzzer draws ops from it.
//!
//! Signatures are written the way PyTorch's docs write them, `"input: tensor, dim: int = None, *,
//! keepdim: bool = False"`, and parsed once. `*name: ty` collects the remaining positional
//! arguments (`ones(2, 2)`); a lone `*` makes what follows keyword-only. A variadic `ints`
//! parameter given exactly one list or tuple takes it as the whole sequence (`ones((2, 2))`).

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

/// What a call returns, for the checker's light type inference and the fuzzer.
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

const CREATE_KW: &str = "*, dtype: dtype = None, device: str = None, requires_grad: bool = False";

/// (name, modules, signature, return)
type FnRow = (&'static str, &'static [Module], String, Ret);

fn function_rows() -> Vec<FnRow> {
    let s = |x: &str| x.to_owned();
    let mut rows: Vec<FnRow> = vec![
        // ---- creation ----
        (
            "tensor",
            TORCH,
            format!("data: any, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "ones",
            TORCH,
            format!("*size: ints, {}", &CREATE_KW[3..]),
            Ret::Tensor,
        ),
        (
            "zeros",
            TORCH,
            format!("*size: ints, {}", &CREATE_KW[3..]),
            Ret::Tensor,
        ),
        (
            "randn",
            TORCH,
            format!("*size: ints, {}", &CREATE_KW[3..]),
            Ret::Tensor,
        ),
        (
            "rand",
            TORCH,
            format!("*size: ints, {}", &CREATE_KW[3..]),
            Ret::Tensor,
        ),
        (
            "full",
            TORCH,
            format!("size: ints, fill_value: number, {CREATE_KW}"),
            Ret::Tensor,
        ),
        // `arange(5)` binds 5 to `start`; the interpreter reads a lone argument as `end`.
        (
            "arange",
            TORCH,
            format!("start: number, end: number = None, step: number = 1, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "linspace",
            TORCH,
            format!("start: number, end: number, steps: int, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "eye",
            TORCH,
            format!("n: int, m: int = None, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "ones_like",
            TORCH,
            format!("input: tensor, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "zeros_like",
            TORCH,
            format!("input: tensor, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "randn_like",
            TORCH,
            format!("input: tensor, {CREATE_KW}"),
            Ret::Tensor,
        ),
        (
            "rand_like",
            TORCH,
            format!("input: tensor, {CREATE_KW}"),
            Ret::Tensor,
        ),
        // ---- elementwise ----
        (
            "add",
            TORCH,
            s("input: tensor_or_number, other: tensor_or_number"),
            Ret::Tensor,
        ),
        (
            "sub",
            TORCH,
            s("input: tensor_or_number, other: tensor_or_number"),
            Ret::Tensor,
        ),
        (
            "mul",
            TORCH,
            s("input: tensor_or_number, other: tensor_or_number"),
            Ret::Tensor,
        ),
        (
            "div",
            TORCH,
            s("input: tensor_or_number, other: tensor_or_number"),
            Ret::Tensor,
        ),
        (
            "pow",
            TORCH,
            s("input: tensor_or_number, exponent: tensor_or_number"),
            Ret::Tensor,
        ),
        (
            "maximum",
            TORCH,
            s("input: tensor, other: tensor"),
            Ret::Tensor,
        ),
        (
            "minimum",
            TORCH,
            s("input: tensor, other: tensor"),
            Ret::Tensor,
        ),
        (
            "clamp",
            TORCH,
            s("input: tensor, min: number = None, max: number = None"),
            Ret::Tensor,
        ),
        (
            "where",
            TORCH,
            s("condition: tensor, input: tensor_or_number, other: tensor_or_number"),
            Ret::Tensor,
        ),
        // ---- reductions ----
        (
            "sum",
            TORCH,
            s("input: tensor, dim: ints = None, keepdim: bool = False"),
            Ret::Tensor,
        ),
        (
            "mean",
            TORCH,
            s("input: tensor, dim: ints = None, keepdim: bool = False"),
            Ret::Tensor,
        ),
        // `max(x)` is a tensor, `max(x, 0)` a `(values, indices)` pair.
        (
            "max",
            TORCH,
            s("input: tensor, dim: int = None, keepdim: bool = False"),
            Ret::Any,
        ),
        (
            "min",
            TORCH,
            s("input: tensor, dim: int = None, keepdim: bool = False"),
            Ret::Any,
        ),
        (
            "softmax",
            TORCH_F,
            s("input: tensor, dim: int"),
            Ret::Tensor,
        ),
        (
            "log_softmax",
            TORCH_F,
            s("input: tensor, dim: int"),
            Ret::Tensor,
        ),
        // ---- linear algebra ----
        (
            "matmul",
            TORCH,
            s("input: tensor, other: tensor"),
            Ret::Tensor,
        ),
        ("mm", TORCH, s("input: tensor, mat2: tensor"), Ret::Tensor),
        ("bmm", TORCH, s("input: tensor, mat2: tensor"), Ret::Tensor),
        // ---- shapes ----
        (
            "reshape",
            TORCH,
            s("input: tensor, shape: ints"),
            Ret::Tensor,
        ),
        (
            "squeeze",
            TORCH,
            s("input: tensor, dim: int = None"),
            Ret::Tensor,
        ),
        (
            "unsqueeze",
            TORCH,
            s("input: tensor, dim: int"),
            Ret::Tensor,
        ),
        (
            "flatten",
            TORCH,
            s("input: tensor, start_dim: int = 0, end_dim: int = -1"),
            Ret::Tensor,
        ),
        ("t", TORCH, s("input: tensor"), Ret::Tensor),
        (
            "transpose",
            TORCH,
            s("input: tensor, dim0: int, dim1: int"),
            Ret::Tensor,
        ),
        (
            "permute",
            TORCH,
            s("input: tensor, dims: ints"),
            Ret::Tensor,
        ),
        (
            "narrow",
            TORCH,
            s("input: tensor, dim: int, start: int, length: int"),
            Ret::Tensor,
        ),
        (
            "select",
            TORCH,
            s("input: tensor, dim: int, index: int"),
            Ret::Tensor,
        ),
        ("clone", TORCH, s("input: tensor"), Ret::Tensor),
        ("detach", TORCH, s("input: tensor"), Ret::Tensor),
        (
            "cat",
            TORCH,
            s("tensors: tensors, dim: int = 0"),
            Ret::Tensor,
        ),
        (
            "stack",
            TORCH,
            s("tensors: tensors, dim: int = 0"),
            Ret::Tensor,
        ),
        ("numel", TORCH, s("input: tensor"), Ret::Int),
        // ---- grad mode ----
        ("no_grad", TORCH, s(""), Ret::Context),
        ("enable_grad", TORCH, s(""), Ret::Context),
        ("set_grad_enabled", TORCH, s("mode: bool"), Ret::Context),
        ("is_grad_enabled", TORCH, s(""), Ret::Bool),
        // Accepted so snippets paste unchanged; randomness always comes from the case's seed.
        ("manual_seed", TORCH, s("seed: int"), Ret::None),
        // ---- nn.functional ----
        (
            "linear",
            F_ONLY,
            s("input: tensor, weight: tensor, bias: tensor = None"),
            Ret::Tensor,
        ),
        (
            "conv2d",
            F_ONLY,
            s(
                "input: tensor, weight: tensor, bias: tensor = None, stride: ints = 1, \
               padding: ints = 0, dilation: ints = 1, groups: int = 1",
            ),
            Ret::Tensor,
        ),
        (
            "mse_loss",
            F_ONLY,
            s("input: tensor, target: tensor, reduction: str = 'mean'"),
            Ret::Tensor,
        ),
        // ---- nn modules ----
        (
            "Linear",
            NN,
            s("in_features: int, out_features: int, bias: bool = True"),
            Ret::Module,
        ),
        (
            "Conv2d",
            NN,
            s(
                "in_channels: int, out_channels: int, kernel_size: ints, stride: ints = 1, \
               padding: ints = 0, dilation: ints = 1, groups: int = 1, bias: bool = True",
            ),
            Ret::Module,
        ),
        ("Sequential", NN, s("*modules: module"), Ret::Module),
        (
            "Flatten",
            NN,
            s("start_dim: int = 1, end_dim: int = -1"),
            Ret::Module,
        ),
        ("ReLU", NN, s(""), Ret::Module),
        ("Sigmoid", NN, s(""), Ret::Module),
        ("MSELoss", NN, s("reduction: str = 'mean'"), Ret::Module),
        // ---- optim ----
        (
            "SGD",
            OPTIM,
            s(
                "params: any, lr: number = 0.001, momentum: number = 0, dampening: number = 0, \
               weight_decay: number = 0, nesterov: bool = False",
            ),
            Ret::Optimizer,
        ),
        // ---- Python builtins ----
        ("print", BUILTIN, s("*args: any"), Ret::None),
        (
            "range",
            BUILTIN,
            s("start: int, stop: int = None, step: int = 1"),
            Ret::Range,
        ),
        ("len", BUILTIN, s("obj: any"), Ret::Int),
        ("id", BUILTIN, s("obj: any"), Ret::Int),
        ("type", BUILTIN, s("obj: any"), Ret::Any),
        ("float", BUILTIN, s("x: any"), Ret::Float),
        ("int", BUILTIN, s("x: any"), Ret::Int),
        ("bool", BUILTIN, s("x: any"), Ret::Bool),
        ("list", BUILTIN, s("iterable: any"), Ret::List),
        ("tuple", BUILTIN, s("iterable: any"), Ret::Any),
        ("isinstance", BUILTIN, s("obj: any, cls: any"), Ret::Bool),
        (
            "round",
            BUILTIN,
            s("number: any, ndigits: int = None"),
            Ret::Any,
        ),
        // Bare `abs`, `min`, `max`, `sum` are these when the first argument is not a tensor
        // (see [`BUILTIN_OR_TORCH`]).
        ("abs", BUILTIN, s("x: any"), Ret::Any),
        ("min", BUILTIN, s("*args: any"), Ret::Any),
        ("max", BUILTIN, s("*args: any"), Ret::Any),
        ("sum", BUILTIN, s("*args: any"), Ret::Any),
        ("sqrt", MATH, s("x: number"), Ret::Float),
        ("exp", MATH, s("x: number"), Ret::Float),
        ("log", MATH, s("x: number"), Ret::Float),
    ];
    // One-tensor functions that are also `F.` functions and tensor methods.
    for name in ["relu", "sigmoid", "tanh"] {
        rows.push((name, TORCH_F, s("input: tensor"), Ret::Tensor));
    }
    for name in [
        "neg",
        "exp",
        "log",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "reciprocal",
    ] {
        // `exp`, `log`, `sqrt` also exist in `math`; a separate row keeps each signature exact.
        rows.push((name, TORCH, s("input: tensor"), Ret::Tensor));
    }
    for name in ["eq", "ne", "lt", "le", "gt", "ge"] {
        rows.push((
            name,
            TORCH,
            s("input: tensor, other: tensor_or_number"),
            Ret::Tensor,
        ));
    }
    rows
}

/// (name, signature, return) of every tensor method; `self` is not listed.
fn tensor_method_rows() -> Vec<(&'static str, &'static str, Ret)> {
    let mut rows = vec![
        ("add", "other: tensor_or_number", Ret::Tensor),
        ("sub", "other: tensor_or_number", Ret::Tensor),
        ("mul", "other: tensor_or_number", Ret::Tensor),
        ("div", "other: tensor_or_number", Ret::Tensor),
        ("pow", "exponent: tensor_or_number", Ret::Tensor),
        ("maximum", "other: tensor", Ret::Tensor),
        ("minimum", "other: tensor", Ret::Tensor),
        (
            "clamp",
            "min: number = None, max: number = None",
            Ret::Tensor,
        ),
        (
            "where",
            "condition: tensor, other: tensor_or_number",
            Ret::Tensor,
        ),
        (
            "sum",
            "dim: ints = None, keepdim: bool = False",
            Ret::Tensor,
        ),
        (
            "mean",
            "dim: ints = None, keepdim: bool = False",
            Ret::Tensor,
        ),
        ("max", "dim: int = None, keepdim: bool = False", Ret::Any),
        ("min", "dim: int = None, keepdim: bool = False", Ret::Any),
        ("softmax", "dim: int", Ret::Tensor),
        ("log_softmax", "dim: int", Ret::Tensor),
        ("matmul", "other: tensor", Ret::Tensor),
        ("mm", "mat2: tensor", Ret::Tensor),
        ("bmm", "mat2: tensor", Ret::Tensor),
        ("view", "*shape: ints", Ret::Tensor),
        ("reshape", "*shape: ints", Ret::Tensor),
        ("squeeze", "dim: int = None", Ret::Tensor),
        ("unsqueeze", "dim: int", Ret::Tensor),
        (
            "flatten",
            "start_dim: int = 0, end_dim: int = -1",
            Ret::Tensor,
        ),
        ("t", "", Ret::Tensor),
        ("transpose", "dim0: int, dim1: int", Ret::Tensor),
        ("permute", "*dims: ints", Ret::Tensor),
        ("expand", "*sizes: ints", Ret::Tensor),
        ("narrow", "dim: int, start: int, length: int", Ret::Tensor),
        ("select", "dim: int, index: int", Ret::Tensor),
        ("contiguous", "", Ret::Tensor),
        ("clone", "", Ret::Tensor),
        ("to", "dtype: dtype", Ret::Tensor),
        ("double", "", Ret::Tensor),
        ("float", "", Ret::Tensor),
        ("long", "", Ret::Tensor),
        ("bool", "", Ret::Tensor),
        // ---- in-place ----
        ("add_", "other: tensor_or_number", Ret::Tensor),
        ("sub_", "other: tensor_or_number", Ret::Tensor),
        ("mul_", "other: tensor_or_number", Ret::Tensor),
        ("div_", "other: tensor_or_number", Ret::Tensor),
        ("zero_", "", Ret::Tensor),
        ("fill_", "value: number", Ret::Tensor),
        ("copy_", "src: tensor", Ret::Tensor),
        (
            "clamp_",
            "min: number = None, max: number = None",
            Ret::Tensor,
        ),
        // ---- autograd ----
        ("requires_grad_", "requires_grad: bool = True", Ret::Tensor),
        ("retain_grad", "", Ret::None),
        ("detach", "", Ret::Tensor),
        ("detach_", "", Ret::Tensor),
        (
            "backward",
            "gradient: tensor = None, retain_graph: bool = None, create_graph: bool = False",
            Ret::None,
        ),
        ("_is_view", "", Ret::Bool),
        ("cpu", "", Ret::Tensor),
        // ---- Python values ----
        ("item", "", Ret::Any),
        ("tolist", "", Ret::List),
        ("size", "dim: int = None", Ret::Any),
        ("dim", "", Ret::Int),
        ("numel", "", Ret::Int),
    ];
    for name in [
        "neg",
        "exp",
        "log",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "reciprocal",
    ] {
        rows.push((name, "", Ret::Tensor));
    }
    for name in ["eq", "ne", "lt", "le", "gt", "ge"] {
        rows.push((name, "other: tensor_or_number", Ret::Tensor));
    }
    rows
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

/// Attributes a tensor has, with what reading them gives.
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
    ("T", Ret::Tensor),
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
    pub constants: Vec<Constant>,
    by_name: HashMap<&'static str, Vec<usize>>,
}

pub static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let functions: Vec<Function> = function_rows()
        .into_iter()
        .map(|(name, modules, sig, ret)| Function {
            name,
            modules,
            // Leaked once: the table lives for the whole process.
            sig: Signature::parse(Box::leak(sig.into_boxed_str())),
            ret,
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
    let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (i, f) in functions.iter().enumerate() {
        by_name.entry(f.name).or_default().push(i);
    }
    Table {
        functions,
        tensor_methods: methods(&tensor_method_rows()),
        module_methods: methods(MODULE_METHOD_ROWS),
        optimizer_methods: methods(OPTIMIZER_METHOD_ROWS),
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
        TENSOR_ATTRS
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

/// Arguments matched to a signature's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound<'a, A> {
    /// One slot per parameter, in signature order; `None` where the default applies. The
    /// variadic parameter's slot is always `None`; its arguments are in `rest`.
    pub slots: Vec<(&'static str, Option<&'a A>)>,
    /// The arguments a `*name` parameter collected.
    pub rest: Vec<&'a A>,
}

impl<'a, A> Bound<'a, A> {
    pub fn get(&self, name: &str) -> Option<&'a A> {
        self.slots
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, a)| *a)
    }
}

/// Why arguments do not fit a signature; the message is Python's, nearly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("{func}() takes {max} positional argument{} but {given} were given", if *max == 1 { "" } else { "s" })]
    TooMany {
        func: String,
        max: usize,
        given: usize,
    },
    #[error("{func}() missing required argument '{param}' (signature: {func}({sig}))")]
    Missing {
        func: String,
        param: &'static str,
        sig: String,
    },
    #[error(
        "{func}() got an unexpected keyword argument '{keyword}' ({})",
        keywords_hint(expected)
    )]
    UnknownKeyword {
        func: String,
        keyword: String,
        /// Index of the offending keyword argument.
        index: usize,
        expected: Vec<&'static str>,
    },
    #[error("{func}() got multiple values for argument '{param}'")]
    Duplicate {
        func: String,
        param: String,
        index: usize,
    },
}

fn keywords_hint(expected: &[&str]) -> String {
    if expected.is_empty() {
        "it takes no keyword arguments".to_owned()
    } else {
        format!("expected one of {}", expected.join(", "))
    }
}

/// Matches positional and keyword arguments to `sig`, as Python would.
pub fn bind<'a, A>(
    func: &str,
    sig: &Signature,
    args: &'a [A],
    kwargs: &'a [(String, A)],
) -> Result<Bound<'a, A>, BindError> {
    let mut slots: Vec<(&'static str, Option<&'a A>)> =
        sig.params.iter().map(|p| (p.name, None)).collect();
    let mut rest = Vec::new();
    let mut pi = 0;
    for a in args {
        while pi < sig.params.len() && sig.params[pi].kind == ParamKind::KeywordOnly {
            pi += 1;
        }
        match sig.params.get(pi) {
            Some(p) if p.kind == ParamKind::Variadic => rest.push(a),
            Some(_) => {
                slots[pi].1 = Some(a);
                pi += 1;
            }
            None => {
                return Err(BindError::TooMany {
                    func: func.to_owned(),
                    max: sig
                        .params
                        .iter()
                        .filter(|p| p.kind == ParamKind::Positional)
                        .count(),
                    given: args.len(),
                });
            }
        }
    }
    for (index, (k, v)) in kwargs.iter().enumerate() {
        let Some(i) = sig
            .params
            .iter()
            .position(|p| p.name == k && p.kind != ParamKind::Variadic)
        else {
            return Err(BindError::UnknownKeyword {
                func: func.to_owned(),
                keyword: k.clone(),
                index,
                expected: sig.keywords(),
            });
        };
        if slots[i].1.is_some() {
            return Err(BindError::Duplicate {
                func: func.to_owned(),
                param: k.clone(),
                index,
            });
        }
        slots[i].1 = Some(v);
    }
    for (p, (_, a)) in sig.params.iter().zip(&slots) {
        if p.required() && a.is_none() {
            return Err(BindError::Missing {
                func: func.to_owned(),
                param: p.name,
                sig: sig.render(),
            });
        }
    }
    Ok(Bound { slots, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_lookups_work() {
        let t = &*TABLE;
        assert!(t.function(Some(Torch), "ones").is_some());
        assert!(t.function(Some(Nn), "Linear").is_some());
        assert!(t.function(Some(Functional), "relu").is_some());
        assert!(t.function(Some(Functional), "ones").is_none());
        assert_eq!(t.function(None, "exp").unwrap().modules, TORCH);
        assert_eq!(t.function(Some(Math), "exp").unwrap().modules, MATH);
        assert!(t.function(None, "print").is_some());
        assert!(t.tensor_method("add_").is_some());
        assert!(t.constant(Torch, "float64").is_some());
        let ones = t.function(None, "ones").unwrap();
        assert_eq!(
            ones.sig.render(),
            "*size, dtype=None, device=None, requires_grad=False"
        );
    }

    /// FORMAT.md is the contract case authors read; every name the table knows must be there.
    #[test]
    fn format_md_lists_every_name() {
        let doc = include_str!("../../../cases/FORMAT.md");
        let words: std::collections::HashSet<&str> = doc
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        let t = &*TABLE;
        let missing: Vec<&str> = t
            .functions
            .iter()
            .map(|f| f.name)
            .chain(t.tensor_methods.iter().map(|m| m.name))
            .chain(t.module_methods.iter().map(|m| m.name))
            .chain(t.optimizer_methods.iter().map(|m| m.name))
            .chain(t.constants.iter().map(|c| c.name))
            .chain(TENSOR_ATTRS.iter().map(|(n, _)| *n))
            .chain(
                t.functions
                    .iter()
                    .flat_map(|f| f.sig.params.iter().map(|p| p.name)),
            )
            .filter(|n| !words.contains(n))
            .collect();
        assert!(
            missing.is_empty(),
            "cases/FORMAT.md does not mention {missing:?}"
        );
    }

    #[test]
    fn binding_follows_python() {
        let sig = &TABLE.function(None, "sum").unwrap().sig;
        let args = [1, 2];
        let kw = [("keepdim".to_owned(), 3)];
        let b = bind("sum", sig, &args, &kw).unwrap();
        assert_eq!(
            (b.get("input"), b.get("dim"), b.get("keepdim")),
            (Some(&1), Some(&2), Some(&3))
        );
        let e = bind("sum", sig, &[1, 2, 3, 4], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sum() takes 3 positional arguments but 4 were given"
        );
        let e = bind("sum", sig, &args, &[("dims".to_owned(), 0)]).unwrap_err();
        assert!(e.to_string().contains("unexpected keyword argument 'dims'"));
        let e = bind("sum", sig, &[] as &[i32], &[]).unwrap_err();
        assert!(e.to_string().contains("missing required argument 'input'"));
        let ones = &TABLE.function(None, "ones").unwrap().sig;
        let (args, kw) = ([2, 3], [("requires_grad".to_owned(), 1)]);
        let b = bind("ones", ones, &args, &kw).unwrap();
        assert_eq!(b.rest, vec![&2, &3]);
        assert!(bind("ones", ones, &[2], &[("size".to_owned(), 1)]).is_err());
    }
}

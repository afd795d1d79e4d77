//! Turning calls, bound to their parameters by the one name table ([`names::TABLE`],
//! [`names::bind`]), into typed backend [`Call`]s and Python values: torch functions, tensor
//! methods, `nn` modules, `optim.SGD`, grad-mode contexts, a few Python builtins, and the
//! harness-made random data.

use super::value::{ModKind, ModRef, Module, PyVal, type_error, unsupported};
use super::{Interp, Res};
use crate::backend::Backend;
use crate::backend::{
    BinaryOp, Call, DType, Failure, InplaceOp, Operand, Reduction, Scalar, TensorAttr, TensorData,
    UnaryOp,
};
use crate::error_kind::ErrorKind;
use crate::program::names::{self, BUILTIN_OR_TORCH, ConstValue, Signature, TABLE};
use rand::Rng;
use std::cell::RefCell;
use std::rc::Rc;

pub(crate) fn is_function(name: &str) -> bool {
    TABLE.function(None, name).is_some()
}

pub(crate) fn is_tensor_method(name: &str) -> bool {
    TABLE.tensor_method(name).is_some()
}

pub(crate) fn is_module_method(name: &str) -> bool {
    TABLE.module_method(name).is_some()
}

/// `torch.x`, `nn.x`, `math.x`, ...
pub(crate) fn namespace_attr<T>(ns: &'static str, name: &str) -> Res<PyVal<T>> {
    match (ns, name) {
        ("torch", "nn") => return Ok(PyVal::Namespace("nn")),
        ("torch", "optim") => return Ok(PyVal::Namespace("optim")),
        ("torch", "autograd") => return Ok(PyVal::Namespace("autograd")),
        ("nn", "functional") => return Ok(PyVal::Namespace("F")),
        _ => {}
    }
    let unknown = || unsupported(format!("`{ns}.{name}`"));
    let module = names::Module::from_path(ns).ok_or_else(unknown)?;
    if let Some(c) = TABLE.constant(module, name) {
        return Ok(match c.value {
            ConstValue::Dtype(d) => PyVal::Dtype(d),
            ConstValue::Float(f) => PyVal::Float(f),
        });
    }
    match TABLE.function(Some(module), name) {
        // `math.exp` is not `torch.exp`: the name keeps its module.
        Some(_) if module == names::Module::Math => Ok(PyVal::Builtin(format!("math.{name}"))),
        Some(_) => Ok(PyVal::Builtin(name.to_string())),
        None => Err(unknown()),
    }
}

/// Arguments of one call, bound to their parameters by [`names::bind`] and taken by name.
pub(crate) struct Args<T> {
    name: String,
    slots: Vec<(&'static str, Option<PyVal<T>>)>,
    /// What a `*name` parameter collected.
    rest: Vec<PyVal<T>>,
}

impl<T: Clone> Args<T> {
    fn bind(
        name: &str,
        sig: &Signature,
        pos: Vec<PyVal<T>>,
        kw: Vec<(String, PyVal<T>)>,
    ) -> Res<Self> {
        let b = names::bind(name, sig, &pos, &kw).map_err(|e| type_error(e.to_string()))?;
        Ok(Args {
            name: name.to_string(),
            slots: b.slots.iter().map(|(n, v)| (*n, v.cloned())).collect(),
            rest: b.rest.into_iter().cloned().collect(),
        })
    }

    /// A method call: the receiver is the `input` the table's method signatures leave out.
    fn with_receiver(mut self, recv: PyVal<T>) -> Self {
        self.slots.insert(0, ("input", Some(recv)));
        self
    }

    fn peek(&self, key: &str) -> Option<&PyVal<T>> {
        self.slots
            .iter()
            .find(|(n, _)| *n == key)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The argument bound to `key`, if one was given.
    fn take(&mut self, key: &str) -> Option<PyVal<T>> {
        self.slots
            .iter_mut()
            .find(|(n, _)| *n == key)
            .and_then(|(_, v)| v.take())
    }

    fn req(&mut self, key: &str) -> Res<PyVal<T>> {
        self.take(key).ok_or_else(|| {
            type_error(format!(
                "{}() missing required argument: '{key}'",
                self.name
            ))
        })
    }

    /// Sizes: `f(2, 2)`, `f((2, 2))`, `f([2, 2])` for a `*key` parameter, or the one sequence
    /// (or int) bound to a plain `key`.
    fn sizes(&mut self, key: &str) -> Res<Vec<i64>> {
        let vals: Vec<PyVal<T>> = if !self.rest.is_empty() {
            let mut rest = std::mem::take(&mut self.rest);
            match rest.as_mut_slice() {
                [PyVal::List(xs) | PyVal::Tuple(xs)] => std::mem::take(xs),
                _ => rest,
            }
        } else {
            match self.take(key) {
                Some(PyVal::List(xs) | PyVal::Tuple(xs)) => xs,
                Some(v) => vec![v],
                None => Vec::new(),
            }
        };
        vals.iter().map(|v| as_int(v, &self.name)).collect()
    }
}

fn as_int<T>(v: &PyVal<T>, f: &str) -> Res<i64> {
    match v {
        PyVal::Int(i) => Ok(*i),
        PyVal::Bool(b) => Ok(*b as i64),
        other => Err(type_error(format!(
            "{f}(): expected an int, got {}",
            other.type_name()
        ))),
    }
}

fn as_f64<T>(v: &PyVal<T>, f: &str) -> Res<f64> {
    v.as_scalar()
        .map(Scalar::as_f64)
        .ok_or_else(|| type_error(format!("{f}(): expected a number, got {}", v.type_name())))
}

fn as_bool<T>(v: &PyVal<T>, f: &str) -> Res<bool> {
    match v {
        PyVal::Bool(b) => Ok(*b),
        other => Err(type_error(format!(
            "{f}(): expected a bool, got {}",
            other.type_name()
        ))),
    }
}

fn as_tensor<T: Clone>(v: PyVal<T>, f: &str) -> Res<T> {
    match v {
        PyVal::Tensor(t) => Ok(t),
        other => Err(type_error(format!(
            "{f}(): expected a Tensor, got {}",
            other.type_name()
        ))),
    }
}

fn opt_tensor<T: Clone>(v: Option<PyVal<T>>, f: &str) -> Res<Option<T>> {
    match v {
        None | Some(PyVal::None) => Ok(None),
        Some(v) => as_tensor(v, f).map(Some),
    }
}

fn as_operand<T>(v: PyVal<T>, f: &str) -> Res<Operand<T>> {
    match v {
        PyVal::Tensor(t) => Ok(Operand::Tensor(t)),
        other => other.as_scalar().map(Operand::Scalar).ok_or_else(|| {
            type_error(format!(
                "{f}(): expected a Tensor or a number, got {}",
                other.type_name()
            ))
        }),
    }
}

fn opt_scalar<T>(v: Option<PyVal<T>>, f: &str) -> Res<Option<Scalar>> {
    match v {
        None | Some(PyVal::None) => Ok(None),
        Some(v) => v
            .as_scalar()
            .map(Some)
            .ok_or_else(|| type_error(format!("{f}(): expected a number, got {}", v.type_name()))),
    }
}

fn opt_dtype<T>(v: Option<PyVal<T>>, f: &str) -> Res<Option<DType>> {
    match v {
        None | Some(PyVal::None) => Ok(None),
        Some(PyVal::Dtype(d)) => Ok(Some(d)),
        Some(other) => Err(type_error(format!(
            "{f}(): dtype must be a torch.dtype, not {}",
            other.type_name()
        ))),
    }
}

fn opt_bool<T>(v: Option<PyVal<T>>, default: bool, f: &str) -> Res<bool> {
    match v {
        None => Ok(default),
        Some(v) => as_bool(&v, f),
    }
}

/// `dim=None`, `dim=1` or `dim=(0, 1)`.
fn opt_dims<T>(v: Option<PyVal<T>>, f: &str) -> Res<Option<Vec<i64>>> {
    match v {
        None | Some(PyVal::None) => Ok(None),
        Some(PyVal::List(xs) | PyVal::Tuple(xs)) => xs
            .iter()
            .map(|x| as_int(x, f))
            .collect::<Res<_>>()
            .map(Some),
        Some(v) => Ok(Some(vec![as_int(&v, f)?])),
    }
}

fn pair<T>(v: Option<PyVal<T>>, default: usize, f: &str) -> Res<[usize; 2]> {
    let one = |x: &PyVal<T>| -> Res<usize> {
        let i = as_int(x, f)?;
        usize::try_from(i).map_err(|_| {
            Failure::new(
                ErrorKind::InvalidArgument,
                format!("{f}(): expected a non-negative value, got {i}"),
            )
        })
    };
    match v {
        None => Ok([default, default]),
        Some(PyVal::Str(s)) if s == "valid" => Ok([0, 0]),
        Some(PyVal::List(xs) | PyVal::Tuple(xs)) if xs.len() == 2 => {
            Ok([one(&xs[0])?, one(&xs[1])?])
        }
        Some(v) => {
            let x = one(&v)?;
            Ok([x, x])
        }
    }
}

fn to_shape(sizes: &[i64]) -> Res<Vec<usize>> {
    sizes
        .iter()
        .map(|&s| {
            usize::try_from(s).map_err(|_| {
                Failure::new(
                    ErrorKind::InvalidArgument,
                    format!("Trying to create tensor with negative dimension {s}: {sizes:?}"),
                )
            })
        })
        .collect()
}

fn reduction(v: Option<PyVal<impl Clone>>) -> Res<Reduction> {
    match v {
        None => Ok(Reduction::Mean),
        Some(PyVal::Str(s)) => match s.as_str() {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            other => Err(Failure::new(
                ErrorKind::InvalidArgument,
                format!("{other} is not a valid value for reduction"),
            )),
        },
        Some(other) => Err(type_error(format!(
            "reduction must be a string, not {}",
            other.type_name()
        ))),
    }
}

/// The table's entry for a function value: `math.` names are math's; bare `abs`, `min`, `max`
/// and `sum` are torch's when the first argument is a tensor and Python's otherwise.
fn function_entry<T>(name: &str, first: Option<&PyVal<T>>) -> Res<&'static names::Function> {
    use names::Module as M;
    let f = if let Some(m) = name.strip_prefix("math.") {
        TABLE.function(Some(M::Math), m)
    } else if BUILTIN_OR_TORCH.contains(&name) {
        let module = match first {
            Some(PyVal::Tensor(_)) => M::Torch,
            _ => M::Builtin,
        };
        TABLE.function(Some(module), name)
    } else {
        TABLE.function(None, name)
    };
    f.ok_or_else(|| unsupported(format!("the function `{name}`")))
}

fn display_name(name: &str) -> &str {
    name.strip_prefix("math.").unwrap_or(name)
}

fn method_entry<'t>(
    m: Option<&'t names::Method>,
    owner: &str,
    name: &str,
) -> Res<&'t names::Method> {
    m.ok_or_else(|| type_error(format!("'{owner}' object has no method '{name}'")))
}

/// `module(...)`, bound as `module.forward(...)`.
fn forward_args<T: Clone>(pos: Vec<PyVal<T>>, kw: Vec<(String, PyVal<T>)>) -> Res<Args<T>> {
    let sig = &method_entry(TABLE.module_method("forward"), "Module", "forward")?.sig;
    Args::bind("forward", sig, pos, kw)
}

impl<B: Backend> Interp<'_, B> {
    pub(crate) fn call_value(
        &mut self,
        callee: PyVal<B::Tensor>,
        pos: Vec<PyVal<B::Tensor>>,
        kw: Vec<(String, PyVal<B::Tensor>)>,
    ) -> Res<PyVal<B::Tensor>> {
        match callee {
            PyVal::Builtin(name) => {
                let sig = &function_entry(&name, pos.first())?.sig;
                let a = Args::bind(display_name(&name), sig, pos, kw)?;
                self.call_function(&name, a)
            }
            PyVal::Method(recv, name) => match *recv {
                PyVal::Tensor(t) => {
                    let sig = &method_entry(TABLE.tensor_method(&name), "Tensor", &name)?.sig;
                    let a = Args::bind(&name, sig, pos, kw)?.with_receiver(PyVal::Tensor(t));
                    self.tensor_fn(&name, a)
                }
                PyVal::Module(m) => {
                    let sig = &method_entry(TABLE.module_method(&name), "Module", &name)?.sig;
                    let a = Args::bind(&name, sig, pos, kw)?;
                    self.module_method(&m, &name, a)
                }
                PyVal::Optimizer(o) => {
                    let sig = &method_entry(TABLE.optimizer_method(&name), "SGD", &name)?.sig;
                    // `set_to_none` only changes what SGD's own zero_grad does with no grad.
                    Args::bind(&name, sig, pos, kw)?;
                    self.call(if name == "step" {
                        Call::SgdStep { optimizer: o }
                    } else {
                        Call::SgdZeroGrad { optimizer: o }
                    })
                }
                other => Err(type_error(format!(
                    "'{}' object has no method '{name}'",
                    other.type_name()
                ))),
            },
            PyVal::Module(m) => {
                let a = forward_args(pos, kw)?;
                self.call_module(&m, a)
            }
            other => Err(type_error(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_function(&mut self, name: &str, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let first_is_tensor = matches!(a.peek("input"), Some(PyVal::Tensor(_)));
        match name {
            "tensor" => self.make_tensor(a),
            "ones" | "zeros" => {
                let sizes = a.sizes("size")?;
                let (dtype, rg) = self.factory_kwargs(&mut a, DType::F32)?;
                let value = Scalar::Int((name == "ones") as i64);
                let t = self.call(Call::Full {
                    shape: to_shape(&sizes)?,
                    value,
                    dtype,
                })?;
                self.with_requires_grad(t, rg)
            }
            "full" => {
                let sizes = match a.req("size")? {
                    PyVal::List(xs) | PyVal::Tuple(xs) => xs
                        .iter()
                        .map(|x| as_int(x, name))
                        .collect::<Res<Vec<_>>>()?,
                    v => vec![as_int(&v, name)?],
                };
                let fill = a.req("fill_value")?;
                let value = fill
                    .as_scalar()
                    .ok_or_else(|| type_error("full(): fill_value must be a number"))?;
                let inferred = match value {
                    Scalar::Bool(_) => DType::Bool,
                    Scalar::Int(_) => DType::I64,
                    Scalar::Float(_) => DType::F32,
                };
                let (dtype, rg) = self.factory_kwargs(&mut a, inferred)?;
                let t = self.call(Call::Full {
                    shape: to_shape(&sizes)?,
                    value,
                    dtype,
                })?;
                self.with_requires_grad(t, rg)
            }
            "arange" => {
                // The table binds a lone `arange(5)` to `start`; Python reads it as `end`.
                let first = a.req("start")?;
                let (start, end) = match a.take("end") {
                    None | Some(PyVal::None) => (PyVal::Int(0), first),
                    Some(end) => (first, end),
                };
                let step = a.take("step").unwrap_or(PyVal::Int(1));
                let any_float = [&start, &end, &step]
                    .iter()
                    .any(|v| matches!(v, PyVal::Float(_)));
                let inferred = if any_float { DType::F32 } else { DType::I64 };
                let (dtype, rg) = self.factory_kwargs(&mut a, inferred)?;
                let t = self.call(Call::Arange {
                    start: as_f64(&start, name)?,
                    end: as_f64(&end, name)?,
                    step: as_f64(&step, name)?,
                    dtype,
                })?;
                self.with_requires_grad(t, rg)
            }
            "linspace" => {
                let start = as_f64(&a.req("start")?, name)?;
                let end = as_f64(&a.req("end")?, name)?;
                let steps = as_int(&a.req("steps")?, name)?;
                let (dtype, rg) = self.factory_kwargs(&mut a, DType::F32)?;
                let steps = usize::try_from(steps).map_err(|_| {
                    Failure::new(
                        ErrorKind::InvalidArgument,
                        "number of steps must be non-negative",
                    )
                })?;
                let t = self.call(Call::Linspace {
                    start,
                    end,
                    steps,
                    dtype,
                })?;
                self.with_requires_grad(t, rg)
            }
            "eye" => {
                let n = as_int(&a.req("n")?, name)?;
                let m = match a.take("m") {
                    None | Some(PyVal::None) => n,
                    Some(v) => as_int(&v, name)?,
                };
                let (dtype, rg) = self.factory_kwargs(&mut a, DType::F32)?;
                let shape = to_shape(&[n, m])?;
                let t = self.call(Call::Eye {
                    n: shape[0],
                    m: shape[1],
                    dtype,
                })?;
                self.with_requires_grad(t, rg)
            }
            "randn" | "rand" => {
                let sizes = a.sizes("size")?;
                let (dtype, rg) = self.factory_kwargs(&mut a, DType::F32)?;
                let shape = to_shape(&sizes)?;
                self.random(name == "randn", shape, dtype, rg)
            }
            "no_grad" | "enable_grad" => Ok(PyVal::GradCtx {
                enabled: name == "enable_grad",
                prev: None,
            }),
            "set_grad_enabled" => {
                let mode = as_bool(&a.req("mode")?, name)?;
                // Takes effect on construction; `with` restores the mode seen here.
                let prev = self.set_grad_enabled(mode)?;
                Ok(PyVal::GradCtx {
                    enabled: mode,
                    prev: Some(prev),
                })
            }
            "is_grad_enabled" => self.call(Call::IsGradEnabled),
            "Linear" | "Conv2d" | "Sequential" | "Flatten" | "ReLU" | "Sigmoid" | "MSELoss" => {
                self.make_module(name, a)
            }
            "SGD" => self.make_sgd(a),
            "max" | "min" | "sum" | "abs" if first_is_tensor => self.tensor_fn(name, a),
            "print" | "range" | "len" | "list" | "tuple" | "float" | "int" | "bool" | "id"
            | "type" | "abs" | "min" | "max" | "sum" | "round" => self.python_builtin(name, a),
            "math.sqrt" | "math.exp" | "math.log" => {
                let x = as_f64(&a.req("x")?, name)?;
                if x < 0.0 || (x == 0.0 && name == "math.log") && name != "math.exp" {
                    return Err(type_error("ValueError: math domain error"));
                }
                Ok(PyVal::Float(match name {
                    "math.sqrt" => x.sqrt(),
                    "math.exp" => x.exp(),
                    _ => x.ln(),
                }))
            }
            "manual_seed" | "isinstance" => Err(unsupported(format!("the function `{name}`"))),
            // Every other name the table knows is a torch or `F.` function of tensors.
            _ => self.tensor_fn(name, a),
        }
    }

    /// `dtype=` and `requires_grad=` (and an ignored `device='cpu'`) of factory functions.
    fn factory_kwargs(&mut self, a: &mut Args<B::Tensor>, default: DType) -> Res<(DType, bool)> {
        let dtype = opt_dtype(a.take("dtype"), &a.name.clone())?.unwrap_or(default);
        let rg = opt_bool(a.take("requires_grad"), false, &a.name.clone())?;
        match a.take("device") {
            None | Some(PyVal::None) | Some(PyVal::Device) => {}
            Some(PyVal::Str(s)) if s == "cpu" => {}
            Some(_) => {
                return Err(Failure::new(
                    ErrorKind::DeviceUnavailable,
                    "the harness runs programs on the CPU only",
                ));
            }
        }
        Ok((dtype, rg))
    }

    /// Python's `requires_grad=True` factory argument: the flag is set on the new leaf.
    fn with_requires_grad(&mut self, t: PyVal<B::Tensor>, rg: bool) -> Res<PyVal<B::Tensor>> {
        if !rg {
            return Ok(t);
        }
        let x = as_tensor(t.clone(), "requires_grad")?;
        // Python's factories check the dtype in `at::Tensor::set_requires_grad`, whose message
        // neither `requires_grad_` nor the Python setter shares; the check is the same on both
        // backends, so the interpreter makes it.
        if !self.dtype_of(&x)?.is_float() {
            return Err(Failure::new(
                ErrorKind::RequiresGradDtype,
                "Only Tensors of floating point and complex dtype can require gradients",
            ));
        }
        self.call(Call::RequiresGrad_ { x, flag: true })?;
        Ok(t)
    }

    /// `randn` (Box-Muller) and `rand` from the case's ChaCha8 stream, in program order.
    fn random(
        &mut self,
        normal: bool,
        shape: Vec<usize>,
        dtype: DType,
        rg: bool,
    ) -> Res<PyVal<B::Tensor>> {
        if !dtype.is_float() {
            return Err(Failure::new(
                ErrorKind::DtypeNotSupported,
                format!(
                    "\"{}\" not implemented for '{}'",
                    if normal {
                        "normal_kernel_cpu"
                    } else {
                        "check_uniform_bounds"
                    },
                    if dtype == DType::I64 { "Long" } else { "Bool" }
                ),
            ));
        }
        let n: usize = shape.iter().product();
        let values = if normal {
            self.draw_normal(n)
        } else {
            (0..n).map(|_| self.rng.random::<f64>()).collect()
        };
        let t = self.tensor_from_values(shape, dtype, values)?;
        self.with_requires_grad(t, rg)
    }

    pub(crate) fn draw_normal(&mut self, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            // 1 - u keeps the logarithm's argument in (0, 1].
            let u1 = 1.0 - self.rng.random::<f64>();
            let u2 = self.rng.random::<f64>();
            let r = (-2.0 * u1.ln()).sqrt();
            let th = 2.0 * std::f64::consts::PI * u2;
            out.push(r * th.cos());
            out.push(r * th.sin());
        }
        out.truncate(n);
        out
    }

    fn draw_uniform(&mut self, n: usize, bound: f64) -> Vec<f64> {
        (0..n)
            .map(|_| (2.0 * self.rng.random::<f64>() - 1.0) * bound)
            .collect()
    }

    fn tensor_from_values(
        &mut self,
        shape: Vec<usize>,
        dtype: DType,
        mut values: Vec<f64>,
    ) -> Res<PyVal<B::Tensor>> {
        for v in &mut values {
            *v = cast(*v, dtype);
        }
        self.call(Call::FromData {
            data: TensorData {
                shape,
                dtype,
                values,
            },
        })
    }

    /// `torch.tensor(data, dtype=None, requires_grad=False)`.
    fn make_tensor(&mut self, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let data = a.req("data")?;
        let mut shape = Vec::new();
        let mut values = Vec::new();
        let mut kind = 0u8; // 0 bool, 1 int, 2 float: the inferred dtype's rank
        let mut empty = true;
        flatten_data(&data, 0, &mut shape, &mut values, &mut kind, &mut empty)?;
        let inferred = if empty && values.is_empty() {
            DType::F32
        } else {
            [DType::Bool, DType::I64, DType::F32][kind as usize]
        };
        let (dtype, rg) = self.factory_kwargs(&mut a, inferred)?;
        let t = self.tensor_from_values(shape, dtype, values)?;
        self.with_requires_grad(t, rg)
    }

    fn shape_of(&mut self, x: &B::Tensor) -> Res<Vec<usize>> {
        match self.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Shape,
        })? {
            PyVal::Tuple(xs) | PyVal::List(xs) => xs
                .iter()
                .map(|v| as_int(v, "shape").map(|i| i as usize))
                .collect(),
            _ => Err(type_error("shape is not a tuple")),
        }
    }

    fn dtype_of(&mut self, x: &B::Tensor) -> Res<DType> {
        match self.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Dtype,
        })? {
            PyVal::Dtype(d) => Ok(d),
            _ => Err(type_error("dtype is not a dtype")),
        }
    }

    /// Tensor functions and methods; for a method call the receiver is the first positional.
    pub(crate) fn tensor_fn(
        &mut self,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        use Call as C;
        // Functions whose first argument is not one tensor.
        match name {
            "cat" | "stack" => {
                let xs = match a.req("tensors")? {
                    PyVal::List(xs) | PyVal::Tuple(xs) => xs
                        .into_iter()
                        .map(|x| as_tensor(x, name))
                        .collect::<Res<Vec<_>>>()?,
                    other => {
                        return Err(type_error(format!(
                            "{name}(): expected a sequence of Tensors, got {}",
                            other.type_name()
                        )));
                    }
                };
                let dim = a
                    .take("dim")
                    .map(|d| as_int(&d, name))
                    .transpose()?
                    .unwrap_or(0);
                return self.call(if name == "cat" {
                    C::Cat { xs, dim }
                } else {
                    C::Stack { xs, dim }
                });
            }
            "where" => {
                let cond = as_tensor(a.req("condition")?, name)?;
                let x = as_operand(a.req("input")?, name)?;
                let y = as_operand(a.req("other")?, name)?;
                return self.call(C::Where { cond, a: x, b: y });
            }
            "pow" if !matches!(a.peek("input"), Some(PyVal::Tensor(_)) | None) => {
                let base = a
                    .req("input")?
                    .as_scalar()
                    .ok_or_else(|| type_error("pow(): bad base"))?;
                let exp = as_tensor(a.req("exponent")?, name)?;
                return self.call(C::PowScalarBase { base, exp });
            }
            _ => {}
        }
        let x = as_tensor(a.req("input")?, name)?;
        let binary = |op| -> Option<BinaryOp> { Some(op) };
        let bop = match name {
            "add" => binary(BinaryOp::Add),
            "sub" => binary(BinaryOp::Sub),
            "mul" => binary(BinaryOp::Mul),
            "div" => binary(BinaryOp::Div),
            "pow" => binary(BinaryOp::Pow),
            "maximum" => binary(BinaryOp::Maximum),
            "minimum" => binary(BinaryOp::Minimum),
            "eq" => binary(BinaryOp::Eq),
            "ne" => binary(BinaryOp::Ne),
            "lt" => binary(BinaryOp::Lt),
            "le" => binary(BinaryOp::Le),
            "gt" => binary(BinaryOp::Gt),
            "ge" => binary(BinaryOp::Ge),
            _ => None,
        };
        if let Some(op) = bop {
            let key = if name == "pow" { "exponent" } else { "other" };
            let b = as_operand(a.req(key)?, name)?;
            return self.call(C::Binary { op, a: x, b });
        }
        let uop = match name {
            "neg" => Some(UnaryOp::Neg),
            "exp" => Some(UnaryOp::Exp),
            "log" => Some(UnaryOp::Log),
            "sqrt" => Some(UnaryOp::Sqrt),
            "abs" => Some(UnaryOp::Abs),
            "sin" => Some(UnaryOp::Sin),
            "cos" => Some(UnaryOp::Cos),
            "tanh" => Some(UnaryOp::Tanh),
            "sigmoid" => Some(UnaryOp::Sigmoid),
            "relu" => Some(UnaryOp::Relu),
            "reciprocal" => Some(UnaryOp::Reciprocal),
            _ => None,
        };
        if let Some(op) = uop {
            return self.call(C::Unary { op, x });
        }
        let iop = match name {
            "add_" => Some(InplaceOp::Add),
            "sub_" => Some(InplaceOp::Sub),
            "mul_" => Some(InplaceOp::Mul),
            "div_" => Some(InplaceOp::Div),
            _ => None,
        };
        if let Some(op) = iop {
            let other = as_operand(a.req("other")?, name)?;
            self.call(C::Inplace {
                op,
                x: x.clone(),
                other,
            })?;
            return Ok(PyVal::Tensor(x));
        }
        let call = match name {
            "clamp" | "clamp_" => {
                let min = opt_scalar(a.take("min"), name)?;
                let max = opt_scalar(a.take("max"), name)?;
                if name == "clamp" {
                    C::Clamp { x, min, max }
                } else {
                    self.call(C::Clamp_ {
                        x: x.clone(),
                        min,
                        max,
                    })?;
                    return Ok(PyVal::Tensor(x));
                }
            }
            "sum" | "mean" => {
                let dims = opt_dims(a.take("dim"), name)?;
                let keepdim = opt_bool(a.take("keepdim"), false, name)?;
                if name == "sum" {
                    C::Sum { x, dims, keepdim }
                } else {
                    C::Mean { x, dims, keepdim }
                }
            }
            "max" | "min" => match a.take("dim") {
                None => {
                    if name == "max" {
                        C::MaxAll { x }
                    } else {
                        C::MinAll { x }
                    }
                }
                Some(PyVal::Tensor(other)) => C::Binary {
                    op: if name == "max" {
                        BinaryOp::Maximum
                    } else {
                        BinaryOp::Minimum
                    },
                    a: x,
                    b: Operand::Tensor(other),
                },
                Some(d) => {
                    let dim = as_int(&d, name)?;
                    let keepdim = opt_bool(a.take("keepdim"), false, name)?;
                    if name == "max" {
                        C::MaxDim { x, dim, keepdim }
                    } else {
                        C::MinDim { x, dim, keepdim }
                    }
                }
            },
            "softmax" | "log_softmax" => {
                let dim = as_int(&a.req("dim")?, name)?;
                if name == "softmax" {
                    C::Softmax { x, dim }
                } else {
                    C::LogSoftmax { x, dim }
                }
            }
            "matmul" | "mm" | "bmm" => {
                let key = if name == "matmul" { "other" } else { "mat2" };
                let b = as_tensor(a.req(key)?, name)?;
                match name {
                    "matmul" => C::Matmul { a: x, b },
                    "mm" => C::Mm { a: x, b },
                    _ => C::Bmm { a: x, b },
                }
            }
            "view" | "reshape" => {
                let shape = a.sizes("shape")?;
                if name == "view" {
                    C::View { x, shape }
                } else {
                    C::Reshape { x, shape }
                }
            }
            "squeeze" => {
                let dim = match a.take("dim") {
                    None | Some(PyVal::None) => None,
                    Some(d) => Some(as_int(&d, name)?),
                };
                C::Squeeze { x, dim }
            }
            "unsqueeze" => C::Unsqueeze {
                x,
                dim: as_int(&a.req("dim")?, name)?,
            },
            "flatten" => {
                let start = a.take("start_dim").map(|v| as_int(&v, name)).transpose()?;
                let end = a.take("end_dim").map(|v| as_int(&v, name)).transpose()?;
                C::Flatten {
                    x,
                    start: start.unwrap_or(0),
                    end: end.unwrap_or(-1),
                }
            }
            "t" => C::T { x },
            "transpose" => C::Transpose {
                x,
                dim0: as_int(&a.req("dim0")?, name)?,
                dim1: as_int(&a.req("dim1")?, name)?,
            },
            "permute" => C::Permute {
                x,
                dims: a.sizes("dims")?,
            },
            "expand" => C::Expand {
                x,
                sizes: a.sizes("sizes")?,
            },
            "narrow" => C::Narrow {
                x,
                dim: as_int(&a.req("dim")?, name)?,
                start: as_int(&a.req("start")?, name)?,
                length: as_int(&a.req("length")?, name)?,
            },
            "select" => C::Select {
                x,
                dim: as_int(&a.req("dim")?, name)?,
                index: as_int(&a.req("index")?, name)?,
            },
            "contiguous" => C::Contiguous { x },
            "clone" => C::Clone { x },
            "to" => match a.take("dtype") {
                Some(PyVal::Dtype(dtype)) => C::ToDtype { x, dtype },
                Some(PyVal::Str(s)) if s == "cpu" => {
                    return Ok(PyVal::Tensor(x));
                }
                Some(PyVal::Device) => {
                    return Ok(PyVal::Tensor(x));
                }
                _ => return Err(unsupported("to() with anything but a dtype or 'cpu'")),
            },
            "double" => C::ToDtype {
                x,
                dtype: DType::F64,
            },
            "float" => C::ToDtype {
                x,
                dtype: DType::F32,
            },
            "long" => C::ToDtype {
                x,
                dtype: DType::I64,
            },
            "cpu" => {
                return Ok(PyVal::Tensor(x));
            }
            "zero_" | "fill_" | "copy_" | "detach_" => {
                let call = match name {
                    "zero_" => C::Zero_ { x: x.clone() },
                    "fill_" => {
                        let v = a.req("value")?;
                        let value = v.as_scalar().ok_or_else(|| {
                            unsupported(format!("fill_ with a {}", v.type_name()))
                        })?;
                        C::Fill_ {
                            x: x.clone(),
                            value,
                        }
                    }
                    "copy_" => C::Copy_ {
                        x: x.clone(),
                        src: as_tensor(a.req("src")?, name)?,
                    },
                    _ => C::Detach_ { x: x.clone() },
                };
                self.call(call)?;
                // In-place methods return self.
                return Ok(PyVal::Tensor(x));
            }
            "requires_grad_" => {
                let flag = opt_bool(a.take("requires_grad"), true, name)?;
                self.call(C::RequiresGrad_ { x: x.clone(), flag })?;
                return Ok(PyVal::Tensor(x));
            }
            "retain_grad" => C::RetainGrad { x },
            "detach" => C::Detach { x },
            "item" => C::Item { x },
            "tolist" => C::ToList { x },
            "backward" => {
                let gradient = opt_tensor(a.take("gradient"), name)?;
                let retain_graph = match a.take("retain_graph") {
                    None | Some(PyVal::None) => None,
                    Some(v) => Some(as_bool(&v, name)?),
                };
                let create_graph = opt_bool(a.take("create_graph"), false, name)?;
                C::Backward {
                    root: x,
                    gradient,
                    retain_graph,
                    create_graph,
                }
            }
            "size" => {
                let dim = a.take("dim");
                let shape = self.call(C::GetAttr {
                    x,
                    attr: TensorAttr::Shape,
                })?;
                return match dim {
                    None | Some(PyVal::None) => Ok(shape),
                    Some(d) => {
                        let d = as_int(&d, name)?;
                        let PyVal::Tuple(xs) = shape else {
                            return Err(type_error("shape is not a tuple"));
                        };
                        let n = xs.len() as i64;
                        let lo = -(n.max(1));
                        let hi = n.max(1) - 1;
                        if d < lo || d > hi {
                            return Err(Failure::new(
                                ErrorKind::DimOutOfRange,
                                format!(
                                    "Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})"
                                ),
                            ));
                        }
                        let j = if d < 0 { d + n } else { d };
                        Ok(xs.get(j as usize).cloned().unwrap_or(PyVal::Int(1)))
                    }
                };
            }
            "dim" => C::GetAttr {
                x,
                attr: TensorAttr::Ndim,
            },
            "numel" => C::GetAttr {
                x,
                attr: TensorAttr::Numel,
            },
            "linear" => {
                let weight = as_tensor(a.req("weight")?, name)?;
                let bias = opt_tensor(a.take("bias"), name)?;
                C::Linear { x, weight, bias }
            }
            "conv2d" => {
                let weight = as_tensor(a.req("weight")?, name)?;
                let bias = opt_tensor(a.take("bias"), name)?;
                let stride = pair(a.take("stride"), 1, name)?;
                let padding = pair(a.take("padding"), 0, name)?;
                let dilation = pair(a.take("dilation"), 1, name)?;
                let groups = a
                    .take("groups")
                    .map(|g| as_int(&g, name))
                    .transpose()?
                    .unwrap_or(1);
                C::Conv2d {
                    x,
                    weight,
                    bias,
                    stride,
                    padding,
                    dilation,
                    groups: usize::try_from(groups).map_err(|_| {
                        Failure::new(
                            ErrorKind::InvalidArgument,
                            "non-positive groups is not supported",
                        )
                    })?,
                }
            }
            "mse_loss" => {
                let target = as_tensor(a.req("target")?, name)?;
                let reduction = reduction(a.take("reduction"))?;
                C::MseLoss {
                    input: x,
                    target,
                    reduction,
                }
            }
            "ones_like" | "zeros_like" | "randn_like" | "rand_like" => {
                let shape = self.shape_of(&x)?;
                let own = self.dtype_of(&x)?;
                let (dtype, rg) = self.factory_kwargs(&mut a, own)?;
                if name.starts_with("rand") {
                    return self.random(name == "randn_like", shape, dtype, rg);
                }
                let t = self.call(C::Full {
                    shape,
                    value: Scalar::Int((name == "ones_like") as i64),
                    dtype,
                })?;
                return self.with_requires_grad(t, rg);
            }
            other => return Err(unsupported(format!("the tensor method `{other}`"))),
        };
        self.call(call)
    }

    fn new_param(&mut self, shape: Vec<usize>, bound: f64) -> Res<B::Tensor> {
        let n = shape.iter().product();
        let values = self.draw_uniform(n, bound);
        let t = as_tensor(
            self.tensor_from_values(shape, DType::F32, values)?,
            "Parameter",
        )?;
        self.call(Call::RequiresGrad_ {
            x: t.clone(),
            flag: true,
        })?;
        Ok(t)
    }

    fn make_module(&mut self, name: &str, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let size = |a: &mut Args<B::Tensor>, key: &str| -> Res<usize> {
            let v = as_int(&a.req(key)?, name)?;
            usize::try_from(v).map_err(|_| {
                Failure::new(
                    ErrorKind::InvalidArgument,
                    format!("{name}(): {key} must be non-negative, got {v}"),
                )
            })
        };
        let m = match name {
            "Linear" => {
                let fin = size(&mut a, "in_features")?;
                let fout = size(&mut a, "out_features")?;
                let bias = opt_bool(a.take("bias"), true, name)?;
                // kaiming_uniform_(a=sqrt(5)) and the bias rule both give U(-1/sqrt(fan_in), ..).
                let bound = if fin > 0 {
                    1.0 / (fin as f64).sqrt()
                } else {
                    0.0
                };
                let mut m = Module::new(ModKind::Linear);
                let w = self.new_param(vec![fout, fin], bound)?;
                m.params.push(("weight".into(), Some(w)));
                let b = if bias {
                    Some(self.new_param(vec![fout], bound)?)
                } else {
                    None
                };
                m.params.push(("bias".into(), b));
                m
            }
            "Conv2d" => {
                let cin = size(&mut a, "in_channels")?;
                let cout = size(&mut a, "out_channels")?;
                let k = pair(Some(a.req("kernel_size")?), 1, name)?;
                let stride = pair(a.take("stride"), 1, name)?;
                let padding = match a.take("padding") {
                    Some(PyVal::Str(s)) if s == "same" => {
                        return Err(unsupported("padding='same'"));
                    }
                    p => pair(p, 0, name)?,
                };
                let dilation = pair(a.take("dilation"), 1, name)?;
                let groups = a
                    .take("groups")
                    .map(|g| as_int(&g, name))
                    .transpose()?
                    .unwrap_or(1);
                let bias = opt_bool(a.take("bias"), true, name)?;
                let groups = match usize::try_from(groups) {
                    Ok(g) if g > 0 && cin % g == 0 && cout % g == 0 => g,
                    _ => {
                        return Err(Failure::new(
                            ErrorKind::InvalidArgument,
                            "ValueError: in_channels and out_channels must be divisible by groups",
                        ));
                    }
                };
                let fan_in = cin / groups * k[0] * k[1];
                let bound = if fan_in > 0 {
                    1.0 / (fan_in as f64).sqrt()
                } else {
                    0.0
                };
                let mut m = Module::new(ModKind::Conv2d {
                    stride,
                    padding,
                    dilation,
                    groups,
                });
                let w = self.new_param(vec![cout, cin / groups, k[0], k[1]], bound)?;
                m.params.push(("weight".into(), Some(w)));
                let b = if bias {
                    Some(self.new_param(vec![cout], bound)?)
                } else {
                    None
                };
                m.params.push(("bias".into(), b));
                m
            }
            "Sequential" => {
                let mut m = Module::new(ModKind::Sequential);
                for (i, v) in a.rest.drain(..).enumerate() {
                    match v {
                        PyVal::Module(c) => m.children.push((i.to_string(), c)),
                        other => {
                            return Err(type_error(format!(
                                "{} is not a Module subclass",
                                other.type_name()
                            )));
                        }
                    }
                }
                m
            }
            "Flatten" => {
                let start = a.take("start_dim").map(|v| as_int(&v, name)).transpose()?;
                let end = a.take("end_dim").map(|v| as_int(&v, name)).transpose()?;
                Module::new(ModKind::Flatten {
                    start: start.unwrap_or(1),
                    end: end.unwrap_or(-1),
                })
            }
            "ReLU" | "Sigmoid" => Module::new(if name == "ReLU" {
                ModKind::ReLU
            } else {
                ModKind::Sigmoid
            }),
            _ => {
                let r = reduction(a.take("reduction"))?;
                Module::new(ModKind::MseLoss(r))
            }
        };
        Ok(PyVal::Module(Rc::new(RefCell::new(m))))
    }

    fn make_sgd(&mut self, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let params = match a.req("params")? {
            PyVal::List(xs) | PyVal::Tuple(xs) => xs
                .into_iter()
                .map(|x| as_tensor(x, "SGD"))
                .collect::<Res<Vec<_>>>()?,
            PyVal::Tensor(_) => {
                return Err(type_error(
                    "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor",
                ));
            }
            other => {
                return Err(type_error(format!(
                    "SGD(): params must be a list of tensors, not {}",
                    other.type_name()
                )));
            }
        };
        let num = |a: &mut Args<B::Tensor>, key: &str, d: f64| -> Res<f64> {
            a.take(key)
                .map(|v| as_f64(&v, "SGD"))
                .transpose()
                .map(|v| v.unwrap_or(d))
        };
        let lr = num(&mut a, "lr", 1e-3)?;
        let momentum = num(&mut a, "momentum", 0.0)?;
        let dampening = num(&mut a, "dampening", 0.0)?;
        let weight_decay = num(&mut a, "weight_decay", 0.0)?;
        let nesterov = opt_bool(a.take("nesterov"), false, "SGD")?;
        self.call(Call::SgdNew {
            params,
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        })
    }

    fn module_params(m: &ModRef<B::Tensor>) -> Vec<(String, B::Tensor)> {
        let mut ps = Vec::new();
        m.borrow().named_parameters("", &mut ps);
        ps
    }

    fn module_method(
        &mut self,
        m: &ModRef<B::Tensor>,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        match name {
            "parameters" | "named_parameters" => {
                let _ = a.take(if name == "parameters" {
                    "recurse"
                } else {
                    "prefix"
                });
                let ps = Self::module_params(m);
                Ok(PyVal::List(
                    ps.into_iter()
                        .map(|(n, t)| {
                            if name == "parameters" {
                                PyVal::Tensor(t)
                            } else {
                                PyVal::Tuple(vec![PyVal::Str(n), PyVal::Tensor(t)])
                            }
                        })
                        .collect(),
                ))
            }
            "zero_grad" => {
                let set_to_none = opt_bool(a.take("set_to_none"), true, name)?;
                for (_, p) in Self::module_params(m) {
                    if set_to_none {
                        self.call(Call::SetGrad { x: p, grad: None })?;
                    } else if let PyVal::Tensor(g) = self.call(Call::GetAttr {
                        x: p,
                        attr: TensorAttr::Grad,
                    })? {
                        self.call(Call::Zero_ { x: g })?;
                    }
                }
                Ok(PyVal::None)
            }
            "requires_grad_" => {
                let flag = opt_bool(a.take("requires_grad"), true, name)?;
                for (_, p) in Self::module_params(m) {
                    self.call(Call::RequiresGrad_ { x: p, flag })?;
                }
                Ok(PyVal::Module(m.clone()))
            }
            "train" | "eval" => {
                let _ = a.take("mode");
                Ok(PyVal::Module(m.clone()))
            }
            "children" => Ok(PyVal::List(
                m.borrow()
                    .children
                    .iter()
                    .map(|(_, c)| PyVal::Module(c.clone()))
                    .collect(),
            )),
            _ => self.call_module(m, a),
        }
    }

    /// `module(x)`: the forward pass, as backend calls.
    fn call_module(
        &mut self,
        m: &ModRef<B::Tensor>,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        let kind = m.borrow().kind.clone();
        let x = as_tensor(a.req("input")?, "forward")?;
        let call = match kind {
            ModKind::Sequential => {
                let children: Vec<_> = m.borrow().children.iter().map(|(_, c)| c.clone()).collect();
                let mut cur = PyVal::Tensor(x);
                for c in children {
                    cur = self.call_module(&c, forward_args(vec![cur], Vec::new())?)?;
                }
                return Ok(cur);
            }
            ModKind::Linear => {
                let mb = m.borrow();
                let weight = mb.param("weight").flatten();
                let bias = mb.param("bias").flatten();
                drop(mb);
                let weight = weight.ok_or_else(|| type_error("Linear has no weight"))?;
                Call::Linear { x, weight, bias }
            }
            ModKind::Conv2d {
                stride,
                padding,
                dilation,
                groups,
            } => {
                let mb = m.borrow();
                let weight = mb.param("weight").flatten();
                let bias = mb.param("bias").flatten();
                drop(mb);
                let weight = weight.ok_or_else(|| type_error("Conv2d has no weight"))?;
                Call::Conv2d {
                    x,
                    weight,
                    bias,
                    stride,
                    padding,
                    dilation,
                    groups,
                }
            }
            ModKind::Flatten { start, end } => Call::Flatten { x, start, end },
            ModKind::ReLU | ModKind::Sigmoid => Call::Unary {
                op: if matches!(kind, ModKind::ReLU) {
                    UnaryOp::Relu
                } else {
                    UnaryOp::Sigmoid
                },
                x,
            },
            ModKind::MseLoss(reduction) => {
                let target = as_tensor(a.req("target")?, "MSELoss")?;
                Call::MseLoss {
                    input: x,
                    target,
                    reduction,
                }
            }
        };
        self.call(call)
    }

    fn python_builtin(&mut self, name: &str, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        match name {
            "print" => {
                let args = std::mem::take(&mut a.rest);
                // `print` returns None in Python; the harness keeps what it printed as the
                // statement's observed result.
                Ok(PyVal::Tuple(args))
            }
            "range" => {
                let ints: Vec<i64> = ["start", "stop", "step"]
                    .into_iter()
                    .filter_map(|k| a.take(k))
                    .map(|v| as_int(&v, name))
                    .collect::<Res<_>>()?;
                let (s, e, st) = match ints.as_slice() {
                    [e] => (0, *e, 1),
                    [s, e] => (*s, *e, 1),
                    [s, e, st] => (*s, *e, *st),
                    _ => return Err(type_error("range expected 1 to 3 arguments")),
                };
                if st == 0 {
                    return Err(type_error("ValueError: range() arg 3 must not be zero"));
                }
                Ok(PyVal::Range(s, e, st))
            }
            "len" => {
                let v = a.req("obj")?;
                match v {
                    PyVal::List(xs) | PyVal::Tuple(xs) => Ok(PyVal::Int(xs.len() as i64)),
                    PyVal::Tensor(t) => {
                        let shape = self.shape_of(&t)?;
                        shape
                            .first()
                            .map(|&n| PyVal::Int(n as i64))
                            .ok_or_else(|| type_error("len() of a 0-d tensor"))
                    }
                    PyVal::Module(m) => Ok(PyVal::Int(m.borrow().children.len() as i64)),
                    other => Err(type_error(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    ))),
                }
            }
            "list" | "tuple" => {
                let v = a.take("iterable");
                let xs = match v {
                    None => Vec::new(),
                    Some(PyVal::List(xs) | PyVal::Tuple(xs)) => xs,
                    Some(PyVal::Range(s, e, st)) => {
                        let mut out = Vec::new();
                        let mut i = s;
                        while (st > 0 && i < e) || (st < 0 && i > e) {
                            out.push(PyVal::Int(i));
                            i += st;
                        }
                        out
                    }
                    Some(other) => {
                        return Err(unsupported(format!("{name}() of a {}", other.type_name())));
                    }
                };
                Ok(if name == "list" {
                    PyVal::List(xs)
                } else {
                    PyVal::Tuple(xs)
                })
            }
            "float" | "int" | "bool" | "abs" | "round" => {
                let mut v = a.req(if name == "round" { "number" } else { "x" })?;
                if !matches!(a.take("ndigits"), None | Some(PyVal::None)) {
                    return Err(type_error("round() with ndigits is not supported"));
                }
                if let PyVal::Tensor(t) = &v
                    && name != "abs"
                {
                    v = self.call(Call::Item { x: t.clone() })?;
                }
                let bad = || type_error(format!("{name}() argument must be a number"));
                Ok(match (name, v) {
                    ("bool", v) => PyVal::Bool(self.truthy(&v)?),
                    ("float", v) => PyVal::Float(v.as_scalar().ok_or_else(bad)?.as_f64()),
                    ("int", PyVal::Float(f)) => PyVal::Int(f.trunc() as i64),
                    ("int", v) => PyVal::Int(as_int(&v, name)?),
                    ("round", PyVal::Float(f)) => {
                        // Python rounds half to even.
                        let r = f.round();
                        let r = if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                            r - f.signum()
                        } else {
                            r
                        };
                        PyVal::Int(r as i64)
                    }
                    ("round", v) => PyVal::Int(as_int(&v, name)?),
                    (_, PyVal::Float(f)) => PyVal::Float(f.abs()),
                    (_, v) => PyVal::Int(as_int(&v, name)?.abs()),
                })
            }
            "min" | "max" | "sum" => {
                let mut xs = std::mem::take(&mut a.rest);
                if xs.len() == 1
                    && let Some(PyVal::List(inner) | PyVal::Tuple(inner)) = xs.pop()
                {
                    xs = inner;
                }
                if name == "sum" {
                    let mut acc = PyVal::Int(0);
                    for x in xs {
                        acc = self.binary(crate::program::BinOp::Add, acc, x)?;
                    }
                    return Ok(acc);
                }
                let mut best: Option<PyVal<B::Tensor>> = None;
                for x in xs {
                    let v = x
                        .as_scalar()
                        .ok_or_else(|| type_error(format!("{name}() of non-numbers")))?
                        .as_f64();
                    let keep = match &best {
                        None => true,
                        Some(b) => {
                            let bv = b.as_scalar().map(Scalar::as_f64).unwrap_or(0.0);
                            if name == "min" { v < bv } else { v > bv }
                        }
                    };
                    if keep {
                        best = Some(x);
                    }
                }
                best.ok_or_else(|| {
                    type_error(format!("ValueError: {name}() arg is an empty sequence"))
                })
            }
            "id" => {
                let v = a.req("obj")?;
                match v {
                    PyVal::Tensor(t) => {
                        // Numbered by identity, so equal ids mean `is` on both backends alike.
                        let pos = self.ids.iter().position(|u| self.b.same(u, &t));
                        let i = match pos {
                            Some(i) => i,
                            None => {
                                self.ids.push(t);
                                self.ids.len() - 1
                            }
                        };
                        Ok(PyVal::Int(1000 + i as i64))
                    }
                    other => Err(unsupported(format!("id() of a {}", other.type_name()))),
                }
            }
            _ => {
                let v = a.req("obj")?;
                let t = match &v {
                    PyVal::Tensor(_) => "torch.Tensor",
                    other => other.type_name(),
                };
                Ok(PyVal::Str(format!("<class '{t}'>")))
            }
        }
    }
}

/// Rounds a value the way storing it in `dtype` would.
fn cast(v: f64, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
        DType::I64 => v.trunc(),
        DType::Bool => (v != 0.0) as i64 as f64,
    }
}

/// Nested Python lists of numbers into a shape and row-major values.
fn flatten_data<T>(
    v: &PyVal<T>,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<f64>,
    kind: &mut u8,
    empty: &mut bool,
) -> Res<()> {
    match v {
        PyVal::List(xs) | PyVal::Tuple(xs) => {
            if shape.len() == depth {
                shape.push(xs.len());
            } else if shape.len() < depth || shape[depth] != xs.len() {
                return Err(type_error(format!(
                    "ValueError: expected sequence of length {} at dim {depth} (got {})",
                    shape.get(depth).copied().unwrap_or(0),
                    xs.len()
                )));
            }
            for x in xs {
                flatten_data(x, depth + 1, shape, out, kind, empty)?;
            }
            Ok(())
        }
        _ => {
            if shape.len() != depth {
                return Err(type_error("ValueError: ragged nested sequence"));
            }
            *empty = false;
            let (k, x) = match v {
                PyVal::Bool(b) => (0, *b as i64 as f64),
                PyVal::Int(i) => (1, *i as f64),
                PyVal::Float(f) => (2, *f),
                PyVal::Tensor(_) => {
                    return Err(unsupported("torch.tensor() of tensors"));
                }
                other => {
                    return Err(type_error(format!(
                        "Could not infer dtype of {}",
                        other.type_name()
                    )));
                }
            };
            *kind = (*kind).max(k);
            out.push(x);
            Ok(())
        }
    }
}

//! Calls: what a called value is and where each kind of call goes. Arguments are bound to
//! their parameters by the one name table ([`names::TABLE`], [`names::bind`]); tensor functions,
//! methods and attributes then lower by their ops-table row ([`lower`]), `nn` modules and the
//! optimizer are built and run by [`nn`], Python's builtins and `math` are evaluated by
//! [`python`], and grad-mode contexts here.

mod args;
mod create;
// ---- index ----
mod indexing;
mod lower;
mod nn;
mod nn_fns;
mod python;

use super::value::{PyVal, type_error, unsupported};
use super::{Interp, Res};
use crate::backend::{Backend, Call};
use crate::ops::{ROWS, Spelling};
use crate::program::names::{self, BUILTIN_OR_TORCH, ConstValue, TABLE};
use args::{Args, as_bool};

pub(crate) fn is_function(name: &str) -> bool {
    TABLE.function(None, name).is_some()
}

pub(crate) fn is_tensor_method(name: &str) -> bool {
    TABLE.tensor_method(name).is_some()
}

/// Whether `x.name` is an attribute of the ops table (`x.T`, `x.mT`).
pub(crate) fn is_attr_op(name: &str) -> bool {
    ROWS.iter()
        .any(|r| r.name == name && r.spelled.contains(&Spelling::Attr))
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
                PyVal::Adam(o) => {
                    let sig = &method_entry(TABLE.optimizer_method(&name), "Adam", &name)?.sig;
                    let mut a = Args::bind(&name, sig, pos, kw)?;
                    self.adam_method(o, &name, &mut a)
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

    /// A function value called: the language's own functions (grad mode, `nn`, `optim`,
    /// Python's builtins, `math`), else a tensor function of the ops table.
    fn call_function(&mut self, name: &str, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let first_is_tensor = matches!(a.peek("input"), Some(PyVal::Tensor(_)));
        match name {
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
            "Linear" | "Conv2d" | "Sequential" | "Flatten" | "ReLU" | "Sigmoid" | "Tanh"
            | "Dropout" | "BatchNorm2d" | "MSELoss" => self.make_module(name, a),
            "SGD" => self.make_sgd(a),
            "Adam" => self.make_adam(a),
            "max" | "min" | "sum" | "abs" if first_is_tensor => self.tensor_fn(name, a),
            "print" | "range" | "len" | "list" | "tuple" | "float" | "int" | "bool" | "id"
            | "type" | "abs" | "min" | "max" | "sum" | "round" => self.python_builtin(name, a),
            "math.sqrt" | "math.exp" | "math.log" => self.math_fn(name, a),
            "manual_seed" | "isinstance" => Err(unsupported(format!("the function `{name}`"))),
            // Every other name the table knows is a torch or `F.` function of tensors.
            _ => self.tensor_fn(name, a),
        }
    }
}

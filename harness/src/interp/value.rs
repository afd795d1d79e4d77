//! The interpreter's Python values: what a program variable can hold, and the modules
//! (`nn.Linear`, `nn.Sequential`, ...) that the interpreter builds out of backend calls.

use crate::backend::{DType, Failure, Reduction, Scalar};
use crate::error_kind::ErrorKind;
use std::cell::RefCell;
use std::rc::Rc;

pub(crate) type ModRef<T> = Rc<RefCell<Module<T>>>;

/// A Python value. Tensors are backend handles; cloning a handle keeps Python identity
/// (`b = a` makes `b is a`).
#[derive(Clone)]
pub(crate) enum PyVal<T> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tensor(T),
    List(Vec<PyVal<T>>),
    Tuple(Vec<PyVal<T>>),
    Dtype(DType),
    Module(ModRef<T>),
    Optimizer(usize),
    /// An `optim.Adam`, by its handle among the program's Adams (`Call::Nn`).
    Adam(usize),
    Range(i64, i64, i64),
    /// `torch`, `nn`, `F`, `optim`, `math`, `autograd`.
    Namespace(&'static str),
    /// A free function or class, by its last dotted component (`ones`, `Linear`, `print`).
    Builtin(String),
    /// `x.add_` before it is called.
    Method(Box<PyVal<T>>, String),
    /// `torch.no_grad()` and friends; `prev` is set when the mode was already switched on
    /// construction (`torch.set_grad_enabled(False)` takes effect without `with`).
    GradCtx {
        enabled: bool,
        prev: Option<bool>,
    },
    /// `'cpu'` devices are accepted and have no effect.
    Device,
}

impl<T> PyVal<T> {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            PyVal::None => "NoneType",
            PyVal::Bool(_) => "bool",
            PyVal::Int(_) => "int",
            PyVal::Float(_) => "float",
            PyVal::Str(_) => "str",
            PyVal::Tensor(_) => "Tensor",
            PyVal::List(_) => "list",
            PyVal::Tuple(_) => "tuple",
            PyVal::Dtype(_) => "torch.dtype",
            PyVal::Module(_) => "Module",
            PyVal::Optimizer(_) => "SGD",
            PyVal::Adam(_) => "Adam",
            PyVal::Range(..) => "range",
            PyVal::Namespace(_) => "module",
            PyVal::Builtin(_) => "builtin_function_or_method",
            PyVal::Method(..) => "method",
            PyVal::GradCtx { .. } => "grad_mode",
            PyVal::Device => "torch.device",
        }
    }

    /// A Python number as a tensor operand's scalar.
    pub(crate) fn as_scalar(&self) -> Option<Scalar> {
        match *self {
            PyVal::Bool(b) => Some(Scalar::Bool(b)),
            PyVal::Int(i) => Some(Scalar::Int(i)),
            PyVal::Float(f) => Some(Scalar::Float(f)),
            _ => None,
        }
    }
}

pub(crate) fn type_error(msg: impl Into<String>) -> Failure {
    Failure::new(ErrorKind::TypeError, msg)
}

pub(crate) fn name_error(name: &str) -> Failure {
    Failure::new(
        ErrorKind::NameError,
        format!("name '{name}' is not defined"),
    )
}

pub(crate) fn unsupported(msg: impl Into<String>) -> Failure {
    Failure::new(
        ErrorKind::NotImplemented,
        format!("the harness interpreter does not support {}", msg.into()),
    )
}

#[derive(Clone, Debug)]
pub(crate) enum ModKind {
    Linear,
    Conv2d {
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    },
    Sequential,
    Flatten {
        start: i64,
        end: i64,
    },
    ReLU,
    Sigmoid,
    Tanh,
    Dropout(f64),
    /// `momentum: None` is the cumulative average.
    BatchNorm2d {
        eps: f64,
        momentum: Option<f64>,
    },
    MseLoss(Reduction),
}

/// An `nn.Module`: its own parameters (`weight`, then `bias`) and its children, both in
/// registration order, which is the order `parameters()` yields them in.
pub(crate) struct Module<T> {
    pub kind: ModKind,
    pub params: Vec<(String, Option<T>)>,
    pub children: Vec<(String, ModRef<T>)>,
    /// Buffers (`running_mean`, ...): attributes, not parameters; `None` where PyTorch
    /// registers a `None` buffer (`track_running_stats=False`).
    pub buffers: Vec<(String, Option<T>)>,
    /// `module.training`: set by `train()`/`eval()` on the module and all its children.
    pub training: bool,
}

impl<T: Clone> Module<T> {
    pub(crate) fn new(kind: ModKind) -> Self {
        Module {
            kind,
            params: Vec::new(),
            children: Vec::new(),
            buffers: Vec::new(),
            training: true,
        }
    }

    /// `module.train(mode)`: this module and every module below it.
    pub(crate) fn set_training(&mut self, mode: bool) {
        self.training = mode;
        for (_, c) in &self.children {
            c.borrow_mut().set_training(mode);
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self.kind {
            ModKind::Linear => "Linear",
            ModKind::Conv2d { .. } => "Conv2d",
            ModKind::Sequential => "Sequential",
            ModKind::Flatten { .. } => "Flatten",
            ModKind::ReLU => "ReLU",
            ModKind::Sigmoid => "Sigmoid",
            ModKind::Tanh => "Tanh",
            ModKind::Dropout(_) => "Dropout",
            ModKind::BatchNorm2d { .. } => "BatchNorm2d",
            ModKind::MseLoss(_) => "MSELoss",
        }
    }

    pub(crate) fn param(&self, name: &str) -> Option<Option<T>> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }

    pub(crate) fn buffer(&self, name: &str) -> Option<Option<T>> {
        self.buffers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }

    pub(crate) fn child(&self, name: &str) -> Option<ModRef<T>> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.clone())
    }

    /// `named_parameters()`: own parameters first, then each child's, prefixed by its name.
    pub(crate) fn named_parameters(&self, prefix: &str, out: &mut Vec<(String, T)>) {
        for (n, t) in &self.params {
            if let Some(t) = t {
                out.push((join(prefix, n), t.clone()));
            }
        }
        for (n, c) in &self.children {
            c.borrow().named_parameters(&join(prefix, n), out);
        }
    }

    /// `model.fc = m`: replaces a child in place, or registers a new one at the end
    /// (a Sequential then also runs it, as PyTorch's does).
    pub(crate) fn set_child(&mut self, name: &str, m: ModRef<T>) {
        if let Some(slot) = self.children.iter_mut().find(|(n, _)| n == name) {
            slot.1 = m;
        } else {
            self.children.push((name.to_string(), m));
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

//! The arguments of one call, bound to their parameters by [`names::bind`] and taken by name and
//! type: what every lowering in the ops table reads its operands with.

use crate::backend::{DType, Failure, Operand, Reduction, Scalar};
use crate::error_kind::ErrorKind;
use crate::interp::Res;
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::program::names::{self, Signature};

/// Arguments bound to a signature, each taken at most once.
pub(crate) struct Args<T> {
    pub(super) name: String,
    slots: Vec<(&'static str, Option<PyVal<T>>)>,
    /// What a `*name` parameter collected.
    pub(super) rest: Vec<PyVal<T>>,
}

impl<T: Clone> Args<T> {
    pub(super) fn bind(
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

    /// The arguments of a method call or an attribute read: the receiver is the `input` the
    /// table's method signatures leave out.
    pub(super) fn with_receiver(mut self, recv: PyVal<T>) -> Self {
        self.slots.insert(0, ("input", Some(recv)));
        self
    }

    /// An attribute read's arguments: the receiver alone.
    pub(super) fn receiver(name: &str, recv: PyVal<T>) -> Self {
        Args {
            name: name.to_string(),
            slots: vec![("input", Some(recv))],
            rest: Vec::new(),
        }
    }

    pub(super) fn peek(&self, key: &str) -> Option<&PyVal<T>> {
        self.slots
            .iter()
            .find(|(n, _)| *n == key)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The argument bound to `key`, if one was given.
    pub(crate) fn take(&mut self, key: &str) -> Option<PyVal<T>> {
        self.slots
            .iter_mut()
            .find(|(n, _)| *n == key)
            .and_then(|(_, v)| v.take())
    }

    pub(crate) fn req(&mut self, key: &str) -> Res<PyVal<T>> {
        self.take(key).ok_or_else(|| {
            type_error(format!(
                "{}() missing required argument: '{key}'",
                self.name
            ))
        })
    }

    /// The receiver of a method, or a function's first tensor.
    pub(crate) fn input(&mut self) -> Res<T> {
        self.tensor("input")
    }

    pub(crate) fn tensor(&mut self, key: &str) -> Res<T> {
        let v = self.req(key)?;
        as_tensor(v, &self.name)
    }

    pub(crate) fn opt_tensor(&mut self, key: &str) -> Res<Option<T>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(v) => as_tensor(v, &self.name).map(Some),
        }
    }

    /// A list or tuple of tensors (`cat`, `stack`).
    pub(crate) fn tensors(&mut self, key: &str) -> Res<Vec<T>> {
        match self.req(key)? {
            PyVal::List(xs) | PyVal::Tuple(xs) => {
                xs.into_iter().map(|x| as_tensor(x, &self.name)).collect()
            }
            other => Err(type_error(format!(
                "{}(): expected a sequence of Tensors, got {}",
                self.name,
                other.type_name()
            ))),
        }
    }

    /// A tensor or a Python number.
    pub(crate) fn operand(&mut self, key: &str) -> Res<Operand<T>> {
        let v = self.req(key)?;
        as_operand(v, &self.name)
    }

    pub(crate) fn int(&mut self, key: &str) -> Res<i64> {
        let v = self.req(key)?;
        as_int(&v, &self.name)
    }

    pub(crate) fn int_or(&mut self, key: &str, default: i64) -> Res<i64> {
        Ok(self.opt_int(key)?.unwrap_or(default))
    }

    /// An int, or `None` when absent or `None`.
    pub(crate) fn opt_int(&mut self, key: &str) -> Res<Option<i64>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(v) => as_int(&v, &self.name).map(Some),
        }
    }

    /// A Python number. Python also takes a 0-dim tensor here (`x.fill_(t)`), which the
    /// harness does not support.
    pub(crate) fn number(&mut self, key: &str) -> Res<Scalar> {
        let v = self.req(key)?;
        v.as_scalar()
            .ok_or_else(|| unsupported(format!("{}() with a {}", self.name, v.type_name())))
    }

    pub(crate) fn opt_scalar(&mut self, key: &str) -> Res<Option<Scalar>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(v) => v.as_scalar().map(Some).ok_or_else(|| {
                type_error(format!(
                    "{}(): expected a number, got {}",
                    self.name,
                    v.type_name()
                ))
            }),
        }
    }

    pub(crate) fn flag(&mut self, key: &str, default: bool) -> Res<bool> {
        Ok(self.opt_flag(key)?.unwrap_or(default))
    }

    /// A bool, or `None` when absent or `None` (`retain_graph=None`).
    pub(crate) fn opt_flag(&mut self, key: &str) -> Res<Option<bool>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(v) => as_bool(&v, &self.name).map(Some),
        }
    }

    pub(crate) fn opt_dtype(&mut self, key: &str) -> Res<Option<DType>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(PyVal::Dtype(d)) => Ok(Some(d)),
            Some(other) => Err(type_error(format!(
                "{}(): dtype must be a torch.dtype, not {}",
                self.name,
                other.type_name()
            ))),
        }
    }

    /// `dim=None`, `dim=1` or `dim=(0, 1)`.
    pub(crate) fn dims(&mut self, key: &str) -> Res<Option<Vec<i64>>> {
        match self.take(key) {
            None | Some(PyVal::None) => Ok(None),
            Some(PyVal::List(xs) | PyVal::Tuple(xs)) => xs
                .iter()
                .map(|x| as_int(x, &self.name))
                .collect::<Res<_>>()
                .map(Some),
            Some(v) => Ok(Some(vec![as_int(&v, &self.name)?])),
        }
    }

    /// Sizes: `f(2, 2)`, `f((2, 2))`, `f([2, 2])` for a `*key` parameter, or the one sequence
    /// (or int) bound to a plain `key`.
    pub(crate) fn sizes(&mut self, key: &str) -> Res<Vec<i64>> {
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

    /// An int or a pair of ints (`stride=2`, `padding=(1, 0)`), non-negative.
    pub(crate) fn pair(&mut self, key: &str, default: usize) -> Res<[usize; 2]> {
        let v = self.take(key);
        pair(v, default, &self.name)
    }

    /// `reduction='mean'` of the losses.
    pub(crate) fn reduction(&mut self) -> Res<Reduction> {
        reduction(self.take("reduction"))
    }
}

pub(super) fn as_int<T>(v: &PyVal<T>, f: &str) -> Res<i64> {
    match v {
        PyVal::Int(i) => Ok(*i),
        PyVal::Bool(b) => Ok(*b as i64),
        other => Err(type_error(format!(
            "{f}(): expected an int, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn as_f64<T>(v: &PyVal<T>, f: &str) -> Res<f64> {
    v.as_scalar()
        .map(Scalar::as_f64)
        .ok_or_else(|| type_error(format!("{f}(): expected a number, got {}", v.type_name())))
}

pub(super) fn as_bool<T>(v: &PyVal<T>, f: &str) -> Res<bool> {
    match v {
        PyVal::Bool(b) => Ok(*b),
        other => Err(type_error(format!(
            "{f}(): expected a bool, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn as_tensor<T: Clone>(v: PyVal<T>, f: &str) -> Res<T> {
    match v {
        PyVal::Tensor(t) => Ok(t),
        other => Err(type_error(format!(
            "{f}(): expected a Tensor, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn as_operand<T>(v: PyVal<T>, f: &str) -> Res<Operand<T>> {
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

pub(super) fn opt_bool<T>(v: Option<PyVal<T>>, default: bool, f: &str) -> Res<bool> {
    match v {
        None => Ok(default),
        Some(v) => as_bool(&v, f),
    }
}

pub(super) fn pair<T>(v: Option<PyVal<T>>, default: usize, f: &str) -> Res<[usize; 2]> {
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

pub(super) fn to_shape(sizes: &[i64]) -> Res<Vec<usize>> {
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

pub(super) fn reduction(v: Option<PyVal<impl Clone>>) -> Res<Reduction> {
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

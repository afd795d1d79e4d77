//! The creation rows' lowerings (`tensor`, `ones`, `arange`, `randn`, `ones_like`, `new_ones`,
//! ...) and the harness-made random data: `randn`, `rand` and parameter initialisation draw
//! from the case's ChaCha8 stream, so both backends get the same bytes; so does dropout's
//! keep-mask.

use super::args::{Args, as_f64, as_tensor, to_shape};
use crate::backend::{Backend, Call, DType, Failure, Scalar, TensorAttr, TensorData};
use crate::error_kind::ErrorKind;
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};
use rand::Rng;

impl<B: Backend> Interp<'_, B> {
    /// `ones(*size)`, `zeros(*size)`, and `empty(*size)` (run as zeros: what uninitialised
    /// memory holds is no observable).
    pub(crate) fn filled(
        &mut self,
        a: &mut Args<B::Tensor>,
        value: Scalar,
    ) -> Res<PyVal<B::Tensor>> {
        let sizes = a.sizes("size")?;
        let (dtype, rg) = self.factory_kwargs(a, DType::F32)?;
        let t = self.call(Call::Full {
            shape: to_shape(&sizes)?,
            value,
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    /// `full(size, fill_value)`: the dtype follows the number.
    pub(crate) fn full(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let sizes = a.sizes("size")?;
        let fill = a.req("fill_value")?;
        let value = fill
            .as_scalar()
            .ok_or_else(|| type_error("full(): fill_value must be a number"))?;
        let inferred = match value {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F32,
        };
        let (dtype, rg) = self.factory_kwargs(a, inferred)?;
        let t = self.call(Call::Full {
            shape: to_shape(&sizes)?,
            value,
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    pub(crate) fn arange(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
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
        let (dtype, rg) = self.factory_kwargs(a, inferred)?;
        let t = self.call(Call::Arange {
            start: as_f64(&start, "arange")?,
            end: as_f64(&end, "arange")?,
            step: as_f64(&step, "arange")?,
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    pub(crate) fn linspace(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let start = as_f64(&a.req("start")?, "linspace")?;
        let end = as_f64(&a.req("end")?, "linspace")?;
        let steps = a.int("steps")?;
        let (dtype, rg) = self.factory_kwargs(a, DType::F32)?;
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

    pub(crate) fn eye(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let n = a.int("n")?;
        let m = a.opt_int("m")?.unwrap_or(n);
        let (dtype, rg) = self.factory_kwargs(a, DType::F32)?;
        let shape = to_shape(&[n, m])?;
        let t = self.call(Call::Eye {
            n: shape[0],
            m: shape[1],
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    /// `randn(*size)` / `rand(*size)`.
    pub(crate) fn random_fn(
        &mut self,
        a: &mut Args<B::Tensor>,
        normal: bool,
    ) -> Res<PyVal<B::Tensor>> {
        let sizes = a.sizes("size")?;
        let (dtype, rg) = self.factory_kwargs(a, DType::F32)?;
        let shape = to_shape(&sizes)?;
        self.random(normal, shape, dtype, rg)
    }

    /// `ones_like(x)`, `zeros_like(x)` (`fill`), and `randn_like(x)` / `rand_like(x)` (no
    /// `fill`; `normal` picks which): `x`'s shape and dtype unless `dtype` says otherwise.
    pub(crate) fn like(
        &mut self,
        a: &mut Args<B::Tensor>,
        fill: Option<Scalar>,
        normal: bool,
    ) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let shape = self.shape_of(&x)?;
        let own = self.dtype_of(&x)?;
        let (dtype, rg) = self.factory_kwargs(a, own)?;
        let Some(value) = fill else {
            return self.random(normal, shape, dtype, rg);
        };
        let t = self.call(Call::Full {
            shape,
            value,
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    /// `x.new_ones(*size)` / `x.new_zeros(*size)`: `x`'s dtype unless `dtype` is given, a new
    /// leaf that requires grad only when asked.
    pub(crate) fn new_filled(
        &mut self,
        a: &mut Args<B::Tensor>,
        value: Scalar,
    ) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let own = self.dtype_of(&x)?;
        let sizes = a.sizes("size")?;
        let (dtype, rg) = self.factory_kwargs(a, own)?;
        let t = self.call(Call::Full {
            shape: to_shape(&sizes)?,
            value,
            dtype,
        })?;
        self.with_requires_grad(t, rg)
    }

    /// `dtype=` and `requires_grad=` (and an ignored `device='cpu'`) of factory functions.
    fn factory_kwargs(&mut self, a: &mut Args<B::Tensor>, default: DType) -> Res<(DType, bool)> {
        let dtype = a.opt_dtype("dtype")?.unwrap_or(default);
        let rg = a.flag("requires_grad", false)?;
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
        let PyVal::Tensor(x) = t.clone() else {
            return Err(type_error("requires_grad: a factory gave no tensor"));
        };
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
                    dtype.scalar_type_name()
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

    fn draw_normal(&mut self, n: usize) -> Vec<f64> {
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

    /// Dropout's Bernoulli(1 - p) keep-mask (bool, `shape`) from the case's stream, drawn here
    /// once so that every backend (and a Python replay) applies the same one.
    pub(crate) fn keep_mask(&mut self, shape: Vec<usize>, p: f64) -> Res<B::Tensor> {
        let n = shape.iter().product();
        let values = (0..n)
            .map(|_| f64::from(u8::from(self.rng.random::<f64>() < 1.0 - p)))
            .collect();
        as_tensor(
            self.tensor_from_values(shape, DType::Bool, values)?,
            "dropout",
        )
    }

    /// `U(-bound, bound)` values: `nn` parameters' initialisation.
    pub(super) fn draw_uniform(&mut self, n: usize, bound: f64) -> Vec<f64> {
        (0..n)
            .map(|_| (2.0 * self.rng.random::<f64>() - 1.0) * bound)
            .collect()
    }

    pub(super) fn tensor_from_values(
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
    pub(crate) fn make_tensor(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
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
        let (dtype, rg) = self.factory_kwargs(a, inferred)?;
        check_fits(dtype, &values)?;
        let t = self.tensor_from_values(shape, dtype, values)?;
        self.with_requires_grad(t, rg)
    }

    pub(crate) fn shape_of(&mut self, x: &B::Tensor) -> Res<Vec<usize>> {
        match self.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Shape,
        })? {
            PyVal::Tuple(xs) | PyVal::List(xs) => xs
                .iter()
                .map(|v| match v {
                    PyVal::Int(i) => Ok(*i as usize),
                    _ => Err(type_error("shape holds a non-int")),
                })
                .collect(),
            _ => Err(type_error("shape is not a tuple")),
        }
    }

    pub(crate) fn dtype_of(&mut self, x: &B::Tensor) -> Res<DType> {
        match self.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Dtype,
        })? {
            PyVal::Dtype(d) => Ok(d),
            _ => Err(type_error("dtype is not a dtype")),
        }
    }
}

/// `torch.tensor(data, dtype=...)` checks every Python number against a narrow integer
/// dtype's range before truncating (torch 2.13.0: `torch.tensor([127.9], dtype=torch.int8)`
/// raises "value cannot be converted to type int8 without overflow", `[-128.9]` as int16 is
/// `[-128]`; NaN and infinities raise too).
fn check_fits(dtype: DType, values: &[f64]) -> Res<()> {
    let (lo, hi, name) = match dtype {
        DType::I8 => (i8::MIN as f64, i8::MAX as f64, "int8"),
        DType::I16 => (i16::MIN as f64, i16::MAX as f64, "int16"),
        DType::I32 => (i32::MIN as f64, i32::MAX as f64, "int32"),
        _ => return Ok(()),
    };
    if values.iter().all(|v| (lo..=hi).contains(v)) {
        return Ok(());
    }
    Err(Failure::new(
        ErrorKind::InvalidArgument,
        format!("value cannot be converted to type {name} without overflow"),
    ))
}

/// Rounds a value the way storing it in `dtype` would.
fn cast(v: f64, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => v.trunc(),
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

//! The float64 shadow of a backend: the same program, the same input bytes, with every float32
//! tensor created as float64. The numerics oracle (`crate::numerics`) reads how far float32
//! rounding alone moves each value from the distance between a float32 run and its shadow.
//!
//! A *perturbed* shadow also rounds like float32 might on another machine: after every op that
//! computes (arithmetic, reductions, products, convolutions, in-place arithmetic), it moves each
//! result by one unit roundoff of float32 (`2^-24`) of that result's magnitude, with a seeded
//! sign per value. For a sum or a product the magnitude is that of its terms (`sum |x|`,
//! `|A| @ |B|`), as a different accumulation order moves it. How far that carries each
//! observable, measured in float64, is how float32-sensitive the program is: a property of the
//! program, not of the machine (`crate::compare::sensitivity`). Creation is exact on every
//! machine and is left alone. The perturbation writes through `.data` with grad mode off, so no
//! version counter, `grad_fn` or gradient sees it.
//!
//! Only creation and casts carry a dtype across the [`Backend`] boundary (the interpreter always
//! passes one explicitly), so mapping those calls is enough: every later op computes in float64
//! by type promotion. Observations keep the float64 dtype; the numerics oracle compares values
//! only.

use super::{
    Backend, BinaryOp, Call, DType, Failure, GraphObs, InplaceOp, Operand, Scalar, TensorAttr,
    TensorData, TensorObs, UnaryOp, Value,
};

/// float32's unit roundoff.
const U32: f64 = 5.960_464_477_539_063e-8;

/// `B` with float32 replaced by float64 at every creation and cast.
pub struct Shadow<'a, B> {
    inner: &'a mut B,
    /// The perturbation's seed, and how many values it has perturbed so far.
    perturb: Option<(u64, u64)>,
}

fn widen(d: DType) -> DType {
    match d {
        DType::F32 => DType::F64,
        d => d,
    }
}

fn widen_call<T>(call: Call<T>) -> Call<T> {
    match call {
        Call::FromData { data } => Call::FromData {
            data: TensorData {
                dtype: widen(data.dtype),
                ..data
            },
        },
        Call::Full {
            shape,
            value,
            dtype,
        } => Call::Full {
            shape,
            value,
            dtype: widen(dtype),
        },
        Call::Arange {
            start,
            end,
            step,
            dtype,
        } => Call::Arange {
            start,
            end,
            step,
            dtype: widen(dtype),
        },
        Call::Linspace {
            start,
            end,
            steps,
            dtype,
        } => Call::Linspace {
            start,
            end,
            steps,
            dtype: widen(dtype),
        },
        Call::Eye { n, m, dtype } => Call::Eye {
            n,
            m,
            dtype: widen(dtype),
        },
        Call::ToDtype { x, dtype } => Call::ToDtype {
            x,
            dtype: widen(dtype),
        },
        c => c,
    }
}

/// How a computing op's rounding scales: with its result, or with its terms (the same call on
/// the inputs' magnitudes). `None`: the op does not round (views, copies, creation, selection).
enum Rounds<T> {
    Result,
    Terms(Call<T>),
}

fn rounding<T: Clone>(call: &Call<T>, abs: &mut dyn FnMut(&T) -> Option<T>) -> Option<Rounds<T>> {
    let mut a = |x: &T| abs(x);
    Some(match call {
        Call::Binary { op, .. } if op.row().rounds => Rounds::Result,
        Call::Unary { op, .. } | Call::Unary_ { op, .. } if op.rounds() => Rounds::Result,
        Call::Rsub { .. } | Call::PowScalarBase { .. } | Call::Inplace { .. } => Rounds::Result,
        Call::Softmax { .. } | Call::LogSoftmax { .. } | Call::MseLoss { .. } => Rounds::Result,
        Call::Sum { x, dims, keepdim } => Rounds::Terms(Call::Sum {
            x: a(x)?,
            dims: dims.clone(),
            keepdim: *keepdim,
        }),
        Call::Mean { x, dims, keepdim } => Rounds::Terms(Call::Mean {
            x: a(x)?,
            dims: dims.clone(),
            keepdim: *keepdim,
        }),
        Call::Matmul { a: x, b: y } => Rounds::Terms(Call::Matmul { a: a(x)?, b: a(y)? }),
        Call::Mm { a: x, b: y } => Rounds::Terms(Call::Mm { a: a(x)?, b: a(y)? }),
        Call::Bmm { a: x, b: y } => Rounds::Terms(Call::Bmm { a: a(x)?, b: a(y)? }),
        Call::Linear { x, weight, bias } => Rounds::Terms(Call::Linear {
            x: a(x)?,
            weight: a(weight)?,
            bias: match bias {
                Some(b) => Some(a(b)?),
                None => None,
            },
        }),
        Call::Conv2d {
            x,
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        } => Rounds::Terms(Call::Conv2d {
            x: a(x)?,
            weight: a(weight)?,
            bias: match bias {
                Some(b) => Some(a(b)?),
                None => None,
            },
            stride: *stride,
            padding: *padding,
            dilation: *dilation,
            groups: *groups,
        }),
        // ---- nn ----
        Call::Nn(super::nn::NnCall::Einsum { equation, operands }) => {
            Rounds::Terms(Call::Nn(super::nn::NnCall::Einsum {
                equation: equation.clone(),
                operands: operands.iter().map(&mut a).collect::<Option<_>>()?,
            }))
        }
        Call::Nn(c) if c.rounds() => Rounds::Result,
        _ => return None,
    })
}

impl<'a, B: Backend> Shadow<'a, B> {
    pub fn new(inner: &'a mut B) -> Self {
        Shadow {
            inner,
            perturb: None,
        }
    }

    /// A shadow that rounds every computed result by one float32 unit roundoff, signs from
    /// `seed` (see the module docs).
    pub fn perturbed(inner: &'a mut B, seed: u64) -> Self {
        Shadow {
            inner,
            perturb: Some((seed, 0)),
        }
    }

    fn tensor(v: Result<Value<B::Tensor>, Failure>) -> Option<B::Tensor> {
        match v {
            Ok(Value::Tensor(t)) => Some(t),
            _ => None,
        }
    }

    fn is_float(&mut self, t: &B::Tensor) -> bool {
        matches!(
            self.inner.call(Call::GetAttr {
                x: t.clone(),
                attr: TensorAttr::Dtype
            }),
            Ok(Value::Dtype(DType::F32 | DType::F64))
        )
    }

    /// `|x|` of `x`'s values, with no history (grad mode is off while perturbing).
    fn magnitude(&mut self, x: &B::Tensor) -> Option<B::Tensor> {
        let d = Self::tensor(self.inner.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Data,
        }))?;
        Self::tensor(self.inner.call(Call::Unary {
            op: UnaryOp::Abs,
            x: d,
        }))
    }

    /// `base ± 2^-24`, one seeded sign per value of a tensor of `shape`.
    fn signs(&mut self, shape: Vec<usize>, base: f64) -> Option<B::Tensor> {
        let (seed, n) = self.perturb.as_mut()?;
        let values = (0..shape.iter().product::<usize>())
            .map(|_| {
                *n += 1;
                // splitmix64 of (seed, n): the same signs on every run.
                let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                if (z ^ (z >> 31)) & 1 == 0 {
                    base + U32
                } else {
                    base - U32
                }
            })
            .collect();
        Self::tensor(self.inner.call(Call::FromData {
            data: TensorData {
                shape,
                dtype: DType::F64,
                values,
            },
        }))
    }

    /// Moves `t`'s values by one unit roundoff of `|t|` (a factor `1 ± u`), or of `terms` (an
    /// added `± u terms`), in place through `.data`. A zero keeps its sign either way.
    fn round(&mut self, t: &B::Tensor, terms: Option<Call<B::Tensor>>) -> Option<()> {
        if !self.is_float(t) {
            return None;
        }
        let Ok(Value::Tuple(dims)) = self.inner.call(Call::GetAttr {
            x: t.clone(),
            attr: TensorAttr::Shape,
        }) else {
            return None;
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Value::Int(i) => *i as usize,
                _ => 0,
            })
            .collect();
        let data = Self::tensor(self.inner.call(Call::GetAttr {
            x: t.clone(),
            attr: TensorAttr::Data,
        }))?;
        let Some(c) = terms else {
            let factors = self.signs(shape, 1.0)?;
            self.inner
                .call(Call::Inplace {
                    op: InplaceOp::Mul,
                    x: data,
                    other: Operand::Tensor(factors),
                })
                .ok()?;
            return Some(());
        };
        let m = Self::tensor(self.inner.call(c))?;
        let signs = self.signs(shape, 0.0)?;
        let delta = Self::tensor(self.inner.call(Call::Binary {
            op: BinaryOp::Mul,
            a: m.clone(),
            b: Operand::Tensor(signs),
        }))?;
        // `-0.0` where the terms vanish: adding it changes no value and no zero's sign.
        let none = Self::tensor(self.inner.call(Call::Binary {
            op: BinaryOp::Eq,
            a: m,
            b: Operand::Scalar(Scalar::Float(0.0)),
        }))?;
        let delta = Self::tensor(self.inner.call(Call::Where {
            cond: none,
            a: Operand::Scalar(Scalar::Float(-0.0)),
            b: Operand::Tensor(delta),
        }))?;
        self.inner
            .call(Call::Inplace {
                op: InplaceOp::Add,
                x: data,
                other: Operand::Tensor(delta),
            })
            .ok()?;
        Some(())
    }

    /// Whether `x` holds integers or bools.
    fn is_integer(&mut self, x: &B::Tensor) -> bool {
        matches!(
            self.inner.call(Call::GetAttr {
                x: x.clone(),
                attr: TensorAttr::Dtype
            }),
            Ok(Value::Dtype(d)) if !d.is_float()
        )
    }

    /// Runs `call`, then rounds its result the way a float32 machine might.
    fn call_rounded(&mut self, call: Call<B::Tensor>) -> Result<Value<B::Tensor>, Failure> {
        let prev = match self.inner.call(Call::SetGradEnabled { enabled: false }) {
            Ok(Value::Bool(p)) => p,
            _ => return self.inner.call(call),
        };
        // The terms' magnitudes are taken before the call, from the inputs as they are now.
        let how = rounding(&call, &mut |x: &B::Tensor| self.magnitude(x));
        let _ = self.inner.call(Call::SetGradEnabled { enabled: prev });
        let v = self.inner.call(call)?;
        if let (Value::Tensor(t), Some(how)) = (&v, how) {
            let _ = self.inner.call(Call::SetGradEnabled { enabled: false });
            let _ = match how {
                Rounds::Result => self.round(t, None),
                Rounds::Terms(c) => self.round(t, Some(c)),
            };
            let _ = self.inner.call(Call::SetGradEnabled { enabled: prev });
        }
        Ok(v)
    }
}

impl<B: Backend> Backend for Shadow<'_, B> {
    type Tensor = B::Tensor;

    fn name(&self) -> &'static str {
        "shadow"
    }
    fn version(&self) -> String {
        format!("{} (float64 shadow)", self.inner.version())
    }
    fn call(&mut self, call: Call<Self::Tensor>) -> Result<Value<Self::Tensor>, Failure> {
        // An integer operand of a float op promotes to the default dtype, float32, inside the
        // backend (`tensor(-1).cos()`, `int_t / 2`): such a result is widened afterwards. It has
        // no history of its own to lose (integer tensors do not require grad).
        let promotes = matches!(
            call,
            Call::Unary { .. }
                | Call::Binary { .. }
                | Call::Rsub { .. }
                | Call::PowScalarBase { .. }
                | Call::Where { .. }
        );
        // A float op on integers computes in float32 inside the backend, so the shadow hands it
        // the integers as float64 first: its result is then the float64 truth, which the float32
        // result is measured against (`tensor(4).expm1()`), not that result widened.
        let call = match call {
            Call::Unary { op, x }
                if op.row().dtype == crate::ops::UnaryDtype::ToFloat && self.is_integer(&x) =>
            {
                match self.inner.call(Call::ToDtype {
                    x: x.clone(),
                    dtype: DType::F64,
                }) {
                    Ok(Value::Tensor(w)) => Call::Unary { op, x: w },
                    _ => Call::Unary { op, x },
                }
            }
            c => c,
        };
        let call = widen_call(call);
        let v = if self.perturb.is_some() {
            self.call_rounded(call)?
        } else {
            self.inner.call(call)?
        };
        match v {
            Value::Tensor(t) if promotes => {
                let is_f32 = matches!(
                    self.inner.call(Call::GetAttr {
                        x: t.clone(),
                        attr: TensorAttr::Dtype
                    }),
                    Ok(Value::Dtype(DType::F32))
                );
                if is_f32 {
                    self.inner.call(Call::ToDtype {
                        x: t,
                        dtype: DType::F64,
                    })
                } else {
                    Ok(Value::Tensor(t))
                }
            }
            v => Ok(v),
        }
    }
    fn observe(&mut self, x: &Self::Tensor) -> TensorObs {
        self.inner.observe(x)
    }
    fn same(&self, a: &Self::Tensor, b: &Self::Tensor) -> bool {
        self.inner.same(a, b)
    }
    fn graph(&mut self, x: &Self::Tensor) -> GraphObs {
        self.inner.graph(x)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }
}

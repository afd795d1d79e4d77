//! The float64 shadow of a backend: the same program, the same input bytes, with every float32
//! tensor created as float64. The numerics oracle (`crate::numerics`) reads how far float32
//! rounding alone moves each value from the distance between a float32 run and its shadow.
//!
//! Only creation and casts carry a dtype across the [`Backend`] boundary (the interpreter always
//! passes one explicitly), so mapping those calls is enough: every later op computes in float64
//! by type promotion. Observations keep the float64 dtype; the numerics oracle compares values
//! only.

use super::{Backend, Call, DType, Failure, GraphObs, TensorAttr, TensorData, TensorObs, Value};

/// `B` with float32 replaced by float64 at every creation and cast.
pub struct Shadow<'a, B>(pub &'a mut B);

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

impl<B: Backend> Backend for Shadow<'_, B> {
    type Tensor = B::Tensor;

    fn name(&self) -> &'static str {
        "shadow"
    }
    fn version(&self) -> String {
        format!("{} (float64 shadow)", self.0.version())
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
        let v = self.0.call(widen_call(call))?;
        match v {
            Value::Tensor(t) if promotes => {
                let is_f32 = matches!(
                    self.0.call(Call::GetAttr {
                        x: t.clone(),
                        attr: TensorAttr::Dtype
                    }),
                    Ok(Value::Dtype(DType::F32))
                );
                if is_f32 {
                    self.0.call(Call::ToDtype {
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
        self.0.observe(x)
    }
    fn same(&self, a: &Self::Tensor, b: &Self::Tensor) -> bool {
        self.0.same(a, b)
    }
    fn graph(&mut self, x: &Self::Tensor) -> GraphObs {
        self.0.graph(x)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.0.take_warnings()
    }
}

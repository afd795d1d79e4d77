//! Lowering a tensor function, method or attribute to backend calls by its row in the ops table
//! (`crate::ops`): elementwise rows generically, every other row by its `lower` closure, and
//! the lowerings those closures share.

use super::args::Args;
use crate::backend::{Backend, BinaryOp, Call, DType, Failure, InplaceOp, TensorAttr, UnaryOp};
use crate::error_kind::ErrorKind;
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};
use crate::ops::Reflected;

/// Pins a row's `lower` closure to the signature every lowering has, so that its arguments'
/// types are known where its body is checked.
fn lowering<'i, B: Backend, F>(f: F) -> F
where
    F: FnOnce(&mut Interp<'i, B>, &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>>,
{
    f
}

/// The ops table's other rows (`crate::ops::op_rows`): each row's `lower` closure, by name.
macro_rules! row_lowerings {
    ($( $name:literal { spelled: [$($sp:ident),*], sig: $sig:literal,
        $(method_sig: $msig:literal,)? ret: $ret:literal, family: $family:ident,
        doc: $doc:literal, lower: $lower:expr $(,)? } ),* $(,)?) => {
        impl<'i, B: Backend> Interp<'i, B> {
            /// Runs the row named `name`; `None` when no row has that name.
            fn lower_row(
                &mut self,
                name: &str,
                a: &mut Args<B::Tensor>,
            ) -> Option<Res<PyVal<B::Tensor>>> {
                use crate::backend::Scalar;
                Some(match name {
                    $( $name => lowering::<'i, B, _>($lower)(self, a), )*
                    _ => return None,
                })
            }
        }
    };
}
crate::ops::op_rows!(row_lowerings);

impl<B: Backend> Interp<'_, B> {
    /// A tensor function or method (the receiver bound as `input`), by the op's row.
    pub(super) fn tensor_fn(
        &mut self,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        if let Some(op) = UnaryOp::from_name(name) {
            let x = a.input()?;
            return self.call(Call::Unary { op, x });
        }
        if let Some(op) = UnaryOp::from_in_place(name) {
            let x = a.input()?;
            return self.in_place(x.clone(), Call::Unary_ { op, x });
        }
        if let Some(op) = BinaryOp::from_name(name) {
            return self.binary_fn(op, a);
        }
        if let Some(op) = InplaceOp::from_name(name) {
            let x = a.input()?;
            let other = a.operand(op.binary().other_param())?;
            return self.in_place(x.clone(), Call::Inplace { op, x, other });
        }
        match self.lower_row(name, &mut a) {
            Some(r) => r,
            None => Err(unsupported(format!("the tensor method `{name}`"))),
        }
    }

    /// An attribute of the ops table (`x.T`, `x.mT`); `None` when no row has that name.
    pub(crate) fn tensor_attr_op(
        &mut self,
        x: B::Tensor,
        name: &str,
    ) -> Option<Res<PyVal<B::Tensor>>> {
        let mut a = Args::receiver(name, PyVal::Tensor(x));
        self.lower_row(name, &mut a)
    }

    /// `torch.add(x, y)`, `x.pow(2)`, `torch.pow(2, x)`.
    fn binary_fn(&mut self, op: BinaryOp, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let other = op.other_param();
        // A number base is the reflected operator's call: `torch.pow(2, x)` is `2 ** x`.
        if op.row().reflected == Reflected::ScalarBase
            && !matches!(a.peek("input"), Some(PyVal::Tensor(_)) | None)
        {
            let base = a
                .req("input")?
                .as_scalar()
                .ok_or_else(|| type_error(format!("{}(): bad base", op.name())))?;
            let exp = a.tensor(other)?;
            return self.call(Call::PowScalarBase { base, exp });
        }
        let x = a.input()?;
        let b = a.operand(other)?;
        self.call(Call::Binary { op, a: x, b })
    }

    /// An in-place method's call: Python returns the receiver itself.
    pub(crate) fn in_place(
        &mut self,
        x: B::Tensor,
        call: Call<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        self.call(call)?;
        Ok(PyVal::Tensor(x))
    }

    /// A tensor's shape as the sizes `view`/`expand` take (`view_as`, `expand_as`).
    pub(crate) fn sizes_of(&mut self, x: &B::Tensor) -> Res<Vec<i64>> {
        Ok(self.shape_of(x)?.into_iter().map(|d| d as i64).collect())
    }

    /// `x.max()` (the largest element), `x.max(dim, keepdim)` (`(values, indices)`) and
    /// `x.max(other)` (`maximum`); `min` alike.
    pub(crate) fn max_min(&mut self, a: &mut Args<B::Tensor>, max: bool) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let call = match a.take("dim") {
            None if max => Call::MaxAll { x },
            None => Call::MinAll { x },
            Some(PyVal::Tensor(other)) => Call::Binary {
                op: if max {
                    BinaryOp::Maximum
                } else {
                    BinaryOp::Minimum
                },
                a: x,
                b: crate::backend::Operand::Tensor(other),
            },
            Some(d) => {
                let dim = super::args::as_int(&d, &a.name)?;
                let keepdim = a.flag("keepdim", false)?;
                if max {
                    Call::MaxDim { x, dim, keepdim }
                } else {
                    Call::MinDim { x, dim, keepdim }
                }
            }
        };
        self.call(call)
    }

    /// `x.size()`: the shape; `x.size(d)`: one size, with libtorch's range check.
    pub(crate) fn size(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let dim = a.opt_int("dim")?;
        let shape = self.call(Call::GetAttr {
            x,
            attr: TensorAttr::Shape,
        })?;
        let Some(d) = dim else {
            return Ok(shape);
        };
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

    /// `x.to(dtype)`; `x.to('cpu')` and `x.to(torch.device('cpu'))` are `x` itself.
    pub(crate) fn to(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        match a.take("dtype") {
            Some(PyVal::Dtype(dtype)) => self.call(Call::ToDtype { x, dtype }),
            Some(PyVal::Str(s)) if s == "cpu" => Ok(PyVal::Tensor(x)),
            Some(PyVal::Device) => Ok(PyVal::Tensor(x)),
            _ => Err(unsupported("to() with anything but a dtype or 'cpu'")),
        }
    }

    /// `x.mT`: libtorch's `mT` is `transpose(-2, -1)` after a check of the rank.
    pub(crate) fn matrix_t(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let rank = self.shape_of(&x)?.len();
        if rank < 2 {
            return Err(Failure::new(
                ErrorKind::InvalidArgument,
                format!(
                    "tensor.mT is only supported on matrices or batches of matrices. Got {rank}-D tensor."
                ),
            ));
        }
        self.call(Call::Transpose {
            x,
            dim0: -2,
            dim1: -1,
        })
    }

    /// `F.conv2d(input, weight, bias, stride, padding, dilation, groups)`.
    pub(crate) fn conv2d(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let weight = a.tensor("weight")?;
        let bias = a.opt_tensor("bias")?;
        let stride = a.pair("stride", 1)?;
        let padding = a.pair("padding", 0)?;
        let dilation = a.pair("dilation", 1)?;
        let groups = a.int_or("groups", 1)?;
        let groups = usize::try_from(groups).map_err(|_| {
            Failure::new(
                ErrorKind::InvalidArgument,
                "non-positive groups is not supported",
            )
        })?;
        self.call(Call::Conv2d {
            x,
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        })
    }
}

//! The indexing area's lowerings: subscripts with tensors among their items (Python's advanced
//! indexing, `x[mask]`, `x[idx, 1:]`, `x[idx] = v`) and the multi-output views `split`, `chunk`
//! and `unbind`, which return Python tuples of tensors.

use super::args::{Args, as_int};
use crate::backend::indexing::{AdvIndex, IndexCall};
use crate::backend::{Backend, Call, DType, Operand};
use crate::interp::eval::EvItem;
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};

impl<B: Backend> Interp<'_, B> {
    /// The items as advanced index items when one of them is a tensor or a list (which Python
    /// turns into a tensor), `None` when all are basic.
    pub(crate) fn advanced_items(
        &mut self,
        items: &[EvItem<B::Tensor>],
    ) -> Res<Option<Vec<AdvIndex<B::Tensor>>>> {
        if items.iter().all(|i| matches!(i, EvItem::Index(_))) {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                EvItem::Index(i) => AdvIndex::Basic(*i),
                EvItem::Value(PyVal::Tensor(t)) => AdvIndex::Tensor(t.clone()),
                EvItem::Value(PyVal::List(xs)) => AdvIndex::Tensor(self.index_list(xs)?),
                EvItem::Value(v) => {
                    return Err(type_error(format!(
                        "IndexError: only integers, slices (`:`), ellipsis (`...`), None and \
                         long or byte Variables are valid indices (got {})",
                        v.type_name()
                    )));
                }
            });
        }
        Ok(Some(out))
    }

    /// A flat list of ints or bools as the int64 or bool tensor Python's `sequenceToVariable`
    /// makes of it. Python reads a list holding lists as a tuple of items, which the harness
    /// does not follow.
    fn index_list(&mut self, xs: &[PyVal<B::Tensor>]) -> Res<B::Tensor> {
        let bools = !xs.is_empty() && xs.iter().all(|x| matches!(x, PyVal::Bool(_)));
        let mut values = Vec::with_capacity(xs.len());
        for x in xs {
            values.push(match x {
                PyVal::Int(i) => *i as f64,
                PyVal::Bool(b) => *b as i64 as f64,
                other => {
                    return Err(unsupported(format!(
                        "a list of {} as an index",
                        other.type_name()
                    )));
                }
            });
        }
        let dtype = if bools { DType::Bool } else { DType::I64 };
        match self.tensor_from_values(vec![xs.len()], dtype, values)? {
            PyVal::Tensor(t) => Ok(t),
            _ => Err(type_error("a list index did not make a tensor")),
        }
    }

    /// `x[items]` with tensors among the items.
    pub(crate) fn get_advanced(
        &mut self,
        x: B::Tensor,
        items: Vec<AdvIndex<B::Tensor>>,
    ) -> Res<PyVal<B::Tensor>> {
        self.call(Call::Indexing(IndexCall::Get { x, items }))
    }

    /// `x[items] = value` with tensors among the items.
    pub(crate) fn set_advanced(
        &mut self,
        x: B::Tensor,
        items: Vec<AdvIndex<B::Tensor>>,
        value: Operand<B::Tensor>,
    ) -> Res<()> {
        self.call(Call::Indexing(IndexCall::Set { x, items, value }))?;
        Ok(())
    }

    /// `split(split_size_or_sections, dim)`: `Tensor.split` calls `split` for an int and
    /// `split_with_sizes` for a sequence.
    pub(crate) fn split(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let sizes = a.req("split_size_or_sections")?;
        let dim = a.int_or("dim", 0)?;
        let call = match sizes {
            PyVal::List(xs) | PyVal::Tuple(xs) => IndexCall::SplitWithSizes {
                x,
                sizes: xs.iter().map(|v| as_int(v, "split")).collect::<Res<_>>()?,
                dim,
            },
            v => IndexCall::Split {
                x,
                size: as_int(&v, "split")?,
                dim,
            },
        };
        self.call(Call::Indexing(call))
    }

    pub(crate) fn chunk(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let (x, chunks, dim) = (a.input()?, a.int("chunks")?, a.int_or("dim", 0)?);
        self.call(Call::Indexing(IndexCall::Chunk { x, chunks, dim }))
    }

    pub(crate) fn unbind(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let (x, dim) = (a.input()?, a.int_or("dim", 0)?);
        self.call(Call::Indexing(IndexCall::Unbind { x, dim }))
    }
}

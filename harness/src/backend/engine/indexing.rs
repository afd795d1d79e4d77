//! The engine's arm for the indexing area's calls ([`IndexCall`]): Python's `getitem`/`setitem`
//! with tensors among the items, and the multi-output views, through the engine's own
//! `getitem`, `setitem`, `split`, `split_with_sizes`, `chunk` and `unbind`.

use super::{OrFail, R, index_items, operand, wrap};
use crate::backend::indexing::{AdvIndex, IndexCall};
use crate::backend::{Index, Value};
use engine::{Tensor, TensorIndex};

fn items(items: Vec<AdvIndex<Tensor>>) -> Vec<TensorIndex> {
    items
        .into_iter()
        .map(|i| match i {
            AdvIndex::Basic(b) => TensorIndex::Basic(basic(b)),
            AdvIndex::Tensor(t) => TensorIndex::Tensor(t),
        })
        .collect()
}

fn basic(i: Index) -> engine::IndexItem {
    let [item] = index_items(&[i])[..] else {
        unreachable!("one index item converts to one")
    };
    item
}

fn tuple(xs: Vec<Tensor>) -> Value<Tensor> {
    Value::Tuple(xs.into_iter().map(wrap).collect())
}

pub(super) fn dispatch(call: IndexCall<Tensor>) -> R<Value<Tensor>> {
    match call {
        IndexCall::Get { x, items: it } => x.getitem(&items(it)).map(wrap).or_fail(),
        IndexCall::Set {
            x,
            items: it,
            value,
        } => {
            x.setitem(&items(it), operand(&value)).or_fail()?;
            Ok(Value::None)
        }
        IndexCall::Split { x, size, dim } => x.split(size, dim).map(tuple).or_fail(),
        IndexCall::SplitWithSizes { x, sizes, dim } => {
            x.split_with_sizes(&sizes, dim).map(tuple).or_fail()
        }
        IndexCall::Chunk { x, chunks, dim } => x.chunk(chunks, dim).map(tuple).or_fail(),
        IndexCall::Unbind { x, dim } => x.unbind(dim).map(tuple).or_fail(),
    }
}

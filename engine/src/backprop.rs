//! The backward pass: dependency counting over the graph reachable from the root, then a ready
//! queue ordered like libtorch's (highest sequence number first, accumulators before all), with
//! gradients accumulated into leaves as `AccumulateGrad` does.

use crate::autograd::{BackwardCtx, Edge, InputMeta, Node, NodeKind};
use crate::error::{Error, Result, Shape};
use crate::memory_format;
use crate::tensor::Tensor;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

struct Ready(Arc<Node>);
impl PartialEq for Ready {
    fn eq(&self, o: &Self) -> bool {
        self.0.seq_nr == o.0.seq_nr
    }
}
impl Eq for Ready {}
impl PartialOrd for Ready {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ready {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.seq_nr.cmp(&o.0.seq_nr)
    }
}

fn key(n: &Arc<Node>) -> usize {
    Arc::as_ptr(n) as usize
}

/// Node addresses are already well spread; a multiplicative hash is enough and much cheaper
/// than SipHash on this hot path.
#[derive(Default)]
struct PtrHasher(u64);
impl std::hash::Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    fn write_usize(&mut self, v: usize) {
        self.0 = (v as u64 >> 4).wrapping_mul(0x9E3779B97F4A7C15);
    }
}
type PtrMap<V> = HashMap<usize, V, std::hash::BuildHasherDefault<PtrHasher>>;

/// libtorch's `validate_outputs` for one gradient: reduce a broadcast-shaped gradient to the
/// input's shape and cast it to the input's dtype.
pub(crate) fn fit_grad(g: Tensor, meta: &InputMeta, index: usize) -> Result<Tensor> {
    let mut g = g;
    if !g.shape_eq(&meta.shape) {
        if !crate::ops::shape::expandable_to(&meta.shape, &g.shape()) {
            return Err(Error::GradShape {
                index,
                got: Shape(g.shape()),
                expected: Shape(meta.shape.clone()),
            });
        }
        g = g.sum_to(&meta.shape)?;
    }
    if g.dtype() != meta.dtype {
        g = g.to_dtype(meta.dtype)?;
    }
    Ok(g)
}

impl Tensor {
    /// `backward(gradient, retain_graph, create_graph)`. `create_graph=True` is not supported and
    /// fails with [`Error::CreateGraphUnsupported`].
    pub fn backward_with(
        &self,
        gradient: Option<&Tensor>,
        retain_graph: Option<bool>,
        create_graph: bool,
    ) -> Result<()> {
        if create_graph {
            return Err(Error::CreateGraphUnsupported);
        }
        let retain = retain_graph.unwrap_or(create_graph);
        let requires = self.requires_grad();
        let grad = match gradient {
            None => {
                if requires && self.numel() != 1 {
                    return Err(Error::ImplicitGradNonScalar);
                }
                if requires && !self.dtype().is_float() {
                    return Err(Error::ImplicitGradDtype(crate::error::DTypeName(
                        self.dtype(),
                    )));
                }
                None
            }
            Some(g) => Some(g.clone()),
        };
        let Some(edge) = self.gradient_edge()?.filter(|_| requires) else {
            return Err(Error::NoGradFn(0));
        };
        let root_meta = InputMeta {
            shape: self.shape(),
            dtype: self.dtype(),
        };
        let grad = match grad {
            None => Tensor::ones_like(self)?,
            Some(g) => fit_grad(g, &root_meta, 0)?,
        };
        let _mode = crate::grad_mode::no_grad();
        // The caller (Python's `_make_grads`) holds the root gradient during backward, so
        // AccumulateGrad never steals it.
        let held = grad.clone();
        let r = run(edge, grad, retain);
        drop(held);
        r
    }

    /// `backward()` on a scalar.
    pub fn backward(&self) -> Result<()> {
        self.backward_with(None, None, false)
    }
}

thread_local! {
    /// The maps of the last backward pass on this thread, kept for their capacity: a training
    /// loop runs the same-sized graph every step.
    static SCRATCH: std::cell::Cell<Option<(PtrMap<usize>, PtrMap<Tensor>)>> =
        const { std::cell::Cell::new(None) };
}

fn run(root: Edge, root_grad: Tensor, retain: bool) -> Result<()> {
    let (mut deps, mut buffers) = SCRATCH.take().unwrap_or_default();
    deps.clear();
    buffers.clear();
    let r = run_with(root, root_grad, retain, &mut deps, &mut buffers);
    buffers.clear();
    SCRATCH.set(Some((deps, buffers)));
    r
}

fn run_with(
    root: Edge,
    root_grad: Tensor,
    retain: bool,
    deps: &mut PtrMap<usize>,
    buffers: &mut PtrMap<Tensor>,
) -> Result<()> {
    // Dependencies: how many edges of the reachable graph point at each node.
    let mut stack = vec![root.node.clone()];
    while let Some(n) = stack.pop() {
        for e in n.next.iter().flatten() {
            let d = deps.entry(key(&e.node)).or_insert(0);
            *d += 1;
            if *d == 1 {
                stack.push(e.node.clone());
            }
        }
    }
    buffers.insert(key(&root.node), root_grad);
    let mut ready = BinaryHeap::new();
    ready.push(Ready(root.node.clone()));
    while let Some(Ready(node)) = ready.pop() {
        let k = key(&node);
        // A node whose inputs all got no gradient still passes "nothing" on, so that the
        // dependency counts of the nodes below it reach zero.
        let outs = match buffers.remove(&k) {
            Some(grad) => execute(&node, grad, retain)?,
            None => vec![None; node.next.len()],
        };
        for (i, (edge, g)) in node.next.iter().zip(outs).enumerate() {
            let Some(edge) = edge else { continue };
            let ek = key(&edge.node);
            if let Some(g) = g {
                let g = fit_grad(g, &edge.node.meta, i)?;
                match buffers.remove(&ek) {
                    Some(prev) => {
                        buffers.insert(ek, accumulate_buffer(prev, &g)?);
                    }
                    None => {
                        buffers.insert(ek, g);
                    }
                }
            }
            let d = deps.get_mut(&ek).expect("counted");
            *d -= 1;
            if *d == 0 {
                ready.push(Ready(edge.node.clone()));
            }
        }
    }
    Ok(())
}

/// Sums two gradients for one input, in place when the buffer is ours alone (libtorch's
/// `InputBuffer::accumulate` does the same), saving an allocation per extra use of a tensor.
fn accumulate_buffer(prev: Tensor, g: &Tensor) -> Result<Tensor> {
    let unique = Arc::strong_count(&prev.0) == 1
        && Arc::strong_count(&prev.data_ref().storage) == 2
        && prev.is_contiguous()
        && prev.numel() > 0
        && prev.dtype() == g.dtype()
        && prev.shape_eq(&g.shape());
    if !unique {
        return prev.add(g);
    }
    // libtorch's `old_var.add_(var)` bumps the buffer's version, which a stolen `.grad` shows.
    prev.0.version.bump();
    fn add_into<T: crate::storage::StorageElem + std::ops::Add<Output = T>>(
        dst: &Tensor,
        src: &Tensor,
    ) -> Result<()> {
        // `dst`'s storage is ours alone (checked), so `src` cannot share it.
        let d = dst.0.data.read().unwrap();
        let mut s = d.storage.write().unwrap();
        let buf = s
            .cpu_mut()
            .and_then(T::slice_mut)
            .expect("checked: a cpu tensor of this dtype");
        let off = d.layout.offset;
        src.with_slice(|sv: &[T], sl| {
            if sl.is_contiguous() {
                let n = sl.numel();
                for (x, &y) in buf[off..off + n]
                    .iter_mut()
                    .zip(&sv[sl.offset..sl.offset + n])
                {
                    *x = *x + y;
                }
            } else {
                for (x, i) in buf[off..].iter_mut().zip(sl.indices()) {
                    *x = *x + sv[i];
                }
            }
        })
    }
    match prev.dtype() {
        crate::DType::F32 => add_into::<f32>(&prev, g)?,
        crate::DType::F64 => add_into::<f64>(&prev, g)?,
        crate::DType::I64 => add_into::<i64>(&prev, g)?,
        _ => return prev.add(g),
    }
    Ok(prev)
}

fn execute(node: &Arc<Node>, grad: Tensor, retain: bool) -> Result<Vec<Option<Tensor>>> {
    // retain_grad hooks see the gradient of the tensor before the node runs.
    let retains: Vec<_> = node.retains.lock().unwrap().clone();
    for w in retains {
        if let Some(imp) = w.upgrade() {
            let t = Tensor(imp);
            let mut m = t.0.meta.lock().unwrap();
            m.grad = Some(match m.grad.take() {
                None => grad.clone_detached()?,
                Some(prev) => prev.add(&grad)?,
            });
        }
    }
    let out = match &node.kind {
        NodeKind::AccumulateGrad(leaf) => {
            accumulate(leaf, grad)?;
            Vec::new()
        }
        NodeKind::Op(f) => f(&BackwardCtx { node }, grad)?,
        NodeKind::CopySlices { base, view, inner } => {
            // libtorch's CopySlices drops its wrapped node on release, so a second backward
            // fails here even when that node saved nothing.
            if node.saved.lock().unwrap().released {
                return Err(Error::BackwardTwice);
            }
            crate::ops::inplace::copy_slices_backward(base, view, inner, grad)?
        }
    };
    if !retain {
        node.release();
    }
    Ok(out)
}

/// `AccumulateGrad`: the first gradient is stored, later ones are added in place (grad mode is
/// off during backward), so the `.grad` tensor keeps its identity.
fn accumulate(leaf: &Tensor, new: Tensor) -> Result<()> {
    // An in-place op since the graph was built gave the leaf a history of its own (after
    // `detach_()` or `requires_grad_(False)`); libtorch checks this first.
    if leaf.0.meta.lock().unwrap().grad_fn.is_some() {
        return Err(Error::LeafMovedIntoGraph);
    }
    // As in libtorch: a leaf whose requires_grad was switched off after the graph was built
    // gets nothing.
    if !leaf.requires_grad() {
        return Ok(());
    }
    let existing = leaf.0.meta.lock().unwrap().grad.clone();
    match existing {
        None => {
            // Steal the buffer when nothing else can see it; otherwise store a copy.
            let stolen = Arc::strong_count(&new.0) == 1
                && memory_format::obeys_layout_contract(&new.layout(), &leaf.layout())
                && {
                    // libtorch steals by use count alone, views included (`sum_to`'s reshape);
                    // here a view is stolen only when its base is a buffer nobody else sees, so
                    // `.grad` never aliases a caller's tensor.
                    let storage_refs = Arc::strong_count(&new.data_ref().storage);
                    match new.base() {
                        None => storage_refs == 2,
                        Some(base) => storage_refs == 3 && Arc::strong_count(&base.0) == 2,
                    }
                };
            let g = if stolen {
                if new.is_view() { new.detach() } else { new }
            } else {
                // libtorch's `clone_obey_contract`: an empty tensor with the leaf's layout
                // `copy_`'d into, version 1.
                let g =
                    crate::ops::copy_strided(&new, memory_format::grad_strides(&leaf.layout()))?;
                g.0.version.bump();
                g
            };
            leaf.0.meta.lock().unwrap().grad = Some(g);
        }
        Some(g) => {
            g.add_(&new)?;
        }
    }
    Ok(())
}

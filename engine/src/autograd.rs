//! Graph nodes, edges and saved tensors, and the [`Recorder`] every differentiable op uses to
//! attach its backward rule to its outputs.
//!
//! A node is libtorch's `Node`: a name (`MulBackward0`), edges to the nodes that produced its
//! inputs (`next_functions`), saved tensors, and a backward closure. Nodes have exactly one
//! differentiable output here (true of every op the engine implements), so the closure maps the
//! incoming gradient to one optional gradient per input edge. Shapes are fixed up by the engine
//! (`sum_to` over broadcast dims, cast to the input's dtype), as libtorch's `validate_outputs`
//! does, so rules may return broadcast-shaped gradients.

use crate::DType;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorImpl};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// The backward closure: saved tensors come through the context, the gradient of the op's
/// output is the second argument; returns one entry per input edge.
pub type BackwardFn =
    dyn Fn(&BackwardCtx<'_>, Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static;

/// An edge to the node that takes the gradient of an input (`(next_function, input_nr)`).
#[derive(Clone)]
pub struct Edge {
    pub node: Arc<Node>,
    pub input_nr: usize,
}

/// Shape and dtype of an input at record time: what its gradient must be reduced/cast to.
#[derive(Clone, Debug)]
pub struct InputMeta {
    pub shape: Vec<usize>,
    pub dtype: DType,
}

pub(crate) enum NodeKind {
    Op(Box<BackwardFn>),
    /// libtorch holds the leaf strongly from its accumulator; the leaf holds the node weakly.
    AccumulateGrad(Tensor),
    /// An in-place op on a view, seen from the base: `inner` is the op's own node.
    CopySlices {
        base: crate::layout::Layout,
        view: crate::layout::Layout,
        inner: Arc<Node>,
    },
}

pub struct Node {
    pub(crate) name: &'static str,
    pub(crate) seq_nr: u64,
    pub(crate) next: Vec<Option<Edge>>,
    /// Shape and dtype of the gradient this node receives (its forward output's): what the
    /// gradients sent along edges into this node are reduced and cast to.
    pub(crate) meta: InputMeta,
    pub(crate) saved: Mutex<SavedState>,
    pub(crate) kind: NodeKind,
    /// Tensors whose `retain_grad()` hooks sit on this node's output.
    pub(crate) retains: Mutex<Vec<Weak<TensorImpl>>>,
}

#[derive(Default)]
pub(crate) struct SavedState {
    pub(crate) tensors: Vec<SavedTensor>,
    pub(crate) released: bool,
}

/// A tensor saved for backward: an alias of its data (sharing storage and version counter,
/// without autograd metadata, so an output saved by its own node makes no cycle) and the
/// version it was saved at.
pub(crate) struct SavedTensor {
    data: Tensor,
    version: u64,
    /// A saved input that had a grad_fn then must still have one at unpack time
    /// (libtorch's `is_leaf_` check against an in-place `detach_()`).
    had_grad_fn: bool,
    /// Where the error message finds the tensor's node: its own node for a saved output, or
    /// the saved input itself (libtorch keeps it and reports its grad_fn at unpack time).
    origin: Origin,
}

/// Index of a saved tensor in its node, handed to the backward closure.
#[derive(Clone, Copy, Debug)]
pub struct SavedId(usize);

pub(crate) enum Origin {
    Output(&'static str),
    /// The error message reports the saved input's grad_fn at unpack time, as libtorch does.
    Input,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.name)
    }
}

/// The name libtorch's "modified by an inplace operation" and no_grad-view messages use for a
/// node: `MulBackward0` becomes `Mul`, `PowBackward1` `Pow1`, other nodes are qualified
/// (`torch::autograd::CopySlices`).
pub(crate) fn message_name(name: &str) -> String {
    if let Some(pos) = name.rfind("Backward") {
        let tail = &name[pos + "Backward".len()..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            // `MulBackward0` is `Mul`, `PowBackward1` is `Pow1` (torch 2.13.0).
            let overload = if tail == "0" { "" } else { tail };
            return format!("{}{overload}", &name[..pos]);
        }
    }
    format!("torch::autograd::{name}")
}

impl Node {
    pub(crate) fn new(
        name: &'static str,
        next: Vec<Option<Edge>>,
        meta: InputMeta,
        saved: Vec<SavedTensor>,
        kind: NodeKind,
    ) -> Arc<Node> {
        let seq_nr = match kind {
            // libtorch gives accumulators the highest priority so leaves are filled as soon
            // as they are ready.
            NodeKind::AccumulateGrad(_) => u64::MAX,
            // libtorch runs a NotImplemented node as soon as it is ready, level with the
            // accumulators (ties in the order the edges were reached): `((x // 2) * w.exp())`
            // fails before `w.grad` is written, `(w * (x // 2))` after (torch 2.13.0).
            _ if name == "NotImplemented" => u64::MAX,
            _ => NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
        };
        Arc::new(Node {
            name,
            seq_nr,
            next,
            meta,
            saved: Mutex::new(SavedState {
                tensors: saved,
                released: false,
            }),
            kind,
            retains: Mutex::new(Vec::new()),
        })
    }
    /// libtorch's node name: `MulBackward0`, `AccumulateGrad`, `CopySlices`.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// `next_functions`: `None` for inputs that need no gradient.
    pub fn next_functions(&self) -> &[Option<Edge>] {
        &self.next
    }
    /// For `AccumulateGrad`: the leaf it accumulates into.
    pub fn variable(&self) -> Option<&Tensor> {
        match &self.kind {
            NodeKind::AccumulateGrad(t) => Some(t),
            _ => None,
        }
    }
    /// Versions the node's saved tensors were saved at (empty once freed).
    pub fn saved_versions(&self) -> Vec<u64> {
        let s = self.saved.lock().unwrap();
        let mut v: Vec<u64> = s.tensors.iter().map(|t| t.version).collect();
        if let NodeKind::CopySlices { inner, .. } = &self.kind {
            v.extend(inner.saved_versions());
        }
        v
    }
    /// Frees the saved tensors (what `retain_graph=False` does after a node ran).
    pub(crate) fn release(&self) {
        let mut s = self.saved.lock().unwrap();
        s.tensors.clear();
        s.released = true;
        drop(s);
        if let NodeKind::CopySlices { inner, .. } = &self.kind {
            inner.release();
        }
    }
    pub(crate) fn add_retains(&self, t: &Tensor) {
        self.retains.lock().unwrap().push(Arc::downgrade(&t.0));
    }
    pub(crate) fn remove_retains(&self, t: &Tensor) {
        let p = Arc::as_ptr(&t.0);
        self.retains
            .lock()
            .unwrap()
            .retain(|w| !std::ptr::eq(w.as_ptr(), p));
    }
}

/// Dropping a long graph must not recurse once per node (a training loop without `backward`
/// can chain millions): nodes this one owned alone are taken apart on an explicit stack, as
/// libtorch's `deleteNode` does.
impl Drop for Node {
    fn drop(&mut self) {
        fn take_parts(n: &mut Node, stack: &mut Vec<Arc<Node>>) {
            stack.extend(n.next.drain(..).flatten().map(|e| e.node));
            if let Ok(s) = n.saved.get_mut() {
                for st in s.tensors.drain(..) {
                    if Arc::strong_count(&st.data.0) == 1
                        && let Ok(m) = st.data.0.meta.lock().as_mut()
                        && let Some(g) = m.grad_fn.take()
                    {
                        stack.push(g);
                    }
                }
            }
        }
        let mut stack = Vec::new();
        take_parts(self, &mut stack);
        while let Some(n) = stack.pop() {
            if let Ok(mut inner) = Arc::try_unwrap(n) {
                take_parts(&mut inner, &mut stack);
            }
        }
    }
}

/// What a backward closure sees: the saved tensors of its node.
pub struct BackwardCtx<'a> {
    pub(crate) node: &'a Node,
}

impl BackwardCtx<'_> {
    /// The saved tensor, checked like libtorch's `SavedVariable::unpack`: freed tensors and
    /// tensors modified in place since they were saved are errors.
    pub fn unpack(&self, id: SavedId) -> Result<Tensor> {
        let s = self.node.saved.lock().unwrap();
        if s.released {
            return Err(Error::BackwardTwice);
        }
        let st = &s.tensors[id.0];
        // A saved input is kept as itself, and libtorch asks it for its grad_fn before
        // comparing versions: a stale no_grad view fails there, with the view error.
        let grad_fn = match &st.origin {
            Origin::Input => st.data.grad_fn()?,
            Origin::Output(_) => None,
        };
        if st.had_grad_fn && grad_fn.is_none() {
            return Err(Error::SavedTensorDetached);
        }
        let current = st.data.version();
        if current != st.version {
            return Err(Error::modified(
                st.data.dtype(),
                &st.data.shape(),
                match &st.origin {
                    Origin::Output(n) => Some((0, message_name(n))),
                    Origin::Input => grad_fn.map(|n| (st.data.output_nr(), message_name(n.name))),
                },
                current,
                st.version,
            ));
        }
        Ok(st.data.clone())
    }
}

/// Builds the node of one differentiable op. `Recorder::new` returns `None` when nothing needs
/// a gradient (grad mode off, or no input requires grad): the op then records nothing.
///
/// ```ignore
/// let out = forward(...);
/// if let Some(mut rec) = Recorder::new("MulBackward0", &[a, b])? {
///     let sb = rec.needs(0).then(|| rec.save(b));
///     let sa = rec.needs(1).then(|| rec.save(a));
///     rec.finish(&out, move |ctx, g| Ok(vec![
///         sb.map(|s| g.mul(&ctx.unpack(s)?)).transpose()?,
///         sa.map(|s| g.mul(&ctx.unpack(s)?)).transpose()?,
///     ]))?;
/// }
/// ```
pub struct Recorder {
    name: &'static str,
    next: Vec<Option<Edge>>,
    saved: Vec<SavedTensor>,
}

impl Recorder {
    pub fn new(name: &'static str, inputs: &[&Tensor]) -> Result<Option<Recorder>> {
        if !crate::grad_mode::is_grad_enabled() {
            return Ok(None);
        }
        let mut next = Vec::with_capacity(inputs.len());
        let mut any = false;
        for t in inputs {
            let e = t.gradient_edge()?;
            // An input can require grad yet have no edge (a no_grad view of a leaf): the
            // output still requires grad, as libtorch's compute_requires_grad decides.
            any |= e.is_some() || (!any && t.requires_grad());
            next.push(e);
        }
        if !any {
            return Ok(None);
        }
        Ok(Some(Recorder {
            name,
            next,
            saved: Vec::new(),
        }))
    }
    /// Like [`Recorder::new`] with explicit edges (used by in-place ops, whose `self` edge is
    /// the tensor's history before the write).
    pub(crate) fn with_edges(name: &'static str, next: Vec<Option<Edge>>) -> Recorder {
        Recorder {
            name,
            next,
            saved: Vec::new(),
        }
    }
    /// Whether input `i` needs a gradient (libtorch's `should_compute_output`).
    pub fn needs(&self, i: usize) -> bool {
        self.next.get(i).is_some_and(|e| e.is_some())
    }
    /// Saves an input (or any tensor that is not this node's output).
    pub fn save(&mut self, t: &Tensor) -> SavedId {
        self.push(t, Origin::Input)
    }
    /// Saves an in-place op's `self` as it is before the write. libtorch's wrappers save
    /// `self.clone()`, a recorded call made before the kernel, whose set_history refuses an
    /// integer `self` that has history ("Autograd not support dtype").
    pub(crate) fn save_original_self(&mut self, t: &Tensor) -> Result<SavedId> {
        if t.requires_grad() && !t.dtype().is_float() {
            return Err(Error::AutogradDtype(t.dtype().scalar_type_name()));
        }
        Ok(self.save(&t.clone_detached()?))
    }
    /// Takes the saved outputs' versions again: an in-place op saves its `self` as the output
    /// before the write, and libtorch saves it after.
    pub(crate) fn resave_outputs(&mut self) {
        for s in &mut self.saved {
            if matches!(s.origin, Origin::Output(_)) {
                s.version = s.data.version();
            }
        }
    }
    /// Saves the op's output (call before `finish`).
    pub fn save_output(&mut self, out: &Tensor) -> SavedId {
        let name = self.name;
        self.push(out, Origin::Output(name))
    }
    fn push(&mut self, t: &Tensor, origin: Origin) -> SavedId {
        // Inputs are kept as they are (libtorch's SavedVariable does the same); an output is
        // kept as an alias without autograd metadata, else it would own its own node.
        let data = match origin {
            Origin::Input => t.clone(),
            Origin::Output(_) => t.alias_for_save(),
        };
        let had_grad_fn = matches!(origin, Origin::Input) && !t.is_leaf();
        self.saved.push(SavedTensor {
            data,
            version: t.version(),
            had_grad_fn,
            origin,
        });
        SavedId(self.saved.len() - 1)
    }
    /// Makes the node and sets it as `out`'s `grad_fn`.
    /// Makes the node and sets it as `out`'s `grad_fn`. An integer or bool output cannot
    /// carry history: libtorch refuses it (reachable once an integer tensor got history from
    /// `fill_(tensor)`).
    pub fn finish<F>(self, out: &Tensor, f: F) -> Result<()>
    where
        F: Fn(&BackwardCtx<'_>, Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    {
        if !out.dtype().is_float() {
            return Err(Error::AutogradDtype(out.dtype().scalar_type_name()));
        }
        let meta = InputMeta {
            shape: out.shape(),
            dtype: out.dtype(),
        };
        let node = self.into_node(meta, f);
        out.set_grad_fn(Some(node), 0);
        Ok(())
    }
    /// The node for an output described by `meta`.
    pub(crate) fn into_node<F>(self, meta: InputMeta, f: F) -> Arc<Node>
    where
        F: Fn(&BackwardCtx<'_>, Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    {
        Node::new(
            self.name,
            self.next,
            meta,
            self.saved,
            NodeKind::Op(Box::new(f)),
        )
    }
}

/// Helper for rules: `Option<Result<T>>` → `Result<Option<T>>` over a closure.
pub fn opt<T>(cond: bool, f: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
    if cond { f().map(Some) } else { Ok(None) }
}

/// libtorch's VariableType collects an op's input edges before its kernel runs, so a stale
/// no-grad view (whose `grad_fn` raises) fails a differentiable op before any of the op's own
/// argument checks. Called first by each differentiable op that can fail on its arguments.
pub(crate) fn precheck(inputs: &[&Tensor]) -> Result<()> {
    if crate::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
        for t in inputs {
            t.grad_fn()?;
        }
    }
    Ok(())
}

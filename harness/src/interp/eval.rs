//! Expressions, assignment targets and Python operator lowering.
//!
//! Operators follow CPython's torch, by the ops table's `operator` and `reflected` columns:
//! `x + y` is `add`, `x // y` is `floor_divide`; `__radd__`/`__rmul__` call `add`/`mul` with the
//! scalar on the right, `__rsub__` is `rsub`, `__rtruediv__` is `reciprocal() * other`,
//! `__rpow__` is `torch.pow(other, self)`; and augmented assignment is `__iadd__` (`add_`)
//! followed by a store back into the target (`x.data *= 2` ends in `x.data = tmp`).

use super::value::{ModRef, PyVal, name_error, type_error, unsupported};
use super::{Interp, Res};
use crate::backend::{Backend, BinaryOp, Call, Index, Operand, TensorAttr, UnaryOp};
use crate::ops::Reflected;
use crate::program::printer::{binop_symbol, cmpop_symbol};
use crate::program::{BinOp, CmpOp, Expr, ExprKind, IndexItem, Target, UnaryOp as PyUnary};

impl<B: Backend> Interp<'_, B> {
    pub(crate) fn eval(&mut self, e: &Expr) -> Res<PyVal<B::Tensor>> {
        match &e.kind {
            ExprKind::Name(n) => self.lookup(n),
            ExprKind::Int(i) => Ok(PyVal::Int(*i)),
            ExprKind::Float(f) => Ok(PyVal::Float(*f)),
            ExprKind::Bool(b) => Ok(PyVal::Bool(*b)),
            ExprKind::None => Ok(PyVal::None),
            ExprKind::Str(s) => Ok(PyVal::Str(s.clone())),
            ExprKind::List(xs) => Ok(PyVal::List(self.eval_all(xs)?)),
            ExprKind::Tuple(xs) => Ok(PyVal::Tuple(self.eval_all(xs)?)),
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                self.unary(*op, v)
            }
            ExprKind::Binary(BinOp::And, a, b) => {
                let va = self.eval(a)?;
                if !self.truthy(&va)? {
                    Ok(va)
                } else {
                    self.eval(b)
                }
            }
            ExprKind::Binary(BinOp::Or, a, b) => {
                let va = self.eval(a)?;
                if self.truthy(&va)? {
                    Ok(va)
                } else {
                    self.eval(b)
                }
            }
            ExprKind::Binary(op, a, b) => {
                let va = self.eval(a)?;
                let vb = self.eval(b)?;
                self.binary(*op, va, vb)
            }
            ExprKind::Compare(op, a, b) => {
                let va = self.eval(a)?;
                let vb = self.eval(b)?;
                self.compare(*op, va, vb)
            }
            ExprKind::Call { func, args, kwargs } => {
                let callee = self.eval(func)?;
                let args = self.eval_all(args)?;
                let mut kw = Vec::with_capacity(kwargs.len());
                for (k, v) in kwargs {
                    kw.push((k.clone(), self.eval(v)?));
                }
                self.call_value(callee, args, kw)
            }
            ExprKind::Attr(x, name) => {
                let v = self.eval(x)?;
                self.get_attr(v, name)
            }
            ExprKind::Index(x, items) => {
                let v = self.eval(x)?;
                let items = self.eval_items(items)?;
                self.index(v, items)
            }
        }
    }

    fn eval_all(&mut self, xs: &[Expr]) -> Res<Vec<PyVal<B::Tensor>>> {
        xs.iter().map(|x| self.eval(x)).collect()
    }

    fn lookup(&self, n: &str) -> Res<PyVal<B::Tensor>> {
        if let Some(v) = self.lookup_var(n) {
            return Ok(v.clone());
        }
        Ok(match n {
            "torch" => PyVal::Namespace("torch"),
            "nn" => PyVal::Namespace("nn"),
            "F" | "functional" => PyVal::Namespace("F"),
            "optim" => PyVal::Namespace("optim"),
            "math" => PyVal::Namespace("math"),
            "autograd" => PyVal::Namespace("autograd"),
            _ if super::builtins::is_function(n) => PyVal::Builtin(n.to_string()),
            _ => return Err(name_error(n)),
        })
    }

    fn unary(&mut self, op: PyUnary, v: PyVal<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        match (op, v) {
            (PyUnary::Not, v) => Ok(PyVal::Bool(!self.truthy(&v)?)),
            (PyUnary::Pos, v @ (PyVal::Tensor(_) | PyVal::Int(_) | PyVal::Float(_))) => Ok(v),
            (PyUnary::Pos, PyVal::Bool(b)) => Ok(PyVal::Int(b as i64)),
            (PyUnary::Neg, PyVal::Tensor(x)) => self.call(Call::Unary {
                op: UnaryOp::Neg,
                x,
            }),
            (PyUnary::Neg, PyVal::Int(i)) => Ok(PyVal::Int(i.wrapping_neg())),
            (PyUnary::Neg, PyVal::Bool(b)) => Ok(PyVal::Int(-(b as i64))),
            (PyUnary::Neg, PyVal::Float(f)) => Ok(PyVal::Float(-f)),
            (_, v) => Err(type_error(format!(
                "bad operand type for unary operator: '{}'",
                v.type_name()
            ))),
        }
    }

    /// Python truthiness; a tensor's is its single element's (`bool(t)` calls `item()`).
    pub(crate) fn truthy(&mut self, v: &PyVal<B::Tensor>) -> Res<bool> {
        Ok(match v {
            PyVal::None => false,
            PyVal::Bool(b) => *b,
            PyVal::Int(i) => *i != 0,
            PyVal::Float(f) => *f != 0.0,
            PyVal::Str(s) => !s.is_empty(),
            PyVal::List(xs) | PyVal::Tuple(xs) => !xs.is_empty(),
            PyVal::Range(a, b, s) => {
                if *s > 0 {
                    a < b
                } else {
                    a > b
                }
            }
            PyVal::Tensor(t) => {
                let item = self.call(Call::Item { x: t.clone() })?;
                return self.truthy(&item);
            }
            _ => true,
        })
    }

    pub(crate) fn binary(
        &mut self,
        op: BinOp,
        a: PyVal<B::Tensor>,
        b: PyVal<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        match (a, b) {
            (PyVal::Tensor(x), PyVal::Tensor(y)) => {
                if op == BinOp::MatMul {
                    return self.call(Call::Matmul { a: x, b: y });
                }
                let op = tensor_binop(op)?;
                self.call(Call::Binary {
                    op,
                    a: x,
                    b: Operand::Tensor(y),
                })
            }
            (PyVal::Tensor(x), s) if s.as_scalar().is_some() => {
                let s = s.as_scalar().unwrap_or(crate::backend::Scalar::Int(0));
                if op == BinOp::MatMul {
                    return Err(type_error(
                        "unsupported operand type(s) for @: 'Tensor' and a number",
                    ));
                }
                let op = tensor_binop(op)?;
                self.call(Call::Binary {
                    op,
                    a: x,
                    b: Operand::Scalar(s),
                })
            }
            (s, PyVal::Tensor(x)) if s.as_scalar().is_some() => {
                let s = s.as_scalar().unwrap_or(crate::backend::Scalar::Int(0));
                if op == BinOp::MatMul {
                    return Err(type_error(
                        "unsupported operand type(s) for @: a number and 'Tensor'",
                    ));
                }
                let bop = tensor_binop(op)?;
                // What the tensor's reflected method (`__rsub__`, ...) calls, by the op's row.
                match bop.row().reflected {
                    Reflected::Swap => self.call(Call::Binary {
                        op: bop,
                        a: x,
                        b: Operand::Scalar(s),
                    }),
                    Reflected::Rsub => self.call(Call::Rsub { a: x, b: s }),
                    Reflected::Reciprocal => {
                        let r = self.call(Call::Unary {
                            op: UnaryOp::Reciprocal,
                            x,
                        })?;
                        let PyVal::Tensor(r) = r else {
                            return Err(type_error("reciprocal did not return a tensor"));
                        };
                        self.call(Call::Binary {
                            op: BinaryOp::Mul,
                            a: r,
                            b: Operand::Scalar(s),
                        })
                    }
                    Reflected::ScalarBase => self.call(Call::PowScalarBase { base: s, exp: x }),
                    Reflected::Flip(_) | Reflected::No => Err(unsupported(format!(
                        "a number on the left of `{}` with a tensor",
                        binop_symbol(op)
                    ))),
                }
            }
            (a, b) => python_arith(op, a, b),
        }
    }

    pub(crate) fn compare(
        &mut self,
        op: CmpOp,
        a: PyVal<B::Tensor>,
        b: PyVal<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        // The comparison's row, by its operator.
        let cmp = |op: CmpOp| {
            let sym = cmpop_symbol(op);
            BinaryOp::from_operator(sym)
                .ok_or_else(|| unsupported(format!("the `{sym}` operator on tensors")))
        };
        // The reflected comparison: `2 < x` is `x > 2`.
        let flip = |op: BinaryOp| match op.row().reflected {
            Reflected::Flip(f) => f,
            _ => op,
        };
        match (a, b) {
            (PyVal::Tensor(x), PyVal::Tensor(y)) => self.call(Call::Binary {
                op: cmp(op)?,
                a: x,
                b: Operand::Tensor(y),
            }),
            (PyVal::Tensor(x), s) if s.as_scalar().is_some() => self.call(Call::Binary {
                op: cmp(op)?,
                a: x,
                b: Operand::Scalar(s.as_scalar().unwrap_or(crate::backend::Scalar::Int(0))),
            }),
            (s, PyVal::Tensor(x)) if s.as_scalar().is_some() => self.call(Call::Binary {
                op: flip(cmp(op)?),
                a: x,
                b: Operand::Scalar(s.as_scalar().unwrap_or(crate::backend::Scalar::Int(0))),
            }),
            (a, b) => {
                if let (Some(x), Some(y)) = (a.as_scalar(), b.as_scalar()) {
                    let (x, y) = (x.as_f64(), y.as_f64());
                    return Ok(PyVal::Bool(match op {
                        CmpOp::Eq => x == y,
                        CmpOp::Ne => x != y,
                        CmpOp::Lt => x < y,
                        CmpOp::Le => x <= y,
                        CmpOp::Gt => x > y,
                        CmpOp::Ge => x >= y,
                    }));
                }
                let eq = match (&a, &b) {
                    (PyVal::None, PyVal::None) => Some(true),
                    (PyVal::None, _) | (_, PyVal::None) => Some(false),
                    (PyVal::Str(x), PyVal::Str(y)) => Some(x == y),
                    (PyVal::Dtype(x), PyVal::Dtype(y)) => Some(x == y),
                    _ => None,
                };
                match (op, eq) {
                    (CmpOp::Eq, Some(e)) => Ok(PyVal::Bool(e)),
                    (CmpOp::Ne, Some(e)) => Ok(PyVal::Bool(!e)),
                    _ => Err(type_error(format!(
                        "'{:?}' not supported between instances of '{}' and '{}'",
                        op,
                        a.type_name(),
                        b.type_name()
                    ))),
                }
            }
        }
    }

    pub(crate) fn eval_items(&mut self, items: &[IndexItem]) -> Res<Vec<EvItem<B::Tensor>>> {
        let opt_int = |it: &mut Self, e: &Option<Expr>| -> Res<Option<i64>> {
            match e {
                None => Ok(None),
                Some(e) => match it.eval(e)? {
                    PyVal::None => Ok(None),
                    v => Ok(Some(as_index_int(&v)?)),
                },
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            out.push(match it {
                IndexItem::Ellipsis => EvItem::Index(Index::Ellipsis),
                IndexItem::NewAxis => EvItem::Index(Index::NewAxis),
                IndexItem::Slice(a, b, c) => {
                    let start = opt_int(self, a)?;
                    let stop = opt_int(self, b)?;
                    let step = opt_int(self, c)?.unwrap_or(1);
                    EvItem::Index(Index::Slice { start, stop, step })
                }
                IndexItem::Expr(e) => match self.eval(e)? {
                    PyVal::None => EvItem::Index(Index::NewAxis),
                    v @ (PyVal::Int(_) | PyVal::Bool(_)) => {
                        EvItem::Index(Index::Int(as_index_int(&v)?))
                    }
                    v => EvItem::Value(v),
                },
            });
        }
        Ok(out)
    }

    pub(crate) fn index(
        &mut self,
        v: PyVal<B::Tensor>,
        items: Vec<EvItem<B::Tensor>>,
    ) -> Res<PyVal<B::Tensor>> {
        match v {
            PyVal::Tensor(x) => {
                if let Some(adv) = self.advanced_items(&items)? {
                    return self.get_advanced(x, adv);
                }
                let items = tensor_items(items)?;
                self.call(Call::Index { x, items })
            }
            PyVal::List(xs) | PyVal::Tuple(xs) => {
                let [EvItem::Index(Index::Int(i))] = items.as_slice() else {
                    return Err(unsupported(
                        "indexing a list or tuple with anything but one int",
                    ));
                };
                let n = xs.len() as i64;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return Err(type_error("IndexError: list index out of range"));
                }
                Ok(xs[j as usize].clone())
            }
            PyVal::Module(m) => {
                let [EvItem::Index(Index::Int(i))] = items.as_slice() else {
                    return Err(unsupported("indexing a module with anything but one int"));
                };
                let m = m.borrow();
                let n = m.children.len() as i64;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return Err(type_error(format!("IndexError: index {i} is out of range")));
                }
                Ok(PyVal::Module(m.children[j as usize].1.clone()))
            }
            other => Err(type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn assign(&mut self, target: &Target, v: PyVal<B::Tensor>) -> Res<()> {
        match target {
            Target::Name(n) => {
                self.bind(n, v);
                Ok(())
            }
            Target::Tuple(ts) => {
                let xs = match v {
                    PyVal::Tuple(xs) | PyVal::List(xs) => xs,
                    other => {
                        return Err(type_error(format!(
                            "cannot unpack non-iterable {} object",
                            other.type_name()
                        )));
                    }
                };
                if xs.len() != ts.len() {
                    return Err(type_error(format!(
                        "ValueError: expected {} values to unpack, got {}",
                        ts.len(),
                        xs.len()
                    )));
                }
                for (t, x) in ts.iter().zip(xs) {
                    self.assign(t, x)?;
                }
                Ok(())
            }
            Target::Attr(obj, attr) => {
                let o = self.eval(obj)?;
                self.set_attr(o, attr, v)
            }
            Target::Index(obj, items) => {
                let o = self.eval(obj)?;
                let items = self.eval_items(items)?;
                self.set_index(o, items, v)
            }
        }
    }

    fn set_index(
        &mut self,
        o: PyVal<B::Tensor>,
        items: Vec<EvItem<B::Tensor>>,
        v: PyVal<B::Tensor>,
    ) -> Res<()> {
        let x = match o {
            PyVal::Tensor(x) => x,
            // `seq[i] = module` (Sequential.__setitem__) replaces the i-th child.
            PyVal::Module(m) => {
                let [EvItem::Index(Index::Int(i))] = items.as_slice() else {
                    return Err(unsupported("assigning to a module slice"));
                };
                let PyVal::Module(c) = v else {
                    return Err(type_error(format!(
                        "{} is not a Module subclass",
                        v.type_name()
                    )));
                };
                let mut mb = m.borrow_mut();
                let n = mb.children.len() as i64;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return Err(type_error(format!("IndexError: index {i} is out of range")));
                }
                mb.children[j as usize].1 = c;
                return Ok(());
            }
            other => {
                return Err(unsupported(format!(
                    "item assignment on a {}",
                    other.type_name()
                )));
            }
        };
        let adv = self.advanced_items(&items)?;
        let value = match v {
            PyVal::Tensor(t) => Operand::Tensor(t),
            other => match other.as_scalar() {
                Some(s) => Operand::Scalar(s),
                None => {
                    return Err(type_error(format!(
                        "can't assign a {} to a Tensor",
                        other.type_name()
                    )));
                }
            },
        };
        if let Some(adv) = adv {
            return self.set_advanced(x, adv, value);
        }
        let items = tensor_items(items)?;
        self.call(Call::SetIndex { x, items, value })?;
        Ok(())
    }

    fn set_attr(&mut self, o: PyVal<B::Tensor>, attr: &str, v: PyVal<B::Tensor>) -> Res<()> {
        match o {
            PyVal::Tensor(x) => {
                let call = match (attr, v) {
                    ("grad", PyVal::None) => Call::SetGrad { x, grad: None },
                    ("grad", PyVal::Tensor(g)) => Call::SetGrad { x, grad: Some(g) },
                    ("data", PyVal::Tensor(d)) => Call::SetData { x, data: d },
                    ("requires_grad", v) => {
                        let flag = match v {
                            PyVal::Bool(b) => b,
                            other => {
                                return Err(type_error(format!(
                                    "requires_grad must be a bool, not {}",
                                    other.type_name()
                                )));
                            }
                        };
                        Call::SetRequiresGrad { x, flag }
                    }
                    ("grad" | "data", other) => {
                        return Err(type_error(format!(
                            "assigned {attr} expected to be a Tensor, got {}",
                            other.type_name()
                        )));
                    }
                    (a, _) => return Err(unsupported(format!("assigning tensor attribute `{a}`"))),
                };
                self.call(call)?;
                Ok(())
            }
            PyVal::Module(m) => set_module_attr(&m, attr, v),
            other => Err(type_error(format!(
                "can't set attribute '{attr}' on a {}",
                other.type_name()
            ))),
        }
    }

    pub(crate) fn aug_assign(&mut self, target: &Target, op: BinOp, value: &Expr) -> Res<()> {
        // The target is read once, as Python does (`x.data` is evaluated before the value).
        let (cur, store): (PyVal<B::Tensor>, Store<B::Tensor>) = match target {
            Target::Name(n) => (self.lookup(n)?, Store::Name(n.clone())),
            Target::Attr(obj, attr) => {
                let o = self.eval(obj)?;
                let cur = self.get_attr(o.clone(), attr)?;
                (cur, Store::Attr(o, attr.clone()))
            }
            Target::Index(obj, items) => {
                let o = self.eval(obj)?;
                let items = self.eval_items(items)?;
                let cur = self.index(o.clone(), items.clone())?;
                (cur, Store::Index(o, items))
            }
            Target::Tuple(_) => {
                return Err(type_error("illegal expression for augmented assignment"));
            }
        };
        let v = self.eval(value)?;
        let new = match cur {
            PyVal::Tensor(x) => {
                // `x += y` is `x.__iadd__(y)`: the in-place form of the operator's row.
                let Some(iop) =
                    BinaryOp::from_operator(binop_symbol(op)).and_then(|b| b.row().in_place)
                else {
                    return Err(unsupported(format!("`{}=` on a tensor", binop_symbol(op))));
                };
                let other = match v {
                    PyVal::Tensor(t) => Operand::Tensor(t),
                    s => match s.as_scalar() {
                        Some(s) => Operand::Scalar(s),
                        None => {
                            return Err(type_error(format!(
                                "unsupported operand type for in-place {op:?}: '{}'",
                                s.type_name()
                            )));
                        }
                    },
                };
                self.call(Call::Inplace {
                    op: iop,
                    x: x.clone(),
                    other,
                })?;
                // `__iadd__` returns self, which is then stored back into the target.
                PyVal::Tensor(x)
            }
            other => self.binary(op, other, v)?,
        };
        match store {
            Store::Name(n) => {
                self.bind(&n, new);
                Ok(())
            }
            Store::Attr(o, attr) => self.set_attr(o, &attr, new),
            Store::Index(o, items) => self.set_index(o, items, new),
        }
    }

    pub(crate) fn get_attr(&mut self, v: PyVal<B::Tensor>, name: &str) -> Res<PyVal<B::Tensor>> {
        match v {
            PyVal::Tensor(x) => {
                let attr = match name {
                    "grad" => TensorAttr::Grad,
                    "data" => TensorAttr::Data,
                    "is_leaf" => TensorAttr::IsLeaf,
                    "requires_grad" => TensorAttr::RequiresGrad,
                    "grad_fn" => TensorAttr::GradFn,
                    "_version" => TensorAttr::Version,
                    "retains_grad" => TensorAttr::RetainsGrad,
                    "shape" => TensorAttr::Shape,
                    "dtype" => TensorAttr::Dtype,
                    "ndim" => TensorAttr::Ndim,
                    m if super::builtins::is_attr_op(m) => {
                        return self
                            .tensor_attr_op(x, m)
                            .unwrap_or_else(|| Err(unsupported(format!("the attribute `{m}`"))));
                    }
                    "device" | "is_cuda" => {
                        return Ok(if name == "device" {
                            PyVal::Device
                        } else {
                            PyVal::Bool(false)
                        });
                    }
                    m if super::builtins::is_tensor_method(m) => {
                        return Ok(PyVal::Method(Box::new(PyVal::Tensor(x)), m.to_string()));
                    }
                    other => {
                        return Err(type_error(format!(
                            "AttributeError: 'Tensor' object has no attribute '{other}'"
                        )));
                    }
                };
                self.call(Call::GetAttr { x, attr })
            }
            PyVal::Module(m) => {
                let mb = m.borrow();
                if let Some(p) = mb.param(name) {
                    return Ok(p.map(PyVal::Tensor).unwrap_or(PyVal::None));
                }
                if let Some(c) = mb.child(name) {
                    return Ok(PyVal::Module(c));
                }
                if let Some(b) = mb.buffer(name) {
                    return Ok(b.map(PyVal::Tensor).unwrap_or(PyVal::None));
                }
                if name == "training" {
                    return Ok(PyVal::Bool(mb.training));
                }
                drop(mb);
                if super::builtins::is_module_method(name) {
                    return Ok(PyVal::Method(Box::new(PyVal::Module(m)), name.to_string()));
                }
                Err(type_error(format!(
                    "AttributeError: '{}' object has no attribute '{name}'",
                    m.borrow().type_name()
                )))
            }
            PyVal::Namespace(ns) => super::builtins::namespace_attr(ns, name),
            PyVal::Optimizer(_) | PyVal::Adam(_) if matches!(name, "step" | "zero_grad") => {
                Ok(PyVal::Method(Box::new(v), name.to_string()))
            }
            other => Err(type_error(format!(
                "AttributeError: '{}' object has no attribute '{name}'",
                other.type_name()
            ))),
        }
    }
}

/// Where an augmented assignment stores its result.
enum Store<T> {
    Name(String),
    Attr(PyVal<T>, String),
    Index(PyVal<T>, Vec<EvItem<T>>),
}

/// An evaluated index item: a basic index, or a value (a tensor: advanced indexing).
#[derive(Clone)]
pub(crate) enum EvItem<T> {
    Index(Index),
    Value(PyVal<T>),
}

fn tensor_items<T>(items: Vec<EvItem<T>>) -> Res<Vec<Index>> {
    items
        .into_iter()
        .map(|i| match i {
            EvItem::Index(i) => Ok(i),
            EvItem::Value(v) => Err(unsupported(format!(
                "indexing a tensor with a {} (advanced indexing)",
                v.type_name()
            ))),
        })
        .collect()
}

fn as_index_int<T>(v: &PyVal<T>) -> Res<i64> {
    match v {
        PyVal::Int(i) => Ok(*i),
        PyVal::Bool(b) => Ok(*b as i64),
        other => Err(type_error(format!(
            "slice indices must be integers or None, not {}",
            other.type_name()
        ))),
    }
}

fn set_module_attr<T: Clone>(m: &ModRef<T>, attr: &str, v: PyVal<T>) -> Res<()> {
    let mut mb = m.borrow_mut();
    match v {
        PyVal::Module(c) => {
            if std::rc::Rc::ptr_eq(&c, m) {
                return Err(type_error("a module cannot be its own child"));
            }
            mb.set_child(attr, c);
            Ok(())
        }
        PyVal::None if mb.param(attr).is_some() => {
            if let Some(slot) = mb.params.iter_mut().find(|(n, _)| n == attr) {
                slot.1 = None;
            }
            Ok(())
        }
        PyVal::Tensor(_) if mb.param(attr).is_some() => Err(type_error(format!(
            "cannot assign 'torch.FloatTensor' as parameter '{attr}' (torch.nn.Parameter or None expected)"
        ))),
        other => Err(unsupported(format!(
            "setting module attribute `{attr}` to a {}",
            other.type_name()
        ))),
    }
}

/// The binary op a Python operator on a tensor lowers to, by the ops table's `operator` column.
fn tensor_binop(op: BinOp) -> Res<BinaryOp> {
    let sym = binop_symbol(op);
    BinaryOp::from_operator(sym)
        .ok_or_else(|| unsupported(format!("the `{sym}` operator on tensors")))
}

/// Arithmetic on Python numbers (and string concatenation), with Python's int/float rules.
fn python_arith<T>(op: BinOp, a: PyVal<T>, b: PyVal<T>) -> Res<PyVal<T>> {
    if let (PyVal::Str(x), PyVal::Str(y), BinOp::Add) = (&a, &b, op) {
        return Ok(PyVal::Str(format!("{x}{y}")));
    }
    let bad = || {
        type_error(format!(
            "unsupported operand type(s) for {op:?}: '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ))
    };
    let int = |v: &PyVal<T>| match v {
        PyVal::Int(i) => Some(*i),
        PyVal::Bool(b) => Some(*b as i64),
        _ => None,
    };
    let zero = || type_error("ZeroDivisionError: division by zero");
    if let (Some(x), Some(y)) = (int(&a), int(&b)) {
        let overflow = || type_error("OverflowError: integer overflow");
        return Ok(match op {
            BinOp::Add => PyVal::Int(x.checked_add(y).ok_or_else(overflow)?),
            BinOp::Sub => PyVal::Int(x.checked_sub(y).ok_or_else(overflow)?),
            BinOp::Mul => PyVal::Int(x.checked_mul(y).ok_or_else(overflow)?),
            BinOp::Div => {
                if y == 0 {
                    return Err(zero());
                }
                PyVal::Float(x as f64 / y as f64)
            }
            BinOp::FloorDiv | BinOp::Mod => {
                if y == 0 {
                    return Err(zero());
                }
                let mut q = x.wrapping_div(y);
                if x % y != 0 && ((x < 0) != (y < 0)) {
                    q -= 1;
                }
                if op == BinOp::FloorDiv {
                    PyVal::Int(q)
                } else {
                    PyVal::Int(x - q * y)
                }
            }
            BinOp::Pow => {
                if y >= 0 {
                    let e = u32::try_from(y).map_err(|_| overflow())?;
                    PyVal::Int(x.checked_pow(e).ok_or_else(overflow)?)
                } else {
                    PyVal::Float((x as f64).powf(y as f64))
                }
            }
            _ => return Err(bad()),
        });
    }
    let (Some(x), Some(y)) = (a.as_scalar(), b.as_scalar()) else {
        return Err(bad());
    };
    let (x, y) = (x.as_f64(), y.as_f64());
    Ok(PyVal::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero());
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero());
            }
            (x / y).floor()
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero());
            }
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => x.powf(y),
        _ => return Err(bad()),
    }))
}

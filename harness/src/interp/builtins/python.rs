//! Python's own builtins (`print`, `range`, `len`, `float`, `min`, `id`, ...) and `math`'s
//! functions, as the interpreter evaluates them.

use super::args::{Args, as_f64, as_int};
use crate::backend::{Backend, Call, Scalar};
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};

impl<B: Backend> Interp<'_, B> {
    pub(super) fn python_builtin(
        &mut self,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        match name {
            "print" => {
                let args = std::mem::take(&mut a.rest);
                // `print` returns None in Python; the harness keeps what it printed as the
                // statement's observed result.
                Ok(PyVal::Tuple(args))
            }
            "range" => {
                let ints: Vec<i64> = ["start", "stop", "step"]
                    .into_iter()
                    .filter_map(|k| a.take(k))
                    .map(|v| as_int(&v, name))
                    .collect::<Res<_>>()?;
                let (s, e, st) = match ints.as_slice() {
                    [e] => (0, *e, 1),
                    [s, e] => (*s, *e, 1),
                    [s, e, st] => (*s, *e, *st),
                    _ => return Err(type_error("range expected 1 to 3 arguments")),
                };
                if st == 0 {
                    return Err(type_error("ValueError: range() arg 3 must not be zero"));
                }
                Ok(PyVal::Range(s, e, st))
            }
            "len" => {
                let v = a.req("obj")?;
                match v {
                    PyVal::List(xs) | PyVal::Tuple(xs) => Ok(PyVal::Int(xs.len() as i64)),
                    PyVal::Tensor(t) => {
                        let shape = self.shape_of(&t)?;
                        shape
                            .first()
                            .map(|&n| PyVal::Int(n as i64))
                            .ok_or_else(|| type_error("len() of a 0-d tensor"))
                    }
                    PyVal::Module(m) => Ok(PyVal::Int(m.borrow().children.len() as i64)),
                    other => Err(type_error(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    ))),
                }
            }
            "list" | "tuple" => {
                let v = a.take("iterable");
                let xs = match v {
                    None => Vec::new(),
                    Some(PyVal::List(xs) | PyVal::Tuple(xs)) => xs,
                    Some(PyVal::Range(s, e, st)) => {
                        let mut out = Vec::new();
                        let mut i = s;
                        while (st > 0 && i < e) || (st < 0 && i > e) {
                            out.push(PyVal::Int(i));
                            i += st;
                        }
                        out
                    }
                    Some(other) => {
                        return Err(unsupported(format!("{name}() of a {}", other.type_name())));
                    }
                };
                Ok(if name == "list" {
                    PyVal::List(xs)
                } else {
                    PyVal::Tuple(xs)
                })
            }
            "float" | "int" | "bool" | "abs" | "round" => {
                let mut v = a.req(if name == "round" { "number" } else { "x" })?;
                if !matches!(a.take("ndigits"), None | Some(PyVal::None)) {
                    return Err(type_error("round() with ndigits is not supported"));
                }
                if let PyVal::Tensor(t) = &v
                    && name != "abs"
                {
                    v = self.call(Call::Item { x: t.clone() })?;
                }
                let bad = || type_error(format!("{name}() argument must be a number"));
                Ok(match (name, v) {
                    ("bool", v) => PyVal::Bool(self.truthy(&v)?),
                    ("float", v) => PyVal::Float(v.as_scalar().ok_or_else(bad)?.as_f64()),
                    ("int", PyVal::Float(f)) => PyVal::Int(f.trunc() as i64),
                    ("int", v) => PyVal::Int(as_int(&v, name)?),
                    ("round", PyVal::Float(f)) => {
                        // Python rounds half to even.
                        let r = f.round();
                        let r = if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                            r - f.signum()
                        } else {
                            r
                        };
                        PyVal::Int(r as i64)
                    }
                    ("round", v) => PyVal::Int(as_int(&v, name)?),
                    (_, PyVal::Float(f)) => PyVal::Float(f.abs()),
                    (_, v) => PyVal::Int(as_int(&v, name)?.abs()),
                })
            }
            "min" | "max" | "sum" => {
                let mut xs = std::mem::take(&mut a.rest);
                if xs.len() == 1
                    && let Some(PyVal::List(inner) | PyVal::Tuple(inner)) = xs.pop()
                {
                    xs = inner;
                }
                if name == "sum" {
                    let mut acc = PyVal::Int(0);
                    for x in xs {
                        acc = self.binary(crate::program::BinOp::Add, acc, x)?;
                    }
                    return Ok(acc);
                }
                let mut best: Option<PyVal<B::Tensor>> = None;
                for x in xs {
                    let v = x
                        .as_scalar()
                        .ok_or_else(|| type_error(format!("{name}() of non-numbers")))?
                        .as_f64();
                    let keep = match &best {
                        None => true,
                        Some(b) => {
                            let bv = b.as_scalar().map(Scalar::as_f64).unwrap_or(0.0);
                            if name == "min" { v < bv } else { v > bv }
                        }
                    };
                    if keep {
                        best = Some(x);
                    }
                }
                best.ok_or_else(|| {
                    type_error(format!("ValueError: {name}() arg is an empty sequence"))
                })
            }
            "id" => {
                let v = a.req("obj")?;
                match v {
                    PyVal::Tensor(t) => {
                        // Numbered by identity, so equal ids mean `is` on both backends alike.
                        let pos = self.ids.iter().position(|u| self.b.same(u, &t));
                        let i = match pos {
                            Some(i) => i,
                            None => {
                                self.ids.push(t);
                                self.ids.len() - 1
                            }
                        };
                        Ok(PyVal::Int(1000 + i as i64))
                    }
                    other => Err(unsupported(format!("id() of a {}", other.type_name()))),
                }
            }
            _ => {
                let v = a.req("obj")?;
                let t = match &v {
                    PyVal::Tensor(_) => "torch.Tensor",
                    other => other.type_name(),
                };
                Ok(PyVal::Str(format!("<class '{t}'>")))
            }
        }
    }

    /// `math.sqrt`, `math.exp`, `math.log` of a Python number.
    pub(super) fn math_fn(&mut self, name: &str, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = as_f64(&a.req("x")?, name)?;
        if x < 0.0 || (x == 0.0 && name == "math.log") && name != "math.exp" {
            return Err(type_error("ValueError: math domain error"));
        }
        Ok(PyVal::Float(match name {
            "math.sqrt" => x.sqrt(),
            "math.exp" => x.exp(),
            _ => x.ln(),
        }))
    }
}

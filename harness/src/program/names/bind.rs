//! Matching a call's positional and keyword arguments to a [`Signature`]'s parameters, as Python
//! does, with Python's messages when they do not fit.

use super::{ParamKind, Signature};

/// Arguments matched to a signature's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound<'a, A> {
    /// One slot per parameter, in signature order; `None` where the default applies. The
    /// variadic parameter's slot is always `None`; its arguments are in `rest`.
    pub slots: Vec<(&'static str, Option<&'a A>)>,
    /// The arguments a `*name` parameter collected.
    pub rest: Vec<&'a A>,
}

impl<'a, A> Bound<'a, A> {
    pub fn get(&self, name: &str) -> Option<&'a A> {
        self.slots
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, a)| *a)
    }
}

/// Why arguments do not fit a signature; the message is Python's, nearly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("{func}() takes {max} positional argument{} but {given} were given", if *max == 1 { "" } else { "s" })]
    TooMany {
        func: String,
        max: usize,
        given: usize,
    },
    #[error("{func}() missing required argument '{param}' (signature: {func}({sig}))")]
    Missing {
        func: String,
        param: &'static str,
        sig: String,
    },
    #[error(
        "{func}() got an unexpected keyword argument '{keyword}' ({})",
        keywords_hint(expected)
    )]
    UnknownKeyword {
        func: String,
        keyword: String,
        /// Index of the offending keyword argument.
        index: usize,
        expected: Vec<&'static str>,
    },
    #[error("{func}() got multiple values for argument '{param}'")]
    Duplicate {
        func: String,
        param: String,
        index: usize,
    },
}

fn keywords_hint(expected: &[&str]) -> String {
    if expected.is_empty() {
        "it takes no keyword arguments".to_owned()
    } else {
        format!("expected one of {}", expected.join(", "))
    }
}

/// Matches positional and keyword arguments to `sig`, as Python would.
pub fn bind<'a, A>(
    func: &str,
    sig: &Signature,
    args: &'a [A],
    kwargs: &'a [(String, A)],
) -> Result<Bound<'a, A>, BindError> {
    let mut slots: Vec<(&'static str, Option<&'a A>)> =
        sig.params.iter().map(|p| (p.name, None)).collect();
    let mut rest = Vec::new();
    let mut pi = 0;
    for a in args {
        while pi < sig.params.len() && sig.params[pi].kind == ParamKind::KeywordOnly {
            pi += 1;
        }
        match sig.params.get(pi) {
            Some(p) if p.kind == ParamKind::Variadic => rest.push(a),
            Some(_) => {
                slots[pi].1 = Some(a);
                pi += 1;
            }
            None => {
                return Err(BindError::TooMany {
                    func: func.to_owned(),
                    max: sig
                        .params
                        .iter()
                        .filter(|p| p.kind == ParamKind::Positional)
                        .count(),
                    given: args.len(),
                });
            }
        }
    }
    for (index, (k, v)) in kwargs.iter().enumerate() {
        let Some(i) = sig
            .params
            .iter()
            .position(|p| p.name == k && p.kind != ParamKind::Variadic)
        else {
            return Err(BindError::UnknownKeyword {
                func: func.to_owned(),
                keyword: k.clone(),
                index,
                expected: sig.keywords(),
            });
        };
        if slots[i].1.is_some() {
            return Err(BindError::Duplicate {
                func: func.to_owned(),
                param: k.clone(),
                index,
            });
        }
        slots[i].1 = Some(v);
    }
    for (p, (_, a)) in sig.params.iter().zip(&slots) {
        if p.required() && a.is_none() {
            return Err(BindError::Missing {
                func: func.to_owned(),
                param: p.name,
                sig: sig.render(),
            });
        }
    }
    Ok(Bound { slots, rest })
}

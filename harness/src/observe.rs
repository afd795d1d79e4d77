//! What a run shows, and how it prints: the observations the interpreter records after every
//! statement ([`Run`], [`Step`], [`VarObs`], [`ProbeObs`], [`ObsValue`]), and the text and golden
//! summary forms of tensor data ([`show_data`], [`compact`]) that the comparator, the goldens and
//! the reports share.

use crate::backend::{DType, Failure, GraphObs, TensorData, TensorObs};
use crate::program::ExpectedError;
use serde::{Deserialize, Serialize};

/// Everything one backend showed while running one program.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub backend: String,
    pub version: String,
    pub steps: Vec<Step>,
    /// One entry per [`Options::probes`] item: the value at the last execution of its line,
    /// `None` when that line never ran.
    pub probes: Vec<Option<ProbeObs>>,
    /// The run stopped at [`Options::max_steps`].
    pub truncated: bool,
    /// Steps were thinned out (goldens keep the first and last executions of loop statements).
    #[serde(default)]
    pub partial: bool,
}

/// One statement execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Execution order, from 0.
    pub seq: usize,
    /// Index of the enclosing top-level statement.
    pub stmt_index: usize,
    /// The statement's line (as the parser gave it).
    pub line: u32,
    pub in_loop: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectedError>,
    /// The value of a bare expression statement (`x.grad`, `print(...)`, `loss.item()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ObsValue>,
    pub vars: Vec<VarObs>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub graphs: Vec<(String, GraphObs)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarObs {
    /// `x`, `param[1]`, `net.0.weight`.
    pub name: String,
    pub obs: TensorObs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeObs {
    pub seq: usize,
    pub value: Result<ObsValue, Failure>,
}

/// A Python value as observed: tensors fully read, everything else by value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ObsValue {
    None,
    Bool(bool),
    Int(i64),
    Float(#[serde(with = "crate::backend::floats::one")] f64),
    Str(String),
    Tensor(Box<TensorObs>),
    List(Vec<ObsValue>),
    Tuple(Vec<ObsValue>),
    Dtype(DType),
    /// Modules, optimizers, functions: shown by type name only.
    Other(String),
}

impl std::fmt::Display for ObsValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn seq(
            f: &mut std::fmt::Formatter<'_>,
            xs: &[ObsValue],
            open: &str,
            close: &str,
        ) -> std::fmt::Result {
            f.write_str(open)?;
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            if close == ")" && xs.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(close)
        }
        match self {
            ObsValue::None => f.write_str("None"),
            ObsValue::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            ObsValue::Int(i) => write!(f, "{i}"),
            ObsValue::Float(x) => write!(f, "{x:?}"),
            ObsValue::Str(s) => write!(f, "'{s}'"),
            ObsValue::Tensor(t) => write!(f, "{}", show_data(&t.data)),
            ObsValue::List(xs) => seq(f, xs, "[", "]"),
            ObsValue::Tuple(xs) => seq(f, xs, "(", ")"),
            ObsValue::Dtype(d) => f.write_str(d.torch_name()),
            ObsValue::Other(s) => write!(f, "<{s}>"),
        }
    }
}

/// Tensors with more elements than this are kept in goldens as a summary ([`compact`]).
pub const COMPACT_MAX: usize = 64;
/// How many evenly spaced elements a summary keeps, before its sum, sum of |x|, min and max.
pub const COMPACT_SAMPLES: usize = 16;

/// The number of elements of a tensor of this shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Whether `d` holds a golden summary instead of every value.
pub fn is_compact(d: &TensorData) -> bool {
    d.values.len() != numel(&d.shape)
}

/// A summary of a big tensor: evenly spaced samples, then sum, sum of |x|, min and max.
pub fn compact(d: &TensorData) -> TensorData {
    let n = d.values.len();
    if n <= COMPACT_MAX || is_compact(d) {
        return d.clone();
    }
    let mut values: Vec<f64> = (0..COMPACT_SAMPLES)
        .map(|i| d.values[i * n / COMPACT_SAMPLES])
        .collect();
    let sum: f64 = d.values.iter().sum();
    let sum_abs: f64 = d.values.iter().map(|v| v.abs()).sum();
    let min = d.values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values.extend([sum, sum_abs, min, max]);
    TensorData {
        shape: d.shape.clone(),
        dtype: d.dtype,
        values,
    }
}

fn fmt_num(v: f64, dtype: DType) -> String {
    match dtype {
        DType::Bool => if v != 0.0 { "True" } else { "False" }.into(),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => format!("{}", v as i64),
        _ => {
            if v.is_nan() {
                "nan".into()
            } else if v.is_infinite() {
                if v > 0.0 { "inf".into() } else { "-inf".into() }
            } else {
                format!("{v:?}")
            }
        }
    }
}

/// Tensor contents as nested lists (Python's `tolist()` look), shortened for big tensors.
pub fn show_data(d: &TensorData) -> String {
    if is_compact(d) {
        let k = COMPACT_SAMPLES.min(d.values.len());
        let samples: Vec<String> = d.values[..k].iter().map(|&v| fmt_num(v, d.dtype)).collect();
        return format!(
            "{} {:?} (summary) samples [{}, ...]",
            d.dtype.torch_name(),
            d.shape,
            samples.join(", ")
        );
    }
    let n = d.values.len();
    if n > 24 {
        let head: Vec<String> = d.values[..8].iter().map(|&v| fmt_num(v, d.dtype)).collect();
        return format!(
            "{} {:?} [{}, ...]",
            d.dtype.torch_name(),
            d.shape,
            head.join(", ")
        );
    }
    fn nest(d: &TensorData, dim: usize, off: usize, out: &mut String) {
        if dim == d.shape.len() {
            out.push_str(&fmt_num(d.values[off], d.dtype));
            return;
        }
        let stride: usize = d.shape[dim + 1..].iter().product();
        out.push('[');
        for i in 0..d.shape[dim] {
            if i > 0 {
                out.push_str(", ");
            }
            nest(d, dim + 1, off + i * stride, out);
        }
        out.push(']');
    }
    let mut out = String::new();
    if n == numel(&d.shape) {
        nest(d, 0, 0, &mut out);
    }
    out
}

//! The differential fuzzer: program generators, oracles, gradcheck, shrinking and campaigns.
//!
//! The layout follows wasmtime's `crates/fuzzing`: generators and oracles live here, in a
//! library that is unit-tested with a seeded RNG; the cargo-fuzz targets in `fuzz/` and the
//! `harness fuzz` campaign are thin glue over it.
//!
//! - [`generate`]: bytes (libFuzzer's, or ChaCha8's from a seed) to a program IR;
//! - [`oracle`]: runs one program on two sides (`crate::sides`) and classifies the outcome;
//! - [`mutant`]: deliberately wrong backends, for checking that the oracles notice;
//! - [`gradcheck`]: central finite differences in f64 against each backend's gradients;
//! - [`shrink`]: reduces a failing program and writes it as a regression case;
//! - [`campaign`]: a seed, a time budget, one worker per core, deduplicated findings.
//!
//! # Policy: NaN, reduction order and tolerances
//!
//! - **NaN equals NaN**, at the same position, and infinities must match in sign exactly; this is
//!   the comparator's rule (`cases/FORMAT.md`). Generated programs mostly keep `log`, `sqrt` and
//!   `reciprocal` in their domain (`(x * x + 1).log()`), and a small share deliberately leaves it,
//!   so NaN and inf propagation through forward and backward is compared too.
//! - **Reduction order** is not specified by libtorch (vectorised sums, blocked GEMM). Values are
//!   therefore compared with the comparator's tolerances and never bit for bit: float32
//!   `rtol 1.3e-6, atol 1e-5`, float64 `rtol 1e-7, atol 1e-7` (`torch.testing.assert_close`'s).
//!   A program that holds any float32 tensor compares its float64 values at float32's
//!   tolerance too, since `x.double()` or `f32 + f64` carries float32 rounding into float64.
//!   Literal inputs are multiples of 0.25 so that most sums are exact even in float32.
//! - **Ill-conditioned values** (a float32 rounding difference within tolerance that a later
//!   `cos` of a large argument, `pow` with a large exponent, or a `> 0` test of a mean that is
//!   zero up to rounding blows up) are real divergences of the two kernels' last bits, not
//!   autograd bugs: their regression cases are strict xfails with that verdict.
//! - **Argmax ties** (`max(dim)` on equal values) are resolved by libtorch to the first index; an
//!   engine that picks another index diverges in the indices and in the gradient, and that is
//!   reported as a real divergence.
//! - **Gradcheck** uses `torch.autograd.gradcheck`'s defaults: eps 1e-6, atol 1e-5, rtol 1e-3,
//!   in float64, on programs generated in [`generate::Mode::Differentiable`]: smooth ops only (no
//!   relu, abs, clamp or max, whose kinks make finite differences meaningless), inputs away from
//!   zero, no in-place ops, no `.data` or `detach`.
//! - **Budgets.** Tensors have at most 4 dims of at most 3 elements (81 elements), programs at
//!   most a few dozen statements and no loops, so every program finishes in milliseconds; a
//!   backend that panics is caught (`catch_unwind`) and reported as a finding of its own.

pub mod campaign;
pub mod generate;
pub mod gradcheck;
pub mod mutant;
pub mod oracle;
pub mod shrink;

//! Interpreter tests against libtorch.

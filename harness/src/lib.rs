//! Runs autograd conformance cases on the engine and on libtorch 2.13 and diffs every observable.
//!
//! The pieces, in the order data flows through them:
//! - [`ops`]: the ops table, one row per op, from which names, lowering and dispatch derive;
//! - [`program`]: the IR, its parser and printer (cases, fuzzer and report share them);
//! - [`case`]: the YAML envelope around a program (`cases/FORMAT.md`);
//! - [`interp`]: runs a program on a [`backend::Backend`] and records [`observe`]d values;
//! - [`sides`]: backends as values (the subject and the oracle of a run), chosen by name;
//! - [`compare`]: diffs two runs (and document claims) into a verdict;
//! - [`runner`]: runs many cases, applies known divergences and goldens, makes [`results`];
//! - [`report`]: HTML, JSON and JUnit output;
//! - [`fuzzing`]: program generators, oracles and shrinking for the differential fuzzer.

pub mod backend;
pub mod case;
pub mod classify;
pub mod compare;
pub mod devices;
pub mod error_kind;
pub mod fuzzing;
pub mod golden;
pub mod interp;
pub mod known;
pub mod numerics;
pub mod observe;
pub mod ops;
pub mod program;
pub mod report;
pub mod results;
pub mod runner;
pub mod sides;
pub mod tolerance;

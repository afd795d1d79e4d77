//! engine
pub mod cpu;

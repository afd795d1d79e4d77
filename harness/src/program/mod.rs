//! Programs: the IR ([`ast`]), the parser and the printer.

pub mod ast;
pub mod parser;
pub mod printer;

pub use ast::*;
pub use parser::{SyntaxError, parse};
pub use printer::print;

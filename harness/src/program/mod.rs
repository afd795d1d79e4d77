//! Programs: the IR ([`ast`]), its tokenizer and parser, the printer, the name table that the
//! checker and the interpreter bind calls with, built from the ops table ([`names`]), static
//! checks ([`check`]) and proptest strategies ([`strategy`]).

pub mod ast;
pub mod check;
pub mod lexer;
pub mod names;
pub mod parser;
pub mod printer;
pub mod strategy;

pub use ast::*;
pub use check::{CheckError, check, check_all, check_claim};
pub use parser::{SyntaxError, parse, parse_expr};
pub use printer::{print, print_expr, print_stmt, print_target};

#[cfg(test)]
mod tests;

//! Programs: the IR ([`ast`]), its tokenizer and parser, the printer, the name table shared with
//! the interpreter and the fuzzer ([`names`]), static checks ([`check`]) and proptest strategies
//! ([`strategy`]).

pub mod ast;
pub mod lexer;
pub mod names;
pub mod parser;
pub mod printer;

pub use ast::*;
pub use parser::{SyntaxError, parse, parse_expr};
pub use printer::{print, print_expr, print_stmt, print_target};

#[cfg(test)]
mod tests;

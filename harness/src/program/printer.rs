//! Prints the IR back as program text. (stub: owned by the parser work)

use super::ast::Program;

pub fn print(_program: &Program) -> String {
    String::new()
}

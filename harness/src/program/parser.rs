//! Parses program text into the IR. (stub: owned by the parser work)

use super::ast::{Program, Span};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", span.line, span.col)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

pub fn parse(_text: &str) -> Result<Program, SyntaxError> {
    Err(SyntaxError {
        span: Span { line: 1, col: 1 },
        message: "parser not written yet".into(),
    })
}

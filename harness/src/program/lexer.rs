//! Turns program text into tokens with 1-based line/column positions, the way CPython's tokenizer
//! does for the subset we accept: INDENT/DEDENT from leading whitespace, NEWLINE at the end of each
//! logical line, implicit line joining inside brackets, `\` continuation, and comments dropped,
//! except a trailing `# raises: kind "message"`, which becomes a [`Tok::Raises`] token just before
//! the NEWLINE of its logical line (wherever in a bracketed multi-line statement it was written).

use super::ast::Span;

/// A program that does not lex or parse, with where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", span.line, span.col)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(String),
    /// Unsigned: a minus sign is an operator; `i64::MIN` needs the extra bit until it is negated.
    Int(u64),
    Float(f64),
    Str(String),
    /// Operators and punctuation, as written: `+`, `**`, `+=`, `(`, `:`, `...`.
    Op(&'static str),
    /// `# raises: kind "message"`; `kind_span` locates the kind word for messages.
    Raises {
        kind: String,
        kind_span: Span,
        message: Option<String>,
    },
    Newline,
    Indent,
    Dedent,
    Eof,
}

impl Tok {
    /// How a token is named in "expected ..., found ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Name(n) => format!("'{n}'"),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f:?}"),
            Tok::Str(_) => "a string".into(),
            Tok::Op(o) => format!("'{o}'"),
            Tok::Raises { .. } => "a '# raises:' comment".into(),
            Tok::Newline => "end of line".into(),
            Tok::Indent => "an indented block".into(),
            Tok::Dedent => "the end of an indented block".into(),
            Tok::Eof => "end of program".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Longest first, so that `**=` wins over `**` and `*`.
const OPS: &[&str] = &[
    "**=", "//=", "...", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "@=",
    "->", "+", "-", "*", "/", "%", "@", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ":", ".",
    ";",
];

fn err(line: usize, col: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        span: Span {
            line: line as u32,
            col: col as u32,
        },
        message: message.into(),
    }
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut out: Vec<Token> = Vec::new();
    let mut indents: Vec<usize> = vec![0];
    // Open brackets with their positions: inside them newlines and indentation mean nothing.
    let mut brackets: Vec<(char, usize, usize)> = Vec::new();
    // A `# raises:` comment seen on this logical line, emitted before its NEWLINE.
    let mut pending_raises: Option<Token> = None;
    // Whether the current logical line continues from a previous physical line.
    let mut continuing = false;
    let mut last_line = 1;

    for (idx, raw_line) in text.split('\n').enumerate() {
        let lineno = idx + 1;
        last_line = lineno;
        let line: Vec<char> = raw_line.trim_end_matches('\r').chars().collect();
        let mut i = 0;

        if !continuing {
            // Measure indentation; blank and comment-only lines do not count.
            while i < line.len() && line[i] == ' ' {
                i += 1;
            }
            if i < line.len() && line[i] == '\t' {
                return Err(err(
                    lineno,
                    i + 1,
                    "tabs are not allowed in indentation; use spaces",
                ));
            }
            if i == line.len() {
                continue;
            }
            if line[i] == '#' {
                // A `# raises:` alone on its line would silently expect nothing.
                let comment: String = line[i + 1..].iter().collect();
                if raises_comment(&comment, lineno, i + 1).is_ok_and(|t| t.is_some()) {
                    return Err(err(
                        lineno,
                        i + 1,
                        "a '# raises:' comment must trail the statement that raises, on the same line",
                    ));
                }
                continue;
            }
            let width = i;
            let top = *indents.last().expect("indent stack is never empty");
            let span = Span {
                line: lineno as u32,
                col: (i + 1) as u32,
            };
            if width > top {
                indents.push(width);
                out.push(Token {
                    tok: Tok::Indent,
                    span,
                });
            } else if width < top {
                while width < *indents.last().expect("indent stack is never empty") {
                    indents.pop();
                    out.push(Token {
                        tok: Tok::Dedent,
                        span,
                    });
                }
                if width != *indents.last().expect("indent stack is never empty") {
                    return Err(err(
                        lineno,
                        i + 1,
                        "unindent does not match any outer indentation level",
                    ));
                }
            }
        }
        continuing = false;

        while i < line.len() {
            let c = line[i];
            let col = i + 1;
            let span = Span {
                line: lineno as u32,
                col: col as u32,
            };
            if c == ' ' || c == '\t' {
                i += 1;
                continue;
            }
            if c == '#' {
                let comment: String = line[i + 1..].iter().collect();
                if let Some(tok) = raises_comment(&comment, lineno, i + 1)? {
                    if pending_raises.is_some() {
                        return Err(err(
                            lineno,
                            col,
                            "a statement may carry only one '# raises:' comment",
                        ));
                    }
                    pending_raises = Some(Token { tok, span });
                }
                break;
            }
            if c == '\\' {
                if line[i + 1..].iter().all(|c| *c == ' ' || *c == '\t') {
                    continuing = true;
                    break;
                }
                return Err(err(
                    lineno,
                    col,
                    "unexpected character after line continuation '\\'",
                ));
            }
            if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < line.len() && (line[i].is_ascii_alphanumeric() || line[i] == '_') {
                    i += 1;
                }
                let name: String = line[start..i].iter().collect();
                out.push(Token {
                    tok: Tok::Name(name),
                    span,
                });
                continue;
            }
            if c.is_ascii_digit()
                || (c == '.' && line.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            {
                let (tok, next) = number(&line, i, lineno)?;
                out.push(Token { tok, span });
                i = next;
                continue;
            }
            if c == '\'' || c == '"' {
                let (s, next) = string(&line, i, lineno)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    span,
                });
                i = next;
                continue;
            }
            let rest: String = line[i..line.len().min(i + 3)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err(err(lineno, col, format!("unexpected character '{c}'")));
            };
            match *op {
                "(" | "[" | "{" => brackets.push((c, lineno, col)),
                ")" | "]" | "}" => {
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    match brackets.pop() {
                        Some((open, _, _)) if open == want => {}
                        Some((open, l, oc)) => {
                            return Err(err(
                                lineno,
                                col,
                                format!("closing '{c}' does not match '{open}' opened at {l}:{oc}"),
                            ));
                        }
                        None => return Err(err(lineno, col, format!("unmatched '{c}'"))),
                    }
                }
                _ => {}
            }
            out.push(Token {
                tok: Tok::Op(op),
                span,
            });
            i += op.len();
        }

        if !brackets.is_empty() {
            continuing = true;
        }
        if !continuing {
            let span = Span {
                line: lineno as u32,
                col: (line.len() + 1) as u32,
            };
            if let Some(r) = pending_raises.take() {
                out.push(r);
            }
            out.push(Token {
                tok: Tok::Newline,
                span,
            });
        }
    }

    if let Some((open, l, c)) = brackets.pop() {
        return Err(err(l, c, format!("'{open}' was never closed")));
    }
    if continuing {
        return Err(err(last_line, 1, "unexpected end of program after '\\'"));
    }
    let end = Span {
        line: last_line as u32 + 1,
        col: 1,
    };
    while indents.len() > 1 {
        indents.pop();
        out.push(Token {
            tok: Tok::Dedent,
            span: end,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        span: end,
    });
    Ok(out)
}

/// Reads a number starting at `line[start]`: `1`, `1_000`, `1.`, `.5`, `1e-6`, `2.5E+3`.
fn number(line: &[char], start: usize, lineno: usize) -> Result<(Tok, usize), SyntaxError> {
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < line.len() && (line[*i].is_ascii_digit() || line[*i] == '_') {
            *i += 1;
        }
    };
    digits(&mut i);
    let mut is_float = false;
    if i < line.len() && line[i] == '.' {
        is_float = true;
        i += 1;
        digits(&mut i);
    }
    if i < line.len() && (line[i] == 'e' || line[i] == 'E') {
        let mut j = i + 1;
        if j < line.len() && (line[j] == '+' || line[j] == '-') {
            j += 1;
        }
        if j < line.len() && line[j].is_ascii_digit() {
            is_float = true;
            i = j;
            digits(&mut i);
        } else {
            return Err(err(lineno, i + 1, "expected digits after the exponent 'e'"));
        }
    }
    if i < line.len() && (line[i].is_ascii_alphanumeric() || line[i] == '_') {
        return Err(err(
            lineno,
            i + 1,
            format!("invalid number literal: unexpected '{}'", line[i]),
        ));
    }
    let text: String = line[start..i].iter().filter(|c| **c != '_').collect();
    let raw: String = line[start..i].iter().collect();
    if raw.contains("__") || raw.ends_with('_') || raw.contains("_.") || raw.contains("._") {
        return Err(err(
            lineno,
            start + 1,
            format!("invalid number literal '{raw}'"),
        ));
    }
    let tok = if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Tok::Float(f),
            // Python reads `1e999` as inf, but no literal prints back that way (the printer
            // spells inf `math.inf`), so an overflowing literal is refused rather than kept.
            Ok(_) => {
                return Err(err(
                    lineno,
                    start + 1,
                    format!("number literal '{raw}' is out of range for a float (write math.inf)"),
                ));
            }
            Err(_) => {
                return Err(err(
                    lineno,
                    start + 1,
                    format!("invalid number literal '{raw}'"),
                ));
            }
        }
    } else {
        if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
            return Err(err(
                lineno,
                start + 1,
                format!("leading zeros are not allowed in '{raw}'"),
            ));
        }
        match text.parse::<u64>() {
            Ok(v) if v <= i64::MAX as u64 + 1 => Tok::Int(v),
            _ => {
                return Err(err(
                    lineno,
                    start + 1,
                    format!("integer literal '{raw}' does not fit in 64 bits"),
                ));
            }
        }
    };
    Ok((tok, i))
}

/// Reads a quoted string starting at `line[start]`, with `\\ \' \" \n \t` escapes.
fn string(line: &[char], start: usize, lineno: usize) -> Result<(String, usize), SyntaxError> {
    let quote = line[start];
    let mut s = String::new();
    let mut i = start + 1;
    while i < line.len() {
        let c = line[i];
        if c == quote {
            return Ok((s, i + 1));
        }
        if c == '\\' {
            let Some(&e) = line.get(i + 1) else { break };
            s.push(match e {
                '\\' => '\\',
                '\'' => '\'',
                '"' => '"',
                'n' => '\n',
                't' => '\t',
                _ => {
                    return Err(err(
                        lineno,
                        i + 1,
                        format!("unknown escape '\\{e}' (expected one of \\\\ \\' \\\" \\n \\t)"),
                    ));
                }
            });
            i += 2;
            continue;
        }
        s.push(c);
        i += 1;
    }
    Err(err(
        lineno,
        start + 1,
        "string is never closed on this line",
    ))
}

/// Recognises `raises: kind` / `raises: kind "message"` in a comment's text (after the `#`);
/// `offset` is the 0-based column of the first character of `comment`.
fn raises_comment(comment: &str, lineno: usize, offset: usize) -> Result<Option<Tok>, SyntaxError> {
    let chars: Vec<char> = comment.chars().collect();
    let mut i = 0;
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let rest: String = chars[i..].iter().collect();
    if !rest.starts_with("raises:") {
        return Ok(None);
    }
    i += "raises:".len();
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let kind_start = i;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    if i == kind_start {
        return Err(err(
            lineno,
            offset + kind_start + 1,
            "expected an error kind after 'raises:'",
        ));
    }
    let kind: String = chars[kind_start..i].iter().collect();
    let kind_span = Span {
        line: lineno as u32,
        col: (offset + kind_start + 1) as u32,
    };
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let mut message = None;
    if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
        let (s, next) = string(&chars, i, lineno).map_err(|mut e| {
            e.span.col += offset as u32;
            e
        })?;
        message = Some(s);
        i = next;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
    }
    if i < chars.len() {
        return Err(err(
            lineno,
            offset + i + 1,
            "expected end of line or a quoted message after the error kind in '# raises:'",
        ));
    }
    Ok(Some(Tok::Raises {
        kind,
        kind_span,
        message,
    }))
}

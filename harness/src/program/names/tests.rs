//! The name table against its contract: lookups, binding, and `cases/FORMAT.md`.

use super::*;
use crate::ops::{BinaryRow, OpRow, UnaryRow};

/// How `cases/FORMAT.md` writes each spelling of an op: `x.exp()`, `torch.exp(input)`.
fn spellings(name: &str, spelled: &[Spelling], sig: &Signature, method_sig: &Signature) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in spelled {
        out.push(match s {
            Spelling::Method => format!("`x.{name}({})`", method_sig.render()),
            Spelling::Torch => format!("`torch.{name}({})`", sig.render()),
            Spelling::F => format!("`F.{name}({})`", sig.render()),
            Spelling::Attr => format!("`x.{name}`"),
        });
    }
    out.join(", ")
}

fn unary_line(r: &UnaryRow) -> String {
    let sig = Signature::parse("input: tensor");
    let none = Signature::parse("");
    let mut s = spellings(r.name, r.spelled, &sig, &none);
    if let Some(ip) = r.in_place {
        s.push_str(&format!(", in place `x.{ip}()`"));
    }
    format!("- {s}: {}; {}.", r.doc, r.dtype.describe())
}

fn binary_line(r: &BinaryRow) -> String {
    let sig = Signature::parse(r.sig);
    let mut method = sig.clone();
    method.params.retain(|p| p.name != "input");
    let mut s = spellings(r.name, r.spelled, &sig, &method);
    if let Some(op) = r.in_place {
        s.push_str(&format!(
            ", in place `x.{}({})`",
            op.name(),
            method.render()
        ));
    }
    if let Some(sym) = r.operator {
        s.push_str(&format!(", `x {sym} y`"));
    }
    format!("- {s}: {}; {}.", r.doc, r.dtype.describe())
}

fn row_line(r: &OpRow) -> String {
    let sig = Signature::parse(r.sig);
    let method = match r.method_sig {
        Some(m) => Signature::parse(m),
        None => {
            let mut m = sig.clone();
            m.params.retain(|p| p.name != "input");
            m
        }
    };
    format!(
        "- {}: {}.",
        spellings(r.name, r.spelled, &sig, &method),
        r.doc
    )
}

/// FORMAT.md's op list, one line per row of the ops table, in table order.
fn ops_section() -> String {
    let mut out = String::new();
    for line in UNARY
        .iter()
        .map(unary_line)
        .chain(BINARY.iter().map(binary_line))
        .chain(ROWS.iter().map(row_line))
    {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

const OPS_BEGIN: &str = "<!-- ops: one line per row of harness/src/ops, held to it by a test -->\n";
const OPS_END: &str = "<!-- end of ops -->";

/// Every op's line in FORMAT.md is its row's, and FORMAT.md lists no op the table lacks: adding a
/// row fails here with the line to paste.
#[test]
fn format_md_lists_every_op_as_its_row_says() {
    let doc = include_str!("../../../../cases/FORMAT.md");
    let want = ops_section();
    let got = doc
        .split_once(OPS_BEGIN)
        .and_then(|(_, rest)| rest.split_once(OPS_END))
        .map(|(section, _)| section);
    assert!(
        got == Some(want.as_str()),
        "cases/FORMAT.md's op list is not the ops table's; between\n{OPS_BEGIN}and\n{OPS_END}\nit must read:\n{want}"
    );
}

#[test]
fn table_parses_and_lookups_work() {
    let t = &*TABLE;
    assert!(t.function(Some(Torch), "ones").is_some());
    assert!(t.function(Some(Nn), "Linear").is_some());
    assert!(t.function(Some(Functional), "relu").is_some());
    assert!(t.function(Some(Functional), "ones").is_none());
    assert_eq!(t.function(None, "exp").unwrap().modules, TORCH);
    assert_eq!(t.function(Some(Math), "exp").unwrap().modules, MATH);
    assert!(t.function(None, "print").is_some());
    assert!(t.tensor_method("add_").is_some());
    assert!(t.constant(Torch, "float64").is_some());
    let ones = t.function(None, "ones").unwrap();
    assert_eq!(
        ones.sig.render(),
        "*size, dtype=None, device=None, requires_grad=False"
    );
}

/// FORMAT.md is the contract case authors read; every name the table knows must be there.
#[test]
fn format_md_lists_every_name() {
    let doc = include_str!("../../../../cases/FORMAT.md");
    let words: std::collections::HashSet<&str> = doc
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let t = &*TABLE;
    let missing: Vec<&str> = t
        .functions
        .iter()
        .map(|f| f.name)
        .chain(t.tensor_methods.iter().map(|m| m.name))
        .chain(t.module_methods.iter().map(|m| m.name))
        .chain(t.optimizer_methods.iter().map(|m| m.name))
        .chain(t.constants.iter().map(|c| c.name))
        .chain(t.tensor_attrs.iter().map(|(n, _)| *n))
        .chain(
            t.functions
                .iter()
                .flat_map(|f| f.sig.params.iter().map(|p| p.name)),
        )
        .filter(|n| !words.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "cases/FORMAT.md does not mention {missing:?}"
    );
}

#[test]
fn binding_follows_python() {
    let sig = &TABLE.function(None, "sum").unwrap().sig;
    let args = [1, 2];
    let kw = [("keepdim".to_owned(), 3)];
    let b = bind("sum", sig, &args, &kw).unwrap();
    assert_eq!(
        (b.get("input"), b.get("dim"), b.get("keepdim")),
        (Some(&1), Some(&2), Some(&3))
    );
    let e = bind("sum", sig, &[1, 2, 3, 4], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sum() takes 3 positional arguments but 4 were given"
    );
    let e = bind("sum", sig, &args, &[("dims".to_owned(), 0)]).unwrap_err();
    assert!(e.to_string().contains("unexpected keyword argument 'dims'"));
    let e = bind("sum", sig, &[] as &[i32], &[]).unwrap_err();
    assert!(e.to_string().contains("missing required argument 'input'"));
    let ones = &TABLE.function(None, "ones").unwrap().sig;
    let (args, kw) = ([2, 3], [("requires_grad".to_owned(), 1)]);
    let b = bind("ones", ones, &args, &kw).unwrap();
    assert_eq!(b.rest, vec![&2, &3]);
    assert!(bind("ones", ones, &[2], &[("size".to_owned(), 1)]).is_err());
}

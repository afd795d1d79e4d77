//! Unit tests for the tokenizer, parser and printer on hand-written programs.

use super::*;

fn rt(src: &str) -> String {
    let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let printed = print(&p);
    let p2 = parse(&printed).unwrap_or_else(|e| panic!("reparse {printed}: {e}"));
    assert_eq!(p, p2, "{printed}");
    printed
}

#[test]
fn precedence_and_canonical_form() {
    assert_eq!(rt("y = -2 ** 2\n"), "y = -2 ** 2\n");
    assert_eq!(rt("y = (-2) ** 2\n"), "y = (-2) ** 2\n");
    assert_eq!(rt("y = a ** b ** c\n"), "y = a ** b ** c\n");
    assert_eq!(rt("y = (a ** b) ** c\n"), "y = (a ** b) ** c\n");
    assert_eq!(rt("y = a - (b - c)\n"), "y = a - (b - c)\n");
    assert_eq!(rt("y = (a - b) - c\n"), "y = a - b - c\n");
    assert_eq!(rt("y = ((a * 3) / (a - 1))\n"), "y = a * 3 / (a - 1)\n");
    assert_eq!(rt("y = x @ w.t() + b\n"), "y = x @ w.t() + b\n");
    assert_eq!(rt("y = 2 ** -x\n"), "y = 2 ** -x\n");
    assert_eq!(rt("y = -(1)\n"), "y = -(1)\n");
    assert_eq!(rt("y = - -1\n"), "y = --1\n");
    assert_eq!(
        rt("y = not a == b and c or d\n"),
        "y = not a == b and c or d\n"
    );
    assert_eq!(
        rt("if t % 100 == 99:\n  print(t, loss.item())\n"),
        "if t % 100 == 99:\n    print(t, loss.item())\n"
    );
}

#[test]
fn literals() {
    assert_eq!(
        rt("x = [1., .5, 1e-6, 2.5E+3, 1_000]\n"),
        "x = [1.0, 0.5, 1e-6, 2500.0, 1000]\n"
    );
    assert_eq!(rt("x = 'a\\'b' + \"c\"\n"), "x = 'a\\'b' + 'c'\n");
    assert_eq!(
        rt("x = -9223372036854775808\n"),
        "x = -9223372036854775808\n"
    );
    assert_eq!(
        rt("x = (1,)\ny = ()\nz = 1, 2\n"),
        "x = (1,)\ny = ()\nz = (1, 2)\n"
    );
    assert!(parse("x = 9223372036854775808\n").is_err());
    // An overflowing float literal has no printed form that reads back (found by `parse_cases`).
    let e = parse("x = 22e515522\n").unwrap_err();
    assert_eq!((e.span.line, e.span.col), (1, 5));
    assert!(e.message.contains("out of range"), "{}", e.message);
}

#[test]
fn statements() {
    let src = "import torch\nimport torch.nn   as nn\nfrom torch import nn, optim\n\
               x = torch.ones(2, 2, requires_grad=True)  # a comment\n\
               a, b = x.max(0)\nx.grad = None\nb[0] = 1000.0\na[:, 1:3, None, ...] = 0\n\
               x.data *= 100\n\
               with torch.no_grad():\n    for name, p in net.named_parameters():\n        p -= 0.1 * p.grad\n\
               if a:\n    pass\nelif b:\n    pass\nelse:\n    c = 1\n";
    let out = rt(src);
    assert!(out.contains("import torch.nn as nn\n"), "{out}");
    assert!(out.contains("elif b:\n"), "{out}");
    assert!(out.contains("a[:, 1:3, None, ...] = 0\n"), "{out}");
}

#[test]
fn raises_comment_and_implicit_joining() {
    let src = "x = torch.tensor([1.0, 2.0],  # raises: leaf_inplace \"a \\\"leaf\\\"\"\n      requires_grad=True)\ny = 1 # raises: no_grad_fn\n";
    let p = parse(src).unwrap();
    assert_eq!(p.stmts.len(), 2);
    assert_eq!(
        p.stmts[0].expect,
        Some(ExpectedError {
            kind: "leaf_inplace".into(),
            message: Some("a \"leaf\"".into())
        })
    );
    assert_eq!(p.stmts[1].span, Span { line: 3, col: 1 });
    let out = rt(src);
    assert!(out.contains("  # raises: no_grad_fn\n"), "{out}");
}

#[test]
fn spans() {
    let p = parse("a = 1\nif a:\n    b = a.foo(x, k=2)\n").unwrap();
    let StmtKind::If { body, .. } = &p.stmts[1].kind else {
        panic!()
    };
    assert_eq!((body[0].span.line, body[0].span.col), (3, 5));
    let StmtKind::Assign { value, .. } = &body[0].kind else {
        panic!()
    };
    assert_eq!((value.span.line, value.span.col), (3, 14)); // the '('
    let ExprKind::Call { func, .. } = &value.kind else {
        panic!()
    };
    assert_eq!((func.span.line, func.span.col), (3, 11)); // 'foo'
}

#[test]
fn errors_name_position_and_expectation() {
    let cases = [
        ("x = (1, 2\n", "1:5: '(' was never closed"),
        (
            "x = 1 +\n",
            "1:8: expected an expression, found end of line",
        ),
        (
            "if x:\ny = 1\n",
            "2:1: expected an indented block after 'if', found 'y'",
        ),
        (
            "if x:\n    y = 1\n  z = 2\n",
            "3:3: unindent does not match any outer indentation level",
        ),
        ("  x = 1\n", "1:3: unexpected indent"),
        (
            "x = 1 # raises: bogus\n",
            "1:17: unknown error kind 'bogus'",
        ),
        (
            "while x:\n    pass\n",
            "1:1: 'while' statements are not part of the case language",
        ),
        ("1 = x\n", "1:1: cannot assign to a number"),
        (
            "f(a=1, 2)\n",
            "1:8: positional argument follows keyword argument",
        ),
        ("x = a < b < c\n", "1:11: chained comparisons"),
        ("x = $\n", "1:5: unexpected character '$'"),
        ("print(f'{x}')\n", "1:7: string prefixes such as f'...'"),
        ("y = [a for a in b]\n", "1:8: comprehensions"),
        ("y = sum(a for a in b)\n", "1:11: comprehensions"),
        ("y = for\n", "1:5: expected an expression, found 'for'"),
        (
            "x = 1\n# raises: leaf_inplace\n",
            "2:1: a '# raises:' comment must trail the statement",
        ),
    ];
    for (src, want) in cases {
        let e = parse(src).expect_err(src).to_string();
        assert!(e.starts_with(want), "{src:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Run on a thread with the default test stack, as the fuzzer's targets would.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for src in [
                format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000)),
                format!("x = {}1\n", "-".repeat(5000)),
                format!("x = {}1\n", "not ".repeat(5000)),
                format!("x = 2{}\n", " ** 2".repeat(5000)),
                format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000)),
                format!("x = a{}\n", "[0]".repeat(5000)),
                format!("x = a{}\n", ".b".repeat(5000)),
                format!("x = 1{}\n", " + 1".repeat(5000)),
                format!("x = f{}\n", "(1)".repeat(5000)),
                (0..200)
                    .map(|i| format!("{}if a:\n", " ".repeat(i)))
                    .collect::<String>(),
            ] {
                let e = parse(&src).expect_err("too deep");
                assert!(
                    e.message.contains("levels deep") || e.message.contains("indented"),
                    "{e}"
                );
            }
            // Real programs are far from the limit.
            let ok = format!("x = {}1{}\n", "(".repeat(30), ")".repeat(30));
            assert!(parse(&ok).is_ok());
        })
        .unwrap()
        .join()
        .unwrap();
}

//! Hand-built results for the report's tests and for previewing the page: one case of every
//! kind ([`sample_suite`]) and a large synthetic run ([`synthetic_suite`]) for size and speed.
//! The values are what libtorch 2.13 really prints for these programs; the engine's side is
//! made up to diverge.

use crate::backend::{Failure, GraphNode, GraphObs};
use crate::error_kind::ErrorKind;
use crate::results::{
    CaseResult, CaseStatus, Divergence, DocClaimCheck, FORMAT_VERSION, RunMeta, SideInfo,
    SuiteResult,
};

fn node(name: &str, saved: &[u64]) -> GraphNode {
    GraphNode {
        name: name.into(),
        leaf_shape: None,
        saved_versions: saved.to_vec(),
    }
}

fn leaf(shape: &[usize]) -> GraphNode {
    GraphNode {
        name: "AccumulateGrad".into(),
        leaf_shape: Some(shape.to_vec()),
        saved_versions: Vec::new(),
    }
}

/// libtorch's graph of `out = (y * y * 3).mean()` with `y = x + 2`.
pub fn accumulate_graph_libtorch() -> GraphObs {
    GraphObs {
        nodes: vec![
            node("MeanBackward0", &[]),
            node("MulBackward0", &[0]),
            node("MulBackward0", &[0, 0]),
            node("AddBackward0", &[]),
            leaf(&[2, 2]),
        ],
        edges: vec![(0, 1), (1, 2), (2, 3), (2, 3), (3, 4)],
    }
}

/// The same graph as a faulty engine might build it: the addition left out of the graph.
pub fn accumulate_graph_engine() -> GraphObs {
    GraphObs {
        nodes: vec![
            node("MeanBackward0", &[]),
            node("MulBackward0", &[0]),
            node("MulBackward0", &[0, 0]),
            leaf(&[2, 2]),
        ],
        edges: vec![(0, 1), (1, 2), (2, 3), (2, 3)],
    }
}

fn meta() -> RunMeta {
    RunMeta {
        subject: Some(SideInfo::new("engine", "engine 0.1.0 (cpu)")),
        oracle: SideInfo::new("libtorch", "libtorch 2.13.0 (cpu)"),
        started: "2026-11-23T18:00:00Z".into(),
        duration_ms: 4321,
        shard: None,
        notes: Vec::new(),
    }
}

fn case(path: &str, name: &str, status: CaseStatus, program: &str) -> CaseResult {
    let lines = program.lines().count() as u64;
    CaseResult {
        path: path.into(),
        name: name.into(),
        source: "001_df7c34f02737e594.txt, In [7]-[9]".into(),
        tags: vec!["leaf".into()],
        status,
        program: program.into(),
        program_line: 5,
        statements: lines,
        observables: lines * 7,
        divergences: Vec::new(),
        drift: Vec::new(),
        claims: Vec::new(),
        numerics: Vec::new(),
        xfail_reason: None,
        message: None,
        duration_ms: 12,
    }
}

const ACCUMULATE: &str = "x = ones(2, 2, requires_grad=True)
y = x + 2
out = (y * y * 3).mean()
out.backward()
out2 = x.sum()
out2.backward()
";

/// Eight cases: two failures (a value and an error kind), a known divergence, a malformed case,
/// a pass with document drift, a plain pass, a fuzz regression, and a case whose every text
/// tries to inject markup.
pub fn sample_suite() -> SuiteResult {
    let mut fail = case(
        "cases/seed001/in09_accumulate.yaml",
        "gradients accumulate across backward calls",
        CaseStatus::Fail,
        ACCUMULATE,
    );
    fail.tags = vec!["accumulation".into(), "leaf".into()];
    fail.statements = 6;
    fail.observables = 41;
    fail.divergences.push(Divergence {
        stmt_index: 3,
        line: 8,
        statement: "out.backward()".into(),
        variable: Some("x".into()),
        observable: "grad.values".into(),
        subject: "[[3.0000, 3.0000], [3.0000, 3.0000]]".into(),
        oracle: "[[4.5000, 4.5000], [4.5000, 4.5000]]".into(),
        subject_error: None,
        oracle_error: None,
        subject_graph: Some(accumulate_graph_engine()),
        oracle_graph: Some(accumulate_graph_libtorch()),
    });
    fail.claims = vec![
        DocClaimCheck {
            line: 8,
            statement: "out.backward()".into(),
            observable: "x.grad".into(),
            doc: "[[4.5, 4.5], [4.5, 4.5]]".into(),
            oracle: "[[4.5, 4.5], [4.5, 4.5]]".into(),
            subject: "[[3.0, 3.0], [3.0, 3.0]]".into(),
            oracle_agrees: true,
            subject_agrees: false,
        },
        DocClaimCheck {
            line: 10,
            statement: "out2.backward()".into(),
            observable: "x.grad".into(),
            doc: "[[5.5, 5.5], [5.5, 5.5]]".into(),
            oracle: "[[5.5, 5.5], [5.5, 5.5]]".into(),
            subject: "[[4.0, 4.0], [4.0, 4.0]]".into(),
            oracle_agrees: true,
            subject_agrees: false,
        },
    ];

    let mut inplace = case(
        "cases/topics/inplace_leaf_add_.yaml",
        "an in-place op on a leaf that requires grad raises",
        CaseStatus::Fail,
        "a = ones(3, requires_grad=True)\na.add_(10.)    # raises: leaf_inplace\n",
    );
    inplace.source = "original".into();
    inplace.tags = vec!["inplace".into(), "leaf".into()];
    inplace.divergences.push(Divergence {
        stmt_index: 1,
        line: 6,
        statement: "a.add_(10.)    # raises: leaf_inplace".into(),
        variable: None,
        observable: "outcome".into(),
        subject: "ok".into(),
        oracle: "raised leaf_inplace".into(),
        subject_error: None,
        oracle_error: Some(Failure::new(
            ErrorKind::LeafInplace,
            "a leaf Variable that requires grad is being used in an in-place operation.",
        )),
        subject_graph: None,
        oracle_graph: None,
    });

    let mut xfail = case(
        "cases/views/no_grad_view.yaml",
        "a view made under no_grad cannot be modified in-place",
        CaseStatus::Xfail,
        "a = ones(4, requires_grad=True)\nwith no_grad():\n    v = a[:2]\nv.mul_(2)\n",
    );
    xfail.tags = vec!["view".into(), "no_grad".into()];
    xfail.xfail_reason =
        Some("the engine does not record whether a view was made under no_grad yet".into());
    xfail.divergences.push(Divergence {
        stmt_index: 2,
        line: 8,
        statement: "v.mul_(2)".into(),
        variable: None,
        observable: "outcome".into(),
        subject: String::new(),
        oracle: String::new(),
        subject_error: Some(Failure::new(
            ErrorKind::ViewOfLeafInplace,
            "a view of a leaf Variable that requires grad is being used in an in-place operation.",
        )),
        oracle_error: Some(Failure::new(
            ErrorKind::NoGradViewInplace,
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled.",
        )),
        subject_graph: None,
        oracle_graph: None,
    });

    let mut error = case(
        "cases/seed003/typo.yaml",
        "a case with an unknown function",
        CaseStatus::Error,
        "x = onez(2)\n",
    );
    error.statements = 0;
    error.observables = 0;
    error.message =
        Some("cases/seed003/typo.yaml:5:5: unknown function `onez` (did you mean `ones`?)".into());

    let mut drift = case(
        "cases/seed001/in03_add_grad_fn.yaml",
        "the result of an op on a tensor requiring grad has a grad_fn",
        CaseStatus::Pass,
        "x = ones(2, 2, requires_grad=True)\ny = x + 2\ny.grad_fn\n",
    );
    drift.tags = vec!["grad_fn".into()];
    let claim = DocClaimCheck {
        line: 7,
        statement: "y.grad_fn".into(),
        observable: "y.grad_fn".into(),
        doc: "<AddBackward object at 0x7f8b1c0b5b00>".into(),
        oracle: "<AddBackward0 object>".into(),
        subject: "<AddBackward0 object>".into(),
        oracle_agrees: false,
        subject_agrees: true,
    };
    drift.drift = vec![claim.clone()];
    drift.claims = vec![claim];

    let pass = case(
        "cases/seed001/in04_is_leaf.yaml",
        "tensors created by the user are leaves",
        CaseStatus::Pass,
        "x = ones(2, 2, requires_grad=True)\nx.is_leaf\n",
    );

    let mut fuzz = case(
        "cases/regressions/fuzz_5a1c.yaml",
        "fuzz finding: expand then sum backward",
        CaseStatus::Pass,
        "v0 = randn(3, requires_grad=True)\nv1 = v0.expand(2, 3)\nv2 = v1.sum()\nv2.backward()\n",
    );
    fuzz.source = "fuzz 5a1c".into();
    fuzz.tags = vec!["fuzz".into(), "view".into()];

    let mut numerics = case(
        "cases/regressions/fuzz_e319.yaml",
        "fuzz finding: exp of a large value",
        CaseStatus::Numerics,
        "t0 = tensor([31.5])\nt1 = t0.exp()\n",
    );
    numerics.source = "fuzz e319".into();
    numerics.tags = vec!["fuzz".into()];
    numerics.numerics.push(crate::numerics::NumericsNote {
        line: 7,
        variable: Some("t1".into()),
        observable: "values".into(),
        error: 8.0e6,
        budget: 1.6e7,
        why: "float32 rounding budget".into(),
    });

    let evil_text = "<script>alert(1)</script>";
    let mut evil = case(
        "cases/evil/</script><img src=x onerror=alert(2)>.yaml",
        evil_text,
        CaseStatus::Fail,
        "x = ones(1, requires_grad=True)  # </script><!--\ny = x * 2\n",
    );
    evil.source = "<b onmouseover=alert(3)>doc</b>, In [1]".into();
    evil.tags = vec!["<i>tag</i>".into()];
    evil.message = Some("</script><script>alert(4)</script>".into());
    evil.divergences.push(Divergence {
        stmt_index: 1,
        line: 6,
        statement: "y = x * 2  # <svg onload=alert(5)>".into(),
        variable: Some("y<b>".into()),
        observable: "grad_fn".into(),
        subject: "<MulBackward0>".into(),
        oracle: "</script>".into(),
        subject_error: None,
        oracle_error: Some(Failure::new(
            ErrorKind::Unclassified,
            "<img src=x onerror=alert(6)>",
        )),
        subject_graph: Some(GraphObs {
            nodes: vec![node("<script>alert(7)</script>", &[]), leaf(&[1])],
            edges: vec![(0, 1)],
        }),
        oracle_graph: Some(GraphObs {
            nodes: vec![node("MulBackward0", &[]), leaf(&[1])],
            edges: vec![(0, 1)],
        }),
    });

    SuiteResult {
        format_version: FORMAT_VERSION,
        meta: meta(),
        cases: vec![
            pass, fail, drift, xfail, error, evil, inplace, fuzz, numerics,
        ],
    }
}

/// [`sample_suite`] without the markup-injecting case: what a real run's report looks like.
pub fn showcase_suite() -> SuiteResult {
    let mut s = sample_suite();
    s.cases.retain(|c| !c.name.contains('<'));
    s
}

/// `n` cases in the proportions of a mature suite: about one in ten failing with graphs on
/// both sides, a few known divergences and errors, one in six with document drift.
pub fn synthetic_suite(n: usize) -> SuiteResult {
    let base = sample_suite();
    let template = |status: CaseStatus| {
        base.cases
            .iter()
            .find(|c| c.status == status && !c.name.contains('<'))
            .cloned()
    };
    let (fail, xfail, error, pass) = (
        template(CaseStatus::Fail),
        template(CaseStatus::Xfail),
        template(CaseStatus::Error),
        base.cases[2].clone(),
    );
    let mut cases = Vec::with_capacity(n);
    for i in 0..n {
        let pick = match i % 100 {
            0..=9 => fail.clone(),
            10..=12 => xfail.clone(),
            13 => error.clone(),
            _ => Some(pass.clone()),
        };
        let Some(mut c) = pick else { continue };
        c.path = format!("cases/topic{:02}/case{i:04}.yaml", i % 23);
        c.name = format!("{} #{i}", c.name);
        c.tags.push(format!("t{}", i % 7));
        if c.status == CaseStatus::Pass && i % 6 != 0 {
            c.drift.clear();
        }
        c.program = format!(
            "{}{}",
            c.program,
            "z = x * 3\nz.sum().backward()\n".repeat(i % 5)
        );
        for d in &mut c.divergences {
            if let Some(g) = &mut d.oracle_graph {
                // Deeper graphs than the sample's, as a real failing case has.
                let mut prev = 3;
                for k in 0..i % 9 {
                    g.nodes.push(node("AddBackward0", &[k as u64]));
                    let at = g.nodes.len() - 1;
                    g.edges.push((prev, at));
                    prev = at;
                }
            }
        }
        cases.push(c);
    }
    SuiteResult {
        format_version: FORMAT_VERSION,
        meta: meta(),
        cases,
    }
}

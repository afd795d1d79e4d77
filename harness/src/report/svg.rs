//! Draws the two autograd graphs of a divergence (subject and oracle) as inline SVG, with the
//! nodes and edges that exist on one side only, or differ, highlighted, so that a reader sees at
//! a glance where the graphs part.
//!
//! The graphs are matched by walking both from their roots in `next_functions` order: two nodes
//! correspond when they are reached by the same path. The layout is layered: each node sits one
//! layer below its deepest parent (longest-path layering), and a few barycentre sweeps order the
//! nodes within a layer to keep edges short.

use super::escape_html;
use crate::backend::{GraphNode, GraphObs};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// How a node or edge compares with the other side's graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Present on both sides, with the same label.
    Same,
    /// A counterpart exists but its label (name, leaf shape or saved versions) differs.
    Differs,
    /// Nothing on the other side corresponds to it.
    OnlyHere,
}

/// The comparison of one graph against the other, per node and per edge (same indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    pub nodes: Vec<Mark>,
    pub edges: Vec<Mark>,
}

/// Graphs beyond this many nodes are drawn in part: a report must stay small and readable.
const MAX_NODES: usize = 200;

/// Compares `a` with `b`; returns the marks for `a`'s nodes and edges, then for `b`'s.
pub fn diff(a: &GraphObs, b: &GraphObs) -> (Marks, Marks) {
    let (ma, mb) = match_nodes(a, b);
    let marks = |g: &GraphObs, other: &GraphObs, m: &[Option<usize>]| {
        let nodes = g
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match m[i] {
                None => Mark::OnlyHere,
                Some(j) if same_label(n, &other.nodes[j]) => Mark::Same,
                Some(_) => Mark::Differs,
            })
            .collect();
        let edges = g
            .edges
            .iter()
            .map(
                |&(u, v)| match (m.get(u).copied().flatten(), m.get(v).copied().flatten()) {
                    (Some(u2), Some(v2)) if other.edges.contains(&(u2, v2)) => Mark::Same,
                    _ => Mark::OnlyHere,
                },
            )
            .collect();
        Marks { nodes, edges }
    };
    (marks(a, b, &ma), marks(b, a, &mb))
}

fn same_label(x: &GraphNode, y: &GraphNode) -> bool {
    x.name == y.name && x.leaf_shape == y.leaf_shape && x.saved_versions == y.saved_versions
}

/// Out-edges of every node, in `next_functions` order; edges naming missing nodes are dropped.
fn children(g: &GraphObs) -> Vec<Vec<usize>> {
    let n = g.nodes.len();
    let mut out = vec![Vec::new(); n];
    for &(u, v) in &g.edges {
        if u < n && v < n {
            out[u].push(v);
        }
    }
    out
}

/// Nodes nothing points to, in index order; node 0 when every node has a parent (a cycle).
fn roots(g: &GraphObs) -> Vec<usize> {
    let n = g.nodes.len();
    let mut has_parent = vec![false; n];
    for &(u, v) in &g.edges {
        if u < n && v < n && u != v {
            has_parent[v] = true;
        }
    }
    let r: Vec<usize> = (0..n).filter(|&i| !has_parent[i]).collect();
    if r.is_empty() && n > 0 { vec![0] } else { r }
}

/// Pairs nodes reached by the same path from the roots, breadth first.
fn match_nodes(a: &GraphObs, b: &GraphObs) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    let mut ma = vec![None; a.nodes.len()];
    let mut mb = vec![None; b.nodes.len()];
    let (ca, cb) = (children(a), children(b));
    let mut queue = VecDeque::new();
    for (x, y) in roots(a).into_iter().zip(roots(b)) {
        ma[x] = Some(y);
        mb[y] = Some(x);
        queue.push_back((x, y));
    }
    while let Some((x, y)) = queue.pop_front() {
        for (&cx, &cy) in ca[x].iter().zip(&cb[y]) {
            if ma[cx].is_none() && mb[cy].is_none() {
                ma[cx] = Some(cy);
                mb[cy] = Some(cx);
                queue.push_back((cx, cy));
            }
        }
    }
    (ma, mb)
}

/// Where each node goes: its layer, and its box in SVG units.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub layer: Vec<usize>,
    /// Top-left corner, width and height of each node's box.
    pub boxes: Vec<(f64, f64, f64, f64)>,
    pub width: f64,
    pub height: f64,
}

const CHAR_W: f64 = 7.3;
const LINE_H: f64 = 15.0;
const PAD_X: f64 = 9.0;
const PAD_Y: f64 = 6.0;
const GAP_X: f64 = 18.0;
const GAP_Y: f64 = 34.0;
const MARGIN: f64 = 8.0;

fn label_lines(n: &GraphNode) -> Vec<String> {
    let mut lines = vec![n.name.clone()];
    if let Some(shape) = &n.leaf_shape {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        lines.push(format!("leaf [{}]", dims.join(", ")));
    }
    if !n.saved_versions.is_empty() {
        let vs: Vec<String> = n.saved_versions.iter().map(|v| format!("v{v}")).collect();
        lines.push(format!("saved at {}", vs.join(", ")));
    }
    lines
}

/// Lays out the first `n` nodes of `g` (edges among them only).
pub fn layout(g: &GraphObs) -> Layout {
    let n = g.nodes.len().min(MAX_NODES);
    let kids: Vec<Vec<usize>> = children(g)
        .into_iter()
        .take(n)
        .map(|k| k.into_iter().filter(|&v| v < n).collect())
        .collect();

    // Longest-path layering by Kahn's order; nodes left on a cycle go below everything else.
    let mut indeg = vec![0usize; n];
    for k in &kids {
        for &v in k {
            indeg[v] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut placed = vec![false; n];
    while let Some(u) = queue.pop_front() {
        placed[u] = true;
        for &v in &kids[u] {
            layer[v] = layer[v].max(layer[u] + 1);
            indeg[v] -= 1;
            if indeg[v] == 0 {
                queue.push_back(v);
            }
        }
    }
    let deepest = layer.iter().copied().max().unwrap_or(0);
    for i in 0..n {
        if !placed[i] {
            layer[i] = deepest + 1;
        }
    }
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);

    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..n {
        rows[layer[i]].push(i);
    }
    let mut parents = vec![Vec::new(); n];
    for (u, k) in kids.iter().enumerate() {
        for &v in k {
            parents[v].push(u);
        }
    }
    // Barycentre sweeps, down then up: order each layer by the mean position of its neighbours
    // in the layer before. Stable sorts keep `next_functions` order among ties.
    let mut pos = vec![0.0f64; n];
    let reindex = |rows: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for row in rows {
            for (i, &v) in row.iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    reindex(&rows, &mut pos);
    for _ in 0..3 {
        for l in 1..layers {
            sort_by_barycentre(&mut rows[l], &parents, &pos);
            reindex(&rows, &mut pos);
        }
        for l in (0..layers.saturating_sub(1)).rev() {
            sort_by_barycentre(&mut rows[l], &kids, &pos);
            reindex(&rows, &mut pos);
        }
    }

    let size = |i: usize| {
        let lines = label_lines(&g.nodes[i]);
        let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        (
            chars as f64 * CHAR_W + 2.0 * PAD_X,
            lines.len() as f64 * LINE_H + 2.0 * PAD_Y,
        )
    };
    let row_widths: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter().map(|&i| size(i).0).sum::<f64>() + GAP_X * r.len().saturating_sub(1) as f64
        })
        .collect();
    let width = row_widths.iter().copied().fold(0.0, f64::max) + 2.0 * MARGIN;
    let mut boxes = vec![(0.0, 0.0, 0.0, 0.0); n];
    let mut y = MARGIN;
    for (row, rw) in rows.iter().zip(&row_widths) {
        let mut x = (width - rw) / 2.0;
        let row_h = row.iter().map(|&i| size(i).1).fold(0.0, f64::max);
        for &i in row {
            let (w, h) = size(i);
            boxes[i] = (x, y, w, h);
            x += w + GAP_X;
        }
        y += row_h + GAP_Y;
    }
    let height = if layers == 0 {
        2.0 * MARGIN
    } else {
        y - GAP_Y + MARGIN
    };
    Layout {
        layer,
        boxes,
        width,
        height,
    }
}

fn sort_by_barycentre(row: &mut [usize], neighbours: &[Vec<usize>], pos: &[f64]) {
    let key = |v: usize| {
        let ns = &neighbours[v];
        if ns.is_empty() {
            pos[v]
        } else {
            ns.iter().map(|&u| pos[u]).sum::<f64>() / ns.len() as f64
        }
    };
    row.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
}

/// Renders one side's graph as an `<svg>` element, coloured by `marks` (from [`diff`]).
/// `title` names the side for screen readers (`subject engine autograd graph of x`).
pub fn render(g: &GraphObs, marks: &Marks, title: &str) -> String {
    let lay = layout(g);
    let n = lay.boxes.len();
    let mut s = String::with_capacity(256 + n * 300);
    let _ = write!(
        s,
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="{t}">"#,
        w = lay.width,
        h = lay.height,
        t = escape_html(title)
    );
    // An input used twice (`y * y`) is two equal edges: drawn once, labelled with the count.
    let mut drawn: Vec<(usize, usize)> = Vec::new();
    for (e, &(u, v)) in g.edges.iter().enumerate() {
        if u >= n || v >= n || drawn.contains(&(u, v)) {
            continue;
        }
        drawn.push((u, v));
        let times = g.edges.iter().filter(|&&x| x == (u, v)).count();
        let (ux, uy, uw, uh) = lay.boxes[u];
        let (vx, vy, vw, _) = lay.boxes[v];
        let (x1, y1, x2, y2) = (ux + uw / 2.0, uy + uh, vx + vw / 2.0, vy);
        let mid = (y1 + y2) / 2.0;
        let class = match marks.edges.get(e) {
            Some(Mark::OnlyHere) => "e only",
            _ => "e",
        };
        let _ = write!(
            s,
            r#"<path class="{class}" d="M{x1:.1},{y1:.1} C{x1:.1},{mid:.1} {x2:.1},{mid:.1} {x2:.1},{y2e:.1}"/><path class="{class} head" d="M{x2:.1},{y2:.1} l-4,-7 h8 z"/>"#,
            y2e = y2 - 6.0,
        );
        if times > 1 {
            let _ = write!(
                s,
                r#"<text class="sub mult" x="{:.1}" y="{:.1}">×{times}</text>"#,
                (x1 + x2) / 2.0 + 14.0,
                mid + 4.0
            );
        }
    }
    for (i, node) in g.nodes.iter().take(n).enumerate() {
        let (x, y, w, h) = lay.boxes[i];
        let mark = match marks.nodes.get(i) {
            Some(Mark::OnlyHere) => " only",
            Some(Mark::Differs) => " differs",
            _ => "",
        };
        let kind = if node.leaf_shape.is_some() || node.name == "AccumulateGrad" {
            " leaf"
        } else {
            ""
        };
        let lines = label_lines(node);
        let _ = write!(
            s,
            r#"<g class="n{kind}{mark}"><title>{tip}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="5"/>"#,
            tip = escape_html(&tooltip(&lines, marks.nodes.get(i).copied()))
        );
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                s,
                r#"<text x="{tx:.1}" y="{ty:.1}"{cls}>{t}</text>"#,
                tx = x + w / 2.0,
                ty = y + PAD_Y + LINE_H * (k as f64 + 0.78),
                cls = if k == 0 { "" } else { r#" class="sub""# },
                t = escape_html(line)
            );
        }
        s.push_str("</g>");
    }
    if g.nodes.len() > n {
        let _ = write!(
            s,
            r#"<text class="sub" x="{x:.1}" y="{y:.1}">… {more} more nodes not drawn</text>"#,
            x = MARGIN,
            y = lay.height - 2.0,
            more = g.nodes.len() - n
        );
    }
    s.push_str("</svg>");
    s
}

fn tooltip(lines: &[String], mark: Option<Mark>) -> String {
    let mut t = lines.join("\n");
    match mark {
        Some(Mark::OnlyHere) => t.push_str("\n(no counterpart in the other graph)"),
        Some(Mark::Differs) => t.push_str("\n(differs from the other graph's node here)"),
        _ => {}
    }
    t
}

/// Renders both sides of a divergence, the subject's and the oracle's, each named as `names`
/// says (`subject engine`). A missing graph is drawn as empty, so the other side's nodes all
/// show as present on one side only.
pub fn render_pair(
    subject: Option<&GraphObs>,
    oracle: Option<&GraphObs>,
    variable: &str,
    names: &crate::results::Labels,
) -> (String, String) {
    let empty = GraphObs {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let e = subject.unwrap_or(&empty);
    let l = oracle.unwrap_or(&empty);
    let (me, ml) = diff(e, l);
    let side = |g: &GraphObs, m: &Marks, who: &str| {
        if g.nodes.is_empty() {
            format!(
                r#"<p class="nograph">No graph: <code>{}</code> has no <code>grad_fn</code> on the {} side (a leaf, or computed without grad).</p>"#,
                escape_html(variable),
                escape_html(who)
            )
        } else {
            render(g, m, &format!("{who} autograd graph of {variable}"))
        }
    };
    (side(e, &me, &names.subject), side(l, &ml, &names.oracle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> GraphNode {
        GraphNode {
            name: name.into(),
            leaf_shape: None,
            saved_versions: Vec::new(),
        }
    }

    fn leaf(shape: &[usize]) -> GraphNode {
        GraphNode {
            name: "AccumulateGrad".into(),
            leaf_shape: Some(shape.to_vec()),
            saved_versions: Vec::new(),
        }
    }

    /// `(x * y).sum()` with both leaves: Sum -> Mul -> {Acc x, Acc y}.
    fn mul_sum() -> GraphObs {
        GraphObs {
            nodes: vec![
                node("SumBackward0"),
                node("MulBackward0"),
                leaf(&[2]),
                leaf(&[2]),
            ],
            edges: vec![(0, 1), (1, 2), (1, 3)],
        }
    }

    #[test]
    fn identical_graphs_have_no_marks() {
        let (a, b) = diff(&mul_sum(), &mul_sum());
        assert!(a.nodes.iter().chain(&b.nodes).all(|&m| m == Mark::Same));
        assert!(a.edges.iter().chain(&b.edges).all(|&m| m == Mark::Same));
    }

    #[test]
    fn a_missing_input_shows_on_one_side_only() {
        let mut b = mul_sum();
        b.nodes.pop();
        b.edges.pop();
        let (ma, mb) = diff(&mul_sum(), &b);
        assert_eq!(
            ma.nodes,
            vec![Mark::Same, Mark::Same, Mark::Same, Mark::OnlyHere]
        );
        assert_eq!(ma.edges, vec![Mark::Same, Mark::Same, Mark::OnlyHere]);
        assert!(mb.nodes.iter().all(|&m| m == Mark::Same));
    }

    #[test]
    fn renamed_nodes_and_saved_versions_differ() {
        let mut b = mul_sum();
        b.nodes[1].name = "MulBackward1".into();
        b.nodes[0].saved_versions = vec![1];
        let (ma, _) = diff(&mul_sum(), &b);
        assert_eq!(ma.nodes[0], Mark::Differs);
        assert_eq!(ma.nodes[1], Mark::Differs);
        assert_eq!(ma.nodes[2], Mark::Same);
    }

    #[test]
    fn layers_follow_the_longest_path() {
        // 0 -> 1 -> 2 and 0 -> 2: node 2 sits below node 1, not beside it.
        let g = GraphObs {
            nodes: vec![node("A"), node("B"), node("C")],
            edges: vec![(0, 1), (1, 2), (0, 2)],
        };
        let lay = layout(&g);
        assert_eq!(lay.layer, vec![0, 1, 2]);
        assert!(lay.boxes[2].1 > lay.boxes[1].1 + lay.boxes[1].3);
    }

    #[test]
    fn boxes_in_a_layer_do_not_overlap() {
        let lay = layout(&mul_sum());
        let (a, b) = (lay.boxes[2], lay.boxes[3]);
        assert_eq!(a.1, b.1);
        assert!(a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0);
        assert!(
            lay.boxes
                .iter()
                .all(|bx| bx.0 >= 0.0 && bx.0 + bx.2 <= lay.width)
        );
    }

    #[test]
    fn cycles_and_bad_edges_do_not_panic() {
        let g = GraphObs {
            nodes: vec![node("A"), node("B")],
            edges: vec![(0, 1), (1, 0), (0, 7), (1, 1)],
        };
        let (m, _) = diff(&g, &mul_sum());
        let svg = render(&g, &m, "cycle");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn labels_are_escaped() {
        let g = GraphObs {
            nodes: vec![node("<script>alert(1)</script>")],
            edges: vec![],
        };
        let (m, _) = diff(&g, &g);
        let svg = render(&g, &m, "x");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}

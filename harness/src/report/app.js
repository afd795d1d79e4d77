// The report's case table and case details, built from the JSON embedded in the page.
// Text from cases and backends only ever enters the page as text nodes; the only markup inserted
// is the graphs' SVG, which the harness escaped when it drew them.
(function () {
  'use strict';
  document.documentElement.classList.remove('nojs');
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var cases = data.cases;
  // How the tables name the two sides: role, backend, version and device (`RunMeta::labels`).
  var sides = data.sides;
  var body = document.getElementById('case-rows');

  function h(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        var v = attrs[k];
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'onclick') e.addEventListener('click', v);
        else e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
    e.append(kid instanceof Node ? kid : String(kid));
  }

  var CAT = { fail: 'failing', error: 'error', xfail: 'xfail', numerics: 'numerics', pass: 'passing' };
  function cats(c) {
    var out = [CAT[c.status]];
    if (c.drift.length) out.push('drift');
    return out;
  }
  function fileLine(c, i) { return (c.program_line || 1) + i; }
  function fmtMs(ms) { return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(2) + ' s'; }
  function badge(status) { return h('b', { class: 'st ' + status }, status); }
  function observed(d) { return d.variable ? d.variable + '.' + d.observable : d.observable; }

  // ---- filters ----
  var state = { cats: { failing: true, error: true, xfail: true, numerics: true, drift: true, passing: true }, doc: '', tag: '', q: '' };
  var docs = {}, tags = {};
  cases.forEach(function (c) {
    docs[c.document] = (docs[c.document] || 0) + 1;
    c.tags.forEach(function (t) { tags[t] = (tags[t] || 0) + 1; });
  });
  function fillSelect(id, counts) {
    var sel = document.getElementById(id);
    Object.keys(counts).sort().forEach(function (k) {
      sel.append(h('option', { value: k }, k + ' (' + counts[k] + ')'));
    });
    sel.addEventListener('change', function () { state[id === 'f-doc' ? 'doc' : 'tag'] = sel.value; applyFilters(); });
  }
  fillSelect('f-doc', docs);
  fillSelect('f-tag', tags);
  document.getElementById('f-q').addEventListener('input', function (ev) { state.q = ev.target.value.toLowerCase(); applyFilters(); });
  Array.prototype.forEach.call(document.querySelectorAll('.chip'), function (b) {
    b.addEventListener('click', function () {
      var cat = b.getAttribute('data-cat');
      state.cats[cat] = !state.cats[cat];
      b.setAttribute('aria-pressed', String(state.cats[cat]));
      applyFilters();
    });
  });

  function visible(c) {
    if (!cats(c).some(function (k) { return state.cats[k]; })) return false;
    if (state.doc && c.document !== state.doc) return false;
    if (state.tag && c.tags.indexOf(state.tag) < 0) return false;
    if (state.q && (c.name + ' ' + c.path + ' ' + c.source).toLowerCase().indexOf(state.q) < 0) return false;
    return true;
  }
  var rows = [], details = [];
  function applyFilters() {
    var shown = 0;
    cases.forEach(function (c, i) {
      var v = visible(c);
      rows[i].hidden = !v;
      if (details[i]) details[i].hidden = !v || !rows[i].classList.contains('open');
      if (v) shown++;
    });
    document.getElementById('f-count').textContent = 'showing ' + shown + ' of ' + cases.length + ' cases';
  }

  // ---- rows ----
  function toggle(i, open) {
    var row = rows[i];
    var isOpen = row.classList.contains('open');
    if (open === undefined) open = !isOpen;
    if (open === isOpen) return;
    row.classList.toggle('open', open);
    row.setAttribute('aria-expanded', String(open));
    if (open && !details[i]) {
      details[i] = h('tr', { class: 'detail ' + cases[i].status }, h('td', { colspan: 6 }, buildDetail(cases[i])));
      row.after(details[i]);
    }
    if (details[i]) details[i].hidden = !open;
  }
  var frag = document.createDocumentFragment();
  cases.forEach(function (c, i) {
    var row = h('tr', { class: 'case ' + c.status, id: 'case-' + i, 'data-path': c.path, tabindex: 0, 'aria-expanded': 'false' },
      h('td', null, badge(c.status), c.drift.length ? [' ', badge('drift')] : null),
      h('td', { class: 'name' }, h('b', null, c.name), h('span', { class: 'path' }, c.path)),
      h('td', { class: 'doc' }, c.source),
      h('td', null, c.tags.map(function (t) { return h('span', { class: 'tag' }, t); })),
      h('td', { class: 'what' }, c.summary),
      h('td', { class: 'num' }, fmtMs(c.duration_ms)));
    row.addEventListener('click', function () { toggle(i); });
    row.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(i); } });
    rows.push(row);
    frag.append(row);
  });
  body.append(frag);

  document.getElementById('f-open').addEventListener('click', function () {
    cases.forEach(function (c, i) { if (!rows[i].hidden) toggle(i, true); });
  });
  document.getElementById('f-close').addEventListener('click', function () {
    cases.forEach(function (c, i) { toggle(i, false); });
  });

  // ---- one case ----
  function explain(c) {
    var n = c.divergences.length;
    switch (c.status) {
      case 'fail':
        if (!n) return 'Failed: ' + (c.message || 'see below');
        return 'The subject and the oracle disagree, first at line ' + c.divergences[0].line + ' on ' + observed(c.divergences[0]) +
          (n > 1 ? ' (' + n + ' divergences shown)' : '') + '.';
      case 'error': return 'This case could not be run: the case file is malformed.';
      case 'xfail': return 'A known divergence: the subject is expected to disagree with the oracle here.';
      case 'numerics': return 'The subject and the oracle differ only by float32 rounding, as the oracle re-run in float64 measures it (' + c.numerics.length + ' difference' + (c.numerics.length > 1 ? 's' : '') + ', below with their budgets).';
      default:
        return 'The subject and the oracle agree on all ' + c.observables + ' observables over ' + c.statements + ' statements.' +
          (c.drift.length ? ' The document, though, printed something the oracle no longer does (drift, below).' : '');
    }
  }
  function programBlock(c) {
    var bad = {}, drift = {};
    var lines = c.program.replace(/\n$/, '').split('\n');
    var first = fileLine(c, 0), last = fileLine(c, lines.length - 1);
    // A document claim sits below the program in the file: mark the statement it is about,
    // found by its text.
    function at(line, statement) {
      if (line >= first && line <= last) return line;
      if (!statement) c.claims.forEach(function (k) { if (k.line === line && k.statement) statement = k.statement; });
      var found = line;
      if (statement) lines.forEach(function (t, i) { if (found === line && t.trim() === statement.trim()) found = fileLine(c, i); });
      return found;
    }
    c.divergences.forEach(function (d) { var ln = at(d.line, d.statement); (bad[ln] = bad[ln] || []).push(observed(d)); });
    c.drift.forEach(function (d) { var ln = at(d.line, d.statement); (drift[ln] = drift[ln] || []).push(d.observable); });
    return h('pre', { class: 'program' }, lines.map(function (text, i) {
      var ln = fileLine(c, i);
      var cls = 'l' + (bad[ln] ? ' bad' : drift[ln] ? ' drift' : '');
      var note = bad[ln] ? h('span', { class: 'note' }, '\u25C0 diverges: ' + bad[ln].join('; '))
        : drift[ln] ? h('span', { class: 'note' }, '\u25C0 document drift: ' + drift[ln].join('; ')) : null;
      return h('span', { class: cls, 'data-line': ln }, h('span', { class: 'ln' }, ln), text, note);
    }));
  }
  function cell(text, cls) {
    if (text == null || text === '') return h('td', { class: 'none' }, '\u2014');
    return h('td', { class: cls || null }, h('pre', null, text));
  }
  function sideValue(v, err) { return v === '' && err ? 'raised ' + err.kind : v; }
  function divergenceBlock(c, d, k) {
    var ev = sideValue(d.subject, d.subject_error), lv = sideValue(d.oracle, d.oracle_error);
    var rowsT = [h('tr', null, h('th', null, observed(d)), cell(ev, 'differ'), cell(lv), d.doc ? cell(d.doc.observable + ' = ' + d.doc.value) : h('td', { class: 'none' }, 'not stated'))];
    if (d.subject_error || d.oracle_error) {
      var ek = d.subject_error ? d.subject_error.kind : 'no error', lk = d.oracle_error ? d.oracle_error.kind : 'no error';
      rowsT.push(h('tr', null, h('th', null, 'error kind'), h('td', { class: 'kind' + (ek !== lk ? ' differ' : '') }, ek), h('td', { class: 'kind' }, lk), h('td', { class: 'none' }, '')));
      rowsT.push(h('tr', null, h('th', null, 'message'), cell(d.subject_error && d.subject_error.message), cell(d.oracle_error && d.oracle_error.message), h('td', { class: 'none' }, '')));
    }
    return h('div', { class: 'divergence' },
      h('h4', null, (c.divergences.length > 1 ? 'Divergence ' + (k + 1) + ': ' : 'Divergence: ') + 'line ' + d.line + ', ', d.statement.trim() ? h('code', null, d.statement.trim()) : 'a document claim'),
      h('table', { class: 'sides' },
        h('thead', null, h('tr', null, h('th', null, 'observable'), h('th', null, sides.subject), h('th', null, sides.oracle + ' (the truth)'), h('th', null, 'document'))),
        h('tbody', null, rowsT)));
  }
  function graphBlock(d) {
    var t = d.graph && document.getElementById(d.graph);
    if (!t) return null;
    var box = h('div', { class: 'graphs' });
    box.append(t.content.cloneNode(true));
    return h('div', { class: 'graphblock' },
      h('h4', null, 'Autograd graphs reachable from ', h('code', null, d.variable || 'the result'), ' after line ' + d.line),
      h('p', { class: 'glegend' }, 'Each box is a node of the backward graph (grad_fn name; leaves show their shape; saved-tensor versions when recorded); arrows follow next_functions. ',
        h('span', { class: 'key only' }, 'red, dashed'), ': on this side only. ', h('span', { class: 'key differs' }, 'amber'), ': the other side has a different node here.'),
      box);
  }
  function claimsBlock(c) {
    if (!c.claims.length) return null;
    return [h('h4', null, 'What the document claims (', c.source, ')'),
      h('table', { class: 'claims' },
        h('thead', null, h('tr', null, ['line', 'statement', 'claim', 'document', sides.oracle, sides.subject, ''].map(function (t) { return h('th', null, t); }))),
        h('tbody', null, c.claims.map(function (k) {
          var verdict = !k.oracle_agrees ? 'drift: the oracle no longer does this' : !k.subject_agrees ? 'the subject disagrees' : 'all agree';
          return h('tr', null, h('td', { class: 'num' }, k.line), h('td', null, h('code', null, k.statement)), h('td', null, h('code', null, k.observable)),
            h('td', { class: k.oracle_agrees ? null : 'drifted' }, h('code', null, k.doc)), h('td', null, h('code', null, k.oracle)),
            h('td', { class: k.subject_agrees ? null : 'bad' }, h('code', null, k.subject)), h('td', null, verdict));
        })))];
  }
  function buildDetail(c) {
    return h('div', { class: 'case-detail' },
      h('p', { class: 'explain ' + c.status }, explain(c)),
      c.xfail_reason ? h('p', { class: 'reason' }, h('b', null, 'Why it is known: '), c.xfail_reason) : null,
      c.message ? h('p', { class: 'msg' }, c.message) : null,
      c.numerics && c.numerics.length ? h('ul', { class: 'numerics' }, c.numerics.map(function (n) { return h('li', null, n); })) : null,
      h('div', { class: 'dgrid' },
        h('div', null, h('h4', null, 'Program (', h('code', null, c.path), ')'), programBlock(c)),
        h('div', null, c.divergences.length ? c.divergences.map(function (d, k) { return divergenceBlock(c, d, k); })
          : h('p', { class: 'nograph' }, 'No divergence.'))),
      c.divergences.map(graphBlock),
      claimsBlock(c),
      h('p', { class: 'facts' }, 'source: ' + c.source + ' \u00B7 ' + c.statements + ' statements \u00B7 ' + c.observables + ' observables compared \u00B7 ' + fmtMs(c.duration_ms)));
  }

  // Open what the reader came for: the case named in the address, else the first failure.
  var want = decodeURIComponent((location.hash || '').replace(/^#/, ''));
  var first = -1;
  if (want) cases.forEach(function (c, i) { if (first < 0 && c.path === want) first = i; });
  if (first < 0) cases.forEach(function (c, i) { if (first < 0 && (c.status === 'fail' || c.status === 'error')) first = i; });
  applyFilters();
  if (first >= 0) {
    toggle(first, true);
    if (want && cases[first].path === want) rows[first].scrollIntoView();
  }

  var ready = performance.now();
  document.documentElement.setAttribute('data-ready-ms', ready.toFixed(1));
  document.getElementById('ready').textContent = 'Page ready in ' + Math.round(ready) + ' ms.';
})();

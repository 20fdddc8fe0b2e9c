/* The review page: keyboard-first checking of an aligned TSV. Vanilla JS, no build step.
 *
 * State is one verdict per row (accepted / rejected / edited / unreviewed) plus optional edited
 * texts. It is kept in localStorage under a hash of the TSV, exported as the reviewed TSV (rows in
 * their original order, whatever the sort on screen) and can be re-imported from such an export.
 */
(function () {
  'use strict';

  var DATA = JSON.parse(document.getElementById('review-data').textContent);
  var COL = {};
  DATA.columns.forEach(function (name, index) { COL[name] = index; });
  var VERDICTS = ['accepted', 'rejected', 'edited', 'unreviewed'];
  var TEXT_COLUMNS = ['ru', 'az'];
  var FIXED_COLUMNS = DATA.columns.filter(function (c) { return TEXT_COLUMNS.indexOf(c) < 0; });
  var KIND_ORDER = ['title', 'caption', 'paragraph', 'sentence'];
  var SIDE_NAME = { ru: 'Russian', az: 'Azerbaijani' };
  var STORE_KEY = 'align-review:v1:' + DATA.sha256;
  var CHUNK = 300;
  var LOW = DATA.bands[0], HIGH = DATA.bands[1];

  // ------------------------------------------------------------------ model
  var rows = DATA.rows.map(function (cells, i) {
    var score = cells[COL.score] === '' ? NaN : Number(cells[COL.score]);
    var unaligned = cells[COL.ru_ids] === '' || cells[COL.az_ids] === '';
    return {
      i: i, cells: cells, doc: cells[COL.doc], kind: cells[COL.kind], bead: cells[COL.bead],
      ru: cells[COL.ru], az: cells[COL.az], unaligned: unaligned,
      score: unaligned || isNaN(score) ? null : score,
      flags: cells[COL.flags].split(',').filter(Boolean),
      keep: cells[COL.keep] === '1', reason: cells[COL.reason], haystack: ''
    };
  });
  var initial = DATA.verdicts ? DATA.verdicts.slice() : rows.map(function () { return 'unreviewed'; });
  var verdict = initial.slice();
  var edits = rows.map(function () { return null; });
  var undoStack = [];
  var docOrder = [], docRank = {}, docSize = {}, docDone = {};
  var tally = { accepted: 0, rejected: 0, edited: 0, unreviewed: 0 };
  // Verdicts that differ from the page's initial ones, and every edit, kept up to date as rows change
  // so that saving to localStorage costs O(changes), not O(rows).
  var changedVerdicts = {}, allEdits = {};
  rows.forEach(function (r) {
    if (!(r.doc in docRank)) { docRank[r.doc] = docOrder.length; docOrder.push(r.doc); docSize[r.doc] = 0; docDone[r.doc] = 0; }
    docSize[r.doc] += 1;
    tally[verdict[r.i]] += 1;
    if (verdict[r.i] !== 'unreviewed') docDone[r.doc] += 1;
  });

  /* The one place where a row's verdict or edit changes. */
  function put(i, v, edit) {
    var doc = rows[i].doc;
    tally[verdict[i]] -= 1; tally[v] += 1;
    docDone[doc] += (v !== 'unreviewed') - (verdict[i] !== 'unreviewed');
    verdict[i] = v;
    if (v !== initial[i]) changedVerdicts[i] = v; else delete changedVerdicts[i];
    edits[i] = edit || null;
    if (edit) allEdits[i] = [edit.ru, edit.az]; else delete allEdits[i];
    index(i);
  }

  function text(i, side) { return edits[i] ? edits[i][side] : rows[i][side]; }
  function clean(s) { return s.replace(/\s+/g, ' ').trim(); }
  function fold(s) {
    // Case- and accent-insensitive search: "baki" finds "Bakı", "ерш" finds "ёрш".
    return s.toLowerCase().replace(/ı/g, 'i').normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  }
  function index(i) { rows[i].haystack = fold(text(i, 'ru')) + '\n' + fold(text(i, 'az')); }

  (DATA.edits || []).forEach(function (e, i) { if (e) put(i, verdict[i], { ru: e[0], az: e[1] }); });
  rows.forEach(function (r) { index(r.i); });

  function band(r) {
    if (r.score === null) return 'none';
    return r.score < LOW ? 'low' : r.score < HIGH ? 'fair' : 'good';
  }
  function flagLabel(flag) {
    var f = flag.toLowerCase();
    if (f.indexOf('num') >= 0) return 'numbers differ';
    if (f.indexOf('lang') >= 0) return 'language';
    if (f.indexOf('len') >= 0) return 'length';
    if (f === 'score') return 'low score';
    return flag.replace(/[_-]/g, ' ');
  }

  // ------------------------------------------------------------------ DOM helpers
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) return;
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  var grid = $('grid'), search = $('f-search'), fDoc = $('f-doc'), fKind = $('f-kind'), fFlag = $('f-flag'),
      fStatus = $('f-status'), fSort = $('f-sort'), fGroup = $('f-group'), messageEl = $('message');

  var messageTimer = null;
  function message(textValue, tone) {
    messageEl.textContent = textValue;
    messageEl.className = 'message' + (tone ? ' ' + tone : '');
    clearTimeout(messageTimer);
    if (tone !== 'error') messageTimer = setTimeout(function () { messageEl.textContent = ''; }, 8000);
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }
  function fmt(n) { return n.toLocaleString('en-US'); }

  // ------------------------------------------------------------------ filters
  function option(value, label) { return el('option', { value: value, text: label }); }
  function fillFilters() {
    fDoc.appendChild(option('', 'All documents (' + docOrder.length + ')'));
    docOrder.forEach(function (d) { fDoc.appendChild(option(d, d + ' (' + docSize[d] + ')')); });
    var kinds = {};
    rows.forEach(function (r) { kinds[r.kind] = (kinds[r.kind] || 0) + 1; });
    fKind.appendChild(option('', 'All kinds'));
    Object.keys(kinds).sort(function (a, b) { return KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b); })
      .forEach(function (k) { fKind.appendChild(option(k, k + ' (' + kinds[k] + ')')); });
    var flags = {}, flagged = 0;
    rows.forEach(function (r) {
      if (r.flags.length) flagged += 1;
      r.flags.forEach(function (f) { flags[f] = (flags[f] || 0) + 1; });
    });
    fFlag.appendChild(option('', 'Any'));
    fFlag.appendChild(option('*', 'Flagged (' + flagged + ')'));
    fFlag.appendChild(option('-', 'No flags (' + (rows.length - flagged) + ')'));
    Object.keys(flags).sort().forEach(function (f) {
      fFlag.appendChild(option('=' + f, flagLabel(f) + ' (' + flags[f] + ')'));
    });
    [['', 'All rows'], ['unreviewed', 'Unreviewed'], ['accepted', 'Accepted'], ['rejected', 'Rejected'],
     ['edited', 'Edited'], ['kept', 'Kept (keep = 1)'], ['dropped', 'Dropped (keep = 0)'],
     ['unaligned', 'Unaligned (one side empty)']]
      .forEach(function (p) { fStatus.appendChild(option(p[0], p[1])); });
    $('band-limits').textContent = '(low < ' + LOW + ' ≤ fair < ' + HIGH + ' ≤ good)';
  }

  function matches(r, q, doc, kind, flag, status) {
    if (doc && r.doc !== doc) return false;
    if (kind && r.kind !== kind) return false;
    if (flag === '*' && !r.flags.length) return false;
    if (flag === '-' && r.flags.length) return false;
    if (flag.charAt(0) === '=' && r.flags.indexOf(flag.slice(1)) < 0) return false;
    if (status) {
      if (status === 'kept' ? !r.keep : status === 'dropped' ? r.keep :
          status === 'unaligned' ? !r.unaligned : verdict[r.i] !== status) return false;
    }
    return !q || r.haystack.indexOf(q) >= 0;
  }

  var view = [], viewPos = new Map();
  function computeView() {
    var q = fold(search.value.trim()), doc = fDoc.value, kind = fKind.value, flag = fFlag.value, status = fStatus.value;
    var out = rows.filter(function (r) { return matches(r, q, doc, kind, flag, status); }).map(function (r) { return r.i; });
    var sort = fSort.value;
    if (sort !== 'original') {
      var dir = sort === 'worst' ? 1 : -1;
      out.sort(function (a, b) {
        var sa = rows[a].score, sb = rows[b].score;
        if (sa === null || sb === null) return (sa === null) - (sb === null) || a - b;  // no score: last
        return (sa - sb) * dir || a - b;
      });
    }
    if (fGroup.checked) out.sort(function (a, b) { return docRank[rows[a].doc] - docRank[rows[b].doc]; });
    view = out;
    viewPos = new Map();
    view.forEach(function (i, pos) { viewPos.set(i, pos); });
  }

  // ------------------------------------------------------------------ rendering
  var rowEls = new Map(), groupEls = new Map(), rendered = 0, lastDoc = null, body = null;
  var cur = -1;

  function renderView() {
    Array.prototype.slice.call(grid.tBodies).forEach(function (tb) { tb.remove(); });
    rowEls = new Map(); groupEls = new Map(); rendered = 0; lastDoc = null; body = null;
    var need = viewPos.has(cur) ? viewPos.get(cur) + 1 : 0;
    renderUpTo(Math.max(need, CHUNK));
    $('empty').hidden = view.length > 0;
    $('empty').textContent = rows.length ? 'No rows match these filters.' : 'This TSV has no rows.';
    $('shown').textContent = view.length === rows.length ? 'All ' + fmt(rows.length) + ' rows'
      : fmt(view.length) + ' of ' + fmt(rows.length) + ' rows shown';
    updateGroupStats();
  }

  function renderUpTo(limit) {
    limit = Math.min(limit, view.length);
    var grouped = fGroup.checked;
    for (; rendered < limit; rendered++) {
      var r = rows[view[rendered]];
      if (!body || (grouped && r.doc !== lastDoc)) {
        body = el('tbody');
        if (grouped) {
          var stats = el('span', { class: 'doc-stats' });
          body.appendChild(el('tr', { class: 'group' }, [
            el('th', { colspan: '5', scope: 'rowgroup' }, [el('span', { class: 'doc-name', text: r.doc }), stats])]));
          groupEls.set(r.doc, stats);
        }
        grid.appendChild(body);
        lastDoc = r.doc;
      }
      var tr = makeRow(r.i);
      rowEls.set(r.i, tr);
      body.appendChild(tr);
    }
    $('more').textContent = rendered < view.length
      ? 'Showing ' + fmt(rendered) + ' of ' + fmt(view.length) + ' rows — more appear as you scroll or move down.' : '';
  }

  function textCell(i, side) {
    var r = rows[i], value = text(i, side), edited = edits[i] && edits[i][side] !== r[side];
    var td = el('td', { class: 'text ' + side + (value ? '' : ' empty'), lang: side });
    if (!value) {
      td.appendChild(el('span', { class: 'missing', lang: 'en', text: 'no ' + SIDE_NAME[side] + ' counterpart' }));
    } else {
      if (edited) td.appendChild(el('span', { class: 'edited-mark', lang: 'en', text: 'edited' }));
      td.appendChild(el('span', { class: 't', text: value }));
    }
    if (edited && r[side]) {
      td.appendChild(el('del', { class: 'orig' }, [el('span', { class: 'visually-hidden', lang: 'en', text: 'was: ' }), r[side]]));
    }
    return td;
  }

  function makeRow(i) {
    var r = rows[i], v = verdict[i], b = band(r);
    var tr = el('tr', {
      id: 'row-' + i, 'data-i': String(i), tabindex: '-1',
      class: 'row v-' + v + (r.keep ? '' : ' dropped') + (r.unaligned ? ' unaligned' : '') + (i === cur ? ' current' : ''),
      'aria-selected': i === cur ? 'true' : 'false'
    });
    tr.appendChild(el('td', { class: 'num s-' + b, text: String(i + 1) }));

    var meta = el('td', { class: 'meta' });
    meta.appendChild(el('div', { class: 'meta-line' }, [
      el('span', { class: 'kind kind-' + r.kind, text: r.kind }),
      el('span', { class: 'bead', title: 'bead: Russian units - Azerbaijani units', text: r.bead }),
      fGroup.checked ? null : el('span', { class: 'doc-tag', title: r.doc, text: r.doc })
    ]));
    var scoreTitle = 'score ' + r.cells[COL.score] + ' · similarity ' + r.cells[COL.similarity] +
      ' · margin ' + r.cells[COL.margin] + ' · length ratio ' + r.cells[COL.length_ratio];
    var scoreEl = r.score === null
      ? el('span', { class: 'score s-none', title: scoreTitle }, [el('span', { class: 'score-text', text: 'no pair' })])
      : el('span', { class: 'score s-' + b, title: scoreTitle }, [
          el('span', { class: 'score-bar', 'aria-hidden': 'true' }, [
            el('span', { style: 'width:' + Math.round(Math.max(0, Math.min(1, r.score)) * 100) + '%' })]),
          el('span', { class: 'score-text', text: r.score.toFixed(2) + ' ' + b })]);
    meta.appendChild(el('div', { class: 'meta-line' }, [scoreEl]));
    var line = el('div', { class: 'meta-line' });
    r.flags.forEach(function (f) { line.appendChild(el('span', { class: 'flag', title: 'flag: ' + f, text: '⚑ ' + flagLabel(f) })); });
    line.appendChild(r.keep ? el('span', { class: 'keep kept', text: 'kept' })
      : el('span', { class: 'keep dropped', text: 'dropped' + (r.reason ? ': ' + r.reason.replace(/_/g, ' ') : '') }));
    meta.appendChild(line);
    tr.appendChild(meta);

    tr.appendChild(textCell(i, 'ru'));
    tr.appendChild(textCell(i, 'az'));

    var labels = { accepted: '✓ Accepted', rejected: '✗ Rejected', edited: '✎ Edited', unreviewed: 'Unreviewed' };
    tr.appendChild(el('td', { class: 'verdict' }, [
      el('span', { class: 'verdict-label', text: labels[v] }),
      el('span', { class: 'verdict-buttons' }, [
        el('button', { type: 'button', tabindex: '-1', 'data-act': 'a', title: 'Accept (a)', 'aria-label': 'Accept row ' + (i + 1), text: '✓' }),
        el('button', { type: 'button', tabindex: '-1', 'data-act': 'r', title: 'Reject (r)', 'aria-label': 'Reject row ' + (i + 1), text: '✗' }),
        el('button', { type: 'button', tabindex: '-1', 'data-act': 'e', title: 'Edit (e)', 'aria-label': 'Edit row ' + (i + 1), text: '✎' })])
    ]));
    return tr;
  }

  function refreshRow(i) {
    var old = rowEls.get(i);
    if (!old) return;
    var tr = makeRow(i);
    old.replaceWith(tr);
    rowEls.set(i, tr);
    if (i === cur && document.activeElement === old) tr.focus({ preventScroll: true });
  }

  function counts() {
    return { accepted: tally.accepted, rejected: tally.rejected, edited: tally.edited, unreviewed: tally.unreviewed };
  }
  function updateProgress() {
    var c = counts(), total = rows.length, done = total - c.unreviewed;
    $('progress-text').textContent = fmt(done) + ' of ' + fmt(total) + ' reviewed';
    var bar = $('progress-bar');
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(done));
    ['accepted', 'edited', 'rejected'].forEach(function (v) {
      bar.querySelector('.' + v).style.width = (total ? 100 * c[v] / total : 0) + '%';
    });
    $('progress-counts').textContent = '✓ ' + fmt(c.accepted) + ' accepted · ✗ ' + fmt(c.rejected) +
      ' rejected · ✎ ' + fmt(c.edited) + ' edited';
    document.title = '(' + done + '/' + total + ') Review · ' + DATA.name;
    updateGroupStats();
  }
  function updateGroupStats() {
    groupEls.forEach(function (node, doc) {
      node.textContent = plural(docSize[doc], 'row') + ' · ' + docDone[doc] + ' reviewed';
    });
  }

  // ------------------------------------------------------------------ cursor
  function setCursor(i, scroll) {
    if (i < 0 || i === undefined) return;
    var old = rowEls.get(cur);
    if (old) { old.classList.remove('current'); old.setAttribute('aria-selected', 'false'); }
    cur = i;
    if (viewPos.has(i) && viewPos.get(i) >= rendered) renderUpTo(viewPos.get(i) + CHUNK);
    var tr = rowEls.get(i);
    if (!tr) return;
    tr.classList.add('current');
    tr.setAttribute('aria-selected', 'true');
    var active = document.activeElement;
    if (!editing && !(active && active.matches('input, select, textarea'))) tr.focus({ preventScroll: true });
    if (scroll !== false) tr.scrollIntoView({ block: 'nearest' });
  }
  function move(delta) {
    if (!view.length) return;
    var pos = viewPos.has(cur) ? viewPos.get(cur) + delta : (delta > 0 ? 0 : view.length - 1);
    setCursor(view[Math.max(0, Math.min(view.length - 1, pos))]);
  }
  function nextUnreviewed() {
    var start = viewPos.has(cur) ? viewPos.get(cur) : -1;
    for (var step = 1; step <= view.length; step++) {
      var i = view[(start + step) % view.length];
      if (verdict[i] === 'unreviewed') { setCursor(i); return; }
    }
    message('No unreviewed rows among the rows shown.', 'ok');
  }

  // ------------------------------------------------------------------ changes, undo, persistence
  function record(changes) {
    undoStack.push({ cursor: cur, changes: changes });
    if (undoStack.length > 1000) undoStack.shift();
  }
  function snapshot(i) { return { i: i, verdict: verdict[i], edit: edits[i] }; }
  function changed() { updateProgress(); schedulePersist(); }

  function decide(i, v) {
    if (i < 0) return;
    var next = v === 'accepted' && edits[i] ? 'edited' : v;
    record([snapshot(i)]);
    put(i, next, edits[i]);
    refreshRow(i);
    changed();
    move(1);
  }

  function undo() {
    var entry = undoStack.pop();
    if (!entry) { message('Nothing to undo.'); return; }
    entry.changes.forEach(function (ch) {
      put(ch.i, ch.verdict, ch.edit); refreshRow(ch.i);
    });
    changed();
    var target = entry.changes.length === 1 ? entry.changes[0].i : entry.cursor;
    if (viewPos.has(target)) setCursor(target);
    message(entry.changes.length === 1 ? 'Undone: row ' + (entry.changes[0].i + 1) + '.'
      : 'Undone: ' + plural(entry.changes.length, 'row') + ' restored.');
  }

  var storeOk = true, persistTimer = null, dirty = false;
  function schedulePersist() {
    dirty = true;
    if (persistTimer === null) persistTimer = setTimeout(persist, 250);
  }
  function persist() {
    clearTimeout(persistTimer);
    persistTimer = null;
    if (!dirty) return;
    dirty = false;
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        version: 1, verdicts: changedVerdicts, edits: allEdits, cursor: cur, saved: Date.now() }));
      storeOk = true;
    } catch (err) {
      if (storeOk) message('Could not keep your progress in this browser (' + err.name + '): export to keep your work.', 'warn');
      storeOk = false;
    }
  }
  function restore() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(STORE_KEY) || 'null'); } catch (err) { saved = null; }
    if (!saved || saved.version !== 1) return false;
    edits.forEach(function (e, i) { if (e) put(i, verdict[i], null); });  // saved edits are complete
    Object.keys(saved.verdicts || {}).forEach(function (k) {
      var i = Number(k), x = saved.verdicts[k];
      if (i >= 0 && i < rows.length && VERDICTS.indexOf(x) >= 0) put(i, x, edits[i]);
    });
    Object.keys(saved.edits || {}).forEach(function (k) {
      var i = Number(k), x = saved.edits[k];
      if (i >= 0 && i < rows.length && Array.isArray(x) && x.length === 2) put(i, verdict[i], { ru: String(x[0]), az: String(x[1]) });
    });
    if (saved.cursor >= 0 && saved.cursor < rows.length) cur = saved.cursor;
    if (!Object.keys(changedVerdicts).length && !Object.keys(allEdits).length) return false;
    var when = saved.saved ? new Date(saved.saved).toLocaleString() : 'earlier';
    message('Restored your review from this browser (last change ' + when + ').', 'ok');
    return true;
  }

  // ------------------------------------------------------------------ editing
  var editing = null;
  function startEdit(i, side) {
    if (i < 0 || editing) return;
    setCursor(i);
    var tr = rowEls.get(i);
    if (!tr) return;
    editing = { i: i, ta: {} };
    tr.classList.add('editing');
    TEXT_COLUMNS.forEach(function (s) {
      var td = tr.querySelector('td.text.' + s);
      td.textContent = '';
      td.classList.remove('empty');
      var ta = el('textarea', { class: 'edit', lang: s, rows: '2', spellcheck: 'true', 'aria-label': SIDE_NAME[s] + ' text of row ' + (i + 1) });
      ta.value = text(i, s);
      ta.addEventListener('keydown', onEditKey);
      ta.addEventListener('input', function () { autosize(ta); });
      td.appendChild(ta);
      editing.ta[s] = ta;
      autosize(ta);
    });
    var ta = editing.ta[side || 'ru'];
    ta.focus();
    ta.setSelectionRange(ta.value.length, ta.value.length);
    message('Editing row ' + (i + 1) + ': Tab switches side, Enter saves, Esc cancels.');
  }
  function autosize(ta) { ta.style.height = 'auto'; ta.style.height = (ta.scrollHeight + 4) + 'px'; }
  function onEditKey(ev) {
    ev.stopPropagation();
    if (ev.key === 'Tab') {
      ev.preventDefault();
      (ev.target === editing.ta.ru ? editing.ta.az : editing.ta.ru).focus();
    } else if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      finishEdit(true);
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      finishEdit(false);
    }
  }
  function finishEdit(save) {
    if (!editing) return;
    var i = editing.i, ru = clean(editing.ta.ru.value), az = clean(editing.ta.az.value);
    editing = null;
    var didChange = save && (ru !== clean(text(i, 'ru')) || az !== clean(text(i, 'az')));
    if (didChange) {
      record([snapshot(i)]);
      if (ru === clean(rows[i].ru) && az === clean(rows[i].az)) put(i, 'accepted', null);
      else put(i, 'edited', { ru: ru, az: az });
    }
    refreshRow(i);
    setCursor(i, false);
    if (didChange) { changed(); message('Row ' + (i + 1) + ' edited.', 'ok'); }
    else message(save ? 'No change.' : 'Edit cancelled.');
  }

  // ------------------------------------------------------------------ export, save, import
  function reviewedTsv() {
    var lines = [DATA.columns.concat(['verdict']).join('\t')];
    rows.forEach(function (r) {
      var cells = r.cells.slice();
      if (edits[r.i]) { cells[COL.ru] = clean(edits[r.i].ru); cells[COL.az] = clean(edits[r.i].az); }
      cells.push(verdict[r.i]);
      lines.push(cells.join('\t'));
    });
    return lines.join('\n') + '\n';
  }
  function exportFile() {
    var blob = new Blob([reviewedTsv()], { type: 'text/tab-separated-values;charset=utf-8' });
    var url = URL.createObjectURL(blob);
    var a = el('a', { href: url, download: DATA.export_name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    message('Exported ' + DATA.export_name + ' (' + plural(rows.length, 'row') + ').', 'ok');
  }
  // Each save carries the version of the saved review this page was loaded at (or last saved);
  // the server refuses it (409) when another window or process has saved since.
  function saveToServer() {
    message('Saving…');
    fetch(DATA.server.save, {
      method: 'POST', body: reviewedTsv(),
      headers: { 'Content-Type': 'text/tab-separated-values; charset=utf-8', 'X-Review-Token': DATA.server.token,
                 'X-Review-Version': DATA.server.version || '' }
    }).then(function (resp) {
      return resp.json().then(function (out) {
        if (resp.status === 409) {
          message('Not saved: ' + out.error + '. (Export first to keep this window’s changes.)', 'error');
          return;
        }
        if (!resp.ok) throw new Error(out.error || resp.statusText);
        DATA.server.version = out.version;
        try { localStorage.removeItem(STORE_KEY); } catch (err) { /* nothing kept, nothing to drop */ }
        message('Saved ' + plural(out.rows, 'row') + ' to ' + out.saved + '.', 'ok');
      });
    }).catch(function (err) {
      message('Save failed: ' + err.message + ' — use “Export reviewed TSV” instead.', 'error');
    });
  }
  function save() { if (DATA.server) saveToServer(); else exportFile(); }

  function parseReviewed(textValue) {
    if (textValue.charCodeAt(0) === 0xfeff) textValue = textValue.slice(1);
    var lines = textValue.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    var expect = DATA.columns.concat(['verdict']);
    var header = (lines[0] || '').replace(/\r$/, '');
    if (header !== expect.join('\t')) throw new Error('not a reviewed TSV: the header must be the TSV columns plus “verdict”');
    if (lines.length - 1 !== rows.length) {
      throw new Error('it has ' + plural(lines.length - 1, 'row') + ', this review has ' + rows.length);
    }
    return lines.slice(1).map(function (line, n) {
      var cells = line.replace(/\r$/, '').split('\t'), where = 'line ' + (n + 2);
      if (cells.length !== expect.length) throw new Error(where + ': expected ' + expect.length + ' fields, found ' + cells.length);
      FIXED_COLUMNS.forEach(function (c) {
        if (cells[COL[c]] !== rows[n].cells[COL[c]]) throw new Error(where + ': ' + c + ' differs, so the file belongs to another TSV');
      });
      var v = cells[expect.length - 1] || 'unreviewed';
      if (VERDICTS.indexOf(v) < 0) throw new Error(where + ': unknown verdict “' + v + '”');
      return { verdict: v, ru: cells[COL.ru], az: cells[COL.az] };
    });
  }
  function applyImport(parsed, name) {
    var changes = [];
    parsed.forEach(function (p, i) {
      var ru = clean(p.ru), az = clean(p.az);
      var edit = ru === clean(rows[i].ru) && az === clean(rows[i].az) ? null : { ru: ru, az: az };
      var same = verdict[i] === p.verdict && JSON.stringify(edits[i]) === JSON.stringify(edit);
      if (same) return;
      changes.push(snapshot(i));
      put(i, p.verdict, edit);
    });
    if (changes.length) record(changes);
    computeView(); renderView(); changed();
    if (viewPos.has(cur)) setCursor(cur);
    var c = counts();
    message('Imported ' + name + ': ' + plural(changes.length, 'row') + ' changed; now ' + c.accepted + ' accepted, ' +
      c.rejected + ' rejected, ' + c.edited + ' edited, ' + c.unreviewed + ' unreviewed. Press u to undo.', 'ok');
  }

  // ------------------------------------------------------------------ events
  function applyFilters() {
    computeView();
    cur = view.length ? view[0] : -1;  // a new selection or order starts at its top
    renderView();
    if (cur >= 0) setCursor(cur, false);
    window.scrollTo(0, 0);
  }
  var searchTimer = null;
  search.addEventListener('input', function () { clearTimeout(searchTimer); searchTimer = setTimeout(applyFilters, 150); });
  // A menu picked with the mouse hands the keys back to the rows; one driven by keys keeps focus
  // (its arrow keys change the value as they go) until Esc.
  var pickedWithPointer = false;
  [fDoc, fKind, fFlag, fStatus, fSort, fGroup].forEach(function (node) {
    node.addEventListener('pointerdown', function () { pickedWithPointer = true; });
    node.addEventListener('keydown', function () { pickedWithPointer = false; });
    node.addEventListener('change', function () {
      applyFilters();
      if (pickedWithPointer) { node.blur(); if (cur >= 0) setCursor(cur, false); }
      pickedWithPointer = false;
    });
  });
  $('filters').addEventListener('submit', function (ev) { ev.preventDefault(); });

  grid.addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr.row');
    if (!tr) return;
    var i = Number(tr.getAttribute('data-i'));
    if (editing && editing.i !== i) finishEdit(true);
    if (editing) return;
    var act = ev.target.closest('button[data-act]');
    if (act) {
      setCursor(i, false);
      var a = act.getAttribute('data-act');
      if (a === 'e') startEdit(i, 'ru'); else decide(i, a === 'a' ? 'accepted' : 'rejected');
      return;
    }
    setCursor(i, false);
  });
  grid.addEventListener('dblclick', function (ev) {
    var td = ev.target.closest('td.text');
    var tr = ev.target.closest('tr.row');
    if (td && tr && !editing) startEdit(Number(tr.getAttribute('data-i')), td.classList.contains('az') ? 'az' : 'ru');
  });

  $('btn-export').addEventListener('click', exportFile);
  $('btn-save').addEventListener('click', saveToServer);
  $('btn-save').hidden = !DATA.server;
  $('btn-help').addEventListener('click', toggleHelp);
  function toggleHelp() {
    var help = $('help');
    help.hidden = !help.hidden;
    $('btn-help').setAttribute('aria-expanded', String(!help.hidden));
  }
  $('import-file').addEventListener('change', function () {
    var input = this, file = input.files[0];
    if (!file) return;
    file.text().then(function (content) {
      input.value = '';
      try { applyImport(parseReviewed(content), file.name); }
      catch (err) { message('Import failed: ' + err.message + '.', 'error'); }
    });
  });

  document.addEventListener('keydown', function (ev) {
    if (editing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var target = ev.target;
    if (target.matches('input[type=search], input[type=text], select, textarea')) {
      if (ev.key === 'Escape' || (ev.key === 'Enter' && target === search)) {
        ev.preventDefault();
        if (target === search) { clearTimeout(searchTimer); applyFilters(); }
        target.blur();
        if (cur >= 0) setCursor(cur);
      }
      return;
    }
    var handled = true;
    switch (ev.key) {
      case 'j': case 'ArrowDown': move(1); break;
      case 'k': case 'ArrowUp': move(-1); break;
      case 'Home': if (view.length) setCursor(view[0]); break;
      case 'End': if (view.length) setCursor(view[view.length - 1]); break;
      case 'a': decide(cur, 'accepted'); break;
      case 'r': decide(cur, 'rejected'); break;
      case 'e': startEdit(cur, 'ru'); break;
      case 'u': undo(); break;
      case 'n': nextUnreviewed(); break;
      case '/': search.focus(); search.select(); break;
      case 's': save(); break;
      case '?': toggleHelp(); break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });

  if ('IntersectionObserver' in window) {
    new IntersectionObserver(function (entries) {
      if (entries[0].isIntersecting && rendered < view.length) renderUpTo(rendered + CHUNK);
    }, { rootMargin: '600px' }).observe($('more'));
  }
  window.addEventListener('pagehide', persist);
  document.addEventListener('visibilitychange', function () { if (document.hidden) persist(); });

  // ------------------------------------------------------------------ start
  fillFilters();
  var restored = restore();
  computeView();
  if (cur < 0 && view.length) cur = view[0];
  renderView();
  updateProgress();
  if (cur >= 0) setCursor(cur, restored);
  window.alignReview = { reviewedTsv: reviewedTsv, counts: counts };  // for tests and the console
})();

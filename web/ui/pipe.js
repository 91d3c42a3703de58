// A pipe's page: header, tabs Metrics / Tables / Settings / History. Re-rendered
// on every poll, but only when what it shows changed (so a click never lands on
// a button that is being replaced).
import { api } from './api.js';
import { h, replace } from './dom.js';
import { lineChart } from './chart.js';
import { formatBytes, formatLag, formatMs, formatPartitions, formatRate, formatSeconds, unrepresentableCount } from './format.js';
import { notice, refresh, stateBadge } from './app.js';
import { confirmDelete, confirmReset, confirmResync } from './dialogs.js';

const TABS = [['metrics', 'Metrics'], ['tables', 'Tables'], ['settings', 'Settings'], ['history', 'History']];
let shown = '';  // key of what is on the page now
// The Tables tab's comparison: the level chosen, whether one runs, and its last answer.
const comparison = { pipe: null, level: 'content', running: false, result: null };

export async function renderPipe(container, name, tab, first, current) {
  const p = await api.pipe(name);
  let extra = null;
  if (tab === 'metrics') extra = await api.metrics(name);
  else if (tab === 'tables') extra = await api.tables(name);
  else if (tab === 'history') extra = await api.history(name);
  if (!current()) return;
  if (comparison.pipe !== name) Object.assign(comparison, { pipe: name, running: false, result: null });
  const key = JSON.stringify([name, tab, p, extra, comparison]);
  if (!first && key === shown) return;
  shown = key;
  const panel = tab === 'metrics' ? metricsTab(p, extra)
    : tab === 'tables' ? tablesTab(p, extra)
    : tab === 'settings' ? settingsTab(p)
    : tab === 'history' ? historyTab(extra)
    : h('p', {}, `no tab named ${tab}`);
  replace(container,
    h('p', {}, h('a', { href: '#/' }, '← all pipes')),
    h('h1', {}, p.name, ' ', stateBadge(p.state)),
    h('p', { class: 'muted' }, `${p.source ?? '?'} -> ${p.destination ?? '?'} · ${p.mode ?? ''}`),
    p.error ? h('p', { class: 'pipe-error' }, 'Last error: ', p.error) : null,
    h('nav', { class: 'tabs', role: 'tablist' },
      TABS.map(([id, label]) => h('a', {
        href: `#/pipes/${encodeURIComponent(name)}/${id}`, role: 'tab', id: `tab-${id}`,
        'aria-selected': id === tab ? 'true' : 'false', class: id === tab ? 'active' : '',
      }, label))),
    h('section', { class: 'panel', id: `panel-${tab}`, role: 'tabpanel' }, panel));
}

function metricsTab(p, series) {
  const samples = series.samples || [];
  const now = samples.length ? samples[samples.length - 1].t_ms : Date.now();
  const t0 = now - series.window_seconds * 1000;
  const pts = (f) => samples.map((s) => ({ t: s.t_ms, v: f(s) }));
  return h('div', {},
    h('dl', { class: 'facts' },
      h('dt', {}, 'State'), h('dd', { id: 'metrics-state' }, stateBadge(p.state)),
      h('dt', {}, 'Checkpoint'), h('dd', { id: 'metrics-checkpoint' }, p.checkpoint ?? '–'),
      h('dt', {}, 'Lag'), h('dd', {}, formatLag(p)),
      h('dt', {}, 'Last commit applied'), h('dd', {}, p.last_commit_at ?? '–')),
    h('p', { class: 'muted' }, `Last hour, sampled every ${series.interval_seconds} s by the server (${samples.length} samples).`),
    h('div', { class: 'charts' },
      lineChart({ id: 'chart-rows', title: 'Rows applied', points: pts((s) => s.rows_per_second), t0, t1: now, format: (v) => formatRate(v, 'rows') }),
      lineChart({ id: 'chart-bytes', title: 'Bytes applied', points: pts((s) => s.bytes_per_second), t0, t1: now, format: (v) => `${formatBytes(Math.round(v))}/s` }),
      lineChart({ id: 'chart-lag-seconds', title: 'Lag (seconds)', points: pts((s) => s.lag_seconds), t0, t1: now, format: formatSeconds }),
      lineChart({ id: 'chart-lag-bytes', title: 'Lag (bytes)', points: pts((s) => s.lag_bytes), t0, t1: now, format: formatBytes })));
}

function tablesTab(p, tables) {
  return h('div', {},
    h('h2', {}, 'Initial Load Stats'),
    h('table', { class: 'grid', id: 'initial-load-stats' },
      h('thead', {}, h('tr', {}, ['Source', 'Destination', 'State', 'Partitions done / total', 'Rows', 'Avg time per partition',
        'Started', 'Finished', 'Unrepresentable values', 'Last compare'].map((c) => h('th', {}, c)))),
      h('tbody', {}, tables.map((t) => h('tr', { dataset: { table: t.source } },
        h('td', {}, t.source), h('td', {}, t.destination), h('td', { class: 'table-state' }, t.state),
        h('td', { class: 'partitions' }, formatPartitions(t.partitions_done, t.partitions_total)),
        h('td', { class: 'rows' }, String(t.rows_loaded)), h('td', {}, formatMs(t.avg_partition_ms)),
        h('td', {}, t.load_started_at ?? '–'), h('td', {}, t.load_finished_at ?? '–'),
        h('td', { class: 'unrepresentable', title: unrepresentableTitle(t) }, String(unrepresentableCount(t))),
        lastCompareCell(t.last_compare))))),
    compareSection(p));
}

function lastCompareCell(c) {
  if (!c) return h('td', { class: 'last-compare' }, '–');
  return h('td', { class: 'last-compare', dataset: { outcome: c.outcome } },
    h('span', { class: `outcome outcome-${c.outcome.replace(' ', '-')}` }, c.outcome), ` (${c.level}, ${c.at})`);
}

// Compare: POST .../compare answers when every table is compared; the result stays shown.
function compareSection(p) {
  const run = async () => {
    Object.assign(comparison, { running: true, result: null });
    refresh();
    try {
      const r = await api.compare(p.name, { level: comparison.level });
      comparison.result = r;
      notice(r.equal ? `compare (${r.level}): every table is equal` : `compare (${r.level}): NOT equal`, r.equal ? 'info' : 'error');
    } catch (e) {
      notice(e.message, 'error');
    }
    comparison.running = false;
    refresh();
  };
  const r = comparison.result;
  return h('div', {},
    h('h2', {}, 'Compare with the source'),
    h('p', { class: 'muted' }, 'Hashes the rows inside both databases and compares them per key range; ranges still changing on a live pipe are reported apart.'),
    h('div', { class: 'actions' },
      h('select', { id: 'compare-level', onchange: (e) => { comparison.level = e.target.value; } },
        ['content', 'count', 'objects'].map((l) => h('option', { value: l, selected: l === comparison.level }, l))),
      h('button', { type: 'button', id: 'compare-run', class: 'primary', disabled: comparison.running, onclick: run },
        comparison.running ? 'Comparing…' : 'Compare')),
    r ? h('table', { class: 'grid', id: 'compare-result', dataset: { equal: String(r.equal) } },
      h('thead', {}, h('tr', {}, ['Source', 'Destination', 'Outcome', 'Rows (source / destination)', 'Differences', 'Time'].map((c) => h('th', {}, c)))),
      h('tbody', {}, r.tables.map((t) => h('tr', { dataset: { table: t.source_table } },
        h('td', {}, t.source_table), h('td', {}, t.destination_table),
        h('td', { class: `outcome outcome-${t.outcome.replace(' ', '-')}`, dataset: { outcome: t.outcome } }, t.outcome),
        h('td', {}, t.source_rows === undefined ? '–' : `${t.source_rows} / ${t.destination_rows}`),
        h('td', { class: 'differences' }, compareDetails(t)),
        h('td', {}, formatSeconds(t.seconds)))))) : null);
}

function compareDetails(t) {
  const lines = [...t.problems, ...t.differences.map((d) => `${d.kind} ${d.key}`)];
  if (t.differences_truncated) lines.push('… more');
  if (t.still_changing_buckets) lines.push(`${t.still_changing_buckets} range(s) still changing`);
  for (const n of t.not_compared) lines.push(`not compared: ${n}`);
  return lines.length ? h('ul', { class: 'plain' }, lines.map((l) => h('li', {}, l))) : '–';
}

function unrepresentableTitle(t) {
  return Object.entries(t.unrepresentable || {}).map(([c, u]) => `${c}: ${u.count} (first: ${u.first_value})`).join('\n') || null;
}

// An action button, disabled with the state's reason when the pipe's state refuses it.
function actionButton(p, action, label, run, extraClass = '') {
  const a = (p.actions || {})[action] || { allowed: true, reason: null };
  const b = h('button', { type: 'button', id: `action-${action}`, class: extraClass, disabled: !a.allowed, title: a.reason, onclick: run }, label);
  return h('span', { class: 'action' }, b, a.allowed ? null : h('span', { class: 'reason', id: `reason-${action}` }, a.reason));
}

export async function act(p, action, body, done) {
  try {
    const r = await api.act(p.name, action, body);
    notice(r.message, 'info');
    if (done) done(r);
  } catch (e) {
    notice(e.message, 'error');
  }
  refresh();
}

function settingsTab(p) {
  const settings = Object.entries(p.settings || {});
  const resyncTable = (table) => () => confirmResync(p, table, () => act(p, 'resync', { table }));
  return h('div', {},
    h('h2', {}, 'Actions'),
    h('div', { class: 'actions' },
      actionButton(p, 'pause', 'Pause', () => act(p, 'pause')),
      actionButton(p, 'resume', 'Resume', () => act(p, 'resume')),
      actionButton(p, 'resync', 'Resync', () => confirmResync(p, null, () => act(p, 'resync'))),
      actionButton(p, 'reset', 'Reset', () => confirmReset(p, (body) => act(p, 'reset', body))),
      actionButton(p, 'delete', 'Delete', () => confirmDelete(p, (body) => act(p, 'delete', body, () => { location.hash = '#/'; })), 'danger')),
    h('h2', {}, 'Settings'),
    h('table', { class: 'grid', id: 'settings' },
      h('tbody', {},
        h('tr', {}, h('th', {}, 'mode'), h('td', {}, p.mode ?? '')),
        h('tr', {}, h('th', {}, 'source'), h('td', {}, p.source ?? '')),
        h('tr', {}, h('th', {}, 'destination'), h('td', {}, p.destination ?? '')),
        settings.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v)))))),
    h('h2', {}, 'Tables'),
    h('table', { class: 'grid', id: 'settings-tables' },
      h('thead', {}, h('tr', {}, ['Source', 'Destination', 'State', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, (p.tables || []).map((t) => {
        const a = (p.actions || {}).resync || { allowed: true };
        return h('tr', { dataset: { table: t.source } }, h('td', {}, t.source), h('td', {}, t.destination), h('td', {}, t.state),
          h('td', {}, h('button', { type: 'button', class: 'resync-table', disabled: !a.allowed, title: a.reason, onclick: resyncTable(t.source) }, 'Resync table')));
      }))));
}

function historyTab(history) {
  return h('table', { class: 'grid', id: 'history' },
    h('thead', {}, h('tr', {}, ['Time', 'From', 'To', 'Reason'].map((c) => h('th', {}, c)))),
    h('tbody', {}, [...history].reverse().map((t) =>
      h('tr', {}, h('td', {}, t.at), h('td', {}, t.from ?? '–'), h('td', { class: 'to' }, t.to), h('td', {}, t.reason)))));
}

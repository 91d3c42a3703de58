// Confirmation dialogs of the destructive actions (Resync, Reset, Delete), in
// the page's one <dialog>. Each calls `go(body)` only when the user confirms.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { resetMayStart } from './format.js';

function open(title, ...content) {
  const d = document.getElementById('dialog');
  replace(d, h('h2', {}, title), ...content);
  if (!d.open) d.showModal();
  return d;
}

function close() {
  const d = document.getElementById('dialog');
  if (d.open) d.close();
}

function buttons(confirmLabel, onConfirm, { danger = false, id = 'dialog-confirm' } = {}) {
  const ok = h('button', { type: 'button', id, class: danger ? 'danger' : 'primary', onclick: () => { close(); onConfirm(); } }, confirmLabel);
  return { ok, row: h('div', { class: 'dialog-buttons' }, h('button', { type: 'button', id: 'dialog-cancel', onclick: close }, 'Cancel'), ok) };
}

export function confirmResync(p, table, go) {
  const what = table ? `table ${table} of pipe ${p.name}` : `every table of pipe ${p.name}`;
  const { row } = buttons('Resync', go);
  open('Resync?',
    h('p', {}, `Resync ${what}: new _resync tables are loaded from the source, rows soft-deleted at the destination are carried over, then they are swapped in atomically and the old tables dropped. Settings are kept; the load statistics start over.`),
    row);
}

export function confirmDelete(p, go) {
  const drop = h('input', { type: 'checkbox', id: 'drop-destination' });
  const { row } = buttons('Delete', () => go({ drop_destination: drop.checked }), { danger: true });
  open(`Delete pipe ${p.name}?`,
    h('p', {}, 'The pipe stops, and the replication slot and publication ferry created are dropped. Destination tables are kept unless you tick the box.'),
    h('p', {}, h('label', {}, drop, ' drop destination tables')),
    row);
}

// Reset: runs the pre-check first and shows every item; Start is enabled only
// at 100% success, and warnings must be accepted with a tick.
export async function confirmReset(p, go) {
  const list = h('div', { id: 'precheck' }, h('p', { class: 'muted' }, 'Running the pre-check…'));
  const clear = h('input', { type: 'checkbox', id: 'clear-destination' });
  const accept = h('input', { type: 'checkbox', id: 'accept-warnings' });
  const acceptRow = h('p', { hidden: true }, h('label', {}, accept, ' I accept the warnings'));
  let report = null;
  const { ok, row } = buttons('Start', () => go({ clear_destination: clear.checked, confirm: accept.checked }), { id: 'reset-start' });
  const update = () => { ok.disabled = !resetMayStart(report, accept.checked); };
  accept.addEventListener('change', update);
  update();
  open(`Reset pipe ${p.name}?`,
    h('p', {}, 'The pipe re-runs its mode from the beginning, keeping its configuration. It starts only when the pre-check passes.'),
    list, acceptRow,
    h('p', {}, h('label', {}, clear, ' clear destination tables first')),
    row);
  try {
    report = await api.check(p.name);
  } catch (e) {
    replace(list, h('p', { class: 'notice error' }, e.message));
    return;
  }
  replace(list,
    h('p', { id: 'success-rate', class: report.failed ? 'fail' : report.warnings ? 'warn' : 'pass' },
      `Success rate: ${report.success_rate}% (${report.passed} passed, ${report.warnings} warnings, ${report.failed} failed)`),
    h('ul', { class: 'checks' }, report.checks.map((c) =>
      h('li', { class: `check check-${c.status}`, dataset: { status: c.status, check: c.name } },
        h('span', { class: 'check-status' }, c.status.toUpperCase()), ' ', h('strong', {}, c.name), ' ', c.reason,
        c.hint ? h('div', { class: 'hint' }, `hint: ${c.hint}`) : null))));
  acceptRow.hidden = report.warnings === 0;
  update();
}

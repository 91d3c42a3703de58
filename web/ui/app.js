// The console: a hash router over two views, the pipe list (#/) and a pipe's
// page (#/pipes/NAME/TAB). Every view polls the API every POLL_MS while shown.
import { api, token } from './api.js';
import { h, replace } from './dom.js';
import { formatLag } from './format.js';
import { renderPipe } from './pipe.js';

const POLL_MS = 1500;
const main = () => document.getElementById('main');
let timer = null;
let generation = 0;

export function notice(text, kind = 'info') {
  const n = document.getElementById('notice');
  replace(n, text ? h('div', { class: `notice ${kind}` }, text) : null);
}

function stateBadge(state) {
  return h('span', { class: `state state-${state}`, dataset: { state } }, state);
}
export { stateBadge };

async function renderList(gen) {
  const pipes = await api.pipes();
  if (gen !== generation) return;
  const rows = pipes.map((p) =>
    h('tr', { dataset: { pipe: p.name } },
      h('td', {}, h('a', { href: `#/pipes/${encodeURIComponent(p.name)}/metrics`, class: 'pipe-link' }, p.name)),
      h('td', {}, `${p.source ?? '?'} -> ${p.destination ?? '?'}`),
      h('td', {}, p.mode ?? ''),
      h('td', { class: 'state-cell' }, stateBadge(p.state)),
      h('td', {}, formatLag(p)),
      h('td', { class: 'error-cell' }, p.error ?? '')));
  replace(main(),
    h('h1', {}, 'Pipes'),
    pipes.length === 0
      ? h('p', { class: 'muted' }, 'No pipes yet: add them with ferry apply -f ferry.yaml.')
      : h('table', { id: 'pipes', class: 'grid' },
          h('thead', {}, h('tr', {}, ['Name', 'Source -> Destination', 'Mode', 'State', 'Lag', 'Last error'].map((c) => h('th', {}, c)))),
          h('tbody', {}, rows)));
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'pipes' && parts[1]) return { view: 'pipe', name: parts[1], tab: parts[2] || 'metrics' };
  return { view: 'list' };
}

async function tick(gen, first) {
  const r = route();
  try {
    if (r.view === 'pipe') await renderPipe(main(), r.name, r.tab, first, () => gen === generation);
    else await renderList(gen);
  } catch (e) {
    if (gen === generation) notice(e.message, 'error');
  }
  if (gen === generation) timer = setTimeout(() => tick(gen, false), POLL_MS);
}

export function refresh() {
  clearTimeout(timer);
  generation++;
  tick(generation, false);
}

function navigate() {
  clearTimeout(timer);
  generation++;
  notice('');
  replace(main(), h('p', { class: 'muted' }, 'Loading…'));
  tick(generation, true);
}

function setupLogin() {
  const input = document.getElementById('token');
  const state = document.getElementById('token-state');
  const show = () => (state.textContent = token.get() ? 'token set for this tab' : 'no token');
  document.getElementById('login').addEventListener('submit', (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    input.value = '';
    show();
  });
  document.getElementById('token-clear').addEventListener('click', () => { token.set(''); show(); });
  show();
}

window.addEventListener('hashchange', navigate);
window.addEventListener('DOMContentLoaded', () => { setupLogin(); navigate(); });

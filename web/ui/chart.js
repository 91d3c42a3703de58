// A small SVG line chart for the Metrics tab. linePath() is pure (tested in
// web/test/chart.test.js); lineChart() builds the element.
const NS = 'http://www.w3.org/2000/svg';

// Points [{t, v}] (v may be null: a gap) -> SVG path data inside a w x h box,
// x from t0..t1, y from 0..max (max >= every v; 1 when all are 0).
export function linePath(points, { width, height, t0, t1 }) {
  const vals = points.map((p) => p.v).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const max = niceMax(vals.length ? Math.max(...vals) : 0);
  const span = t1 > t0 ? t1 - t0 : 1;
  let d = '', pen = false;
  for (const p of points) {
    if (p.v === null || p.v === undefined || !Number.isFinite(p.v)) { pen = false; continue; }
    const x = ((p.t - t0) / span) * width;
    const y = height - (Math.max(0, p.v) / max) * height;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return { d, max };
}

// The smallest 1/2/5 x 10^k at or above v (so the axis label reads well).
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

export function lineChart({ title, points, t0, t1, format, id }) {
  const width = 540, height = 140, padL = 96, padB = 20, padT = 8;
  const { d, max } = linePath(points, { width, height, t0, t1 });
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width + padL + 10} ${height + padB + padT}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  if (id) svg.setAttribute('id', id);
  const g = el('g', { transform: `translate(${padL},${padT})` });
  svg.append(g);
  for (const f of [0, 0.5, 1]) {
    const y = height - f * height;
    g.append(el('line', { x1: 0, x2: width, y1: y, y2: y, class: 'grid' }));
    g.append(text(format(f * max), -6, y + 4, 'end'));
  }
  g.append(text('-60 min', 0, height + 16, 'start'));
  g.append(text('now', width, height + 16, 'end'));
  g.append(el('path', { d, class: 'line' }));
  const last = [...points].reverse().find((p) => p.v !== null && p.v !== undefined);
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = `${title}: ${last ? format(last.v) : 'no data yet'}`;
  fig.append(cap, svg);
  return fig;
}

function el(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function text(s, x, y, anchor) {
  const t = el('text', { x, y, 'text-anchor': anchor, class: 'axis' });
  t.textContent = s;
  return t;
}

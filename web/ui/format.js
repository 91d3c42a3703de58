// Formatting of API values for people; pure functions (tested in web/test/format.test.js).

export function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n), i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatSeconds(s) {
  if (s === null || s === undefined) return '–';
  const v = Number(s);
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  if (v < 60) return `${v.toFixed(1)} s`;
  const m = Math.floor(v / 60), rest = Math.round(v % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatMs(ms) {
  if (!ms) return '–';
  return formatSeconds(Number(ms) / 1000);
}

// Lag of a pipe: seconds since the last source commit applied, and bytes behind.
export function formatLag(p) {
  if (p.lag_seconds === null && p.lag_bytes === null) return '–';
  const parts = [];
  if (p.lag_seconds !== null && p.lag_seconds !== undefined) parts.push(formatSeconds(p.lag_seconds));
  if (p.lag_bytes !== null && p.lag_bytes !== undefined) parts.push(formatBytes(p.lag_bytes));
  return parts.join(' / ');
}

export function formatRate(v, unit) {
  if (v === null || v === undefined) return '–';
  const n = Number(v);
  const s = n >= 100 ? Math.round(n).toString() : n.toFixed(n >= 10 ? 1 : 2);
  return `${s} ${unit}/s`;
}

// "3 / 7" partitions, with a percentage when there are any.
export function formatPartitions(done, total) {
  if (!total) return `${done} / ${total}`;
  return `${done} / ${total} (${Math.floor((100 * done) / total)}%)`;
}

export function unrepresentableCount(table) {
  return Object.values(table.unrepresentable || {}).reduce((n, c) => n + (c.count || 0), 0);
}

// Whether the reset dialog may start: no failed check, and warnings accepted.
export function resetMayStart(report, warningsAccepted) {
  if (!report) return false;
  if (report.failed > 0 || report.success_rate < 100) return false;
  return report.warnings === 0 || warningsAccepted;
}

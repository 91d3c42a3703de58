import test from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatLag, formatPartitions, formatSeconds, resetMayStart, unrepresentableCount } from '../../ui/format.js';

test('bytes use binary units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  assert.equal(formatBytes(null), '–');
});

test('seconds read as ms, s, min, h', () => {
  assert.equal(formatSeconds(0.25), '250 ms');
  assert.equal(formatSeconds(12.34), '12.3 s');
  assert.equal(formatSeconds(125), '2 min 5 s');
  assert.equal(formatSeconds(7260), '2 h 1 min');
});

test('lag shows seconds and bytes, or a dash before the pipe streamed', () => {
  assert.equal(formatLag({ lag_seconds: null, lag_bytes: null }), '–');
  assert.equal(formatLag({ lag_seconds: 2, lag_bytes: 2048 }), '2.0 s / 2.0 KiB');
  assert.equal(formatLag({ lag_seconds: null, lag_bytes: 10 }), '10 B');
});

test('partitions done of total with a percentage', () => {
  assert.equal(formatPartitions(0, 0), '0 / 0');
  assert.equal(formatPartitions(3, 4), '3 / 4 (75%)');
});

test('unrepresentable counts add up over columns', () => {
  assert.equal(unrepresentableCount({ unrepresentable: {} }), 0);
  assert.equal(unrepresentableCount({ unrepresentable: { a: { count: 2 }, b: { count: 5 } } }), 7);
});

test('reset starts only at 100% and with warnings accepted', () => {
  const pass = { success_rate: 100, failed: 0, warnings: 0 };
  const warn = { success_rate: 100, failed: 0, warnings: 1 };
  const fail = { success_rate: 80, failed: 1, warnings: 0 };
  assert.equal(resetMayStart(null, true), false);
  assert.equal(resetMayStart(pass, false), true);
  assert.equal(resetMayStart(warn, false), false);
  assert.equal(resetMayStart(warn, true), true);
  assert.equal(resetMayStart(fail, true), false);
});

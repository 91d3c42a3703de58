import test from 'node:test';
import assert from 'node:assert/strict';
import { linePath, niceMax } from '../../ui/chart.js';

test('axis maximum is the next 1/2/5 step', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(5), 5);
  assert.equal(niceMax(120), 200);
  assert.equal(niceMax(0.07), 0.1);
});

test('points map into the box: time on x, value on y from the bottom', () => {
  const { d, max } = linePath([{ t: 0, v: 0 }, { t: 50, v: 5 }, { t: 100, v: 10 }], { width: 100, height: 50, t0: 0, t1: 100 });
  assert.equal(max, 10);
  assert.equal(d, 'M0.0,50.0L50.0,25.0L100.0,0.0');
});

test('a null value breaks the line', () => {
  const { d } = linePath([{ t: 0, v: 1 }, { t: 1, v: null }, { t: 2, v: 1 }], { width: 2, height: 10, t0: 0, t1: 2 });
  assert.equal(d, 'M0.0,0.0M2.0,0.0');
});

test('no data: empty path', () => {
  assert.equal(linePath([], { width: 10, height: 10, t0: 0, t1: 1 }).d, '');
});

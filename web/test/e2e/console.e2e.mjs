// The console end to end: headless Chromium against a real `ferry server` with real
// PostgreSQL and ClickHouse. Follows the resync walk-through of the seed (open the
// pipe, Settings, Resync, confirm, Metrics shows Snapshot then Running, Tables shows
// Initial Load Stats), a Compare from the Tables tab, then pause/resume, a reset whose
// pre-check fails, a refused action with the server's message, History and Delete. Screenshots of every tab go
// to $FERRY_ARTEFACTS (the build dir's web-artefacts/).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Databases, FerryServer, eventually, launchBrowser, need } from './harness.mjs';

const ORDERS = 3000;
const TOKEN = `console-token-${process.pid}`;
const artefacts = process.env.FERRY_ARTEFACTS || path.resolve('web-artefacts');

test('console walk-through against a real ferry server', { timeout: 600000 }, async (t) => {
  const db = new Databases();
  await db.create();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-console-e2e-'));
  const holdFile = path.join(dir, 'hold');
  db.pg(`CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL);
         INSERT INTO orders SELECT g, 'customer ' || (g % 97), g * 1.25 FROM generate_series(1, ${ORDERS}) g;
         CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO customers SELECT g, 'name ' || g FROM generate_series(1, 50) g;
         ANALYZE orders; ANALYZE customers;`);
  const server = new FerryServer({
    binary: need('FERRY_BINARY'), dir, token: TOKEN,
    // The resync load holds after its first partition while the hold file exists,
    // so the test sees Snapshot and a load in progress without racing it.
    env: { FERRY_HOLD_AT: 'load-partition-done', FERRY_HOLD_FILE: holdFile },
    config: `
peers:
  pg: { type: postgres, dsn: "${db.dsn}" }
  ch: { type: clickhouse, url: "${db.chUrl}", database: "${db.name}" }
pipes:
  shop:
    source: pg
    destination: ch
    mode: snapshot+cdc
    tables: [public.orders, public.customers]
    settings: { snapshot_parallelism: 1, snapshot_rows_per_partition: 500, sync_interval: 200ms }
`,
  });
  await server.start();
  const { context, userDataDir } = await launchBrowser(artefacts);
  const page = context.pages()[0] || (await context.newPage());
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const shot = (name) => page.screenshot({ path: path.join(artefacts, `${name}.png`), fullPage: true });
  const badge = (sel) => page.locator(`${sel} .state`).first();
  const waitBadge = async (sel, state, ms = 60000) =>
    eventually(`${sel} to show ${state}`, async () => (await badge(sel).getAttribute('data-state')) === state, ms);
  page.setDefaultTimeout(20000);
  // Steps build on each other: after a failure the rest are skipped, not failed again.
  let failed = false;
  const step = (name, fn) => t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
    try { await fn(); } catch (e) { failed = true; throw e; }
  });
  const tab = async (name) => {
    await page.click(`#tab-${name}`);
    await page.waitForSelector(`#panel-${name}`);
  };

  try {
    await step('the pipe list shows name, source -> destination, mode, state and lag, live', async () => {
      await page.goto(`${server.url}/`);
      const row = page.locator('#pipes tr[data-pipe="shop"]');
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[0], 'shop');
      assert.equal(cells[1], 'pg -> ch');
      assert.equal(cells[2], 'snapshot+cdc');
      // Live: the list follows the initial load to Running without a reload.
      await waitBadge('#pipes tr[data-pipe="shop"]', 'Running');
      await eventually('rows in ClickHouse', async () =>
        Number(await db.ch(`SELECT count() FROM ${db.name}.orders FINAL WHERE _ferry_is_deleted = 0`)) === ORDERS);
      await shot('pipe-list');
    });

    await step('the token is kept in sessionStorage only', async () => {
      await page.fill('#token', TOKEN);
      await page.click('#token-save');
      assert.equal(await page.evaluate(() => sessionStorage.getItem('ferry.token')), TOKEN);
      assert.equal(await page.evaluate(() => localStorage.length), 0);
      assert.equal((await context.cookies()).length, 0);
    });

    await step('Metrics tab: state, checkpoint and four charts of the last hour', async () => {
      await page.click('#pipes a.pipe-link');
      await page.waitForSelector('#panel-metrics');
      await waitBadge('#metrics-state', 'Running');
      for (const id of ['chart-rows', 'chart-bytes', 'chart-lag-seconds', 'chart-lag-bytes']) await page.waitForSelector(`#${id}`);
      // The server samples every 2 s: the charts fill without a reload.
      await eventually('samples in the chart caption', async () =>
        /\((\d+) samples\)/.exec(await page.locator('#panel-metrics').textContent())?.[1] >= 2, 30000);
      assert.notEqual(await page.locator('#metrics-checkpoint').textContent(), '–');
      await shot('tab-metrics');
    });

    await step('Tables tab: Initial Load Stats of the finished load', async () => {
      await tab('tables');
      await page.waitForSelector('#initial-load-stats');
      const row = page.locator('#initial-load-stats tr[data-table="public.orders"]');
      assert.equal(await row.locator('.rows').textContent(), String(ORDERS));
      const parts = await row.locator('.partitions').textContent();
      const [, done, total] = /^(\d+) \/ (\d+)/.exec(parts);
      assert.ok(Number(total) > 1, parts);
      assert.equal(done, total);
      assert.equal(await row.locator('.unrepresentable').textContent(), '0');
      await shot('tab-tables');
    });

    await step('Tables tab: Compare shows every table equal and keeps it as the last comparison', async () => {
      await tab('tables');
      await page.selectOption('#compare-level', 'content');
      await page.click('#compare-run');
      await page.waitForSelector('#compare-result');
      assert.equal(await page.locator('#compare-result').getAttribute('data-equal'), 'true');
      for (const table of ['public.orders', 'public.customers'])
        assert.equal(await page.locator(`#compare-result tr[data-table="${table}"] .outcome`).getAttribute('data-outcome'), 'equal');
      assert.match(await page.locator('#compare-result tr[data-table="public.orders"]').textContent(), new RegExp(`${ORDERS} / ${ORDERS}`));
      // Stored in the catalog: the table list shows it (after the next poll) and so does the API.
      await eventually('the last comparison in the table list', async () =>
        (await page.locator('#initial-load-stats tr[data-table="public.orders"] .last-compare').getAttribute('data-outcome')) === 'equal');
      const orders = (await server.pipe('shop')).tables.find((x) => x.source === 'public.orders');
      assert.equal(orders.last_compare.outcome, 'equal');
      assert.equal(orders.last_compare.level, 'content');
      await shot('tab-tables-compare');
    });

    await step('seed walk-through: Settings, Resync, confirm, Snapshot then Running', async () => {
      await tab('settings');
      await page.waitForSelector('#settings');
      assert.match(await page.locator('#settings').textContent(), /snapshot_rows_per_partition\s*500/);
      await shot('tab-settings');
      writeFileSync(holdFile, 'hold');
      await page.click('#action-resync');
      await page.waitForSelector('dialog[open]');
      assert.match(await page.locator('dialog').textContent(), /_resync/);
      await shot('dialog-resync');
      await page.click('#dialog-confirm');
      await eventually('the resync notice', async () => /resync/.test(await page.locator('#notice').textContent()));
      await tab('metrics');
      await waitBadge('#metrics-state', 'Snapshot');
      await tab('tables');
      const row = page.locator('#initial-load-stats tr[data-table="public.orders"]');
      await eventually('a resync load in progress', async () => /^1 \/ \d+/.test(await row.locator('.partitions').textContent()));
      assert.match(await page.locator('#initial-load-stats').textContent(), /Initial Load Stats|Partitions/);
      await shot('tab-tables-resync-in-progress');
      // Pause is allowed during Snapshot; Reset is not, and says why.
      await tab('settings');
      assert.equal(await page.locator('#action-pause').isDisabled(), false);
      assert.equal(await page.locator('#action-reset').isDisabled(), true);
      assert.match(await page.locator('#reason-reset').textContent(), /Snapshot/);
      rmSync(holdFile);
      await tab('metrics');
      await waitBadge('#metrics-state', 'Running', 120000);
      await tab('tables');
      await eventually('the resync load finished', async () => {
        const parts = await row.locator('.partitions').textContent();
        const m = /^(\d+) \/ (\d+)/.exec(parts);
        return m && m[1] === m[2] && (await row.locator('.rows').textContent()) === String(ORDERS);
      });
    });

    await step('the Metrics charts plot the rows the resync applied', async () => {
      await tab('metrics');
      // A point above the baseline (y < 140, the plot's height): a sample with rows/s > 0.
      await eventually('a non-zero rows/s point', async () => {
        const d = await page.locator('#chart-rows path.line').getAttribute('d');
        return [...(d || '').matchAll(/[ML][\d.]+,([\d.]+)/g)].some((m) => Number(m[1]) < 140);
      }, 30000);
      await shot('tab-metrics-after-resync');
    });

    await step('resync of one table from the Settings tab', async () => {
      await tab('settings');
      const before = (await server.pipe('shop')).tables.find((x) => x.source === 'public.customers').load_started_at;
      await page.locator('#settings-tables tr[data-table="public.customers"] button.resync-table').click();
      await page.waitForSelector('dialog[open]');
      assert.match(await page.locator('dialog').textContent(), /table public\.customers/);
      await page.click('#dialog-confirm');
      await eventually('customers loaded again', async () => {
        const p = await server.pipe('shop');
        const c = p.tables.find((x) => x.source === 'public.customers');
        return p.state === 'Running' && c.load_started_at !== before && c.load_finished_at && c.rows_loaded === 50;
      }, 120000);
      await waitBadge('h1', 'Running');
    });

    await step('pause and resume', async () => {
      await tab('settings');
      await page.click('#action-pause');
      await eventually('Paused', async () => (await server.pipe('shop')).state === 'Paused');
      await waitBadge('h1', 'Paused');
      await page.waitForSelector('#action-pause[disabled]');
      assert.match(await page.locator('#reason-pause').textContent(), /Paused/);
      assert.equal(await page.locator('#action-resume').isDisabled(), false);
      await shot('tab-settings-paused');
      await page.click('#action-resume');
      await eventually('Running again', async () => (await server.pipe('shop')).state === 'Running');
      await waitBadge('h1', 'Running');
      // Changes flow again after the resume.
      db.pg(`INSERT INTO orders VALUES (${ORDERS + 1}, 'after resume', 1.00)`);
      await eventually('the new row in ClickHouse', async () =>
        (await db.ch(`SELECT customer FROM ${db.name}.orders FINAL WHERE id = ${ORDERS + 1}`)) === 'after resume');
    });

    await step('an action the state refuses meanwhile shows the server\'s 409 message', async () => {
      // A second tab whose timers are frozen keeps showing Running while another client pauses
      // the pipe; its Pause button is still enabled, and the server refuses the click.
      const stale = await context.newPage();
      await stale.clock.install();
      await stale.goto(`${server.url}/#/pipes/shop/settings`);
      // sessionStorage is per tab: the new tab starts without the token.
      assert.equal(await stale.evaluate(() => sessionStorage.getItem('ferry.token')), null);
      await stale.fill('#token', TOKEN);
      await stale.click('#token-save');
      await stale.waitForSelector('#action-pause:not([disabled])');
      assert.equal((await server.act('shop', 'pause')).status, 202);
      await eventually('Paused', async () => (await server.pipe('shop')).state === 'Paused');
      await stale.click('#action-pause');
      await stale.waitForSelector('#notice .error');
      assert.match(await stale.locator('#notice .error').textContent(), /cannot pause a pipe in state Paused/);
      await stale.screenshot({ path: path.join(artefacts, 'refused-action-409.png'), fullPage: true });
      await stale.close();
      assert.equal((await server.act('shop', 'resume')).status, 202);
      await eventually('Running again', async () => (await server.pipe('shop')).state === 'Running');
      await waitBadge('h1', 'Running');
    });

    await step('a reset whose pre-check fails shows the failing item and cannot start', async () => {
      await page.click('#action-pause');
      await eventually('Paused', async () => (await server.pipe('shop')).state === 'Paused');
      await waitBadge('h1', 'Paused');
      await page.waitForSelector('#action-reset:not([disabled])');
      db.pg('ALTER TABLE customers RENAME TO customers_gone');
      await page.click('#action-reset');
      await page.waitForSelector('#success-rate');
      const failing = page.locator('#precheck li[data-status="fail"]');
      assert.ok((await failing.count()) >= 1);
      assert.match(await failing.first().textContent(), /customers/);
      assert.match(await page.locator('#success-rate').textContent(), /Success rate: \d+%/);
      assert.doesNotMatch(await page.locator('#success-rate').textContent(), /100%/);
      assert.equal(await page.locator('#reset-start').isDisabled(), true);
      await shot('dialog-reset-precheck-failed');
      await page.click('#dialog-cancel');
      db.pg('ALTER TABLE customers_gone RENAME TO customers');
    });

    await step('a reset whose pre-check passes starts at 100%', async () => {
      await page.click('#action-reset');
      await page.waitForSelector('#success-rate');
      assert.match(await page.locator('#success-rate').textContent(), /100%/);
      if (await page.locator('#accept-warnings').isVisible()) {
        assert.equal(await page.locator('#reset-start').isDisabled(), true);
        await page.check('#accept-warnings');
      }
      assert.equal(await page.locator('#reset-start').isDisabled(), false);
      await page.click('#reset-start');
      await eventually('Running after the reset', async () => (await server.pipe('shop')).state === 'Running', 120000);
      await waitBadge('h1', 'Running');
    });

    await step('a refused action shows the server\'s message', async () => {
      await page.fill('#token', 'not-the-token');
      await page.click('#token-save');
      await page.click('#action-pause');
      await eventually('the error notice', async () => (await page.locator('#notice .error').count()) === 1);
      assert.match(await page.locator('#notice .error').textContent(), /bearer token is not valid/);
      assert.equal((await server.pipe('shop')).state, 'Running');
      await shot('refused-action');
      await page.fill('#token', TOKEN);
      await page.click('#token-save');
    });

    await step('History tab: every transition with time and reason', async () => {
      await tab('history');
      const rows = page.locator('#history tbody tr');
      await rows.first().waitFor();
      const to = await page.locator('#history td.to').allTextContents();
      for (const s of ['Setup', 'Snapshot', 'Running', 'Resync', 'Pausing', 'Paused']) assert.ok(to.includes(s), `${s} in ${to}`);
      const first = await rows.first().locator('td').allTextContents();
      assert.match(first[0], /^\d{4}-\d\d-\d\d/);
      assert.ok(first[3].length > 0);
      await shot('tab-history');
    });

    await step('Delete with "drop destination tables"', async () => {
      await tab('settings');
      await page.click('#action-delete');
      await page.waitForSelector('dialog[open] #drop-destination');
      await page.check('#drop-destination');
      await shot('dialog-delete');
      await page.click('#dialog-confirm');
      await page.waitForSelector('h1:text("Pipes")');
      await eventually('the pipe gone from the list', async () => (await page.locator('#pipes tr[data-pipe="shop"]').count()) === 0);
      assert.equal(await db.ch(`EXISTS TABLE ${db.name}.orders`), '0');
    });

    assert.deepEqual(foreign, [], 'the console requested something from another origin');
    assert.deepEqual(pageErrors, []);
  } catch (e) {
    await shot('failure').catch(() => {});
    console.error(server.log().split('\n').slice(-60).join('\n'));
    throw e;
  } finally {
    await context.close();
    await server.stop();
    rmSync(userDataDir, { recursive: true, force: true });
    if (existsSync(holdFile)) rmSync(holdFile);
    await db.drop();
  }
});

// What the console end-to-end test needs around the browser: a database per run in
// the real PostgreSQL and ClickHouse of scripts/test-servers, a real `ferry server`
// child process, and headless Debian Chromium through playwright-core (never a
// downloaded browser).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the servers with eval "$(scripts/test-servers start)"`);
  return v;
}

export class Databases {
  constructor() {
    this.name = `console_${process.pid}_${Date.now() % 100000}`;
    this.adminDsn = need('FERRY_TEST_PG_DSN');
    this.dsn = `${this.adminDsn} dbname=${this.name}`;
    this.chUrl = need('FERRY_TEST_CH_URL');
  }
  psql(dsn, sql) {
    return execFileSync('psql', [dsn, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  }
  pg(sql) { return this.psql(this.dsn, sql); }
  async ch(sql) {
    const res = await fetch(`${this.chUrl}/`, { method: 'POST', body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${sql}: ${text}`);
    return text.trim();
  }
  async create() {
    this.psql(this.adminDsn, `CREATE DATABASE ${this.name}`);
    await this.ch(`CREATE DATABASE IF NOT EXISTS ${this.name}`);
  }
  async drop() {
    try { this.psql(this.adminDsn, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`); } catch (e) { console.error(e.message); }
    try { await this.ch(`DROP DATABASE IF EXISTS ${this.name}`); } catch (e) { console.error(e.message); }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export class FerryServer {
  constructor({ binary, config, dir, token, env = {} }) {
    Object.assign(this, { binary, config, dir, token, env });
  }
  async start() {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const cfg = path.join(this.dir, 'ferry.yaml');
    writeFileSync(cfg, this.config);
    this.logFile = path.join(this.dir, 'server.log');
    const out = await import('node:fs').then((fs) => fs.openSync(this.logFile, 'a'));
    // 0.0.0.0: beyond loopback, so changes need the bearer token (the console's login field).
    this.child = spawn(this.binary, ['server', '-f', cfg, '--catalog', `sqlite:${path.join(this.dir, 'catalog.db')}`,
      '--listen', `0.0.0.0:${this.port}`], { env: { ...process.env, FERRY_API_TOKEN: this.token, ...this.env }, stdio: ['ignore', out, out] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, sig) => resolve({ code, sig })));
    await eventually('ferry server answers', async () => (await fetch(`${this.url}/api/v1/pipes`)).ok, 60000);
  }
  log() { return readFileSync(this.logFile, 'utf8'); }
  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 20000);
    await this.exited;
    clearTimeout(t);
  }
  // An action through the API, as another client would do it.
  async act(name, action, body = {}) {
    const r = await fetch(`${this.url}/api/v1/pipes/${name}/${action}`, {
      method: 'POST', headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  }
  async pipe(name) {
    const r = await fetch(`${this.url}/api/v1/pipes/${name}`);
    return r.json();
  }
}

// Retries `probe` until it returns a truthy value; throws naming `what` after `ms`.
export async function eventually(what, probe, ms = 30000) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function launchBrowser(artefacts) {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-chromium-'));
  mkdirSync(artefacts, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { context, userDataDir };
}

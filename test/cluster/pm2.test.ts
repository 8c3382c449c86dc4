/**
 * PM2's cluster mode, run for real: its daemon is the cluster primary and runs without the
 * preload (as every launcher does), the instances get it through `node_args`, and the
 * ecosystem file's `env` reaches the preload although PM2 hands it over only as `pm2_env`.
 * With `increment_var: 'INNATURAL_HEALTH_PORT'` each instance serves its own port. PM2 is
 * installed once from the npm registry into a cache outside the repository; without the
 * registry the test is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO } from '../support/app';
import { parseExposition } from '../support/prom-text';
import { eventually } from '../support/wait';

const PM2_VERSION = '7.0.4';
const CACHE = join(process.env.INNATURAL_PM2_CACHE ?? join(homedir(), '.cache', 'innatural-otel'), `pm2-${PM2_VERSION}`);
const PM2_BIN = join(CACHE, 'node_modules', 'pm2', 'bin', 'pm2');

function installPm2(): string | undefined {
  if (existsSync(PM2_BIN)) return undefined;
  const npm = spawnSync('npm', ['install', `pm2@${PM2_VERSION}`, '--prefix', CACHE, '--no-audit', '--no-fund', '--no-save'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return npm.status === 0 && existsSync(PM2_BIN) ? undefined : `pm2@${PM2_VERSION} could not be installed from the npm registry: ${npm.stderr || npm.error}`;
}

async function portPair(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const next = createServer();
    const free = await new Promise<boolean>((r) => {
      next.once('error', () => r(false));
      next.listen(port + 1, '127.0.0.1', () => r(true));
    });
    if (free) {
      await new Promise<void>((r) => next.close(() => r()));
      return port;
    }
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('PM2 cluster mode', () => {
  const skip = installPm2();
  let home: string;
  const env = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PM2_HOME: home });
  const pm2 = (...args: string[]) => spawnSync(process.execPath, [PM2_BIN, ...args], { env: env(), encoding: 'utf8', timeout: 30_000 });
  let appPort: number;
  let healthPort: number;

  before(async () => {
    if (skip) return;
    home = mkdtempSync(join(tmpdir(), 'innatural-pm2-'));
    appPort = await portPair();
    healthPort = await portPair();
    const ecosystem = join(home, 'ecosystem.json');
    writeFileSync(
      ecosystem,
      JSON.stringify({
        apps: [
          {
            name: 'innatural-pm2-fixture',
            script: join(FIXTURES, 'pm2-app.js'),
            cwd: REPO,
            instances: 2,
            exec_mode: 'cluster',
            node_args: ['--require', join(REPO, 'register.js')],
            increment_var: 'INNATURAL_HEALTH_PORT',
            autorestart: false,
            env: {
              FIXTURE_PORT: String(appPort),
              INNATURAL_HEALTH_PORT: String(healthPort),
              INNATURAL_HEALTH_HOST: '127.0.0.1',
              OTEL_SERVICE_NAME: 'pm2-fixture',
              OTEL_TRACES_EXPORTER: 'none',
              OTEL_LOGS_EXPORTER: 'none',
            },
          },
        ],
      }),
    );
    const started = pm2('start', ecosystem);
    assert.equal(started.status, 0, started.stderr);
  });

  after(() => {
    if (skip || !home) return;
    pm2('kill');
    rmSync(home, { recursive: true, force: true });
  });

  it('each instance serves its own port, configured from the ecosystem file', { skip }, async () => {
    const byInstance = new Map<string, number>();
    await eventually(async () => (await get(`http://127.0.0.1:${appPort}/api/items/0`).catch(() => undefined))?.status === 200, 15_000, 'app', () => '');
    for (let i = 0; i < 40; i++) {
      const { body } = await get(`http://127.0.0.1:${appPort}/api/items/${i}`);
      const { instance } = JSON.parse(body) as { instance: string };
      byInstance.set(instance, (byInstance.get(instance) ?? 0) + 1);
    }
    assert.deepEqual([...byInstance.keys()].sort(), ['0', '1']);

    let total = 0;
    for (const port of [healthPort, healthPort + 1]) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      const m = parseExposition(await res.text());
      const own = m.find('innatural_chatbot_http_requests_total', { route: '/api/items/:id' }).reduce((n, s) => n + s.value, 0);
      assert.ok(own > 0, `port ${port} counted its instance's requests`);
      total += own;
    }
    // The probe above is counted too.
    assert.equal(total, 41);

    // PM2 writes the instances' early stderr (before its container redirects it) to the daemon's log.
    const log = readFileSync(join(home, 'pm2.log'), 'utf8');
    assert.equal([...log.matchAll(/"service":\{"name":"pm2-fixture"/g)].length, 2, 'OTEL_SERVICE_NAME from the ecosystem file, not "pm2"');
    assert.match(log, /PM2 cluster mode, instance 0: its health server answers for this instance alone/);
    assert.doesNotMatch(log, /EADDRINUSE/);
  });
});

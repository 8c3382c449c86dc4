/**
 * The main job: the example chatbot starts under the preload with nothing configured,
 * answers its routes, and after the demo traffic every row of the metric catalog moves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOG, catalogSpec, type CatalogKey } from '../../src/metrics/catalog';
import { baseEnv, startApp, type RunningApp } from '../support/app';
import { parseExposition } from '../support/prom-text';
import { waitFor } from '../support/wait';

const LAUNCHER = '../../examples/chatbot/start.js';

async function banner(app: RunningApp, timeoutMs = 15000): Promise<{ app: string; health: string }> {
  const found = () => {
    const appUrl = /App:\s+(http:\/\/localhost:\d+)/.exec(app.stdout())?.[1];
    const health = /Metrics:\s+(http:\/\/localhost:\d+)\/metrics/.exec(app.stdout())?.[1];
    if (!appUrl || !health) return undefined;
    return { app: appUrl.replace('localhost', '127.0.0.1'), health: health.replace('localhost', '127.0.0.1') };
  };
  return waitFor(found, timeoutMs, 'launcher', () => `no banner\n${app.stdout()}\n${app.stderr()}`);
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('example chatbot', () => {
  it('starts with nothing configured and answers its routes', async () => {
    // Ports 0 only so parallel runs never collide; nothing else is set.
    const app = await startApp({ fixture: LAUNCHER, preload: 'none', env: { ...baseEnv(), PORT: '0', INNATURAL_HEALTH_PORT: '0' } });
    try {
      const urls = await banner(app);
      assert.match(app.stdout(), /Dashboard:\s+http:\/\/localhost:\d+\/dashboard/);
      const chat = await post(`${urls.app}/api/chat`, { sessionId: 's1', message: 'Bonjour', language: 'fr' });
      assert.equal(chat.status, 200);
      assert.equal(typeof ((await chat.json()) as { reply: unknown }).reply, 'string');
      assert.equal((await post(`${urls.app}/api/chat`, { message: '' })).status, 400);
      assert.equal((await post(`${urls.app}/api/feedback`, { type: 'positive' })).status, 200);
      assert.equal((await fetch(`${urls.app}/api/products/recommendations?category=skin`)).status, 200);
      assert.equal((await fetch(`${urls.app}/api/users/7`)).status, 200);
      assert.equal((await fetch(`${urls.app}/api/orders/14`)).status, 500);
      assert.equal((await fetch(`${urls.health}/api/health`)).status, 200);
      assert.match(app.stdout(), /store: memory, cache: none/);
      const errors = app.logLines().filter((l) => l.level === 'error' && l.mechanism !== 'express');
      assert.deepEqual(errors, []);
    } finally {
      app.kill('SIGTERM');
      await app.exited;
    }
  });

  it('after `npm run demo` traffic, every catalog row on /metrics has moved', async () => {
    const demo = await startApp({
      fixture: LAUNCHER,
      preload: 'none',
      args: ['--demo'],
      env: {
        ...baseEnv(),
        PORT: '0',
        INNATURAL_HEALTH_PORT: '0',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: 'redis://127.0.0.1:6379',
        DEMO_DURATION_MS: '4000',
      },
    });
    try {
      const urls = await banner(demo);
      assert.match(demo.stdout(), /store: postgresql, cache: redis/);
      await waitFor(() => /Demo traffic done/.test(demo.stdout()), 30000, 'demo', () => demo.stdout());
      const m = parseExposition(await (await fetch(`${urls.health}/metrics`)).text());
      const still: string[] = [];
      for (const key of Object.keys(CATALOG) as CatalogKey[]) {
        const spec = catalogSpec(key, 'innatural_chatbot');
        const samples = m.find(spec.type === 'histogram' ? `${spec.name}_count` : spec.name);
        if (!samples.some((s) => s.value > 0)) still.push(spec.name);
      }
      assert.deepEqual(still, [], 'every row moved');
      const health = (await (await fetch(`${urls.health}/api/health`)).json()) as { services: Record<string, { status: string }> };
      assert.equal(health.services.database!.status, 'healthy');
      assert.equal(health.services.redis!.status, 'healthy');
    } finally {
      demo.kill('SIGTERM');
      await demo.exited;
    }
  });
});

/**
 * The dashboard page in a real browser: the chatbot fixture is driven with traffic, then
 * Debian's Chromium (via playwright-core) opens /dashboard on the health server and the
 * page is checked as a user would see it: data on screen, charts drawn, numbers equal to
 * /api/metrics/summary, dependencies listed, the slowest requests with the trace ids of server
 * spans the app exported to an OTLP sink, no console error, no failed request. A second test
 * covers INNATURAL_METRICS_TOKEN: #token=..., the token form, a wrong token; a third the
 * ?traceUrl= template that alone turns trace ids into links.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO, healthUrl, metricsOnlyEnv, startApp, type RunningApp } from '../support/app';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dash-token';
const WAIT_MS = 20_000;

/** Shown on the page, read from /api/metrics/summary: all of these must be there. */
const REQUIRED_SUMMARY = [
  'requests.total',
  'requests.success',
  'requests.errors',
  'requests.avgDuration',
  'sessions.active',
  'messages.total',
  'ai.requests',
  'ai.avgDuration',
  'ai.tokensUsed',
  'database.avgQueryDuration',
  'errors.total',
];
/** Can change with no traffic: pg closes idle pool connections on its own timer. */
const VOLATILE_SUMMARY = new Set(['database.connections']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForChromium(timeoutMs = 5 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(CHROMIUM)) {
    if (Date.now() > deadline) throw new Error(`${CHROMIUM} did not appear within ${timeoutMs / 1000} s`);
    await sleep(2000);
  }
}

interface Watch {
  readonly consoleErrors: Array<{ text: string; url: string }>;
  readonly pageErrors: string[];
  readonly failedRequests: string[];
  readonly responses: Array<{ url: string; status: number }>;
}

function watch(page: Page): Watch {
  const w: Watch = { consoleErrors: [], pageErrors: [], failedRequests: [], responses: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.consoleErrors.push({ text: m.text(), url: m.location().url });
  });
  page.on('pageerror', (err) => w.pageErrors.push(String(err)));
  page.on('requestfailed', (r) => w.failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
  page.on('response', (r) => w.responses.push({ url: r.url(), status: r.status() }));
  return w;
}

function resolvePath(obj: unknown, path: string): unknown {
  let value = obj;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

interface Summary {
  metrics: Record<string, Record<string, unknown>>;
}

async function fetchSummary(health: string, token?: string): Promise<Summary> {
  const res = await fetch(`${health}/api/metrics/summary`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal(res.status, 200);
  return (await res.json()) as Summary;
}

/** Users, chat through the local OpenAI server, pg, Redis, a local model, a 429 and a 500, for `ms`. */
async function drive(app: RunningApp, ms: number): Promise<number> {
  const post = (path: string, body: unknown) =>
    app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const expectStatus = async (res: Promise<Response>, status: number) => {
    const r = await res;
    await r.arrayBuffer();
    assert.equal(r.status, status, r.url);
  };
  const deadline = Date.now() + ms;
  let rounds = 0;
  while (Date.now() < deadline) {
    await Promise.all([
      expectStatus(app.get(`/api/users/${rounds}`), 200),
      expectStatus(post('/api/chat', { message: 'salut', language: rounds % 2 === 0 ? 'fr' : 'en' }), 200),
      expectStatus(app.get('/api/db'), 200),
      expectStatus(app.get('/api/cache'), 200),
      expectStatus(post('/api/local-ai', { ok: true }), 200),
      expectStatus(app.get('/api/limited'), 429),
      expectStatus(app.get('/api/fail'), 500),
    ]);
    rounds++;
    await sleep(100);
  }
  return rounds;
}

function appEnv(ai: OpenAiServer, extra: Record<string, string>): Record<string, string> {
  return metricsOnlyEnv({ FIXTURE_OPENAI_URL: ai.url, OTEL_LOGS_EXPORTER: 'none', INNATURAL_HISTORY_INTERVAL_MS: '200', ...extra });
}

/** Traces to the sink, so requests are sampled and /api/metrics/slowest has rows. */
function tracedTo(sink: OtlpSink): Record<string, string> {
  return { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
}

interface SlowRequest {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  traceId: string;
  spanId: string;
}

async function fetchSlowest(health: string, token?: string): Promise<SlowRequest[]> {
  const res = await fetch(`${health}/api/metrics/slowest`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal(res.status, 200);
  return ((await res.json()) as { requests: SlowRequest[] }).requests;
}

interface ShownSlow {
  traceId: string;
  spanId: string;
  cells: string[];
  links: string[];
}

const SHOWN_SLOWEST = `[...document.querySelectorAll('#slowest tbody tr[data-trace-id]')].map((tr) => ({
  traceId: tr.dataset.traceId, spanId: tr.dataset.spanId, cells: [...tr.cells].map((c) => c.textContent),
  links: [...tr.querySelectorAll('a')].map((a) => a.href) }))`;

interface ChartCheck {
  id: string;
  points: number;
  canvases: number;
  painted: number;
  seriesPixels: number;
  canvasCssWidth: number;
  hostWidth: number;
}

/** In the page: every chart's canvas pixels, and how many are the first series' colour. */
const CHART_PIXELS = `(() => [...document.querySelectorAll('[data-chart]')].map((host) => {
  const canvas = host.querySelector('canvas');
  const out = { id: host.dataset.chart, points: Number(host.dataset.points), canvases: host.querySelectorAll('canvas').length,
    painted: 0, seriesPixels: 0, canvasCssWidth: 0, hostWidth: host.clientWidth };
  if (!canvas) return out;
  out.canvasCssWidth = canvas.getBoundingClientRect().width;
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const hex = host.dataset.color;
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] === 0) continue;
    out.painted++;
    if (px[i + 3] > 200 && Math.abs(px[i] - rgb[0]) < 40 && Math.abs(px[i + 1] - rgb[1]) < 40 && Math.abs(px[i + 2] - rgb[2]) < 40) out.seriesPixels++;
  }
  return out;
}))()`;

const SHOWN_SUMMARY = `[...document.querySelectorAll('[data-summary]')].map((n) => ({ path: n.dataset.summary, text: n.textContent }))`;

function badResponses(w: Watch, allowed: (r: { url: string; status: number }) => boolean = () => false): string[] {
  return w.responses.filter((r) => r.status >= 400 && !allowed(r)).map((r) => `${r.status} ${r.url}`);
}

describe('the dashboard page in Chromium', () => {
  let ai: OpenAiServer;
  let sink: OtlpSink;
  let context: BrowserContext;
  let profile: string;

  before(async () => {
    await waitForChromium();
    profile = mkdtempSync(join(tmpdir(), 'innatural-dashboard-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    ai = await startOpenAiServer();
    sink = await startOtlpSink();
  });

  after(async () => {
    await context?.close();
    await ai?.close();
    await sink?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('renders every panel from the live endpoints, with no console error and no failed request', async () => {
    const app = await startApp({
      fixture: 'chatbot-app.js',
      env: appEnv(ai, {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: 'redis://127.0.0.1:6379',
        OPENAI_API_KEY: 'sk-test-fixture',
        ...tracedTo(sink),
      }),
    });
    const page = await context.newPage();
    try {
      const health = await healthUrl(app);
      const rounds = await drive(app, 1500);
      assert.ok(rounds >= 3, `only ${rounds} rounds of traffic`);
      // Traffic has stopped: from here on the totals cannot move.
      const w = watch(page);
      await page.goto(`${health}/dashboard`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });

      assert.equal(await page.title(), 'INnatural Chatbot - Monitoring');

      // Charts: one uPlot per panel, sized to its panel, with the series actually drawn.
      const charts = await page.evaluate<ChartCheck[]>(CHART_PIXELS);
      assert.deepEqual(
        charts.map((c) => c.id),
        ['requests', 'latency', 'error-rate', 'sessions', 'messages', 'ai-latency', 'ai-tokens', 'db', 'memory', 'event-loop'],
      );
      for (const c of charts) {
        assert.equal(c.canvases, 1, `${c.id}: one canvas`);
        assert.ok(c.points >= 3, `${c.id}: ${c.points} history points`);
        assert.ok(c.painted > 0, `${c.id}: the canvas is blank`);
        assert.ok(c.seriesPixels > 0, `${c.id}: no pixel of the series colour`);
        assert.ok(Math.abs(c.canvasCssWidth - c.hostWidth) <= 2, `${c.id}: canvas ${c.canvasCssWidth}px in a ${c.hostWidth}px panel`);
      }

      // Headline numbers: exactly what /api/metrics/summary says.
      const shown = await page.evaluate<Array<{ path: string; text: string }>>(SHOWN_SUMMARY);
      const fresh = await fetchSummary(health);
      const paths = shown.map((s) => s.path);
      for (const path of REQUIRED_SUMMARY) assert.ok(paths.includes(path), `data-summary="${path}" is on the page`);
      assert.ok(paths.includes('messages.byRole.user') && paths.includes('messages.byLanguage.fr'), 'the by-role and by-language tables');
      for (const { path, text } of shown) {
        if (VOLATILE_SUMMARY.has(path)) continue;
        const expected = resolvePath(fresh.metrics, path);
        assert.notEqual(expected, undefined, `${path} is in the summary`);
        assert.equal(text, String(expected), path);
      }
      assert.ok((fresh.metrics.requests!.total as number) >= rounds * 7, 'the traffic was counted');
      assert.ok((fresh.metrics.ai!.tokensUsed as number) > 0);

      // Dependencies: the three built-in checks, each with a coloured status.
      const services = await page.evaluate<Array<{ name: string; status: string; pill: string }>>(
        `[...document.querySelectorAll('#services tbody tr[data-service]')].map((tr) => ({ name: tr.dataset.service, status: tr.cells[1].textContent, pill: tr.querySelector('.pill').className }))`,
      );
      for (const name of ['database', 'redis', 'ai']) {
        const row = services.find((s) => s.name === name);
        assert.ok(row, `${name} is listed`);
        assert.equal(row.status, 'healthy', name);
        assert.match(row.pill, /\bs-healthy\b/);
      }
      assert.equal(await page.isVisible('#token-form'), false);

      // Slowest requests: exactly what the endpoint says, each the server span of a request the sink received.
      const slowest = await fetchSlowest(health);
      assert.ok(slowest.length > 0, 'traced requests give /api/metrics/slowest rows');
      const rows = await page.evaluate<ShownSlow[]>(SHOWN_SLOWEST);
      assert.deepEqual(
        rows.map((r) => ({ traceId: r.traceId, spanId: r.spanId, cells: r.cells, links: r.links })),
        slowest.map((r) => ({ traceId: r.traceId, spanId: r.spanId, cells: [r.route, r.method, `${r.durationMs} ms`, String(r.status), r.traceId], links: [] })),
      );
      const servers = await sink.waitFor(() => {
        const found = rows.map((r) => sink.spans.find((s) => s.traceId === r.traceId && s.spanId === r.spanId && s.kind === 2));
        return found.every((s) => s !== undefined) && found;
      }, 10_000);
      assert.ok(servers.some((s) => s!.name.startsWith('GET ')), 'a server span of the traffic');

      mkdirSync(join(REPO, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(REPO, 'test-output', 'dashboard.png'), fullPage: true });

      assert.deepEqual(w.consoleErrors, []);
      assert.deepEqual(w.pageErrors, []);
      assert.deepEqual(w.failedRequests, []);
      assert.deepEqual(badResponses(w), []);
      const requested = w.responses.map((r) => new URL(r.url));
      assert.ok(requested.every((u) => u.origin === health), `only the health server is asked: ${requested.map(String).join(', ')}`);
      for (const path of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/uplot.min.js', '/dashboard/uplot.min.css', '/api/metrics/summary', '/api/metrics/history', '/api/metrics/slowest', '/api/health']) {
        assert.ok(requested.some((u) => u.pathname === path), `${path} was requested`);
      }
    } finally {
      await page.close();
      app.kill();
    }
  });

  it('takes INNATURAL_METRICS_TOKEN from #token=, and asks for it with a form otherwise', async () => {
    const app = await startApp({ fixture: 'chatbot-app.js', env: appEnv(ai, { INNATURAL_METRICS_TOKEN: TOKEN, ...tracedTo(sink) }) });
    const withHash = await context.newPage();
    const without = await context.newPage();
    try {
      const health = await healthUrl(app);
      await drive(app, 600);

      // #token=...: data on screen, the token out of the address bar.
      const w1 = watch(withHash);
      await withHash.goto(`${health}/dashboard#token=${TOKEN}`);
      await withHash.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
      assert.equal(await withHash.isVisible('#token-form'), false);
      assert.doesNotMatch(withHash.url(), /token/);
      const shown = await withHash.evaluate<Array<{ path: string; text: string }>>(SHOWN_SUMMARY);
      const fresh = await fetchSummary(health, TOKEN);
      assert.equal(shown.find((s) => s.path === 'requests.total')?.text, String(fresh.metrics.requests!.total));
      assert.equal(shown.find((s) => s.path === 'ai.tokensUsed')?.text, String(fresh.metrics.ai!.tokensUsed));
      const slowest = await fetchSlowest(health, TOKEN);
      assert.ok(slowest.length > 0);
      assert.deepEqual((await withHash.evaluate<ShownSlow[]>(SHOWN_SLOWEST)).map((r) => r.traceId), slowest.map((r) => r.traceId));
      assert.deepEqual(w1.consoleErrors, []);
      assert.deepEqual(w1.pageErrors, []);
      assert.deepEqual(w1.failedRequests, []);
      assert.deepEqual(badResponses(w1), []);

      // No token (a new tab: sessionStorage is per tab): the form, not an exception.
      const w2 = watch(without);
      await without.goto(`${health}/dashboard`);
      await without.waitForSelector('body[data-auth="required"]', { timeout: WAIT_MS });
      assert.equal(await without.isVisible('#token-form'), true);
      await without.waitForSelector('#services tr[data-service="database"]', { timeout: WAIT_MS });
      assert.equal(await without.getAttribute('body', 'data-ready'), null);

      // A wrong token is refused with a message; the right one shows the data.
      await without.fill('#token-input', 'not-the-token');
      await without.click('#token-form button[type="submit"]');
      await without.waitForSelector('#token-error:not([hidden])', { timeout: WAIT_MS });
      assert.match((await without.textContent('#token-error')) ?? '', /refused/);
      await without.fill('#token-input', TOKEN);
      await without.click('#token-form button[type="submit"]');
      await without.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
      assert.equal(await without.isVisible('#token-form'), false);

      const metrics401 = (r: { url: string; status: number }) => r.status === 401 && new URL(r.url).pathname.startsWith('/api/metrics/');
      assert.ok(w2.responses.some(metrics401), 'the page was refused before it had a token');
      assert.deepEqual(badResponses(w2, metrics401), []);
      // Chromium itself logs every 4xx response as a console error ("Failed to load resource:
      // ... 401"), whatever the page does: those, for the expected 401s only, are not the page's.
      const browserLog401 = (e: { text: string; url: string }) =>
        /status of 401/.test(e.text) && e.url !== '' && new URL(e.url).pathname.startsWith('/api/metrics/');
      assert.deepEqual(w2.consoleErrors.filter((e) => !browserLog401(e)), []);
      assert.deepEqual(w2.pageErrors, []);
      assert.deepEqual(w2.failedRequests, []);
    } finally {
      await withHash.close();
      await without.close();
      app.kill();
    }
  });

  it('links trace ids only through an http(s) ?traceUrl= holding {traceId}', async () => {
    const app = await startApp({ fixture: 'chatbot-app.js', env: appEnv(ai, tracedTo(sink)) });
    const page = await context.newPage();
    try {
      const health = await healthUrl(app);
      await drive(app, 600);
      const slowest = await fetchSlowest(health);
      assert.ok(slowest.length > 0);

      const template = 'https://grafana.example/explore?trace={traceId}&x=1';
      await page.goto(`${health}/dashboard?traceUrl=${encodeURIComponent(template)}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
      const linked = await page.evaluate<ShownSlow[]>(SHOWN_SLOWEST);
      assert.deepEqual(linked.map((r) => r.links), slowest.map((r) => [`https://grafana.example/explore?trace=${r.traceId}&x=1`]));
      assert.deepEqual(
        await page.evaluate(`[...document.querySelectorAll('#slowest a')].map((a) => a.rel + ' ' + a.target)`),
        slowest.map(() => 'noopener noreferrer _blank'),
      );

      // Not http(s), or no {traceId}: plain text, as without the parameter.
      for (const bad of ['javascript:alert(1)//{traceId}', 'https://grafana.example/explore']) {
        await page.goto(`${health}/dashboard?traceUrl=${encodeURIComponent(bad)}`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
        const rows = await page.evaluate<ShownSlow[]>(SHOWN_SLOWEST);
        assert.ok(rows.length > 0);
        assert.deepEqual(rows.flatMap((r) => r.links), [], bad);
      }
    } finally {
      await page.close();
      app.kill();
    }
  });

  it('inserts no server data as HTML', () => {
    const script = readFileSync(join(REPO, 'assets', 'dashboard', 'dashboard.js'), 'utf8');
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser/);
  });
});

/**
 * One redaction policy for every sink: a request carrying secrets in every place a
 * request can carry them fails; none of them may appear in any byte that left the
 * process or was printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findLeaks, sinkBytes, startWithSinks, type WithSinks } from '../support/sinks';

const c = (n: number) => `cnry${String(n).padStart(2, '0')}x${(n * 7919).toString(36)}q`;

/** Carried by the requests, under the names and in the places secrets travel. */
const REQUEST_CANARIES = {
  authorization: c(1),
  cookieSession: c(2),
  cookieRefresh: c(3),
  apiKeyHeader: c(4),
  authTokenHeader: c(5),
  proxyAuthorization: c(6),
  queryToken: c(7),
  queryApiKey: c(8),
  queryAccessToken: c(9),
  bodyPassword: c(10),
  bodyClientSecret: c(11),
  bodyRefreshToken: c(13),
  formPasswd: c(14),
  formSecret: c(15),
  sessionHeader: c(22),
};
const CARD = '4111111111111111';

/** Held by the app and used where secrets end up: URL userinfo, SQL literal, error text and context, breadcrumb, log. */
const APP_CANARIES = {
  userinfo: c(16),
  sql: c(17),
  message: c(18),
  context: c(19),
  nested: c(20),
  breadcrumb: c(21),
  log: c(23),
};

describe('canary secrets', () => {
  let s: WithSinks;

  before(async () => {
    s = await startWithSinks('sentry-app.js', {
      OTEL_SERVICE_NAME: 'canary',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_TRACES_SAMPLER: 'always_on',
      FIXTURE_CANARIES: JSON.stringify(APP_CANARIES),
    });
  });
  after(() => s?.close());

  it('no canary appears in Sentry, OTLP, /metrics, /api/health, stdout or stderr', async () => {
    const { app, otlp, sentry, health } = s;
    const R = REQUEST_CANARIES;
    const login = await app.get(`/api/login?page=1&token=${R.queryToken}&api_key=${R.queryApiKey}&access_token=${R.queryAccessToken}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${R.authorization}`,
        cookie: `session=${R.cookieSession}; refresh=${R.cookieRefresh}`,
        'x-api-key': R.apiKeyHeader,
        'x-auth-token': R.authTokenHeader,
        'proxy-authorization': `Basic ${R.proxyAuthorization}`,
        'x-session-id': R.sessionHeader,
      },
      body: JSON.stringify({
        user: 'alice',
        password: R.bodyPassword,
        client_secret: R.bodyClientSecret,
        refresh_token: R.bodyRefreshToken,
        payment: { card_number: CARD, note: `paid with ${CARD.replace(/(\d{4})(?=\d)/g, '$1 ')}` },
      }),
    });
    assert.equal(login.status, 500);
    const form = await app.get('/api/form', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user=bob&passwd=${R.formPasswd}&secret=${R.formSecret}`,
    });
    assert.equal(form.status, 500);

    // Everything has arrived before we look: both requests' errors and the captured one in Sentry, spans, logs, metrics.
    await sentry.waitFor(() => sentry.events.filter((e) => (e as { request?: unknown }).request).length >= 2);
    await sentry.waitFor(() => sentry.events.find((e) => JSON.stringify(e).includes('login audit failed')));
    await otlp.waitFor(() => otlp.spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-pg' && /SELECT/.test(s.name)));
    await otlp.waitFor(() => otlp.spans.find((s) => s.kind === 3 && s.scope.name === '@opentelemetry/instrumentation-http'));
    await otlp.waitFor(() => otlp.logs.find((l) => /login attempt/.test(String(l.body))));
    await sentry.waitFor(() => sentry.spans.length > 0);
    await otlp.waitFor(() => otlp.metrics.find((m) => m.name === 'innatural_chatbot_http_requests_total'));
    const metrics = await (await fetch(`${health}/metrics`)).text();
    const healthJson = await (await fetch(`${health}/api/health`)).text();
    await new Promise((r) => setTimeout(r, 300));

    const places: Record<string, string> = { ...sinkBytes(s), metrics, health: healthJson };
    const canaries = [...Object.values(REQUEST_CANARIES), ...Object.values(APP_CANARIES), CARD, CARD.replace(/(\d{4})(?=\d)/g, '$1 ')];
    assert.ok(canaries.length >= 20);
    const leaks = findLeaks(canaries, places);
    process.stdout.write(`# ${canaries.length} canaries, ${leaks.length} leaked\n`);
    assert.deepEqual(leaks, []);

    // And the redaction kept what debugging needs.
    assert.match(places.sentry!, /login failed: password=\[REDACTED\]/);
    assert.match(places.sentry!, /"user":"alice"/);
    const pg = otlp.spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-pg' && /SELECT/.test(s.name))!;
    assert.equal(pg.attributes['db.query.text'], "SELECT '?' AS secret WHERE ? = ?");
  });
});

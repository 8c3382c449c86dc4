/**
 * The second redaction round's canaries: 60+ secrets, one per class a hostile user or a
 * careless developer plants, each in the place it travels, and every sink read. None may
 * appear anywhere outside the app: OTLP traces, metrics and logs, Sentry envelopes, stdout,
 * stderr, /metrics, /api/health, the summary, and doctor's output for the same environment.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baseEnv, REPO } from '../support/app';
import { findLeaks, sinkBytes, startWithSinks, type WithSinks } from '../support/sinks';

let n = 0;
/** Random-looking, with letters and digits, as real secrets are; distinct from every other. */
const c = () => `cnry${String(++n).padStart(2, '0')}x${(n * 7919 + 104729).toString(36)}q`;

const REQUEST = {
  bearer: c(),
  cookieSession: c(),
  cookieRefresh: c(),
  xApiKey: c(),
  xAccessKey: c(),
  authentication: c(),
  proxyAuthorization: c(),
  xAuthToken: c(),
  xSessionId: c(),
  xCsrfToken: c(),
  xHubSignature: c(),
  queryToken: c(),
  querySig: c(),
  queryCode: c(),
  queryKey: c(),
  queryApiKey: c(),
  queryAccessToken: c(),
  bodyPassword: c(),
  bodyPassphrase: c(),
  bodyCvv: c(),
  bodyPin: c(),
  bodyClientSecret: c(),
  bodyRefreshToken: c(),
  bodyNestedToken: c(),
  bodyOtp: c(),
};
const FORM = { passwd: c(), secret: c(), code: c() };

const APP = {
  healthThrown: c(),
  healthMessage: c(),
  logProse: c(),
  logAuthToken: c(),
  logObjectPassword: c(),
  logGithub: c(),
  logPrivateKey: c(),
  logSlack: c(),
  attrString: c(),
  attrArray: c(),
  attrSlack: c(),
  eventAttr: c(),
  spanName: c(),
  spanStatus: c(),
  breadcrumb: c(),
  captureMessage: c(),
  captureSk: c(),
  captureBearer: c(),
  captureJwt: c(),
  context: c(),
  nested: c(),
  userinfo: c(),
  outgoingQuery: c(),
  sqlDollar: c(),
  sqlTagged: c(),
  sqlQuoted: c(),
  redisEval: c(),
  redisValue: c(),
  validationRoute: c(),
  thrown: c(),
  thrownUrl: c(),
};
/** Written literally in the fixture's source, two lines above a throw. */
const SOURCE_LINE = 'cnry99srcx7line4q';
const CARD = '4111 1111 1111 1111';
/** Malformed variables holding secrets: the start line and doctor print them. */
const ENV_SECRETS = { aiKeyEnv: `sk-proj-${c()}${c()}`, resourceToken: c() };

describe('canary secrets, round 2', () => {
  let s: WithSinks;
  const env: Record<string, string> = {
    OTEL_SERVICE_NAME: 'canary2',
    OTEL_METRICS_EXPORTER: 'prometheus,otlp',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_TRACES_SAMPLER: 'always_on',
    FIXTURE_CANARIES: JSON.stringify(APP),
    INNATURAL_HEALTH_AI_KEY_ENV: ENV_SECRETS.aiKeyEnv,
    OTEL_RESOURCE_ATTRIBUTES: `deploy.token=${ENV_SECRETS.resourceToken},broken`,
  };

  before(async () => {
    s = await startWithSinks('canary-app.js', env);
  });
  after(() => s?.close());

  it('none of them leaves the process, in any sink', async () => {
    const { app, otlp, sentry, health } = s;
    const R = REQUEST;
    const query = new URLSearchParams({ token: R.queryToken, sig: R.querySig, code: R.queryCode, key: R.queryKey, api_key: R.queryApiKey, access_token: R.queryAccessToken, page: '1' });
    const json = await app.get(`/api/everything?${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${R.bearer}`,
        cookie: `session=${R.cookieSession}; refresh=${R.cookieRefresh}`,
        'x-api-key': R.xApiKey,
        'x-access-key': R.xAccessKey,
        authentication: R.authentication,
        'proxy-authorization': `Basic ${R.proxyAuthorization}`,
        'x-auth-token': R.xAuthToken,
        'x-session-id': R.xSessionId,
        'x-csrf-token': R.xCsrfToken,
        'x-hub-signature-256': `sha256=${R.xHubSignature}`,
      },
      body: JSON.stringify({
        user: 'alice',
        password: R.bodyPassword,
        passphrase: R.bodyPassphrase,
        cvv: R.bodyCvv,
        pin: R.bodyPin,
        client_secret: R.bodyClientSecret,
        refresh_token: R.bodyRefreshToken,
        auth: { token: R.bodyNestedToken },
        otp: R.bodyOtp,
        note: `paid with ${CARD}`,
      }),
    });
    assert.equal(json.status, 500);
    const form = await app.get('/api/everything', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user=bob&passwd=${FORM.passwd}&secret=${FORM.secret}&code=${FORM.code}`,
    });
    assert.equal(form.status, 500);

    // Everything has arrived before we look.
    await sentry.waitFor(() => sentry.events.filter((e) => (e as { request?: unknown }).request).length >= 2);
    await sentry.waitFor(() => sentry.events.find((e) => JSON.stringify(e).includes('password reset token')));
    await otlp.waitFor(() => otlp.spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-ioredis' && /EVAL/i.test(s.name)));
    await otlp.waitFor(() => otlp.spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-pg' && /SELECT/.test(s.name)));
    await otlp.waitFor(() => otlp.logs.filter((l) => /card on file/.test(String(l.body))).length >= 2);
    await otlp.waitFor(() => otlp.metrics.find((m) => m.name === 'innatural_chatbot_validation_errors_total'));
    const metrics = await (await fetch(`${health}/metrics`)).text();
    const healthJson = await (await fetch(`${health}/api/health`)).text();
    const summary = await (await fetch(`${health}/api/metrics/summary`)).text();
    const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'innatural-otel.js'), 'doctor', '--timeout', '1000'], {
      env: { ...baseEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SENTRY_DSN: sentry.dsn, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    await new Promise((r) => setTimeout(r, 300));

    const places: Record<string, string> = { ...sinkBytes(s), metrics, health: healthJson, summary, doctor: `${doctor.stdout}\n${doctor.stderr}` };
    const canaries = [...Object.values(REQUEST), ...Object.values(FORM), ...Object.values(APP), SOURCE_LINE, CARD, CARD.replace(/ /g, ''), ...Object.values(ENV_SECRETS)];
    assert.ok(canaries.length >= 60, String(canaries.length));
    const leaks = findLeaks(canaries, places);
    const name = (canary: string) => Object.entries({ ...REQUEST, ...FORM, ...APP, ...ENV_SECRETS }).find(([, v]) => v === canary)?.[0] ?? canary;
    process.stdout.write(`# ${canaries.length} canaries, ${leaks.length} leaked\n`);
    assert.deepEqual(
      leaks.map((l) => `${name(l.split(' in ')[0]!)} ${l}`),
      [],
    );

    // The places were really read: what debugging needs is still there.
    assert.match(places.sentry!, /password reset token \[REDACTED\] expired/);
    assert.match(places.sentry!, /"user":"alice"/);
    assert.ok(places.sentry!.includes('ADMIN_PASSWORD'), 'Sentry got the source context lines');
    assert.match(places.health!, /"vault"/);
    assert.match(places.doctor!, /INNATURAL_HEALTH_AI_KEY_ENV/);
    const evalSpan = otlp.spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-ioredis' && /EVAL/i.test(s.name))!;
    assert.equal(evalSpan.attributes['db.query.text'] ?? evalSpan.attributes['db.statement'], 'eval ?');
  });
});

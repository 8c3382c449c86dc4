import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../config/resolve';
import { OwnRequests, ownEndpoints } from './own-endpoints';

const own = (env: Record<string, string>) => new OwnRequests(ownEndpoints(resolveConfig(env).config));

describe('ownEndpoints', () => {
  it('lists each OTLP signal exported over HTTP and the DSN’s project API', () => {
    const endpoints = ownEndpoints(
      resolveConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        SENTRY_DSN: 'https://key@o1.ingest.sentry.io/prefix/42',
      }).config,
    );
    assert.deepEqual(endpoints, [
      { host: 'collector', port: '4318', defaultPort: false, path: '/v1/traces', prefix: false },
      { host: 'collector', port: '4318', defaultPort: false, path: '/v1/metrics', prefix: false },
      { host: 'collector', port: '4318', defaultPort: false, path: '/v1/logs', prefix: false },
      { host: 'o1.ingest.sentry.io', port: '443', defaultPort: true, path: '/prefix/api/42/', prefix: true },
    ]);
  });

  it('leaves out signals not exported over OTLP, and gRPC (HTTP/2 is not instrumented)', () => {
    const endpoints = ownEndpoints(resolveConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_LOGS_EXPORTER: 'none' }).config);
    assert.deepEqual(endpoints, []);
  });
});

describe('OwnRequests', () => {
  const requests = own({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', SENTRY_DSN: 'https://key@sentry.example.com/42' });

  it('matches the exporters’ requests as node:http sees them', () => {
    // How otlp-exporter-base calls http.request(url, options), after the instrumentation parsed it.
    assert.equal(requests.http({ hostname: '127.0.0.1', port: 4318, path: '/v1/traces' }), true);
    assert.equal(requests.http({ hostname: '127.0.0.1', port: '4318', path: '/v1/logs' }), true);
    // How Sentry's transport calls it: port '' for the scheme's default, the query string in the path.
    assert.equal(requests.http({ hostname: 'sentry.example.com', port: '', path: '/api/42/envelope/?sentry_key=key&sentry_version=7' }), true);
    assert.equal(requests.http({ hostname: 'SENTRY.example.com', port: 443, path: '/api/42/integration/otlp/v1/traces/' }), true);
    assert.equal(requests.http({ host: 'sentry.example.com', path: '/api/42/envelope/' }), true);
  });

  it('matches fetch (undici) requests to them', () => {
    assert.equal(requests.undici({ origin: 'https://sentry.example.com', path: '/api/42/envelope/?sentry_key=key' }), true);
    assert.equal(requests.undici({ origin: 'http://127.0.0.1:4318', path: '/v1/logs' }), true);
  });

  it('leaves the app’s own requests alone, to the same hosts too', () => {
    // Metrics go to Prometheus here: /v1/metrics is not ours.
    assert.equal(requests.http({ hostname: '127.0.0.1', port: 4318, path: '/v1/metrics' }), false);
    assert.equal(requests.http({ hostname: '127.0.0.1', port: 4318, path: '/v1/traces/extra' }), false);
    assert.equal(requests.http({ hostname: '127.0.0.1', port: 4319, path: '/v1/traces' }), false);
    assert.equal(requests.http({ hostname: '127.0.0.1', port: 80, path: '/v1/traces' }), false);
    assert.equal(requests.http({ hostname: 'sentry.example.com', path: '/api/0/projects/' }), false);
    assert.equal(requests.http({ hostname: 'sentry.example.com', path: '/api/420/envelope/' }), false);
    assert.equal(requests.http({ hostname: 'sentry.example.com', port: 8443, path: '/api/42/envelope/' }), false);
    assert.equal(requests.http({ hostname: 'api.example.com', path: '/api/42/envelope/' }), false);
    assert.equal(requests.http({ path: '/v1/traces' }), false);
    assert.equal(requests.undici({ origin: 'http://127.0.0.1:5000', path: '/v1/traces' }), false);
    assert.equal(requests.undici({ origin: 'not a url', path: '/' }), false);
  });

  it('matches IPv6 hosts with or without brackets', () => {
    const v6 = own({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1]:4318', OTEL_LOGS_EXPORTER: 'none' });
    assert.equal(v6.http({ hostname: '::1', port: 4318, path: '/v1/traces' }), true);
    assert.equal(v6.undici({ origin: 'http://[::1]:4318', path: '/v1/traces' }), true);
  });

  it('is empty when nothing is exported over HTTP', () => {
    assert.equal(own({ OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }).size, 0);
  });
});

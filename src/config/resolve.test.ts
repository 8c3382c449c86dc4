import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLOUD_DETECTORS, LOCAL_DETECTORS, resolveConfig } from './resolve';
import { MALFORMED_ENV } from '../../test/support/malformed-env';
import { VARIABLES, type Env } from './variables';
import { isSecretKey, redactUrl, REDACTED } from '../redaction/policy';

const DEFAULTS = resolveConfig({}).config;

/** Resolves env and asserts it produced no warning. */
function clean(env: Env) {
  const { config, warnings } = resolveConfig(env);
  assert.deepEqual(warnings, []);
  return config;
}

describe('resolveConfig defaults', () => {
  it('gives no warning for an empty env', () => {
    assert.deepEqual(resolveConfig({}).warnings, []);
  });

  it('sends traces over OTLP http/protobuf to localhost:4318', () => {
    assert.deepEqual(DEFAULTS.traces.exporters, ['otlp']);
    assert.deepEqual(DEFAULTS.traces.otlp, {
      protocol: 'http/protobuf',
      endpoint: 'http://localhost:4318/v1/traces',
      headers: {},
      timeoutMs: 10000,
      compression: 'none',
    });
    assert.equal(DEFAULTS.metrics.otlp.endpoint, 'http://localhost:4318/v1/metrics');
    assert.equal(DEFAULTS.logs.otlp.endpoint, 'http://localhost:4318/v1/logs');
  });

  it('serves metrics to Prometheus and samples parent-based always on', () => {
    assert.deepEqual(DEFAULTS.metrics.exporters, ['prometheus']);
    assert.equal(DEFAULTS.traces.sampler, 'parentbased_always_on');
    assert.equal(DEFAULTS.traces.samplerRatio, 1);
  });

  it('propagates tracecontext and baggage', () => {
    assert.deepEqual(DEFAULTS.propagators, ['tracecontext', 'baggage']);
  });

  it('has the documented timeouts, port and switches', () => {
    assert.equal(DEFAULTS.disabled, false);
    assert.equal(DEFAULTS.logLevel, 'info');
    assert.equal(DEFAULTS.shutdownTimeoutMs, 5000);
    assert.deepEqual(DEFAULTS.health, {
      port: 9464,
      host: '0.0.0.0',
      appRoutes: false,
      metricsToken: undefined,
      cacheMs: 30000,
      checkTimeoutMs: 2000,
      historyIntervalMs: 5000,
      databaseUrl: undefined,
      redisUrl: undefined,
      ai: { keyVariable: 'OPENAI_API_KEY', keyPresent: false, required: false },
    });
    assert.deepEqual(DEFAULTS.http, { responseTimeHeader: 'X-Response-Time', slowRequestMs: 5000 });
    assert.equal(DEFAULTS.metrics.prefix, 'innatural_chatbot');
    assert.equal(DEFAULTS.metrics.cardinalityLimit, 2000);
    assert.equal(DEFAULTS.serviceName, undefined);
    assert.equal(DEFAULTS.environment, undefined);
    assert.equal(DEFAULTS.instrumentations.enabled, undefined);
    assert.deepEqual(DEFAULTS.instrumentations.disabled, []);
    assert.deepEqual(DEFAULTS.traces.batch, { scheduleDelayMs: 5000, exportTimeoutMs: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 });
  });

  it('detects resources locally, never with a cloud detector', () => {
    assert.deepEqual([...DEFAULTS.resourceDetectors].sort(), [...LOCAL_DETECTORS].sort());
    for (const cloud of CLOUD_DETECTORS) assert.ok(!DEFAULTS.resourceDetectors.includes(cloud), cloud);
  });
});

describe('resolveConfig INNATURAL_COMPILE_CACHE', () => {
  it('the default directory unless set; an absolute path as is; false for none', () => {
    assert.equal(DEFAULTS.compileCache, undefined);
    assert.equal(resolveConfig({ INNATURAL_COMPILE_CACHE: 'True' }).config.compileCache, undefined);
    assert.equal(resolveConfig({ INNATURAL_COMPILE_CACHE: ' /var/cache/app ' }).config.compileCache, '/var/cache/app');
    assert.equal(resolveConfig({ INNATURAL_COMPILE_CACHE: 'FALSE' }).config.compileCache, false);
  });
});

describe('resolveConfig OTLP endpoints', () => {
  it('appends /v1/<signal> to the base endpoint for http', () => {
    const config = clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318' });
    assert.equal(config.traces.otlp.endpoint, 'https://collector.example:4318/v1/traces');
    assert.equal(config.metrics.otlp.endpoint, 'https://collector.example:4318/v1/metrics');
    assert.equal(config.logs.otlp.endpoint, 'https://collector.example:4318/v1/logs');
  });

  it('handles trailing slashes on the base endpoint', () => {
    assert.equal(clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).traces.otlp.endpoint, 'http://c:4318/v1/traces');
    assert.equal(clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp///' }).traces.otlp.endpoint, 'http://c:4318/otlp/v1/traces');
  });

  it('uses a per-signal endpoint as is, leaving the others on the base', () => {
    const config = clean({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom/',
    });
    assert.equal(config.traces.otlp.endpoint, 'http://traces:9999/custom/');
    assert.equal(config.metrics.otlp.endpoint, 'http://base:4318/v1/metrics');
  });

  it('uses the base as is for grpc, defaulting to localhost:4317', () => {
    assert.equal(clean({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).traces.otlp.endpoint, 'http://localhost:4317');
    const config = clean({ OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317/' });
    assert.equal(config.traces.otlp.protocol, 'grpc');
    assert.equal(config.traces.otlp.endpoint, 'http://collector:4317/');
    assert.equal(config.logs.otlp.endpoint, 'http://collector:4317/');
  });

  it('applies the per-signal protocol to the endpoint rule of that signal only', () => {
    const config = clean({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' });
    assert.equal(config.metrics.otlp.protocol, 'grpc');
    assert.equal(config.metrics.otlp.endpoint, 'http://localhost:4317');
    assert.equal(config.traces.otlp.protocol, 'http/protobuf');
    assert.equal(config.traces.otlp.endpoint, 'http://localhost:4318/v1/traces');
  });
});

describe('resolveConfig OTLP options', () => {
  it('lets per-signal protocol, timeout and compression override the general ones', () => {
    const config = clean({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
    });
    assert.deepEqual(
      [config.traces.otlp.protocol, config.traces.otlp.timeoutMs, config.traces.otlp.compression],
      ['http/json', 2000, 'gzip'],
    );
    assert.deepEqual(
      [config.logs.otlp.protocol, config.logs.otlp.timeoutMs, config.logs.otlp.compression],
      ['http/protobuf', 3000, 'none'],
    );
  });

  it('merges general and per-signal headers, the per-signal value winning', () => {
    const config = clean({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=shop,authorization=general',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=traces%20only,x-extra=1',
    });
    assert.deepEqual(config.traces.otlp.headers, { 'x-tenant': 'shop', authorization: 'traces only', 'x-extra': '1' });
    assert.deepEqual(config.metrics.otlp.headers, { 'x-tenant': 'shop', authorization: 'general' });
  });

  it('warns once for a bad general variable, not once per signal', () => {
    const { warnings } = resolveConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: 'soon', OTEL_EXPORTER_OTLP_PROTOCOL: 'x' });
    assert.deepEqual(warnings.map((w) => w.variable).sort(), ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TIMEOUT']);
  });
});

describe('resolveConfig switches and names', () => {
  it('reads OTEL_SDK_DISABLED', () => {
    assert.equal(clean({ OTEL_SDK_DISABLED: 'true' }).disabled, true);
    assert.equal(clean({ OTEL_SDK_DISABLED: 'TRUE' }).disabled, true);
    assert.equal(clean({ OTEL_SDK_DISABLED: 'false' }).disabled, false);
  });

  it('takes the environment from SENTRY_ENVIRONMENT over NODE_ENV', () => {
    assert.equal(clean({ NODE_ENV: 'production' }).environment, 'production');
    assert.equal(clean({ SENTRY_ENVIRONMENT: 'staging' }).environment, 'staging');
    assert.equal(clean({ NODE_ENV: 'production', SENTRY_ENVIRONMENT: 'staging' }).environment, 'staging');
    assert.equal(clean({ NODE_ENV: 'production', SENTRY_ENVIRONMENT: '  ' }).environment, 'production');
  });

  it('gives no exporter for "none"', () => {
    const config = clean({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'NONE', OTEL_LOGS_EXPORTER: 'none' });
    assert.deepEqual(config.traces.exporters, []);
    assert.deepEqual(config.metrics.exporters, []);
    assert.deepEqual(config.logs.exporters, []);
  });

  it('gives no propagator for "none"', () => {
    assert.deepEqual(clean({ OTEL_PROPAGATORS: 'none' }).propagators, []);
  });
});

describe('resolveConfig resource detectors', () => {
  it('expands "all" to the local detectors only', () => {
    assert.deepEqual([...clean({ OTEL_NODE_RESOURCE_DETECTORS: 'all' }).resourceDetectors].sort(), [...LOCAL_DETECTORS].sort());
  });

  it('gives [] for "none"', () => {
    assert.deepEqual(clean({ OTEL_NODE_RESOURCE_DETECTORS: 'none' }).resourceDetectors, []);
  });

  it('keeps a cloud detector only when named', () => {
    assert.deepEqual(clean({ OTEL_NODE_RESOURCE_DETECTORS: 'env,aws' }).resourceDetectors, ['env', 'aws']);
    const all = clean({ OTEL_NODE_RESOURCE_DETECTORS: 'all,gcp' }).resourceDetectors;
    assert.ok(all.includes('gcp'));
    for (const cloud of CLOUD_DETECTORS.filter((c) => c !== 'gcp')) assert.ok(!all.includes(cloud), cloud);
    assert.equal(all.length, LOCAL_DETECTORS.length + 1);
  });
});

describe('resolveConfig instrumentations', () => {
  it('enables only the listed ones', () => {
    assert.deepEqual(clean({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,PG' }).instrumentations.enabled, ['http', 'pg']);
  });

  it('drops invalid names but keeps the valid ones', () => {
    const { config, warnings } = resolveConfig({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,nope' });
    assert.deepEqual(config.instrumentations.enabled, ['http']);
    assert.equal(warnings.length, 1);
  });

  it('falls back to the defaults (undefined), with a warning saying so, when only invalid names are enabled', () => {
    const { config, warnings } = resolveConfig({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'nope,nada' });
    assert.equal(config.instrumentations.enabled, undefined);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.variable, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS');
    // The catalog defaults are loaded, so the warning must not claim that none are.
    assert.match(warnings[0]!.message, /; using the default$/);
  });

  it('reads the disabled list', () => {
    assert.deepEqual(clean({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fs, dns' }).instrumentations.disabled, ['fs', 'dns']);
  });

  it('keeps prompt and completion text out unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is true', () => {
    assert.equal(DEFAULTS.instrumentations.captureMessageContent, false);
    assert.equal(clean({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }).instrumentations.captureMessageContent, true);
    const { config, warnings } = resolveConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'yes please' });
    assert.equal(config.instrumentations.captureMessageContent, false);
    assert.equal(warnings[0]?.variable, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT');
  });
});

describe('resolveConfig batch limits', () => {
  it('rejects a span batch larger than the queue, using the queue size', () => {
    const { config, warnings } = resolveConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200' });
    assert.equal(config.traces.batch.maxQueueSize, 100);
    assert.equal(config.traces.batch.maxExportBatchSize, 100);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.variable, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
    assert.match(warnings[0]!.message, /in \[1, 100\]/);
  });

  it('caps the default batch size at a small queue without a warning', () => {
    assert.equal(clean({ OTEL_BSP_MAX_QUEUE_SIZE: '100' }).traces.batch.maxExportBatchSize, 100);
  });

  it('accepts a batch equal to the queue', () => {
    assert.equal(clean({ OTEL_BLRP_MAX_QUEUE_SIZE: '64', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '64' }).logs.batch.maxExportBatchSize, 64);
  });
});

describe('MALFORMED_ENV fixture', () => {
  it('has at least 20 rows, one variable each, all known', () => {
    assert.ok(MALFORMED_ENV.length >= 20, `${MALFORMED_ENV.length} rows`);
    const names = MALFORMED_ENV.map((row) => row.variable);
    assert.equal(new Set(names).size, names.length, 'a variable appears twice');
    for (const name of names) assert.ok(name in VARIABLES, name);
  });

  it('holds only values a real environment can carry', () => {
    for (const { variable, value } of MALFORMED_ENV) {
      assert.ok(!value.includes('\0'), variable);
      assert.notEqual(value.trim(), '', `${variable} is blank, which means unset`);
    }
  });
});

describe('resolveConfig with one malformed variable', () => {
  for (const { variable, value, fallbackDescription } of MALFORMED_ENV) {
    it(`${variable}=${JSON.stringify(value)}`, () => {
      const { config, warnings } = resolveConfig({ [variable]: value });
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      const [warning] = warnings;
      assert.equal(warning!.variable, variable);
      const { message } = warning!;
      assert.ok(message.includes(variable), message);
      const spec = VARIABLES[variable];
      // A variable named like a secret (INNATURAL_HEALTH_AI_KEY_ENV) may hold one pasted by mistake.
      if (('secret' in spec && spec.secret) || isSecretKey(variable)) {
        assert.ok(message.includes(REDACTED), message);
        assert.ok(!message.includes(value), message);
      } else {
        const shown = spec.kind === 'url' ? redactUrl(value) : value;
        assert.ok(message.includes(JSON.stringify(shown)), message);
      }
      assert.match(message, /; using /);
      if (fallbackDescription !== undefined) assert.ok(message.endsWith(`; using ${fallbackDescription}`), message);
      // The whole config, so the bad value neither leaks into its own field nor into another.
      assert.deepEqual(config, DEFAULTS);
    });
  }
});

describe('resolveConfig with every malformed variable at once', () => {
  it('warns exactly once per variable, nothing else, and resolves to the defaults', () => {
    const env = Object.fromEntries(MALFORMED_ENV.map(({ variable, value }) => [variable, value]));
    const { config, warnings } = resolveConfig(env);
    assert.deepEqual(
      warnings.map((w) => w.variable).sort(),
      MALFORMED_ENV.map((row) => row.variable).sort(),
    );
    assert.deepEqual(config, DEFAULTS);
  });
});

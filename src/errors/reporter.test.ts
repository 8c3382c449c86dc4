import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { context, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger, Severity } from '../logging/logger';
import { REDACTED, Redactor } from '../redaction/policy';
import type { RequestData } from './request';
import { ErrorReporter, type Breadcrumb, type ErrorBackend, type ExceptionReport, type Level } from './reporter';

interface LogCall {
  severity: Severity;
  message: string;
  fields: Readonly<Record<string, unknown>> | undefined;
}

function fakeLogger(): Logger & { calls: LogCall[] } {
  const calls: LogCall[] = [];
  const log = (severity: Severity, message: string, fields?: Readonly<Record<string, unknown>>) => {
    calls.push({ severity, message, fields });
  };
  return {
    calls,
    level: 'all',
    enabled: () => true,
    log,
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
  };
}

interface CaptureCall {
  error: unknown;
  report: ExceptionReport;
  request: RequestData | undefined;
  activeTraceId: string | undefined;
  activeSpanId: string | undefined;
}

function fakeBackend() {
  const captures: CaptureCall[] = [];
  const messages: Array<{ message: string; level: Level; context: unknown }> = [];
  const breadcrumbs: Breadcrumb[] = [];
  const flushes: number[] = [];
  const backend: ErrorBackend = {
    captureException(error, report, request) {
      const active = trace.getActiveSpan()?.spanContext();
      captures.push({ error, report, request, activeTraceId: active?.traceId, activeSpanId: active?.spanId });
      return 'event-123';
    },
    captureMessage(message, level, ctx) {
      messages.push({ message, level, context: ctx });
      return 'event-456';
    },
    addBreadcrumb(crumb) {
      breadcrumbs.push(crumb);
    },
    flush(timeoutMs) {
      flushes.push(timeoutMs);
      return Promise.resolve(true);
    },
  };
  return { backend, captures, messages, breadcrumbs, flushes };
}

const SPAN_CONTEXT: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: false,
};

function fakeRequest(): IncomingMessage {
  return {
    method: 'POST',
    url: '/login?token=tk1&next=%2Fhome',
    headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=ck2', 'content-type': 'application/json', host: 'shop.example' },
    body: { user: 'bob', password: 'pw3' },
  } as unknown as IncomingMessage;
}

const contextManager = new AsyncLocalStorageContextManager();
before(() => {
  assert.equal(context.setGlobalContextManager(contextManager.enable()), true);
});
after(() => {
  context.disable();
});

describe('ErrorReporter.exception', () => {
  it('logs one redacted error line and hands the backend the report under the given span context', () => {
    const logger = fakeLogger();
    const { backend, captures } = fakeBackend();
    const reporter = new ErrorReporter(logger, new Redactor(), backend);
    const error = new Error('login failed for password=pw4');
    const report: ExceptionReport = {
      level: 'error',
      mechanism: 'express',
      handled: false,
      request: fakeRequest(),
      context: { orderId: 42, apiKey: 'ak5', note: 'Bearer zz.yy.xx' },
      spanContext: SPAN_CONTEXT,
    };

    const id = reporter.exception(error, report);
    assert.equal(id, 'event-123');

    assert.equal(logger.calls.length, 1);
    const call = logger.calls[0]!;
    assert.equal(call.severity, 'error');
    assert.equal(call.message, `login failed for password=${REDACTED}`);
    const f = call.fields as Record<string, any>;
    assert.equal(f.error.type, 'Error');
    assert.equal(f.error.message, `login failed for password=${REDACTED}`);
    assert.equal(typeof f.error.stack, 'string');
    assert.ok(f.error.stack.includes(`password=${REDACTED}`), f.error.stack);
    assert.equal(f.mechanism, 'express');
    assert.equal(f.handled, false);
    assert.equal(f.traceId, SPAN_CONTEXT.traceId);
    assert.equal(f.request.method, 'POST');
    assert.equal(f.request.url, `/login?token=${encodeURIComponent(REDACTED)}&next=%2Fhome`);
    assert.equal(f.request.query_string, `token=${encodeURIComponent(REDACTED)}&next=%2Fhome`);
    assert.equal(f.request.headers.authorization, REDACTED);
    assert.equal(f.request.headers.cookie, REDACTED);
    assert.equal(f.request.headers['content-type'], 'application/json');
    assert.deepEqual(f.request.data, { user: 'bob', password: REDACTED });
    assert.deepEqual(f.context, { orderId: 42, apiKey: REDACTED, note: `Bearer ${REDACTED}` });

    const line = JSON.stringify(call);
    for (const secret of ['pw4', 'tk1', 'abc.def.ghi', 'ck2', 'pw3', 'ak5', 'zz.yy.xx']) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);

    assert.equal(captures.length, 1);
    const cap = captures[0]!;
    assert.equal(cap.error, error);
    assert.equal(cap.report, report);
    assert.equal(cap.activeTraceId, SPAN_CONTEXT.traceId);
    assert.equal(cap.activeSpanId, SPAN_CONTEXT.spanId);
    assert.deepEqual(cap.request, f.request);
    assert.ok(!JSON.stringify(cap.request).includes('pw3'));
    // the span context is only active for the backend call
    assert.equal(trace.getActiveSpan(), undefined);
  });

  it('without a backend logs and returns undefined', () => {
    const logger = fakeLogger();
    const reporter = new ErrorReporter(logger, new Redactor(), undefined);
    assert.equal(reporter.exception(new Error('boom'), { level: 'error', mechanism: 'api', handled: true }), undefined);
    assert.equal(logger.calls.length, 1);
    const f = logger.calls[0]!.fields as Record<string, unknown>;
    assert.equal('request' in f, false);
    assert.equal('context' in f, false);
    assert.equal('traceId' in f, false);
  });

  it('logs a warning at warn and fatal at error', () => {
    const logger = fakeLogger();
    const reporter = new ErrorReporter(logger, new Redactor(), undefined);
    reporter.exception(new Error('w'), { level: 'warning', mechanism: 'api', handled: true });
    reporter.exception(new Error('f'), { level: 'fatal', mechanism: 'onuncaughtexception', handled: false });
    assert.deepEqual(
      logger.calls.map((c) => c.severity),
      ['warn', 'error'],
    );
  });

  it('uses the active span when no span context is given', () => {
    const logger = fakeLogger();
    const { backend, captures } = fakeBackend();
    const reporter = new ErrorReporter(logger, new Redactor(), backend);
    const active = { ...SPAN_CONTEXT, spanId: '1111111111111111' };
    context.with(trace.setSpanContext(context.active(), active), () => {
      reporter.exception(new Error('x'), { level: 'error', mechanism: 'api', handled: true });
    });
    assert.equal((logger.calls[0]!.fields as Record<string, unknown>).traceId, active.traceId);
    assert.equal(captures[0]!.activeSpanId, '1111111111111111');
  });

  it('describes non-Error values, redacted', () => {
    const logger = fakeLogger();
    const reporter = new ErrorReporter(logger, new Redactor(), undefined);
    reporter.exception('bad token=t6', { level: 'error', mechanism: 'api', handled: true });
    reporter.exception({ code: 7, password: 'pw7' }, { level: 'error', mechanism: 'api', handled: true });
    const [a, b] = logger.calls.map((c) => (c.fields as Record<string, any>).error);
    assert.deepEqual(a, { type: 'string', message: `bad token=${REDACTED}` });
    assert.equal(b.type, 'object');
    assert.ok(!b.message.includes('pw7'), b.message);
    assert.deepEqual(JSON.parse(b.message), { code: 7, password: REDACTED });
  });
});

describe('ErrorReporter.message', () => {
  it('logs the redacted message at the mapped severity and forwards to the backend', () => {
    const logger = fakeLogger();
    const { backend, messages } = fakeBackend();
    const reporter = new ErrorReporter(logger, new Redactor(), backend);
    assert.equal(reporter.message('cache miss for session=s8', 'warning', { secret: 'x9', n: 1 }), 'event-456');
    assert.equal(logger.calls[0]!.severity, 'warn');
    assert.equal(logger.calls[0]!.message, `cache miss for session=${REDACTED}`);
    assert.deepEqual((logger.calls[0]!.fields as Record<string, unknown>).context, { secret: REDACTED, n: 1 });
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.level, 'warning');
  });
});

describe('ErrorReporter.breadcrumb', () => {
  it('adds a redacted event to the active span and forwards to the backend', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('reporter-test');
    const logger = fakeLogger();
    const { backend, breadcrumbs } = fakeBackend();
    const reporter = new ErrorReporter(logger, new Redactor(), backend);
    const crumb: Breadcrumb = { message: 'login with password=pw10', category: 'auth', data: { user: 'bob', token: 'tk11' } };

    tracer.startActiveSpan('op', (span) => {
      reporter.breadcrumb(crumb);
      span.end();
    });

    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    const event = spans[0]!.events.find((e) => e.name === 'breadcrumb');
    assert.ok(event?.attributes, JSON.stringify(spans[0]!.events));
    assert.equal(event.attributes['breadcrumb.message'], `login with password=${REDACTED}`);
    assert.equal(event.attributes['breadcrumb.category'], 'auth');
    assert.deepEqual(JSON.parse(event.attributes['breadcrumb.data'] as string), { user: 'bob', token: REDACTED });
    assert.ok(!JSON.stringify(event).includes('pw10') && !JSON.stringify(event).includes('tk11'));

    assert.deepEqual(breadcrumbs, [crumb]);
    assert.equal(logger.calls.length, 0);
    await provider.shutdown();
  });

  it('without an active span only forwards, and without a backend does nothing', () => {
    const { backend, breadcrumbs } = fakeBackend();
    new ErrorReporter(fakeLogger(), new Redactor(), backend).breadcrumb({ message: 'm', category: 'c' });
    assert.equal(breadcrumbs.length, 1);
    assert.doesNotThrow(() => new ErrorReporter(fakeLogger(), new Redactor(), undefined).breadcrumb({ message: 'm', category: 'c' }));
  });

  it('adds no data attribute when the breadcrumb has none', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const reporter = new ErrorReporter(fakeLogger(), new Redactor(), undefined);
    provider.getTracer('t').startActiveSpan('op', (span) => {
      reporter.breadcrumb({ message: 'clicked', category: 'ui' });
      span.end();
    });
    assert.deepEqual(exporter.getFinishedSpans()[0]!.events[0]!.attributes, { 'breadcrumb.message': 'clicked', 'breadcrumb.category': 'ui' });
    await provider.shutdown();
  });
});

describe('ErrorReporter.flush', () => {
  it('flushes the backend, or resolves without one', async () => {
    const { backend, flushes } = fakeBackend();
    assert.equal(await new ErrorReporter(fakeLogger(), new Redactor(), backend).flush(2000), true);
    assert.deepEqual(flushes, [2000]);
    assert.equal(await new ErrorReporter(fakeLogger(), new Redactor(), undefined).flush(2000), undefined);
  });
});

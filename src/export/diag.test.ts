import assert from 'node:assert/strict';
import { diag } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import { afterEach, describe, it } from 'node:test';
import { installDiag } from './diag';
import type { Logger, Severity } from '../logging/logger';
import { RateLimiter } from '../logging/rate-limit';

function recorder() {
  const lines: Array<{ severity: Severity; message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  const log = (severity: Severity) => (message: string, fields?: Readonly<Record<string, unknown>>) => lines.push({ severity, message, fields });
  const logger: Logger = {
    level: 'info',
    enabled: () => true,
    log: (severity, message, fields) => lines.push({ severity, message, fields }),
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
  };
  return { logger, lines };
}

describe('installDiag', () => {
  let undo: () => void = () => {};
  afterEach(() => undo());

  it('every export failure, of every signal and wording, is one warning a minute with the count it stands for', () => {
    const { logger, lines } = recorder();
    let now = 0;
    const bridge = installDiag(logger, new RateLimiter(60_000, () => now));
    bridge.captureSdkErrors();
    undo = bridge;
    globalErrorHandler(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    globalErrorHandler(new Error('PeriodicExportingMetricReader: metrics export failed (error Error: connect ECONNREFUSED)'));
    diag.error('PeriodicExportingMetricReader: metrics export timed out after 1000ms');
    globalErrorHandler(new Error('Request Timeout'));
    const warnings = () => lines.filter((l) => l.severity === 'warn' || l.severity === 'error');
    assert.equal(warnings().length, 1, JSON.stringify(warnings()));
    assert.match(warnings()[0]!.message, /^Telemetry export failed: connect ECONNREFUSED/);
    now = 60_000;
    diag.error('PeriodicExportingMetricReader: metrics export timed out after 1000ms');
    assert.equal(warnings().length, 2);
    assert.equal(warnings()[1]!.fields?.suppressed, 3);
  });

  it('the SDK’s info lines (retry chatter while the collector is down) are debug, not the default level', () => {
    const { logger, lines } = recorder();
    undo = installDiag(logger, new RateLimiter(60_000, () => 0));
    diag.info('Export retry time 5000ms exceeds remaining timeout 4132ms, not retrying further.');
    diag.info('Export failed after maximum retry attempts (5).');
    assert.deepEqual(
      lines.map((l) => [l.severity, l.message.slice(0, 17)]),
      [
        ['debug', 'Export retry time'],
        ['debug', 'Export failed aft'],
      ],
    );
  });

  it('other SDK warnings stay one per kind', () => {
    const { logger, lines } = recorder();
    undo = installDiag(logger, new RateLimiter(60_000, () => 0));
    diag.warn('Instrumentation suppressed, because @opentelemetry/instrumentation-http is already loaded');
    diag.warn('Instrumentation suppressed, because @opentelemetry/instrumentation-http is already loaded');
    diag.warn('Some other thing happened');
    assert.deepEqual(lines.filter((l) => l.severity === 'warn').map((l) => l.message.slice(0, 12)), ['Instrumentat', 'Some other t']);
  });
});

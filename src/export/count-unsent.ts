import type { Signal } from '../config/resolve';
import { describeError } from '../logging/logger';
import type { ExitWindow } from './exit-window';

interface Exporting {
  export(items: unknown, done: (result: { code: number; error?: Error }) => void): void;
}

/** ExportResultCode.SUCCESS, without loading @opentelemetry/core for one constant. */
const SUCCESS = 0;

/** Spans and log records are arrays; a metrics export is one ResourceMetrics, counted in data points. */
function countOf(signal: Signal, items: unknown): number {
  if (Array.isArray(items)) return items.length;
  if (signal !== 'metrics') return 1;
  const scopes = (items as { scopeMetrics?: Array<{ metrics?: Array<{ dataPoints?: unknown[] }> }> }).scopeMetrics ?? [];
  return scopes.reduce((sum, scope) => sum + (scope.metrics ?? []).reduce((n, m) => n + (m.dataPoints?.length ?? 0), 0), 0);
}

/**
 * Wraps the exporter's `export` in place so that the exit window knows what is under way and
 * what failed while it was open: the spans that could not be sent at exit are counted in one
 * line instead of vanishing with the process.
 */
export function countUnsent<T>(exporter: T, signal: Signal, exit: ExitWindow): T {
  const target = exporter as unknown as Exporting;
  const original = target.export.bind(target);
  target.export = (items, done) => {
    const end = exit.begin(signal, countOf(signal, items));
    original(items, (result) => {
      end(result.code === SUCCESS ? undefined : describeError(result.error ?? 'export failed'));
      done(result);
    });
  };
  return exporter;
}

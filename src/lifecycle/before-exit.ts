import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Set when telemetry was produced since the last flush. 'beforeExit' fires again after
 * any async work its listeners start, our own flush included; flushing only when
 * something new was produced is what lets the process end.
 */
export class Activity implements SpanProcessor {
  dirty = true;
  onStart(): void {}
  onEnd(): void {
    this.dirty = true;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function installBeforeExitFlush(activity: Activity, flush: () => Promise<void>): () => void {
  let flushing = false;
  const handler = () => {
    if (flushing || !activity.dirty) return;
    activity.dirty = false;
    flushing = true;
    void flush().finally(() => {
      flushing = false;
    });
  };
  process.on('beforeExit', handler);
  return () => process.removeListener('beforeExit', handler);
}

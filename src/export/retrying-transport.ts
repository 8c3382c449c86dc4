import { diag } from '@opentelemetry/api';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { ExitWindow } from './exit-window';

/** otlp-exporter-base's policy, unchanged: up to 5 retries, 1 s backoff growing 1.5x to 5 s, ±20% jitter. */
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

/**
 * Retries a retryable answer (refused, reset, 429, 502, 503, 504) within the export's
 * timeout, as the stock RetryingTransport does, except that its timers never hold the event
 * loop and that, once the exit window is open (the app's work is done), an attempt is made
 * once, bounded by what is left of the window, and a pending retry is given up: a collector
 * that refuses at exit costs one refused connection, not the whole backoff.
 */
export class RetryingTransport implements IExporterTransport {
  constructor(
    private readonly transport: IExporterTransport,
    private readonly exit: ExitWindow,
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    // At exit, or under way when the exit flush began (it may be over by the time this answers).
    const mark = this.exit.mark();
    const exiting = () => this.exit.openedSince(mark);
    let backoff = INITIAL_BACKOFF_MS;
    for (let retries = 0; ; retries++) {
      const left = Math.min(deadline - Date.now(), this.exit.remaining());
      const result = await this.transport.send(data, Math.max(1, left));
      if (result.status !== 'retryable' || retries >= MAX_RETRIES || exiting()) return result;
      const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
      backoff *= BACKOFF_MULTIPLIER;
      const wait = Math.max(0, result.retryInMillis ?? jittered);
      if (wait > deadline - Date.now()) {
        diag.debug(`Export retry in ${Math.round(wait)} ms would pass the export timeout: not retrying`);
        return result;
      }
      if ((await this.exit.sleep(wait)) === 'exiting' || exiting()) return result;
    }
  }

  shutdown(): void {
    this.transport.shutdown();
  }
}

/**
 * An app under the preload with both local sinks, OTLP and Sentry, as the redaction tests
 * use it; and the bytes every sink received, for looking for what must not be there.
 */
import { healthUrl, sinkEnv, startApp, type RunningApp } from './app';
import { startOtlpSink, type OtlpSink } from './otlp-sink';
import { startSentrySink, type SentrySink } from './sentry-sink';

export interface WithSinks {
  readonly otlp: OtlpSink;
  readonly sentry: SentrySink;
  readonly app: RunningApp;
  /** The health server's base URL. */
  readonly health: string;
  close(): Promise<void>;
}

/** SENTRY_DSN points at the Sentry sink, OTLP at the OTLP sink; `env` adds to that. */
export async function startWithSinks(fixture: string, env: Record<string, string> = {}): Promise<WithSinks> {
  const otlp = await startOtlpSink();
  const sentry = await startSentrySink();
  const app = await startApp({ fixture, env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, ...env }) });
  const health = await healthUrl(app);
  return {
    otlp,
    sentry,
    app,
    health,
    close: async () => {
      app.kill();
      await otlp.close();
      await sentry.close();
    },
  };
}

/** Every byte that left the app or was printed, by place; OTLP read both as latin1 and UTF-8. */
export function sinkBytes(s: WithSinks): Record<string, string> {
  return {
    sentry: s.sentry.allBytes(),
    otlp: s.otlp.requests.map((r) => r.bytes.toString('latin1') + r.bytes.toString('utf8')).join('\n'),
    stdout: s.app.stdout(),
    stderr: s.app.stderr(),
  };
}

/** `<canary> in <place>` for every canary found anywhere. */
export function findLeaks(canaries: readonly string[], places: Readonly<Record<string, string>>): string[] {
  const leaks: string[] = [];
  for (const canary of canaries) for (const [place, bytes] of Object.entries(places)) if (bytes.includes(canary)) leaks.push(`${canary} in ${place}`);
  return leaks;
}

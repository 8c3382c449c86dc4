/**
 * PM2's cluster mode forks each instance with one variable, `pm2_env` (JSON), and runs its
 * ProcessContainer.js, which copies that JSON's values into process.env and then loads the
 * app. A preload runs before that copy: without reading it, the ecosystem file's `env`
 * (INNATURAL_HEALTH_PORT, its `increment_var`, OTEL_SERVICE_NAME, the OTLP endpoint) would be
 * missed, and the app taken for PM2's container (service.name "pm2"). Fork mode passes a
 * flat environment and needs none of this.
 */
import type { Env } from '../config/variables';

export interface Pm2Instance {
  /** process.env with the values ProcessContainer is about to copy in, as it copies them. */
  readonly env: Env;
  /** The app's entry script, for its package.json and module type. */
  readonly mainScript: string | undefined;
}

export function pm2Instance(env: NodeJS.ProcessEnv = process.env): Pm2Instance | undefined {
  const raw = env.pm2_env;
  if (raw === undefined || raw.length > 1_000_000) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const merged: Record<string, string | undefined> = { ...env };
  // Only what becomes a usable string in process.env: ProcessContainer turns objects into "[object Object]".
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') merged[key] = String(value);
  }
  const script = (parsed as { pm_exec_path?: unknown }).pm_exec_path;
  return { env: merged as Env, mainScript: typeof script === 'string' ? script : undefined };
}

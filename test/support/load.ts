/**
 * Steady, open-loop load for the reliability scenarios: requests fired at a fixed rate whatever
 * the app's answers, so "the app keeps up" is measured as served/offered rather than by a
 * closed loop that slows down with the app. Plus RSS readings of a child process.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

/** `INNATURAL_RELIABILITY=long` (npm run test:reliability) runs every scenario at full length. */
export const LONG = process.env.INNATURAL_RELIABILITY === 'long';

export interface LoadStats {
  readonly sent: number;
  /** Answered, whatever the status. */
  readonly ok: number;
  /** Not answered: connection errors, timeouts, or over the in-flight cap. */
  readonly failed: number;
  /** Milliseconds, of the answered requests. */
  readonly latencies: readonly number[];
}

export interface Load {
  /** Counts since the last call (or the start), and starts a new window. */
  window(): LoadStats;
  stop(): Promise<LoadStats>;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * `rate` requests per second to `base` + one of `paths` (round robin), over keep-alive
 * connections; at most `maxInFlight` outstanding (beyond that a tick counts as failed: the
 * app is not keeping up).
 */
export function startLoad(base: string, paths: readonly string[], rate: number, maxInFlight = 64): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const url = new URL(base);
  let win = { sent: 0, ok: 0, failed: 0, latencies: [] as number[] };
  let total = { sent: 0, ok: 0, failed: 0, latencies: [] as number[] };
  let inFlight = 0;
  let i = 0;
  const settled = new Set<Promise<void>>();
  const fire = () => {
    win.sent++;
    total.sent++;
    if (inFlight >= maxInFlight) {
      win.failed++;
      total.failed++;
      return;
    }
    inFlight++;
    const started = performance.now();
    const path = paths[i++ % paths.length]!;
    const p = new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path, agent, timeout: 10000 }, (res) => {
        res.resume();
        res.on('end', () => {
          const ms = performance.now() - started;
          // Any answer counts as served: a 500 from a handler that throws is the app's answer.
          const good = res.statusCode !== undefined;
          for (const s of [win, total]) {
            if (good) {
              s.ok++;
              s.latencies.push(ms);
            } else s.failed++;
          }
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        win.failed++;
        total.failed++;
        resolve();
      });
      req.end();
    }).finally(() => {
      inFlight--;
      settled.delete(p);
    });
    settled.add(p);
  };
  // Fire in small bursts every 10 ms: timers cannot tick at 1 kHz reliably.
  const perTick = rate / 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    while (owed >= 1) {
      owed--;
      fire();
    }
  }, 10);
  return {
    window: () => {
      const out = win;
      win = { sent: 0, ok: 0, failed: 0, latencies: [] };
      return out;
    },
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...settled]);
      agent.destroy();
      const out = total;
      total = { sent: 0, ok: 0, failed: 0, latencies: [] };
      return out;
    },
  };
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Node.js runtime metrics under prom-client's default names (`collectDefaultMetrics()`,
 * prom-client 15), so dashboards and alerts built for prom-client keep working. Same
 * names, types, label keys and HELP text; values are sampled in an `onCollect` hook,
 * except GC durations, which a PerformanceObserver records as they happen.
 *
 * Deliberate differences from prom-client, all in the values, none in the shape:
 * - process_cpu_*_seconds_total count from process start (process.cpuUsage()), as the
 *   Prometheus process collectors do; prom-client counts from the moment it was installed.
 * - nodejs_eventloop_lag_seconds is measured during the collection that reports it
 *   (the collector awaits the setImmediate); prom-client reports the previous scrape's.
 * - the event-loop delay summary gauges keep their last values when the monitor
 *   recorded nothing since the previous collection; prom-client reports the empty
 *   histogram (min 9223372036.85, max 0, mean and stddev NaN).
 * - every GC entry of a PerformanceObserver batch is observed; prom-client only the first.
 * - process_start_time_seconds keeps its fraction; prom-client rounds to the second.
 *
 * Nothing here holds the event loop open, and nothing throws: a failed read (no /proc,
 * a private API gone) leaves that metric as it was for this collection.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { IntervalHistogram, PerformanceEntry } from 'node:perf_hooks';
import type { Family, MetricSpec, Registry } from './registry';

/** prom-client's DEFAULT_GC_DURATION_BUCKETS. */
export const GC_DURATION_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];

/** prom-client's eventLoopMonitoringPrecision default, in ms. */
const EVENT_LOOP_RESOLUTION_MS = 10;

const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

interface PrivateProcess {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
  getActiveResourcesInfo?: () => string[];
}

/** Per process in a cluster: summed memory or averaged lag would hide the one worker in trouble. */
function gauge(name: string, help: string, unit: string, labels: readonly string[] = []): MetricSpec {
  return { name, help, type: 'gauge', labels, unit, cluster: 'worker' };
}

function counter(name: string, help: string, unit: string): MetricSpec {
  return { name, help, type: 'counter', labels: [], unit };
}

export function installRuntimeMetrics(registry: Registry): () => void {
  const proc = process as unknown as PrivateProcess;
  const isLinux = process.platform === 'linux';
  const created: Family[] = [];
  const add = (spec: MetricSpec): Family => {
    const family = registry.family(spec);
    created.push(family);
    return family;
  };
  const samplers: Array<() => void> = [];
  const sample = (fn: () => void): void => {
    samplers.push(fn);
  };

  // --- process_cpu_* -------------------------------------------------------------
  const cpuUser = add(counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', 's'));
  const cpuSystem = add(counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', 's'));
  const cpuTotal = add(counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 's'));
  sample(() => {
    const { user, system } = process.cpuUsage();
    cpuUser.set([], user / 1e6);
    cpuSystem.set([], system / 1e6);
    cpuTotal.set([], (user + system) / 1e6);
  });

  // --- process_start_time_seconds ---------------------------------------------------
  const startTime = add(
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 's'),
  );
  const startSeconds = Math.round(Date.now() - process.uptime() * 1000) / 1000;
  sample(() => startTime.set([], startSeconds));

  // --- process memory (osMemoryHeap / osMemoryHeapLinux) ------------------------------
  const resident = add(gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', 'By'));
  if (isLinux) {
    const virtual = add(gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', 'By'));
    const heap = add(gauge('process_heap_bytes', 'Process heap size in bytes.', 'By'));
    sample(() => {
      const status = fs.readFileSync('/proc/self/status', 'utf8');
      setFromStatus(resident, status, 'VmRSS');
      setFromStatus(virtual, status, 'VmSize');
      setFromStatus(heap, status, 'VmData');
    });
  } else {
    sample(() => resident.set([], process.memoryUsage().rss));
  }

  // --- file descriptors (Linux procfs only, as prom-client) ---------------------------
  if (isLinux) {
    const openFds = add(gauge('process_open_fds', 'Number of open file descriptors.', '1'));
    sample(() => {
      // readdirSync lists the descriptor it reads the directory through; it is closed now.
      openFds.set([], fs.readdirSync('/proc/self/fd').length - 1);
    });
  }
  if (readMaxFds() !== undefined) {
    const maxFds = add(gauge('process_max_fds', 'Maximum number of open file descriptors.', '1'));
    sample(() => {
      const max = readMaxFds();
      if (max !== undefined) maxFds.set([], max);
    });
  }

  // --- event loop -------------------------------------------------------------------
  const lag = add(gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', 's'));
  const lagMin = add(gauge('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', 's'));
  const lagMax = add(gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 's'));
  const lagMean = add(
    gauge('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', 's'),
  );
  const lagStddev = add(
    gauge('nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.', 's'),
  );
  const lagP50 = add(
    gauge('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', 's'),
  );
  const lagP90 = add(
    gauge('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', 's'),
  );
  const lagP99 = add(
    gauge('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', 's'),
  );
  let delay: IntervalHistogram | undefined;
  try {
    delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    delay.enable();
  } catch {
    delay = undefined;
  }
  sample(() => {
    const h = delay;
    if (!h || h.count === 0) return; // nothing recorded since the last collection
    lagMin.set([], h.min / 1e9);
    lagMax.set([], h.max / 1e9);
    lagMean.set([], h.mean / 1e9);
    lagStddev.set([], h.stddev / 1e9);
    lagP50.set([], h.percentile(50) / 1e9);
    lagP90.set([], h.percentile(90) / 1e9);
    lagP99.set([], h.percentile(99) / 1e9);
    h.reset();
  });

  // --- active resources / handles / requests -------------------------------------------
  if (typeof proc.getActiveResourcesInfo === 'function') {
    const byType = add(
      gauge(
        'nodejs_active_resources',
        'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
        '1',
        ['type'],
      ),
    );
    const total = add(gauge('nodejs_active_resources_total', 'Total number of active resources.', '1'));
    sample(() => {
      const resources = proc.getActiveResourcesInfo!();
      const counts = new Map<string, number>();
      for (const r of resources) counts.set(r, (counts.get(r) ?? 0) + 1);
      setByType(byType, counts);
      total.set([], resources.length);
    });
  }
  if (typeof proc._getActiveHandles === 'function') {
    const byType = add(
      gauge(
        'nodejs_active_handles',
        'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
        '1',
        ['type'],
      ),
    );
    const total = add(gauge('nodejs_active_handles_total', 'Total number of active handles.', '1'));
    sample(() => {
      const handles = proc._getActiveHandles!();
      setByType(byType, countByConstructor(handles));
      total.set([], handles.length);
    });
  }
  if (typeof proc._getActiveRequests === 'function') {
    const byType = add(
      gauge(
        'nodejs_active_requests',
        'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
        '1',
        ['type'],
      ),
    );
    const total = add(gauge('nodejs_active_requests_total', 'Total number of active requests.', '1'));
    sample(() => {
      const requests = proc._getActiveRequests!();
      setByType(byType, countByConstructor(requests));
      total.set([], requests.length);
    });
  }

  // --- V8 heap ------------------------------------------------------------------------
  const heapTotal = add(gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'By'));
  const heapUsed = add(gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'By'));
  const external = add(gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'By'));
  sample(() => {
    const mem = process.memoryUsage();
    heapTotal.set([], mem.heapTotal);
    heapUsed.set([], mem.heapUsed);
    if (mem.external !== undefined) external.set([], mem.external);
  });

  const spaceTotal = add(
    gauge('nodejs_heap_space_size_total_bytes', 'Process heap space size total from Node.js in bytes.', 'By', [
      'space',
    ]),
  );
  const spaceUsed = add(
    gauge('nodejs_heap_space_size_used_bytes', 'Process heap space size used from Node.js in bytes.', 'By', ['space']),
  );
  const spaceAvailable = add(
    gauge('nodejs_heap_space_size_available_bytes', 'Process heap space size available from Node.js in bytes.', 'By', [
      'space',
    ]),
  );
  sample(() => {
    const spaces = v8.getHeapSpaceStatistics();
    spaceTotal.clear();
    spaceUsed.clear();
    spaceAvailable.clear();
    for (const s of spaces) {
      // prom-client labels 'new_space' as 'new', 'code_large_object_space' as 'code_large_object'.
      const i = s.space_name.indexOf('_space');
      const space = i >= 0 ? s.space_name.slice(0, i) : s.space_name;
      spaceTotal.set([space], s.space_size);
      spaceUsed.set([space], s.space_used_size);
      spaceAvailable.set([space], s.space_available_size);
    }
  });

  // --- version ------------------------------------------------------------------------
  const versionInfo = add(
    gauge('nodejs_version_info', 'Node.js version info.', '1', ['version', 'major', 'minor', 'patch']),
  );
  const [major = '', minor = '', patch = ''] = process.version
    .slice(1)
    .split('.')
    .map((p) => String(Number(p)));
  sample(() => versionInfo.set([process.version, major, minor, patch], 1));

  // --- GC -----------------------------------------------------------------------------
  const gcDuration = add({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    type: 'histogram',
    labels: ['kind'],
    buckets: GC_DURATION_BUCKETS,
    unit: 's',
  });
  let gcObserver: PerformanceObserver | undefined;
  try {
    gcObserver = new PerformanceObserver((list) => {
      try {
        for (const entry of list.getEntries()) {
          gcDuration.observe([gcKind(entry)], entry.duration / 1000);
        }
      } catch {
        // a metric is never worth an exception on the GC path
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
  } catch {
    gcObserver = undefined;
  }

  // --- collection ---------------------------------------------------------------------
  let installed = true;
  registry.onCollect(async () => {
    if (!installed) return;
    for (const fn of samplers) {
      try {
        fn();
      } catch {
        // this metric keeps its previous value for this collection
      }
    }
    // Started after the sampling above so our own work is not counted as lag.
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!installed) return;
    lag.set([], Number(process.hrtime.bigint() - start) / 1e9);
  });

  return () => {
    if (!installed) return;
    installed = false;
    try {
      gcObserver?.disconnect();
    } catch {
      // already gone
    }
    try {
      delay?.disable();
    } catch {
      // already gone
    }
    // The registry has no way to drop a collector (ours is now inert), but it can drop
    // the families, so a later scrape does not show frozen runtime values.
    for (const family of created) {
      const i = registry.families.indexOf(family);
      if (i >= 0) registry.families.splice(i, 1);
    }
  };
}

function setFromStatus(family: Family, status: string, field: string): void {
  const m = new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
  if (m) family.set([], Number(m[1]) * 1024);
}

/** Soft limit of "Max open files" in /proc/self/limits; undefined when unreadable. */
function readMaxFds(): number | undefined {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\S+)/m.exec(limits);
    if (!m) return undefined;
    if (m[1] === 'unlimited') return Infinity;
    const n = Number(m[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** prom-client's aggregateByObjectName: count by constructor name, skipping bare objects. */
function countByConstructor(list: readonly unknown[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of list) {
    if (item === null || item === undefined) continue;
    const ctor = (item as { constructor?: { name?: unknown } }).constructor;
    if (ctor === undefined) continue;
    const name = String(ctor.name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function setByType(family: Family, counts: ReadonlyMap<string, number>): void {
  family.clear();
  for (const [type, n] of counts) family.set([type], n);
}

function gcKind(entry: PerformanceEntry): string {
  const detail = (entry as { detail?: unknown }).detail as { kind?: unknown } | null | undefined;
  const kind = detail && typeof detail.kind === 'number' ? detail.kind : (entry as { kind?: unknown }).kind;
  return (typeof kind === 'number' ? GC_KINDS.get(kind) : undefined) ?? 'unknown';
}

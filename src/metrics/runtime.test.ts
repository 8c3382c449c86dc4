import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs = require('node:fs');
import * as path from 'node:path';
import v8 = require('node:v8');
import * as promClient from 'prom-client';
import { Registry, type Family } from './registry';
import { serialize } from './prometheus';
import { GC_DURATION_BUCKETS, installRuntimeMetrics } from './runtime';

interface Shape {
  type: string;
  labels: string[];
  help: string;
}

/** Enough short-lived garbage to run several scavenges and, usually, a mark-sweep. */
function makeGarbage(): number {
  let keep = 0;
  for (let round = 0; round < 5; round++) {
    let a: Array<{ i: number; s: string }> | null = [];
    for (let i = 0; i < 300_000; i++) a.push({ i, s: `x${i}` });
    keep += a.length;
    a = null;
  }
  return keep;
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function promShapes(): Promise<Map<string, Shape>> {
  const register = new promClient.Registry();
  promClient.collectDefaultMetrics({ register });
  makeGarbage();
  await tick(30);
  await register.getMetricsAsJSON(); // first read arms the setImmediate lag measurement
  await tick(30);
  const json = await register.getMetricsAsJSON();
  const out = new Map<string, Shape>();
  for (const m of json) {
    const declared = (register.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined)
      ?.labelNames;
    const keys = new Set<string>(declared ?? []);
    for (const v of m.values as Array<{ labels?: Record<string, unknown> }>) {
      for (const k of Object.keys(v.labels ?? {})) keys.add(k);
    }
    if (String(m.type) === 'histogram') keys.delete('le');
    out.set(m.name, { type: String(m.type), labels: [...keys].sort(), help: m.help });
  }
  return out;
}

async function ourShapes(): Promise<Map<string, Shape>> {
  const registry = new Registry(2000);
  const uninstall = installRuntimeMetrics(registry);
  try {
    makeGarbage();
    await tick(30);
    const families = await registry.collect();
    const out = new Map<string, Shape>();
    for (const f of families) {
      out.set(f.spec.name, { type: f.spec.type, labels: [...f.spec.labels].sort(), help: f.spec.help });
    }
    return out;
  } finally {
    uninstall();
  }
}

function diffShapes(theirs: Map<string, Shape>, ours: Map<string, Shape>, field: 'type' | 'labels' | 'help'): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...theirs.keys(), ...ours.keys()])].sort()) {
    const t = theirs.get(name);
    const o = ours.get(name);
    if (!t) lines.push(`+ ${name} (only ours)`);
    else if (!o) lines.push(`- ${name} (only prom-client)`);
    else if (JSON.stringify(t[field]) !== JSON.stringify(o[field])) {
      lines.push(`~ ${name} ${field}: prom-client ${JSON.stringify(t[field])} vs ours ${JSON.stringify(o[field])}`);
    }
  }
  return lines;
}

async function collected(): Promise<{ registry: Registry; uninstall: () => void; byName: Map<string, Family> }> {
  const registry = new Registry(2000);
  const uninstall = installRuntimeMetrics(registry);
  // Let the event-loop delay monitor record: on a loaded machine its first sample can take a while.
  let families: readonly Family[] = [];
  for (let waited = 0; waited < 2000; waited += 25) {
    await tick(25);
    families = await registry.collect();
    if (families.some((f) => f.spec.name === 'nodejs_eventloop_lag_min_seconds' && f.size > 0)) break;
  }
  return { registry, uninstall, byName: new Map(families.map((f) => [f.spec.name, f])) };
}

function value(byName: Map<string, Family>, name: string): number {
  const family = byName.get(name);
  assert.ok(family, `${name} is registered`);
  const series = family.all();
  assert.equal(series.length, 1, `${name} has one series`);
  return series[0]!.value;
}

describe('runtime metrics', () => {
  it('has exactly the metric names, types, label keys and HELP of prom-client collectDefaultMetrics()', async () => {
    const theirs = await promShapes();
    const ours = await ourShapes();

    // Every difference at once, one line each: '-' only prom-client, '+' only ours, '~' differs.
    const names = diffShapes(theirs, ours, 'type').filter((l) => !l.startsWith('~'));
    const diffs = [
      ...names,
      ...diffShapes(theirs, ours, 'type').filter((l) => l.startsWith('~')),
      ...diffShapes(theirs, ours, 'labels').filter((l) => l.startsWith('~')),
      ...diffShapes(theirs, ours, 'help').filter((l) => l.startsWith('~')),
    ];
    assert.deepEqual(diffs, [], `runtime metrics differ from prom-client's defaults:\n${diffs.join('\n')}`);
    assert.ok(ours.size >= 30, `expected the whole default set, got ${ours.size}`);
  });

  it('uses the prom-client GC buckets and kind names', async () => {
    const register = new promClient.Registry();
    promClient.collectDefaultMetrics({ register });
    const theirs = register.getSingleMetric('nodejs_gc_duration_seconds') as unknown as { upperBounds: number[] };
    assert.deepEqual([...GC_DURATION_BUCKETS], theirs.upperBounds);

    const { registry, uninstall, byName } = await collected();
    try {
      const gc = byName.get('nodejs_gc_duration_seconds')!;
      assert.deepEqual(gc.spec.buckets, theirs.upperBounds);
      // GC entries arrive asynchronously after the collections that produce them.
      for (let i = 0; i < 20 && gc.all().length === 0; i++) {
        makeGarbage();
        await tick(50);
      }
      await registry.collect();
      const series = gc.all();
      assert.ok(series.length > 0, 'some GC was observed');
      for (const s of series) {
        assert.ok(['major', 'minor', 'incremental', 'weakcb'].includes(s.labels[0]!), `kind ${s.labels[0]}`);
        assert.ok(s.count > 0);
        assert.equal(
          s.counts!.reduce((a, b) => a + b, 0),
          s.count,
        );
        assert.ok(s.sum >= 0 && s.sum < 60);
      }
    } finally {
      uninstall();
    }
  });

  it('reports sane values', async () => {
    const { uninstall, byName } = await collected();
    try {
      const rss = value(byName, 'process_resident_memory_bytes');
      const actual = process.memoryUsage().rss;
      assert.ok(Math.abs(rss - actual) / actual < 0.2, `rss ${rss} vs process.memoryUsage().rss ${actual}`);
      assert.ok(value(byName, 'process_virtual_memory_bytes') >= rss);
      assert.ok(value(byName, 'process_heap_bytes') > 0);

      const start = value(byName, 'process_start_time_seconds');
      assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 5, `start time ${start}`);

      const open = value(byName, 'process_open_fds');
      const max = value(byName, 'process_max_fds');
      assert.ok(open > 0, `open fds ${open}`);
      assert.ok(max >= open, `max fds ${max} < open fds ${open}`);

      const version = byName.get('nodejs_version_info')!.all();
      assert.equal(version.length, 1);
      const [v, major, minor, patch] = version[0]!.labels;
      assert.equal(v, process.version);
      assert.equal(`v${major}.${minor}.${patch}`, process.version);
      assert.equal(version[0]!.value, 1);

      for (const name of [
        'nodejs_heap_space_size_total_bytes',
        'nodejs_heap_space_size_used_bytes',
        'nodejs_heap_space_size_available_bytes',
      ]) {
        const spaces = byName.get(name)!.all().map((s) => s.labels[0]);
        assert.ok(spaces.includes('new') && spaces.includes('old'), `${name}: ${spaces.join(',')}`);
        assert.ok(!spaces.some((s) => s!.endsWith('_space')), `${name}: ${spaces.join(',')}`);
      }
      assert.ok(value(byName, 'nodejs_heap_size_used_bytes') <= value(byName, 'nodejs_heap_size_total_bytes'));
      assert.ok(value(byName, 'nodejs_external_memory_bytes') >= 0);

      const user = value(byName, 'process_cpu_user_seconds_total');
      const system = value(byName, 'process_cpu_system_seconds_total');
      const total = value(byName, 'process_cpu_seconds_total');
      assert.ok(user > 0 && system >= 0);
      assert.ok(Math.abs(total - (user + system)) < 1e-6, `cpu ${total} != ${user} + ${system}`);
      assert.ok(total <= process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 + 1e-6);

      const lag = value(byName, 'nodejs_eventloop_lag_seconds');
      assert.ok(lag >= 0 && lag < 5, `lag ${lag}`);
      const min = value(byName, 'nodejs_eventloop_lag_min_seconds');
      const p50 = value(byName, 'nodejs_eventloop_lag_p50_seconds');
      const p99 = value(byName, 'nodejs_eventloop_lag_p99_seconds');
      const maxLag = value(byName, 'nodejs_eventloop_lag_max_seconds');
      assert.ok(min > 0 && min <= p50 && p50 <= p99 && p99 <= maxLag && maxLag < 5, `${min} ${p50} ${p99} ${maxLag}`);
      assert.ok(Number.isFinite(value(byName, 'nodejs_eventloop_lag_mean_seconds')));
      assert.ok(Number.isFinite(value(byName, 'nodejs_eventloop_lag_stddev_seconds')));

      for (const kind of ['resources', 'handles', 'requests']) {
        const sum = byName
          .get(`nodejs_active_${kind}`)!
          .all()
          .reduce((a, s) => a + s.value, 0);
        const total = value(byName, `nodejs_active_${kind}_total`);
        assert.ok(sum <= total, `nodejs_active_${kind}: ${sum} by type, ${total} in total`);
        if (kind === 'resources') assert.equal(sum, total);
      }
    } finally {
      uninstall();
    }
  });

  it('recomputes labelled gauges at each collection', async () => {
    const { registry, uninstall, byName } = await collected();
    try {
      const resources = () =>
        new Map(byName.get('nodejs_active_resources')!.all().map((s) => [s.labels[0], s.value] as const));
      const timers = Array.from({ length: 3 }, () => setInterval(() => {}, 60_000));
      await registry.collect();
      const withTimers = resources().get('Timeout') ?? 0;
      for (const t of timers) clearInterval(t);
      await registry.collect();
      const without = resources().get('Timeout') ?? 0;
      assert.ok(withTimers >= 3, `Timeout with 3 intervals: ${withTimers}`);
      assert.ok(without <= withTimers - 3, `Timeout after clearing them: ${without}`);
    } finally {
      uninstall();
    }
  });

  it('serializes as valid Prometheus text, one HELP and TYPE per family', async () => {
    const { registry, uninstall } = await collected();
    try {
      const families = await registry.collect();
      const text = serialize(families);
      const label = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
      const sample = new RegExp(
        `^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{${label}(?:,${label})*\\})? (NaN|[+-]Inf|-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?)$`,
      );
      const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/;
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/;

      const helps = new Map<string, number>();
      const types = new Map<string, string>();
      let current: string | undefined;
      const lines = text.split('\n');
      assert.equal(lines.pop(), '', 'text ends with a newline');
      for (const line of lines) {
        let m: RegExpExecArray | null;
        if ((m = help.exec(line))) {
          helps.set(m[1]!, (helps.get(m[1]!) ?? 0) + 1);
          current = m[1];
        } else if ((m = type.exec(line))) {
          assert.equal(m[1], current, `TYPE line follows its HELP: ${line}`);
          assert.ok(!types.has(m[1]!), `second TYPE for ${m[1]}`);
          types.set(m[1]!, m[2]!);
        } else if ((m = sample.exec(line))) {
          assert.ok(current && types.has(current), `sample before HELP/TYPE: ${line}`);
          const suffixes = types.get(current) === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
          assert.ok(
            suffixes.some((s) => m![1] === current + s),
            `sample ${m[1]} under family ${current}`,
          );
        } else {
          assert.fail(`not Prometheus exposition: ${JSON.stringify(line)}`);
        }
      }
      for (const [name, n] of helps) assert.equal(n, 1, `${name} has ${n} HELP lines`);
      for (const f of families) {
        const shown = f.all().length > 0 || f.spec.labels.length === 0;
        if (!shown) continue; // a labelled family with no series is left out, by design of serialize()
        assert.equal(helps.get(f.spec.name), 1, `${f.spec.name} HELP`);
        assert.equal(types.get(f.spec.name), f.spec.type, `${f.spec.name} TYPE`);
      }
      assert.ok(types.size >= 25, `only ${types.size} families in the text`);
    } finally {
      uninstall();
    }
  });

  it('never throws: a failed source leaves its metrics as they were and the rest still update', async () => {
    const { registry, uninstall, byName } = await collected();
    const proc = process as unknown as Record<string, unknown>;
    const before = new Map([...byName].map(([name, f]) => [name, f.all().map((s) => s.value)]));
    const boom = () => {
      throw new Error('boom');
    };
    const mocks = [
      mock.method(fs, 'readFileSync', boom),
      mock.method(fs, 'readdirSync', boom),
      mock.method(v8, 'getHeapSpaceStatistics', boom),
      mock.method(proc as { _getActiveHandles: () => unknown[] }, '_getActiveHandles', boom),
      mock.method(proc as { _getActiveRequests: () => unknown[] }, '_getActiveRequests', () => [null, undefined, {}]),
    ];
    try {
      let work = 0;
      for (let i = 0; i < 2e6; i++) work += i % 7; // burn some CPU so the counters move
      assert.ok(work > 0);
      await registry.collect(); // resolves, no throw
      for (const name of [
        'process_resident_memory_bytes',
        'process_virtual_memory_bytes',
        'process_heap_bytes',
        'process_open_fds',
        'process_max_fds',
        'nodejs_heap_space_size_total_bytes',
        'nodejs_active_handles',
        'nodejs_active_handles_total',
      ]) {
        assert.deepEqual(byName.get(name)!.all().map((s) => s.value), before.get(name), `${name} kept its values`);
      }
      assert.ok(byName.get('nodejs_heap_space_size_used_bytes')!.all().length > 0, 'heap spaces not cleared');
      assert.ok(value(byName, 'process_cpu_seconds_total') > before.get('process_cpu_seconds_total')![0]!);
      // bare objects have a constructor (Object); null and undefined are skipped, as prom-client does
      assert.deepEqual(
        byName.get('nodejs_active_requests')!.all().map((s) => [s.labels[0], s.value]),
        [['Object', 1]],
      );
      assert.equal(value(byName, 'nodejs_active_requests_total'), 3);
    } finally {
      for (const m of mocks) m.mock.restore();
      uninstall();
    }
  });

  it('uninstall removes its families and leaves collection working', async () => {
    const { registry, uninstall } = await collected();
    const other = registry.family({ name: 'app_things', help: 'Things.', type: 'gauge', labels: [] });
    uninstall();
    uninstall(); // idempotent
    const families = await registry.collect();
    assert.deepEqual(
      families.map((f) => f.spec.name),
      [other.spec.name],
    );
  });

  for (const uninstallFirst of [true, false]) {
    it(`lets a process exit on its own${uninstallFirst ? ' after uninstall' : ' while installed'}`, async () => {
      const dir = __dirname;
      const script = `
        const { Registry } = require(${JSON.stringify(path.join(dir, 'registry.js'))});
        const { installRuntimeMetrics } = require(${JSON.stringify(path.join(dir, 'runtime.js'))});
        const registry = new Registry(2000);
        const uninstall = installRuntimeMetrics(registry);
        let garbage = [];
        for (let i = 0; i < 200000; i++) garbage.push({ i });
        garbage = null;
        registry.collect().then((families) => {
          const n = families.length;
          ${uninstallFirst ? 'uninstall();' : ''}
          process.stdout.write('collected ' + n + '\\n');
        });
      `;
      const started = Date.now();
      const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = execFile(process.execPath, ['-e', script], { timeout: 3000 }, (err, stdout, stderr) => {
            resolve({
              code: err ? ((err as { code?: number }).code ?? null) : 0,
              signal: err ? ((err as { signal?: string }).signal ?? null) : null,
              stdout,
              stderr,
            });
          });
          child.stdin?.end();
        },
      );
      assert.equal(result.signal, null, `child was killed after ${Date.now() - started} ms: ${result.stderr}`);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^collected [1-9][0-9]*\n$/);
    });
  }
});

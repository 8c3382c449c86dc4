'use strict';
/**
 * CPU per request, for before/after comparisons on a shared machine: wall-clock and req/s
 * move with the other load, CPU time per request much less, instructions per request not at all.
 *
 *   BENCH_VARIANTS=A,D,E BENCH_PAIRS=5 node bench/per-request.js
 *   BENCH_BASELINE=/path/to/other/checkout ...   adds D0, E0...: the same variants with that checkout's build
 *   BENCH_NODE=$(tools/node-versions.sh 24)/node ...   the app under another Node
 *   BENCH_MODE=callgrind BENCH_REQUESTS=2000 ...   instructions per request under valgrind (load-independent, slow)
 *
 * cpu mode: rounds of every variant in turn (A/B/A/B), each round a fresh app pinned to core 1,
 * a wrk warm-up then a measured wrk run; µs/request is the app's utime+stime over the requests wrk
 * completed. Prints each variant's median and the median of its per-round difference from A.
 * callgrind mode: two runs of each variant with a fixed-count client (N and 2N requests, after the
 * same warm-up); the difference of their instruction totals over N cancels start-up and exit.
 */
const http = require('node:http');
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { withBaseline } = require('./variants');
const { startSink, variants, startApp, waitReady, stop, cpuTicks, wrk, median, APP_PORT, CLK_TCK, REPO } = require('./run');

const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const MODE = process.env.BENCH_MODE ?? 'cpu';
const NODE = process.env.BENCH_NODE;
const BASELINE = process.env.BENCH_BASELINE;

function selected(sink) {
  const ids = (process.env.BENCH_VARIANTS ?? 'A,D,E').split(',');
  return withBaseline(variants(sink, { app: APP_PORT, health: APP_PORT + 1 }).filter((v) => ids.includes(v.id)), BASELINE);
}

/** Keep-alive GETs, `concurrency` at a time, until `count` have completed. */
function fixedCount(count, concurrency = 8) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let started = 0;
  let done = 0;
  return new Promise((resolve) => {
    const one = () => {
      if (started >= count) return;
      started++;
      http
        .get(`http://127.0.0.1:${APP_PORT}/api/users/1`, { agent }, (res) => {
          res.resume();
          res.on('end', next);
        })
        .on('error', next);
    };
    const next = () => {
      if (++done === count) {
        agent.destroy();
        resolve();
      } else one();
    };
    for (let i = 0; i < concurrency; i++) one();
  });
}

async function cpuRound(variant, sink) {
  sink.take();
  const app = startApp({ bin: NODE ?? process.execPath }, variant);
  try {
    await waitReady(30000);
    await wrk(WARMUP_S, false);
    const before = cpuTicks(app.proc.pid);
    const run = await wrk(DURATION_S, false);
    return ((cpuTicks(app.proc.pid) - before) * (1e6 / CLK_TCK)) / run.requests;
  } finally {
    await stop(app);
  }
}

/** Total instructions (Ir) of one run of the app serving a warm-up and then `count` requests. */
async function instructions(variant, count) {
  const dir = mkdtempSync(join(tmpdir(), 'per-request-'));
  const out = join(dir, 'callgrind.out');
  const proc = spawn('taskset', ['-c', '1', 'valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, NODE ?? process.execPath, ...variant.args, variant.script], {
    cwd: REPO,
    env: variant.env,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    await waitReady(300000);
    await fixedCount(REQUESTS);
    await fixedCount(count);
    // Valgrind writes its totals on a fatal signal too; ours flushes on SIGTERM first, in both runs alike.
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(out, 'utf8'));
    return Number(totals[1]);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const sink = await startSink();
  const chosen = selected(sink);
  const results = Object.fromEntries(chosen.map((v) => [v.id, []]));
  try {
    for (let round = 1; round <= PAIRS; round++) {
      for (const variant of chosen) {
        const value =
          MODE === 'callgrind'
            ? ((await instructions(variant, 2 * REQUESTS)) - (await instructions(variant, REQUESTS))) / REQUESTS
            : await cpuRound(variant, sink);
        results[variant.id].push(value);
        process.stderr.write(`round ${round} ${variant.id}: ${value.toFixed(MODE === 'callgrind' ? 0 : 1)}\n`);
      }
    }
  } finally {
    sink.close();
  }
  const unit = MODE === 'callgrind' ? 'instructions/request' : 'CPU µs/request';
  process.stdout.write(`node ${NODE ?? process.execPath}, ${unit}, ${PAIRS} rounds, medians\n`);
  for (const v of chosen) {
    const xs = results[v.id];
    const diff = results.A && v.id !== 'A' ? ` (+A: ${median(xs.map((x, i) => x - results.A[i])).toFixed(1)})` : '';
    process.stdout.write(`${v.id}: ${median(xs).toFixed(1)}${diff}  [${xs.map((x) => x.toFixed(1)).join(' ')}]  ${v.label}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});

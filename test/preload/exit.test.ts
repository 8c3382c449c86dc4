/**
 * A short-lived script (one outgoing request, then done) exits about as fast under the preload
 * as without it, whatever the collector does: refusing, it costs less than a second more;
 * blackholed, at most the exit budget (INNATURAL_EXIT_TIMEOUT_MS, 1 s) more than with a live one.
 * What could not be sent is one line. On this Node and on Node 24.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, parseLogLines, preloadArgs, sinkEnv, spawnApp, type Exit } from '../support/app';
import { nodeBinaries } from '../support/node-binaries';
import { startOtlpSink, type OtlpSink, type SinkMode } from '../support/otlp-sink';
import { startSentrySink, type SentrySink } from '../support/sentry-sink';

const BUDGET_MS = 1000;
/** The collector refusing: at most this much slower than without the preload. */
const REFUSED_EXTRA_MS = 1000;
/** Scheduling noise on a shared 2-core machine, on top of the budget. */
const SLACK_MS = 400;
const NOT_SENT = /^Telemetry not sent at exit: /;

interface Run {
  readonly ms: number;
  readonly exit: Exit;
  readonly stdout: string;
  readonly lines: Array<Record<string, unknown>>;
}

const { binaries, missing } = nodeBinaries();

describe('exit on time', () => {
  let sink: OtlpSink;
  let sentry: SentrySink;
  let target: Server;
  let targetUrl: string;

  before(async () => {
    sink = await startOtlpSink();
    sentry = await startSentrySink();
    target = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/`;
  });
  after(async () => {
    await sink?.close();
    await sentry?.close();
    await new Promise((resolve) => target?.close(resolve));
  });

  for (const why of missing) it(why, (t) => t.skip(why));

  for (const node of binaries) {
    describe(node.label, () => {
      async function run(preload: boolean, extra: Record<string, string> = {}): Promise<Run> {
        const env = { ...sinkEnv(sink, { OTEL_SERVICE_NAME: 'short-script', ...extra }), FIXTURE_TARGET_URL: targetUrl };
        const args = [...(preload ? preloadArgs('require') : []), join(FIXTURES, 'short-script.js')];
        const started = performance.now();
        const app = await spawnApp(node.path, args, { env, waitForPort: false, label: 'short-script' });
        const exit = await app.exited;
        return { ms: performance.now() - started, exit, stdout: app.stdout(), lines: parseLogLines(app.stderr()) };
      }
      /** The fastest of a few: a lower bound for "its time without the preload". */
      async function fastest(preload: boolean, extra: Record<string, string> = {}): Promise<Run> {
        const runs: Run[] = [];
        for (let i = 0; i < 3; i++) runs.push(await run(preload, extra));
        return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
      }
      async function inMode(mode: SinkMode, fn: () => Promise<void>): Promise<void> {
        await sink.setMode(mode);
        try {
          await fn();
        } finally {
          await sink.setMode('ok');
        }
      }
      const figures = (name: string, ours: Run, bare: Run, live?: Run) =>
        console.log(
          `# ${node.label} ${name}: ${Math.round(ours.ms)} ms, without the preload ${Math.round(bare.ms)} ms${live ? `, with a live collector ${Math.round(live.ms)} ms` : ''}`,
        );
      const notSent = (r: Run) => r.lines.filter((l) => NOT_SENT.test(String(l.message)));

      for (const [index, [shape, shapeEnv]] of ([
        ['one request, then done', {}],
        // The span batch is exported while the script still works: that export is under way at its end.
        ['one request, 600 ms more work, an export under way at the end', { FIXTURE_LINGER_MS: '600', OTEL_BSP_SCHEDULE_DELAY: '100' }],
      ] as const).entries()) {
        const service = `short-script-${index}-${node.label.replace(/\W/g, '')}`;
        const extra = { ...shapeEnv, OTEL_SERVICE_NAME: service };
        describe(shape, () => {
          let bare: Run;
          let live: Run;
          before(async () => {
            bare = await fastest(false, extra);
            live = await fastest(true, extra);
          });

          it('with a live collector: every span delivered, nothing reported lost, the script’s output and status unchanged', () => {
            assert.deepEqual(bare.exit, { code: 0, signal: null });
            assert.deepEqual(live.exit, bare.exit);
            assert.equal(live.stdout, bare.stdout);
            assert.equal(live.stdout, 'done 200\n');
            assert.deepEqual(notSent(live), []);
            const clientSpans = sink.spans.filter((s) => s.resource['service.name'] === service && s.kind === 3);
            assert.equal(clientSpans.length, 3, `one client span from each of the 3 runs: ${sink.spans.length} spans in all`);
          });

          it(`collector refusing: under ${REFUSED_EXTRA_MS} ms more than without the preload, one line counting the spans not sent`, async () => {
            await inMode('refuse', async () => {
              const ours = await run(true, extra);
              figures(`${shape}, refusing`, ours, bare);
              assert.deepEqual(ours.exit, bare.exit);
              assert.equal(ours.stdout, bare.stdout);
              assert.ok(ours.ms - bare.ms < REFUSED_EXTRA_MS, `${Math.round(ours.ms)} ms against ${Math.round(bare.ms)} ms`);
              const [line, ...more] = notSent(ours);
              assert.ok(line, JSON.stringify(ours.lines));
              assert.deepEqual(more, []);
              assert.equal(line.level, 'warn');
              assert.match(String(line.message), /^Telemetry not sent at exit: \d+ spans? \(.*ECONNREFUSED.*\); the exit flush waits at most 1000 ms \(INNATURAL_EXIT_TIMEOUT_MS\)$/);
              assert.ok(((line.unsent as { traces?: number }).traces ?? 0) >= 1, JSON.stringify(line));
              assert.deepEqual(
                ours.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message),
                [line.message],
                'no other warning: the outage line is the exit line',
              );
            });
          });

          it(`collector blackholed: at most the ${BUDGET_MS} ms budget more than with a live collector, one line`, async () => {
            await inMode('blackhole', async () => {
              const ours = await run(true, extra);
              figures(`${shape}, blackholed`, ours, bare, live);
              assert.deepEqual(ours.exit, bare.exit);
              assert.ok(ours.ms - live.ms < BUDGET_MS + SLACK_MS, `${Math.round(ours.ms)} ms against ${Math.round(live.ms)} ms with a live collector`);
              const [line, ...more] = notSent(ours);
              assert.ok(line, JSON.stringify(ours.lines));
              assert.deepEqual(more, []);
              assert.match(String(line.message), /^Telemetry not sent at exit: \d+ spans? \(no answer within 1000 ms\)/);
            });
          });
        });
      }

      it(`Sentry not answering: an error reported as the script ends costs at most the ${BUDGET_MS} ms budget more than a Sentry that answers`, async () => {
        const reporting = { FIXTURE_REPORT_ERROR: 'true', SENTRY_DSN: sentry.dsn, OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: 'reporting-script' };
        sentry.setMode('ok');
        const answered = await fastest(true, reporting);
        const delivered = sentry.events.filter((e) => JSON.stringify(e).includes('nightly job failed')).length;
        assert.ok(delivered >= 1, 'the error reached Sentry');
        sentry.setMode('slow');
        try {
          const ours = await run(true, reporting);
          console.log(`# ${node.label} Sentry answering in 5 s: ${Math.round(ours.ms)} ms, answering at once ${Math.round(answered.ms)} ms`);
          assert.deepEqual(ours.exit, { code: 0, signal: null });
          assert.ok(ours.ms - answered.ms < BUDGET_MS + SLACK_MS, `${Math.round(ours.ms)} ms against ${Math.round(answered.ms)} ms`);
          assert.ok(sentry.events.filter((e) => JSON.stringify(e).includes('nightly job failed')).length > delivered, 'sent before the exit');
        } finally {
          sentry.setMode('ok');
        }
      });

      it('INNATURAL_EXIT_TIMEOUT_MS bounds the wait for a blackholed collector', async () => {
        await inMode('blackhole', async () => {
          const short = await run(true, { INNATURAL_EXIT_TIMEOUT_MS: '200' });
          const long = await run(true, { INNATURAL_EXIT_TIMEOUT_MS: '2500' });
          console.log(`# ${node.label} blackholed: ${Math.round(short.ms)} ms with a 200 ms budget, ${Math.round(long.ms)} ms with 2500 ms`);
          assert.ok(long.ms - short.ms > 2000, `${Math.round(long.ms)} - ${Math.round(short.ms)} ms`);
          assert.match(String(notSent(short)[0]?.message), /no answer within 200 ms.*at most 200 ms/);
        });
      });
    });
  }
});

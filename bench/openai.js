'use strict';
/**
 * node bench/openai.js: what recording one openai call costs, upstream's instrumentation-openai
 * against ours (src/instrumentations/openai.ts), on openai 6 (the newest upstream covers), with
 * no network: the client's fetch answers from memory, so the difference is the instrumentation.
 * Each variant runs in its own process (the patch is per process), rounds interleaved; spans go
 * to a processor that only counts them, metrics and logs to the API's no-op providers.
 * A benchmark, never a test. BENCH_CALLS (default 4000) calls of each kind per round.
 */
const { execFileSync } = require('node:child_process');

const VARIANTS = ['none', 'upstream', 'ours'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 4000);

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour !' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});
const CHUNKS = [
  { id: 'c', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { role: 'assistant', content: 'Bon' }, finish_reason: null }] },
  { id: 'c', model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: 'jour' }, finish_reason: 'stop' }] },
  { id: 'c', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 } },
];
const SSE = `${CHUNKS.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;

async function child(variant) {
  const { metrics, trace } = require('@opentelemetry/api');
  const { TracerProvider } = require('@opentelemetry/sdk-trace');
  let spans = 0;
  const provider = new TracerProvider({ spanProcessors: [{ onStart() {}, onEnd: () => void spans++, forceFlush: async () => {}, shutdown: async () => {} }] });
  trace.setGlobalTracerProvider(provider);
  const Instrumentation = {
    upstream: () => require('@opentelemetry/instrumentation-openai').OpenAIInstrumentation,
    ours: () => require('../dist/src/instrumentations/openai').OpenAIInstrumentation,
  }[variant];
  if (Instrumentation) {
    const instrumentation = new (Instrumentation())();
    // As src/instrumentations/load.ts does: upstream's class fields wipe the instruments its base made.
    instrumentation.setMeterProvider(metrics.getMeterProvider());
    instrumentation.enable();
  }
  const OpenAI = require('openai');
  const fetch = async (url, init) => {
    const stream = JSON.parse(init.body).stream === true;
    return new Response(stream ? SSE : COMPLETION, { headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' } });
  };
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:1/v1', fetch, maxRetries: 0 });
  const messages = [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: 'Bonjour' }];
  const kinds = {
    plain: () => client.chat.completions.create({ model: 'gpt-4o-mini', messages }),
    stream: async () => {
      const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
    },
  };
  const out = {};
  for (const [kind, call] of Object.entries(kinds)) {
    for (let i = 0; i < 500; i++) await call();
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await call();
    out[kind] = Number(process.hrtime.bigint() - start) / 1000 / CALLS;
  }
  out.spans = spans;
  process.stdout.write(JSON.stringify(out));
}

/** openai's exports map has no ./package.json. */
function openaiVersion() {
  const { readFileSync } = require('node:fs');
  const { dirname, join } = require('node:path');
  return JSON.parse(readFileSync(join(dirname(require.resolve('openai')), 'package.json'), 'utf8')).version;
}

function parent() {
  const results = Object.fromEntries(VARIANTS.map((v) => [v, { plain: [], stream: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) {
      const out = JSON.parse(execFileSync(process.execPath, [__filename, variant], { encoding: 'utf8' }));
      results[variant].plain.push(out.plain);
      results[variant].stream.push(out.stream);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`openai ${openaiVersion()}, Node ${process.version}, ${CALLS} calls x ${ROUNDS} rounds, median µs per call`);
  console.log('variant    plain  (+cost)   stream (+cost)');
  for (const variant of VARIANTS) {
    const p = median(results[variant].plain);
    const s = median(results[variant].stream);
    const cost = (x, base) => (variant === 'none' ? '' : `(+${(x - base).toFixed(1)})`);
    console.log(
      `${variant.padEnd(9)} ${p.toFixed(1).padStart(6)} ${cost(p, median(results.none.plain)).padStart(8)} ${s.toFixed(1).padStart(8)} ${cost(s, median(results.none.stream)).padStart(8)}`,
    );
  }
}

if (process.argv[2]) child(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
else parent();

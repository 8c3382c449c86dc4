#!/usr/bin/env node
'use strict';
/**
 * How many spans a second one gateway core holds: the figure collector/README.md sizes the
 * gateway tier with. One gateway (collector/gateway.yaml as shipped: tail sampling at 10% with a
 * 10 s decision wait, span metrics, remote write) runs with GOMAXPROCS=1 pinned to CPU 1; an agent
 * (collector/otelcol.yaml) and a generator of four-span traces run on CPU 0 and send it a steady
 * rate. The figure is spans accepted per CPU second the gateway used (from /proc), at a rate it
 * keeps up with (nothing refused, CPU under one core).
 *
 *   npm run build && node collector/measure-gateway.js [spans/s ...]   (default 4000 8000 12000)
 *
 * Needs the built collector (npm run collector:build), Linux and taskset. Takes about a minute.
 */
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const path = require('node:path');

const support = require(path.join(__dirname, '..', 'dist', 'test', 'support', 'collector.js'));

const SECONDS = 15;
const CLOCK_TICKS = 100;

/** user + system CPU seconds of a process. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Answers every request 200 and keeps nothing: the tracing backend and the metrics store. */
async function discardServer() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function measure(spansPerSecond, sink) {
  const gateway = await support.startCollector(path.join(__dirname, 'gateway.yaml'), [], {
    OTELCOL_BACKEND_OTLP_ENDPOINT: sink.url,
    OTELCOL_REMOTE_WRITE_ENDPOINT: `${sink.url}/api/v1/write`,
    GOMAXPROCS: '1',
  }, { wrapper: ['taskset', '-c', '1'] });
  const agent = await support.startCollector(path.join(__dirname, 'otelcol.yaml'), [], {
    OTELCOL_GATEWAY_ENDPOINTS: gateway.otlpGrpc,
    OTELCOL_BACKEND_OTLP_ENDPOINT: gateway.otlpHttp,
  }, { wrapper: ['taskset', '-c', '0'] });
  try {
    const generator = new support.TraceGenerator(agent.otlpHttp);
    const tracesPerTick = Math.round(spansPerSecond / 4 / 10);
    // A few seconds to warm up, then the measured window.
    const run = async (ms) => {
      const start = Date.now();
      for (let tick = 0; Date.now() - start < ms; tick++) {
        await generator.send(Array.from({ length: tracesPerTick }, (_, i) => ({ durationMs: 5 + ((tick + i) % 40), error: (tick + i) % 100 === 0 })));
        const wait = start + (tick + 1) * 100 - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    await run(3000);
    const accepted0 = await support.telemetryValue(gateway, 'otelcol_receiver_accepted_spans');
    const cpu0 = cpuSeconds(gateway.proc.pid);
    const agentCpu0 = cpuSeconds(agent.proc.pid);
    const t0 = Date.now();
    await run(SECONDS * 1000);
    const elapsed = (Date.now() - t0) / 1000;
    const accepted = (await support.telemetryValue(gateway, 'otelcol_receiver_accepted_spans')) - accepted0;
    const cpu = cpuSeconds(gateway.proc.pid) - cpu0;
    const agentCpu = cpuSeconds(agent.proc.pid) - agentCpu0;
    const refused = await support.telemetryValue(gateway, 'otelcol_receiver_refused_spans');
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gateway.proc.pid}/status`, 'utf8'))[1]) / 1024;
    return {
      offered: spansPerSecond,
      received: Math.round(accepted / elapsed),
      cpuShare: cpu / elapsed,
      spansPerCpuSecond: Math.round(accepted / cpu),
      refused,
      rssMb: Math.round(rssMb),
      agentSpansPerCpuSecond: Math.round(accepted / agentCpu),
    };
  } finally {
    await agent.stop();
    await gateway.stop();
  }
}

(async () => {
  const rates = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const sink = await discardServer();
  try {
    console.log('offered spans/s | received spans/s | gateway CPU (cores) | gateway spans per CPU second | refused | gateway RSS MB | agent spans per CPU second');
    for (const rate of rates.length > 0 ? rates : [4000, 8000, 12000]) {
      const r = await measure(rate, sink);
      console.log(`${r.offered} | ${r.received} | ${r.cpuShare.toFixed(2)} | ${r.spansPerCpuSecond} | ${r.refused} | ${r.rssMb} | ${r.agentSpansPerCpuSecond}`);
    }
  } finally {
    await sink.close();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

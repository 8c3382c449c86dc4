'use strict';
// `npm start` / `npm run demo`: runs the example chatbot under the preload with sensible
// defaults and prints where to look. `--demo` also drives traffic for a while.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const REPO = join(__dirname, '..', '..');
const demo = process.argv.includes('--demo');

const env = { ...process.env };
const defaults = {
  PORT: '5000',
  INNATURAL_HEALTH_PORT: '9464',
  OTEL_SERVICE_NAME: 'innatural-chatbot',
  NODE_ENV: 'development',
  // Without a collector, exporting traces and logs would only produce "export failed" warnings.
  OTEL_TRACES_EXPORTER: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none',
  OTEL_LOGS_EXPORTER: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none',
};
for (const [key, value] of Object.entries(defaults)) if (env[key] === undefined) env[key] = value;

const child = spawn(process.execPath, ['--require', join(REPO, 'register.js'), join(__dirname, 'server.js')], {
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});

let appPort;
let healthPort;
let announced = false;
const announce = () => {
  if (announced || appPort === undefined || healthPort === undefined) return;
  announced = true;
  const health = `http://localhost:${healthPort}`;
  process.stdout.write(
    [
      '',
      'INnatural chatbot, instrumented by @innatural/otel',
      `  App:        http://localhost:${appPort}   (POST /api/chat {"sessionId","message","language"})`,
      `  Health:     ${health}/api/health`,
      `  Metrics:    ${health}/metrics`,
      `  Summary:    ${health}/api/metrics/summary`,
      `  Dashboard:  ${health}/dashboard`,
      demo ? '  Driving demo traffic...' : '  Try: npm run demo (drives traffic so every panel has data)',
      '',
    ].join('\n'),
  );
  if (demo) {
    const { drive } = require('./traffic');
    drive(`http://127.0.0.1:${appPort}`, Number(process.env.DEMO_DURATION_MS ?? 60_000)).then((n) =>
      process.stdout.write(`Demo traffic done: ${n} conversations. The app keeps running; Ctrl-C to stop.\n`),
    );
  }
};

let out = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk;
  const match = /listening (\d+)/.exec(out);
  if (match && appPort === undefined) {
    appPort = match[1];
    announce();
  }
});
// The health server's real port (0 asks for any) comes from the SDK's own log line.
let err = '';
child.stderr.setEncoding('utf8').on('data', (chunk) => {
  process.stderr.write(chunk);
  err += chunk;
  const match = /"message":"Health server listening"[^\n]*"port":(\d+)/.exec(err);
  if (match && healthPort === undefined) {
    healthPort = match[1];
    announce();
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});

'use strict';
/**
 * The in-process measurements (redaction, scrape serialization, recording), as one JSON line
 * on stdout: bench/run.js runs this under each Node version it benchmarks, pinned like the app.
 */
const { measureRedaction } = require('./redaction');
const { measureScrape } = require('./scrape');
const { measureRecording } = require('./record');

(async () => {
  const out = { node: process.version, redaction: measureRedaction(), scrape: await measureScrape(), record: measureRecording() };
  process.stdout.write(`${JSON.stringify(out)}\n`);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});

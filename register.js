'use strict';
// CommonJS preload: node --require @innatural/otel/register app.js
if (require('node:worker_threads').isMainThread) {
  try {
    require('./dist/preload.js').start();
  } catch (err) {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: `@innatural/otel failed to load: ${err && err.message}; the app runs uninstrumented` })}\n`,
    );
  }
}

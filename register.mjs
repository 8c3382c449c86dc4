// ESM preload: node --import @innatural/otel/register app.mjs
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  try {
    createRequire(import.meta.url)('./dist/preload.js').start({ esm: true });
  } catch (err) {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: `@innatural/otel failed to load: ${err && err.message}; the app runs uninstrumented` })}\n`,
    );
  }
}

'use strict';
/**
 * Required by tools/test.js into every test file's process (node --test passes its --require
 * on): a file still running INNATURAL_TEST_FILE_TIMEOUT_MS after it started says what holds
 * it and ends. From Node 24 on, --test-timeout bounds each test but not the file's process: a
 * child or a server a file leaves open after its last test kept the runner waiting for ever,
 * and with two cores it runs one file at a time, so every file queued behind was cancelled.
 * Node 20 and 22 end such a file at --test-timeout, which tools/test.js sets below this bound.
 */
const bound = Number(process.env.INNATURAL_TEST_FILE_TIMEOUT_MS);
// Only the file's own process: not the runner, not a fork of a fixture (it inherits the
// variables, and a fork inherits the --require too).
const file = process.argv[1] ?? '';
if (process.env.NODE_TEST_CONTEXT && /\.test\.[cm]?js$/.test(file) && bound > 0) {
  const timer = setTimeout(() => {
    const counts = new Map();
    for (const resource of process.getActiveResourcesInfo()) counts.set(resource, (counts.get(resource) ?? 0) + 1);
    const holding = [...counts].map(([resource, n]) => (n > 1 ? `${resource} x${n}` : resource));
    process.stderr.write(
      `tools/test.js: ${file} still runs ${Math.round(bound / 1000)} s after it started, the bound of a test file ` +
        `(INNATURAL_TEST_FILE_TIMEOUT_MS); ending it. Holding it open: ${holding.join(', ') || 'nothing'}\n`,
    );
    // 'exit' listeners run: test/support/children.ts kills the processes the file started.
    process.exit(1);
  }, bound);
  // A file that ends on its own is not held by its bound.
  timer.unref();
}

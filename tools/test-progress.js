'use strict';
/**
 * A node --test reporter for tools/test.js: one line when a test file starts and one when it
 * ends, so tools/test.js can name the files in progress when a run is stopped. The runner
 * reports each file as a test of nesting 0 named by its path (absolute on Node 20, relative to
 * the working directory from Node 22 on).
 *
 *   start <TAB> file
 *   end <TAB> file <TAB> pass|fail <TAB> ms
 */
const { resolve } = require('node:path');

const isFile = (data) => data.nesting === 0 && typeof data.file === 'string' && resolve(String(data.name)) === data.file;

module.exports = async function* progress(source) {
  for await (const { type, data } of source) {
    if (type === 'test:dequeue' && isFile(data)) yield `start\t${data.file}\n`;
    else if (type === 'test:complete' && isFile(data)) {
      yield `end\t${data.file}\t${data.details.passed ? 'pass' : 'fail'}\t${Math.round(data.details.duration_ms)}\n`;
    }
  }
};

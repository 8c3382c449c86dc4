'use strict';
// Helpers the benchmark files share.
const { randomBytes } = require('node:crypto');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Span ids of the W3C shape, sampled, as a server span's context gives them. */
function idPool(n) {
  return Array.from({ length: n }, () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 }));
}

module.exports = { median, idPool };

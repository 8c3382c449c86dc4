/**
 * Redactor.text cost: µs per KB on ordinary text, and the worst of the adversarial inputs the
 * ReDoS test uses. `node bench/redaction.js` alone, or as part of `npm run bench`.
 */
const { Redactor, MAX_SCAN } = require('../dist/src/redaction/policy');
const { ADVERSARIAL } = require('../dist/test/support/adversarial');

function usPerCall(f, minMs = 200) {
  f();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs * 1e6) {
    f();
    calls++;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return elapsed / calls / 1000;
}

function measureRedaction() {
  const r = new Redactor();
  const prose = 'Payment for order 88231 failed: upstream answered 502 after 1.2 s, retrying with backoff (attempt 2 of 5). '.repeat(80).slice(0, 8192);
  const logJson = JSON.stringify({ level: 'info', msg: 'login', user: 'alice', password: 'hunter2', items: Array.from({ length: 40 }, (_, i) => ({ id: i, sku: `A${i}` })) });
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
  const perKb = (s) => usPerCall(() => r.text(s)) / (s.length / 1024);
  let worst = { name: '', usPerKb: 0 };
  for (const [name, make] of Object.entries(ADVERSARIAL)) {
    const input = make(MAX_SCAN);
    const v = perKb(input);
    if (v > worst.usPerKb) worst = { name, usPerKb: v };
  }
  return {
    proseUsPerKb: perKb(prose),
    jsonUsPerKb: perKb(logJson),
    userAgentUs: usPerCall(() => r.text(ua)),
    worst,
    worstAtCapMs: (worst.usPerKb * MAX_SCAN) / 1024 / 1000,
  };
}

module.exports = { measureRedaction };

if (require.main === module) {
  const m = measureRedaction();
  process.stdout.write(
    `Redactor.text: ${m.proseUsPerKb.toFixed(1)} µs/KB prose, ${m.jsonUsPerKb.toFixed(1)} µs/KB JSON, ${m.userAgentUs.toFixed(2)} µs per user agent; ` +
      `worst adversarial input "${m.worst.name}" ${m.worst.usPerKb.toFixed(1)} µs/KB, ${m.worstAtCapMs.toFixed(1)} ms at the ${MAX_SCAN / 1024} KiB scan cap\n`,
  );
}

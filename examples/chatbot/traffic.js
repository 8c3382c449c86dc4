'use strict';
// Realistic traffic for the demo: conversations in three languages, feedback, product
// lookups, a flaky order service, bad input and a burst that trips the rate limit.

const MESSAGES = {
  ar: ['مرحبا', 'ما هو أفضل زيت للشعر؟', 'شكرا'],
  en: ['Hello', 'What is good for dry hair?', 'Thanks!'],
  fr: ['Bonjour', 'Quelle huile pour les cheveux secs ?', 'Merci'],
};

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(base, path, init) {
  try {
    const res = await fetch(base + path, init);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

const post = (base, path, body, headers = {}) =>
  call(base, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function conversation(base, n) {
  const language = pick(['ar', 'ar', 'en', 'fr']);
  const sessionId = `demo-${n}-${Math.random().toString(36).slice(2, 8)}`;
  // Each simulated visitor has its own address, as behind a load balancer.
  const headers = { 'x-forwarded-for': `10.0.0.${n % 250}` };
  for (const message of MESSAGES[language]) {
    await post(base, '/api/chat', { sessionId, message, language }, headers);
    await sleep(50 + Math.random() * 200);
  }
  await post(base, '/api/feedback', { type: pick(['positive', 'positive', 'negative', 'neutral']) });
}

/** Drives traffic for `durationMs`; returns the number of requests sent. */
async function drive(base, durationMs, concurrency = 4) {
  const end = Date.now() + durationMs;
  let n = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const i = n++;
      await conversation(base, i);
      await call(base, `/api/products/recommendations?category=${pick(['hair', 'skin', 'body'])}`);
      await call(base, `/api/users/${1 + (i % 20)}`);
      await call(base, `/api/orders/${1000 + i}`);
      if (i % 5 === 0) await post(base, '/api/chat', { message: '' });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // A burst from one client, over the limit.
  await Promise.all(Array.from({ length: 40 }, (_, i) => post(base, '/api/chat', { sessionId: 'burst', message: `hi ${i}`, language: 'en' })));
  return n;
}

module.exports = { drive };

if (require.main === module) {
  const base = process.argv[2] ?? 'http://127.0.0.1:5000';
  drive(base, Number(process.argv[3] ?? 30_000)).then((n) => process.stdout.write(`sent ${n} conversations\n`));
}

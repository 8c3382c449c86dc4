'use strict';
// The INnatural chatbot's shape: an Express 5 app with no monitoring code beyond the business
// calls of @innatural/otel. Run it under the preload: node --require ./register examples/chatbot/server.js
const express = require('express');
const OpenAI = require('openai');
const otel = require('../..');
const { startFakeLlm } = require('./fake-llm');
const { memoryStore, postgresStore } = require('./store');

const LANGUAGES = new Set(['ar', 'en', 'fr']);
const RATE_LIMIT = { windowMs: 10_000, max: 30 };
const SESSION_IDLE_MS = 5 * 60_000;
const BOOT_ID = Date.now().toString(36);

async function main() {
  let baseURL = process.env.OPENAI_BASE_URL;
  let apiKey = process.env.OPENAI_API_KEY;
  if (!apiKey) {
    ({ url: baseURL } = await startFakeLlm());
    apiKey = 'sk-local-fake';
  }
  const openai = new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 15_000 });
  const store = process.env.DATABASE_URL ? await postgresStore(process.env.DATABASE_URL) : memoryStore();
  const redis = process.env.REDIS_URL ? new (require('ioredis'))(process.env.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 }) : null;
  redis?.on('error', () => {}); // the health check reports Redis; a cache outage must not crash the chat

  const sessions = new Map();
  const touchSession = (id) => {
    if (!sessions.has(id)) otel.sessionStarted();
    sessions.set(id, Date.now());
  };
  setInterval(() => {
    for (const [id, seen] of sessions) {
      if (Date.now() - seen > SESSION_IDLE_MS) {
        sessions.delete(id);
        otel.sessionEnded();
      }
    }
  }, 30_000).unref();

  const hits = new Map();
  const rateLimit = (req, res, next) => {
    const key = req.ip;
    const now = Date.now();
    const recent = (hits.get(key) ?? []).filter((t) => now - t < RATE_LIMIT.windowMs);
    recent.push(now);
    hits.set(key, recent);
    if (recent.length > RATE_LIMIT.max) return res.status(429).json({ error: 'Too many requests, slow down' });
    next();
  };

  const app = express();
  app.use(express.json({ limit: '32kb' }));

  app.post('/api/chat', rateLimit, async (req, res, next) => {
    try {
      const { sessionId, message, language = 'en' } = req.body ?? {};
      if (typeof sessionId !== 'string' || typeof message !== 'string' || message.trim() === '' || !LANGUAGES.has(language)) {
        otel.recordValidationError('/api/chat');
        return res.status(400).json({ error: 'sessionId, message and language (ar, en, fr) are required' });
      }
      touchSession(sessionId);
      otel.trackChatMessage('user', language);
      await store.add(sessionId, 'user', message);

      // Per process start: a fresh demo run asks the LLM again instead of replaying the last run's cache.
      const cacheKey = `chat:${BOOT_ID}:${language}:${message.trim().toLowerCase()}`;
      let reply = redis ? await redis.get(cacheKey).catch(() => null) : null;
      if (!reply) {
        const history = await store.history(sessionId);
        const completion = await openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'system', content: 'You are INnatural’s beauty advisor.' }, ...history],
        });
        reply = completion.choices[0].message.content;
        await redis?.set(cacheKey, reply, 'EX', 60).catch(() => {});
      }
      await store.add(sessionId, 'assistant', reply);
      otel.trackChatMessage('assistant', language);
      res.json({ reply });
    } catch (err) {
      next(err);
    }
  });

  app.post('/api/feedback', (req, res) => {
    const type = ['positive', 'negative', 'neutral'].includes(req.body?.type) ? req.body.type : null;
    if (!type) {
      otel.recordValidationError('/api/feedback');
      return res.status(400).json({ error: 'type must be positive, negative or neutral' });
    }
    otel.recordUserFeedback(type);
    res.json({ ok: true });
  });

  const PRODUCTS = { hair: ['Argan oil', 'Shea mask'], skin: ['Rose water', 'Aloe gel'], body: ['Black soap'] };
  app.get('/api/products/recommendations', (req, res) => {
    const category = Object.hasOwn(PRODUCTS, req.query.category) ? req.query.category : 'hair';
    otel.recordProductRecommendation(category);
    res.json({ category, products: PRODUCTS[category] });
  });

  app.get('/api/users/:id', (req, res) => res.json({ id: req.params.id, name: `User ${req.params.id}` }));

  // An order service that fails now and then, so errors show up on the dashboards.
  app.get('/api/orders/:id', (req, res) => {
    if (Number(req.params.id) % 7 === 0 || Math.random() < 0.1) throw new Error('Order service unavailable');
    res.json({ id: req.params.id, status: 'shipped' });
  });

  app.use((err, req, res, next) => {
    res.status(err.status ?? 500).json({ error: err.status && err.status < 500 ? err.message : 'Internal error' });
  });

  const server = app.listen(Number(process.env.PORT ?? 5000), process.env.HOST ?? '0.0.0.0', () => {
    process.stdout.write(`listening ${server.address().port} (store: ${store.kind}, cache: ${redis ? 'redis' : 'none'}, llm: ${baseURL})\n`);
  });
  process.on('SIGTERM', () => server.close(() => redis?.disconnect()));
}

main().catch((err) => {
  process.stderr.write(`chatbot failed to start: ${err.message}\n`);
  process.exitCode = 1;
});

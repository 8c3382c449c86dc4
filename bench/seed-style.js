'use strict';
// Variant B: the seed document's own setup, by hand: prom-client histogram + counter
// middleware, response-time, and /metrics on the app's port.
const express = require('express');
const client = require('prom-client');
const responseTime = require('response-time');

client.collectDefaultMetrics();
const duration = new client.Histogram({
  name: 'innatural_chatbot_http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.1, 0.5, 1, 2, 5, 10],
});
const total = new client.Counter({
  name: 'innatural_chatbot_http_requests_total',
  help: 'Total number of HTTP requests',
  labelNames: ['method', 'route', 'status_code'],
});

const app = express();
app.use(responseTime());
app.use((req, res, next) => {
  const end = duration.startTimer();
  res.on('finish', () => {
    const labels = { method: req.method, route: req.route ? req.baseUrl + req.route.path : 'unmatched', status_code: res.statusCode };
    end(labels);
    total.inc(labels);
  });
  next();
});
app.get('/metrics', async (req, res) => {
  res.set('Content-Type', client.register.contentType);
  res.end(await client.register.metrics());
});
app.get('/api/users/:id', (req, res) => {
  res.json({ id: req.params.id, name: 'Ada', roles: ['admin'] });
});
const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

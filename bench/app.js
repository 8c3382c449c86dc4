'use strict';
// The benchmark app: one Express 5 route returning small JSON. Prints "listening <port>".
const express = require('express');

const app = express();
app.get('/api/users/:id', (req, res) => {
  res.json({ id: req.params.id, name: 'Ada', roles: ['admin'] });
});
const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

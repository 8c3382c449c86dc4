'use strict';
// Conversations: PostgreSQL when DATABASE_URL is set, an in-process store otherwise.

function memoryStore() {
  const bySession = new Map();
  return {
    kind: 'memory',
    async add(sessionId, role, content) {
      const list = bySession.get(sessionId) ?? [];
      list.push({ role, content });
      bySession.set(sessionId, list.slice(-50));
    },
    async history(sessionId) {
      return (bySession.get(sessionId) ?? []).slice(-10);
    },
  };
}

async function postgresStore(url) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url, max: 5 });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS chatbot_messages (
       id bigserial PRIMARY KEY, session_id text NOT NULL, role text NOT NULL,
       content text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  return {
    kind: 'postgresql',
    async add(sessionId, role, content) {
      await pool.query('INSERT INTO chatbot_messages (session_id, role, content) VALUES ($1, $2, $3)', [sessionId, role, content]);
    },
    async history(sessionId) {
      const { rows } = await pool.query(
        'SELECT role, content FROM chatbot_messages WHERE session_id = $1 ORDER BY id DESC LIMIT 10',
        [sessionId],
      );
      return rows.reverse();
    },
  };
}

module.exports = { memoryStore, postgresStore };

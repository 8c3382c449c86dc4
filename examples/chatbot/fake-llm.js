'use strict';
// A small OpenAI-compatible endpoint on loopback, so the example works with no API key and
// no internet: canned replies, token usage, and now and then a slow answer.
const http = require('node:http');

const REPLIES = {
  ar: ['مرحبا! كيف يمكنني مساعدتك اليوم؟', 'أنصحك بزيت الأرغان للشعر الجاف.'],
  en: ['Hello! How can I help you today?', 'Argan oil works well for dry hair.'],
  fr: ['Bonjour ! Comment puis-je vous aider ?', "L'huile d'argan convient aux cheveux secs."],
};

function startFakeLlm() {
  let served = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const request = JSON.parse(body || '{}');
      const prompt = String(request.messages?.at(-1)?.content ?? '');
      const language = /[\u0600-\u06FF]/.test(prompt) ? 'ar' : /\b(le|la|les|bonjour|cheveux)\b/i.test(prompt) ? 'fr' : 'en';
      const content = REPLIES[language][served++ % 2];
      const slow = Math.random() < 0.1 ? 800 + Math.random() * 1700 : 40 + Math.random() * 160;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: `chatcmpl-${served}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: request.model ?? 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 8 + prompt.length, completion_tokens: content.length, total_tokens: 8 + prompt.length + content.length },
          }),
        );
      }, slow);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve({ url: `http://127.0.0.1:${server.address().port}/v1`, server });
    });
  });
}

module.exports = { startFakeLlm };

/**
 * Packages the app finds the way Node finds them, not only in a node_modules folder above it:
 * an app in a temporary folder, outside the repository's node_modules tree, whose express
 * comes only through NODE_PATH (global installs, some base images). Its route spans and
 * metrics must be there, as they are for an app with express next to it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { preloadArgs, REPO, sinkEnv, spawnApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

const APP = `'use strict';
const express = require('express');
const app = express();
app.get('/api/users/:id', (req, res) => res.json({ id: req.params.id, express: require.resolve('express') }));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;

describe('NODE_PATH: an app whose express is found only there', () => {
  let sink: OtlpSink;
  let app: RunningApp;
  let root: string;
  let globalModules: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'innatural-node-path-'));
    // A global folder as npm's prefix lays it out; express links to the repository's copy, whose
    // own dependencies resolve from its real path.
    globalModules = join(root, 'global', 'lib', 'node_modules');
    mkdirSync(globalModules, { recursive: true });
    symlinkSync(join(REPO, 'node_modules', 'express'), join(globalModules, 'express'), 'dir');
    mkdirSync(join(root, 'app'));
    writeFileSync(join(root, 'app', 'package.json'), JSON.stringify({ name: 'node-path-app', version: '1.0.0' }));
    writeFileSync(join(root, 'app', 'server.js'), APP);
    sink = await startOtlpSink();
    app = await spawnApp(process.execPath, [...preloadArgs('require'), join(root, 'app', 'server.js')], {
      cwd: join(root, 'app'),
      env: sinkEnv(sink, { NODE_PATH: globalModules, OTEL_SERVICE_NAME: 'node-path' }),
      label: 'node-path app',
    });
  });

  after(async () => {
    app?.kill();
    await sink?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('express is loaded through NODE_PATH, not from a node_modules folder above the app', async () => {
    const body = (await (await app.get('/api/users/7')).json()) as { express: string };
    assert.equal(body.express, join(REPO, 'node_modules', 'express', 'index.js'), 'Node resolved it through the NODE_PATH link');
    assert.ok(!join(root, 'app').startsWith(REPO));
  });

  it('the start line loads express and does not list it as not installed', () => {
    const line = app.logLines().find((l) => l.message === '@innatural/otel started')!;
    assert.ok(line, app.stderr());
    const loaded = [...(line.instrumentations as string[]), ...(line.deferred as string[])];
    assert.ok(loaded.includes('express'), JSON.stringify(line));
    assert.ok(!(line.notInstalled as string[]).includes('express'), JSON.stringify(line.notInstalled));
  });

  it('route spans: the server span has http.route and one request handler span under it', async () => {
    await (await app.get('/api/users/8')).arrayBuffer();
    const server = await sink.waitFor(() =>
      sink.spans.find((s) => s.resource['service.name'] === 'node-path' && s.kind === 2 && s.attributes['url.path'] === '/api/users/8'),
    );
    assert.equal(server.attributes['http.route'], '/api/users/:id');
    assert.equal(server.name, 'GET /api/users/:id');
    const handler = await sink.waitFor(() => sink.spans.find((s) => s.parentSpanId === server.spanId && s.attributes['express.type'] === 'request_handler'));
    assert.equal(handler.name, 'request handler - /api/users/:id');
  });
});

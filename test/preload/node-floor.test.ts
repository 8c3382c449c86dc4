/**
 * Below the 3.x line's Node floor (22.15): the preload starts nothing, says so in one line
 * naming the fix, and the app runs. Run on a Node of PATH older than the floor (these machines
 * have Node 20 as `node`); skipped where there is none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { NODE_FLOOR, unsupportedNode } from '../../src/start';
import { REPO } from '../support/app';

function olderNode(): { bin: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(dir, 'node');
    if (!existsSync(bin)) continue;
    const version = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
    if (version && unsupportedNode(version)) return { bin, version };
  }
  return undefined;
}

describe(`Node below ${NODE_FLOOR.join('.')}`, () => {
  it('the one line names the floor, the version and both fixes', () => {
    assert.equal(unsupportedNode('22.15.0'), undefined);
    assert.equal(unsupportedNode('24.0.0'), undefined);
    assert.equal(
      unsupportedNode('20.20.2'),
      '@innatural/otel needs Node 22.15 or later (it is built on OpenTelemetry JS 3.x); this is Node 20.20.2, so the app runs uninstrumented. ' +
        'Upgrade Node, or on Node 20 use the 0.1 line: npm install @innatural/otel@^0.1',
    );
    assert.ok(unsupportedNode('22.14.0'));
  });

  const older = olderNode();
  it(`under the real preload on ${older ? `Node ${older.version}` : 'an older Node (none on PATH)'}: one error line, nothing started, the script runs to its end`, { skip: older ? false : 'no Node older than the floor on PATH' }, () => {
    const run = spawnSync(older!.bin, ['--require', join(REPO, 'register.js'), '-e', 'setTimeout(() => console.log("app ran"), 50)'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', INNATURAL_HEALTH_PORT: '0' },
      timeout: 20_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'app ran\n');
    const lines = run.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; message: string });
    assert.deepEqual(lines.map((l) => [l.level, l.message]), [['error', unsupportedNode(older!.version)]]);
  });
});

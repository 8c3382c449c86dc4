import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { renderMetricsDoc } from '../../src/metrics/docs';
import { REPO } from '../support/app';

it('docs/metrics.md is the catalog as generated (npm run docs:metrics)', () => {
  assert.equal(readFileSync(join(REPO, 'docs', 'metrics.md'), 'utf8'), renderMetricsDoc());
});

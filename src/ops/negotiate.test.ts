import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsGzip, scrapeFormat } from './negotiate';

/** Prometheus 2.42's scrape Accept header. */
const PROMETHEUS =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('scrapeFormat', () => {
  it("answers Prometheus' default Accept with OpenMetrics", () => {
    assert.equal(scrapeFormat(PROMETHEUS), 'openmetrics');
    assert.equal(scrapeFormat('application/openmetrics-text'), 'openmetrics');
  });

  it('answers 0.0.4 to a 0.0.4-only scraper, no header, */* and unknown types', () => {
    for (const accept of [undefined, '', 'text/plain;version=0.0.4', 'text/plain', '*/*', 'application/json', 'text/html,application/xhtml+xml']) {
      assert.equal(scrapeFormat(accept), 'text', String(accept));
    }
  });

  it('follows q-values, and ranks a wildcard below a named type at the same q', () => {
    assert.equal(scrapeFormat('text/plain;q=0.9,application/openmetrics-text;q=0.91'), 'openmetrics');
    assert.equal(scrapeFormat('application/openmetrics-text;q=0.5,text/plain;version=0.0.4'), 'text');
    assert.equal(scrapeFormat('*/*,application/openmetrics-text'), 'openmetrics');
    assert.equal(scrapeFormat('application/openmetrics-text;q=0,text/plain;q=0'), 'text');
    assert.equal(scrapeFormat('application/openmetrics-text;version=2.0.0'), 'text');
  });

  it('gets one of the two formats for hostile headers: 10 KB, garbage, a q-value war', () => {
    const war = Array.from({ length: 500 }, (_, i) => `application/openmetrics-text;q=0.${i % 10}${i % 7},text/plain;q=0.${i % 9}`).join(',');
    const hostile = ['x'.repeat(10_000), ';;;,,,==;q=;q=2,q', `${'a/b;'.repeat(2500)}`, war, '\u0000\uffff,;q=NaN', 'application/openmetrics-text;q=1e9'];
    for (const accept of hostile) assert.ok(['text', 'openmetrics'].includes(scrapeFormat(accept)));
    assert.equal(scrapeFormat('application/openmetrics-text;q=1e9'), 'text');
  });
});

describe('acceptsGzip', () => {
  it('reads gzip, x-gzip, * and q=0', () => {
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('deflate, gzip;q=0.5'), true);
    assert.equal(acceptsGzip('x-gzip'), true);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('gzip;q=0, *'), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('x'.repeat(10_000)), false);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AiLedger } from './ai-ledger';

const T = 1_700_000_000_000;

describe('AiLedger.claim', () => {
  it('matches by model and time window', () => {
    const l = new AiLedger();
    l.add(['gpt-4o'], T + 100, T + 900);
    assert.equal(l.claim('gpt-4o', T, T + 1000), true);
  });

  it('does not match another model', () => {
    const l = new AiLedger();
    l.add(['gpt-4o'], T + 100, T + 900);
    assert.equal(l.claim('gpt-4o-mini', T, T + 1000), false);
    assert.equal(l.claim('gpt-4o', T, T + 1000), true);
  });

  it('does not match a call that started before the caller started (beyond 1 ms)', () => {
    const l = new AiLedger();
    l.add(['m'], T - 2, T + 500);
    assert.equal(l.claim('m', T, T + 1000), false);
  });

  it('allows 1 ms of rounding at both ends', () => {
    const l = new AiLedger();
    l.add(['m'], T - 1, T + 1001);
    assert.equal(l.claim('m', T, T + 1000), true);
  });

  it('does not match a call that ended after the caller reported (beyond 1 ms)', () => {
    const l = new AiLedger();
    l.add(['m'], T + 10, T + 1002);
    assert.equal(l.claim('m', T, T + 1000), false);
  });

  it('claims each entry once', () => {
    const l = new AiLedger();
    l.add(['m'], T + 10, T + 20);
    assert.equal(l.claim('m', T, T + 100), true);
    assert.equal(l.claim('m', T, T + 100), false);
  });

  it('two calls are two claims', () => {
    const l = new AiLedger();
    l.add(['m'], T + 10, T + 20);
    l.add(['m'], T + 30, T + 40);
    assert.equal(l.claim('m', T, T + 100), true);
    assert.equal(l.claim('m', T, T + 100), true);
    assert.equal(l.claim('m', T, T + 100), false);
  });

  it('matches the request-model alias as well as the response model, but only once in total', () => {
    const l = new AiLedger();
    l.add(['gpt-4o-2024-08-06', 'gpt-4o'], T + 10, T + 20);
    assert.equal(l.claim('gpt-4o', T, T + 100), true);
    assert.equal(l.claim('gpt-4o-2024-08-06', T, T + 100), false);
  });

  it('drops entries that ended 60 s or more before now', () => {
    const l = new AiLedger();
    l.add(['m'], T + 10, T + 20);
    assert.equal(l.claim('m', T, T + 20 + 60_000), false);
    const l2 = new AiLedger();
    l2.add(['m'], T + 10, T + 20);
    assert.equal(l2.claim('m', T, T + 20 + 59_999), true);
  });

  it('a dropped entry stays dropped', () => {
    const l = new AiLedger();
    l.add(['m'], T + 10, T + 20);
    assert.equal(l.claim('other', T, T + 70_000), false);
    // even a claim with an earlier "now" no longer sees it
    assert.equal(l.claim('m', T, T + 100), false);
  });

  it('is bounded: the oldest half is dropped once 1024 entries are held', () => {
    const l = new AiLedger();
    for (let i = 0; i < 1025; i++) l.add([`m${i}`], T + 10, T + 20);
    assert.equal(l.claim('m0', T, T + 100), false);
    assert.equal(l.claim('m511', T, T + 100), false);
    assert.equal(l.claim('m512', T, T + 100), true);
    assert.equal(l.claim('m1023', T, T + 100), true);
    assert.equal(l.claim('m1024', T, T + 100), true);
  });

  it('stays bounded under many adds', () => {
    const l = new AiLedger();
    for (let i = 0; i < 100_000; i++) l.add(['m'], T + 10, T + 20);
    const held = (l as unknown as { entries: unknown[] }).entries.length;
    assert.ok(held <= 1024, `held ${held}`);
    let claims = 0;
    // bounded loop: a ledger that never marks entries claimed must fail here, not hang
    for (let i = 0; i < 5000 && l.claim('m', T, T + 100); i++) claims++;
    assert.ok(claims > 0 && claims <= 1024, `claims ${claims}`);
  });

  it('matches nothing when empty', () => {
    assert.equal(new AiLedger().claim('m', T, T + 1), false);
  });
});

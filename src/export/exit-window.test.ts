import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitWindow } from './exit-window';

/** Our timers never hold the event loop, the test runner's process included: hold it while waiting. */
function held<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  return promise.finally(() => clearInterval(hold));
}

describe('ExitWindow', () => {
  it('counts failures only while open, with the last cause', () => {
    const exit = new ExitWindow();
    exit.begin('traces', 5)('refused before exit');
    exit.open(1000);
    exit.begin('traces', 2)('connect ECONNREFUSED');
    exit.begin('logs', 1)('connect ECONNREFUSED 127.0.0.1:4318');
    exit.begin('traces', 9)();
    const { unsent, cause } = exit.close();
    assert.deepEqual(Object.fromEntries(unsent), { traces: 2, logs: 1 });
    assert.equal(cause, 'connect ECONNREFUSED 127.0.0.1:4318');
  });

  it('exports still under way when it closes are unsent, those begun before it opened included', () => {
    const exit = new ExitWindow();
    exit.begin('traces', 3);
    exit.open(250);
    exit.begin('metrics', 7);
    const { unsent, cause } = exit.close();
    assert.deepEqual(Object.fromEntries(unsent), { traces: 3, metrics: 7 });
    assert.equal(cause, 'no answer within 250 ms');
  });

  it('closing a window that is not open reports nothing', () => {
    const exit = new ExitWindow();
    exit.begin('traces', 3);
    assert.equal(exit.close().unsent.size, 0);
  });

  it('idle() resolves when the last export under way ends', async () => {
    const exit = new ExitWindow();
    const endA = exit.begin('traces', 1);
    const endB = exit.begin('traces', 1);
    let idle = false;
    const waiting = exit.idle().then(() => (idle = true));
    endA();
    await new Promise((r) => setImmediate(r));
    assert.equal(idle, false);
    endB('failed');
    await waiting;
    assert.equal(idle, true);
  });

  it('a sleep is cut short when the window opens; once open, it does not wait at all', async () => {
    const exit = new ExitWindow();
    const started = Date.now();
    const sleeping = exit.sleep(60_000);
    setTimeout(() => exit.open(100), 20);
    assert.equal(await held(sleeping), 'exiting');
    assert.ok(Date.now() - started < 1000);
    assert.equal(await exit.sleep(60_000), 'exiting');
    exit.close();
    assert.equal(await held(exit.sleep(5)), 'slept');
  });

  it('remaining() is what is left of the budget, Infinity when closed', () => {
    const exit = new ExitWindow();
    assert.equal(exit.remaining(), Infinity);
    exit.open(500);
    assert.ok(exit.remaining() <= 500 && exit.remaining() > 400);
    exit.close();
    assert.equal(exit.remaining(), Infinity);
  });

  it('openedSince: open at the mark, open now, or opened and closed in between', () => {
    const exit = new ExitWindow();
    const before = exit.mark();
    assert.equal(exit.openedSince(before), false);
    exit.open(100);
    assert.equal(exit.openedSince(before), true);
    const during = exit.mark();
    exit.close();
    assert.equal(exit.openedSince(during), true, 'an export begun inside the window never retries after it');
    assert.equal(exit.openedSince(before), true);
    const after = exit.mark();
    assert.equal(exit.openedSince(after), false);
  });
});

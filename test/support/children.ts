/**
 * Every process a test starts through the helpers is killed when that test ends (passed,
 * failed or timed out), or, if a hook started it, when the file ends; and all of them when
 * the file's process exits or is told to stop. A child left running holds the file's process
 * open by its pipes, and the runner then waits on that file for ever (issue 30: a cluster
 * primary that never said "listening" held a CI run for 35 minutes).
 */
import type { ChildProcess } from 'node:child_process';
import { after, afterEach, beforeEach } from 'node:test';

interface Child {
  readonly proc: ChildProcess;
  /** Killed as a process group: a launcher's children (npm's shell, the app) die with it. */
  readonly group: boolean;
}

const live = new Set<Child>();
/** Started while a test (not a hook) ran: killed when that test ends. */
const ofTest = new Set<Child>();
/** Tests under way; subtests count too, and their children are the outermost test's. */
let running = 0;

export function killChild({ proc, group }: Child, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (group) {
    try {
      process.kill(-proc.pid!, signal);
    } catch {
      // the group is gone already
    }
  } else if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
}

/** Registers a child for the kills above; a child that has exited is forgotten (a group is kept: its members may outlive its leader). */
export function adopt(proc: ChildProcess, group = false): Child {
  const child: Child = { proc, group };
  if (proc.pid === undefined) return child;
  live.add(child);
  if (running > 0) ofTest.add(child);
  if (!group) {
    proc.once('exit', () => {
      live.delete(child);
      ofTest.delete(child);
    });
  }
  return child;
}

function killAll(children: Set<Child>): void {
  for (const child of children) {
    killChild(child);
    live.delete(child);
  }
  children.clear();
}

beforeEach(() => {
  running++;
});
afterEach(() => {
  running = Math.max(0, running - 1);
  if (running === 0) killAll(ofTest);
});
after(() => killAll(live));
// The runner stops a file that outlives --test-timeout with SIGTERM (Node 20 and 22), and a
// run that is interrupted with SIGINT: neither lets after() run.
process.on('exit', () => killAll(live));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll(live);
    process.kill(process.pid, signal);
  });
}

import type { Signal } from '../config/resolve';

interface InFlight {
  readonly signal: Signal;
  readonly count: number;
}

/**
 * The last flush, when the app's work is done (beforeExit), has a budget of its own: the
 * transports read the window to send each attempt once, bounded by what is left of it, and
 * to give up on a pending retry; the exporters record what they could not send, counted in
 * one line when it closes. Outside the window exports retry as the OTLP exporters do.
 */
export class ExitWindow {
  private deadline: number | undefined;
  private budgetMs = 0;
  private opened = 0;
  private readonly waking = new Set<() => void>();
  private readonly inFlight = new Set<InFlight>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly unsent = new Map<Signal, number>();
  private cause: string | undefined;

  get isOpen(): boolean {
    return this.deadline !== undefined;
  }

  /** A mark to pass to openedSince: how many times the window has opened, or -1 while it is open. */
  mark(): number {
    return this.isOpen ? -1 : this.opened;
  }

  /**
   * The window was open when `mark` was taken, is open now, or opened and closed in between:
   * an export under way at the last flush must not start its retries over once it is done.
   */
  openedSince(mark: number): boolean {
    return mark === -1 || this.isOpen || this.opened !== mark;
  }

  /** Milliseconds left in the window; Infinity while it is closed. */
  remaining(): number {
    return this.deadline === undefined ? Infinity : Math.max(0, this.deadline - Date.now());
  }

  open(budgetMs: number): void {
    this.deadline = Date.now() + budgetMs;
    this.budgetMs = budgetMs;
    this.opened++;
    this.unsent.clear();
    this.cause = undefined;
    for (const wake of [...this.waking]) wake();
  }

  /**
   * Closes the window; what could not be sent during it, by signal, with the last cause.
   * Exports still under way are counted too: the process ends without their answer.
   */
  close(): { readonly unsent: ReadonlyMap<Signal, number>; readonly cause: string | undefined } {
    if (this.deadline === undefined) return { unsent: new Map(), cause: undefined };
    for (const { signal, count } of this.inFlight) this.recordUnsent(signal, count, `no answer within ${this.budgetMs} ms`);
    this.deadline = undefined;
    return { unsent: new Map(this.unsent), cause: this.cause };
  }

  /** An export of `count` items starts; call the result when it ends, with the cause when it failed. */
  begin(signal: Signal, count: number): (failure?: string) => void {
    const entry: InFlight = { signal, count };
    this.inFlight.add(entry);
    return (failure) => {
      if (!this.inFlight.delete(entry)) return;
      if (failure !== undefined) this.recordUnsent(signal, count, failure);
      if (this.inFlight.size === 0) for (const wake of [...this.idleWaiters]) wake();
    };
  }

  /**
   * Resolves once no export is under way. A flush exports what is queued but does not wait
   * for an export started before it: at exit that one is the app's last data too.
   */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.idleWaiters.delete(wake);
        resolve();
      };
      this.idleWaiters.add(wake);
    });
  }

  /** Recorded only while the window is open: before it, a failure was reported the usual way. */
  recordUnsent(signal: Signal, count: number, cause: string): void {
    if (!this.isOpen || count <= 0) return;
    this.unsent.set(signal, (this.unsent.get(signal) ?? 0) + count);
    this.cause = cause;
  }

  /**
   * Waits `ms`, or less when the window opens meanwhile: a retry pending when the app's work
   * ends is not waited for. The timer never holds the event loop.
   */
  sleep(ms: number): Promise<'slept' | 'exiting'> {
    if (this.isOpen) return Promise.resolve('exiting');
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waking.delete(wake);
        resolve('exiting');
      };
      const timer = setTimeout(() => {
        this.waking.delete(wake);
        resolve('slept');
      }, ms);
      timer.unref();
      this.waking.add(wake);
    });
  }
}

/** One per process: every exporter the preload builds reads it, the beforeExit flush opens it. */
export const exitWindow = new ExitWindow();

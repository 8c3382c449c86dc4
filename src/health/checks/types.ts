export type CheckStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One entry of `/api/health`'s `services`. Extra keys are allowed and shown as they are. */
export interface CheckResult {
  readonly status: CheckStatus;
  readonly connected?: boolean;
  /** Milliseconds, an integer. */
  readonly responseTime?: number;
  readonly message?: string;
  readonly [key: string]: unknown;
}

/** Must settle; the caller also applies its own timeout and passes an AbortSignal that fires at it. */
export interface CheckFn {
  (signal: AbortSignal): Promise<CheckResult>;
  /**
   * Loads what the first run needs (a driver module) ahead of it: a synchronous require
   * inside the first probe would stall the app's event loop while it serves traffic.
   */
  readonly prepare?: () => void;
}

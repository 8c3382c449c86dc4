/** What the doctor reports, and how that becomes an exit status CI pipelines can gate on. */
export type Level = 'ok' | 'warn' | 'error';

export interface Finding {
  readonly level: Level;
  /** What was looked at: a variable's name, or a check such as `otlp traces`. */
  readonly subject: string;
  readonly message: string;
}

/** 0 all good, 1 warnings only, 2 at least one error. */
export function exitStatus(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.level === 'error')) return 2;
  if (findings.some((f) => f.level === 'warn')) return 1;
  return 0;
}

/**
 * An error's class name as a metric label (`TypeError`), or undefined: only a plain,
 * bounded identifier, since error names are set by code we do not control.
 */
export function errorClassName(error: unknown): string | undefined {
  const name = error instanceof Error ? error.name : undefined;
  return typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : undefined;
}

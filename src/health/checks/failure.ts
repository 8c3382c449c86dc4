import { describeError } from '../../logging/logger';
import { REDACTED } from '../../redaction/policy';

/** What a failed connection says, for a check's message. */
export function errorText(err: unknown): string {
  // A host name with several addresses fails with an AggregateError whose own message is empty.
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0) {
    return err.errors.map(describeError).join('; ');
  }
  return describeError(err);
}

/** The URL's secrets out of a message that may echo them. */
export function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  // Longest first: the URL contains the password.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

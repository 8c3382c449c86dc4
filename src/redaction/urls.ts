/**
 * URLs whose path is the credential: whoever holds a Slack or Discord webhook URL can post
 * as the app. `keep` path segments stay (they name the workspace and channel), the rest goes.
 */
interface SecretPathShape {
  readonly host: RegExp;
  readonly prefix: string;
  readonly keep: number;
}

export const SECRET_PATH_SHAPES: readonly SecretPathShape[] = [
  { host: /(^|\.)hooks\.slack\.com$/i, prefix: '/services/', keep: 3 },
  { host: /(^|\.)hooks\.slack\.com$/i, prefix: '/workflows/', keep: 2 },
  { host: /(^|\.)hooks\.slack\.com$/i, prefix: '/triggers/', keep: 2 },
  { host: /(^|\.)discord(app)?\.com$/i, prefix: '/api/webhooks/', keep: 3 },
  { host: /(^|\.)webhook\.office\.com$/i, prefix: '/webhookb2/', keep: 1 },
  { host: /(^|\.)hooks\.zapier\.com$/i, prefix: '/hooks/catch/', keep: 3 },
  // Telegram puts the bot token in the first segment: /bot<token>/sendMessage.
  { host: /(^|\.)api\.telegram\.org$/i, prefix: '/bot', keep: 0 },
];

export const REDACTED_SEGMENT = 'REDACTED';

/** The path with its secret segments replaced, or the path itself when no shape fits the host. */
export function redactSecretPath(host: string, path: string): string {
  for (const shape of SECRET_PATH_SHAPES) {
    if (!path.startsWith(shape.prefix) || !shape.host.test(host)) continue;
    if (shape.keep === 0) {
      const slash = path.indexOf('/', 1);
      return `${shape.prefix}${REDACTED_SEGMENT}${slash === -1 ? '' : path.slice(slash)}`;
    }
    const segments = path.split('/');
    // segments[0] is the empty string before the leading slash.
    for (let i = shape.keep + 1; i < segments.length; i++) if (segments[i] !== '') segments[i] = REDACTED_SEGMENT;
    return segments.join('/');
  }
  return path;
}

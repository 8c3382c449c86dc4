import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository's own version: fixtures in test/ have no package.json, so it is their service.version. */
export const REPO_VERSION = (JSON.parse(readFileSync(join(resolve(__dirname, '..', '..', '..'), 'package.json'), 'utf8')) as { version: string }).version;

import { mkdirSync, statSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeError, type Logger } from './logging/logger';

/** `module.enableCompileCache` (Node 22.1+) and `flushCompileCache` (22.10+); @types/node 20 declares neither. */
type Enable = (dir: string) => { status: number; message?: string; directory?: string };
interface CacheApi {
  readonly enableCompileCache?: Enable;
  readonly flushCompileCache?: () => void;
}
const nodeCache = Module as unknown as CacheApi;

/** module.constants.compileCacheStatus, which Node 20 lacks. */
const STATUS = { FAILED: 0, ENABLED: 1, ALREADY_ENABLED: 2, DISABLED: 3 } as const;

/**
 * One per user: a cache another user's process created is not ours to write (or to trust), and
 * Node keys the files inside by its version and each source's hash, so processes of one user share it.
 */
export function defaultCompileCacheDir(uid: number | undefined = process.getuid?.()): string {
  return join(tmpdir(), `innatural-otel-compile-cache-${uid ?? 'user'}`);
}

/**
 * Creates each missing level on its own. Node's recursive mkdir (in fs and in
 * enableCompileCache alike) loops forever where mkdir answers ENOENT under an existing
 * parent, as /proc does: this fails instead, and Node is only handed a directory that exists.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (!statSync(at).isDirectory()) throw new Error(`${at} is not a directory`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw err;
      missing.unshift(at);
    }
  }
  for (const level of missing) {
    try {
      mkdirSync(level, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Why a directory's cache must not be read, or undefined when it may: V8 trusts code cache
 * bytes, so a cache another user could have written (in a directory they own, or one the group
 * or others may write, as anyone can pre-create a name under /tmp) could run their code in ours.
 * Ours and root's are trusted, as ssh trusts a home directory.
 */
export function untrusted(dir: string, uid: number | undefined = process.getuid?.(), stat = statSync): string | undefined {
  if (uid === undefined) return undefined; // Windows: no uid to compare, and no shared /tmp of this kind
  const st = stat(dir);
  if (st.uid !== uid && st.uid !== 0) return `owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o022) !== 0) return `writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * Turns on Node's compile cache for what loads after the preload: the SDK packages we load and
 * the app's own modules, compiled once and then read back. A directory that is read-only,
 * missing or not ours, or a Node without the cache, is one debug line; never an error.
 */
export function enableCompileCache(setting: string | false | undefined, logger: Logger, node: CacheApi = nodeCache): void {
  if (setting === false) return;
  const because = (why: string) => logger.debug(`Compile cache not used: ${why}; INNATURAL_COMPILE_CACHE=false stops trying`);
  const { enableCompileCache: enable, flushCompileCache: flush } = node;
  if (typeof enable !== 'function') return because(`Node ${process.version} has no module.enableCompileCache (22.1 and later have)`);
  const dir = setting ?? defaultCompileCacheDir();
  try {
    ensureDir(dir);
    const refused = untrusted(dir);
    if (refused) return because(`${dir} is ${refused}`);
    const result = enable(dir);
    if (result.status === STATUS.ENABLED) {
      logger.debug(`Compile cache in ${result.directory ?? dir}`);
      // Node writes the cache at a normal exit only; a service ends by a signal (ours re-raises it) or a kill, so
      // without this it would never be written. Once the app's main script has run: what it loaded is in.
      if (typeof flush === 'function') setImmediate(() => flushQuietly(flush, logger)).unref();
    }
    else if (result.status === STATUS.ALREADY_ENABLED) logger.debug('Compile cache already enabled (NODE_COMPILE_CACHE); INNATURAL_COMPILE_CACHE is not used');
    else if (result.status === STATUS.DISABLED) because('NODE_DISABLE_COMPILE_CACHE is set');
    else because(`${dir}: ${result.message ?? 'Node could not enable it'}`);
  } catch (err) {
    because(`${dir}: ${describeError(err)}`);
  }
}

function flushQuietly(flush: () => void, logger: Logger): void {
  try {
    flush();
  } catch (err) {
    logger.debug(`Compile cache not written: ${describeError(err)}`);
  }
}

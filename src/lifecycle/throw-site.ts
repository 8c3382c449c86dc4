import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `    at fn (/app/x.js:3:9)` or `    at /app/x.js:3:9` (or a file:// URL). */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;
/** A stack Node (or its source-map support) has already prefixed with the source line and caret. */
const DECORATED = /^[^\n]*:\d+\n[^\n]*\n[ \t]*\^/;
/** The line terminators V8 counts lines by. */
const LINES = /\r\n|[\n\r\u2028\u2029]/;
const MAX_FRAME_LENGTH = 2048;
const THROWN_HERE = /\bthrow\s+$/;
/** A crash reads one file once; a huge bundle is not worth the pause. */
const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/**
 * Node's "source line" for an error that ends the process, as it prints it:
 * `<file>:<line>`, the line, and a caret under the column, then a blank line. Node takes it
 * from the last throw, which is ours once we rethrow after flushing; this one comes from
 * the error's own top frame, where the app created it (what Node shows for an unhandled
 * rejection, and the throw site of `throw new Error(...)`). undefined when there is
 * nothing to show: no stack, a frame in Node's internals, an unreadable file, or a stack
 * that already starts with its source line.
 */
export function throwSite(error: unknown): string | undefined {
  const stack = stackOf(error);
  if (stack === undefined || DECORATED.test(stack)) return undefined;
  const match = framesOf(error, stack)
    // FRAME backtracks on long lines; V8's own frame lines are short.
    .map((line) => (line.length <= MAX_FRAME_LENGTH ? FRAME.exec(line) : null))
    .find((m) => m !== null);
  if (!match) return undefined;
  const [, location, line, column] = match as unknown as [string, string, string, string];
  const source = sourceLine(location, Number(line));
  if (source === undefined) return undefined;
  let start = Math.max(0, Number(column) - 1);
  // `throw new Error(...)`: created where thrown, and Node's caret marks the throw statement.
  const thrown = THROWN_HERE.exec(source.slice(0, start));
  if (thrown) start = thrown.index;
  return `${location}:${line}\n${source}\n${source.slice(0, start).replace(/[^\t]/g, ' ')}^\n\n`;
}

function stackOf(error: unknown): string | undefined {
  try {
    const stack = error instanceof Error || (typeof error === 'object' && error !== null) ? (error as { stack?: unknown }).stack : undefined;
    return typeof stack === 'string' ? stack : undefined;
  } catch {
    return undefined; // a throwing getter: nothing we can show
  }
}

/** The stack's lines after its header, when the header is recognisable: a message may hold lines that look like frames. */
function framesOf(error: unknown, stack: string): string[] {
  const lines = stack.split('\n');
  try {
    const { name, message } = error as { name?: unknown; message?: unknown };
    const header = message === '' ? String(name) : `${String(name)}: ${String(message)}`;
    if (stack.startsWith(`${header}\n`)) return lines.slice(header.split('\n').length);
  } catch {
    // an odd name or message: every line is a candidate
  }
  return lines.filter((line) => /^\s+at /.test(line));
}

function sourceLine(location: string, line: number): string | undefined {
  try {
    const path = location.startsWith('file://') ? fileURLToPath(location) : location;
    if (!isAbsolute(path) || statSync(path).size > MAX_SOURCE_BYTES) return undefined;
    return readFileSync(path, 'utf8').split(LINES)[line - 1];
  } catch {
    return undefined;
  }
}

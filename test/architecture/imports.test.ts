import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { it } from 'node:test';
import { REPO } from '../support/app';

/**
 * The layering of src/, bottom to top. A unit is a folder of src/, or a file at its root
 * (`boot.ts`). A unit may import its own level or lower ones, never a higher one, and two
 * units never import each other. A new folder fails until it is placed here.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['redaction'],
  ['config'],
  ['modules.ts', 'packages.ts', 'otel-api.ts', 'global-slot.ts'],
  ['logging'],
  ['export'],
  ['http'],
  ['errors'],
  ['metrics'],
  ['tracing', 'log-records'],
  ['sentry'],
  // The probes and checks, then the cluster's share of them, then the server that answers them.
  ['health'],
  ['cluster'],
  ['ops'],
  ['instrumentations'],
  ['esm', 'lifecycle'],
  ['resource.ts', 'launchers.ts', 'compile-cache.ts'],
  // One start* per concern, each returning { flush, shutdown }; boot.ts composes them.
  ['startup'],
  ['boot.ts'],
  ['start.ts', 'doctor'],
  ['index.ts'],
];

/**
 * Known violations, each an import `from -> to` to be removed by the change that fixes it
 * (issue 17). Any other violation fails, and so does an entry here that no longer is one.
 */
const KNOWN: readonly string[] = [
];

type Unit = string;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const SRC = join(REPO, 'src');

function unitOf(file: string): Unit | undefined {
  const rel = relative(SRC, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/(\.ts)?$/, '.ts');
}

/** Static `import … from`, `export … from`, `import(…)` and `require(…)` of relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g)) found.push(m[1]);
  return found;
}

function edges(): Map<string, string[]> {
  const byPair = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const from = unitOf(file)!;
    for (const spec of importsOf(file)) {
      const to = unitOf(join(dirname(file), spec));
      if (to === undefined || to === from) continue;
      const key = `${from} -> ${to}`;
      byPair.set(key, [...(byPair.get(key) ?? []), `${relative(SRC, file)} imports ${spec}`]);
    }
  }
  return byPair;
}

const level = new Map<Unit, number>(LAYERS.flatMap((units, i) => units.map((u) => [u, i] as const)));

it('every unit of src/ has a place in the layering', () => {
  const units = new Set(sources(SRC).map((f) => unitOf(f)!));
  assert.deepEqual([...units].filter((u) => !level.has(u)).sort(), []);
});

/** Imports that go up a level, or both ways between two units of one level. */
function violations(pairs: Map<string, string[]>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [key, sites] of pairs) {
    const [from, to] = key.split(' -> ');
    const [a, b] = [level.get(from) ?? -1, level.get(to) ?? -1];
    if (a < b || (a === b && pairs.has(`${to} -> ${from}`))) found.set(key, sites);
  }
  return found;
}

it('src/ imports one way: no lower unit imports a higher one, no two units import each other', () => {
  const found = [...violations(edges())].filter(([key]) => !KNOWN.includes(key));
  assert.deepEqual(
    found.map(([key, sites]) => `${key}: ${sites.join(', ')}`),
    [],
  );
});

it('every known violation still exists (remove it from KNOWN once fixed)', () => {
  const found = violations(edges());
  assert.deepEqual(
    KNOWN.filter((key) => !found.has(key)),
    [],
  );
});

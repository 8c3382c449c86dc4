import Module from 'node:module';
import { CATALOG, type InstrumentationName } from '../config/instrumentations';

type Require = (this: NodeJS.Module, id: string) => unknown;

/** `mysql2/promise` → `mysql2`, `@redis/client/dist/x` → `@redis/client`; relative and absolute ids → ''. */
export function packageOf(id: string): string {
  if (id.startsWith('.') || id.startsWith('/') || id.startsWith('node:')) return '';
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Defers an instrumentation until the app first requires one of its packages: an
 * installed package the app never loads (a transitive dependency, a tool) then costs
 * nothing at start-up. The instrumentation is created just BEFORE the package loads, so
 * its hooks see the package and every internal file it pulls in, as if it had been
 * created at start. CommonJS only: ES modules never pass through require.
 *
 * An instrumentation that brings its own `@opentelemetry/instrumentation` copy (a contrib
 * package of another release) installs that copy's require hook while `load` runs, by wrapping
 * `Module.prototype.require` again. The saved `original` predates that hook, so when `load`
 * installed one, this first require goes through it: it sees the package, then the chain calls
 * back in here, where nothing is pending for it any more.
 */
export function deferUntilRequired(
  names: readonly InstrumentationName[],
  load: (name: InstrumentationName, id: string, from: string | undefined) => void,
): () => void {
  const pending = new Map<string, InstrumentationName>();
  for (const name of names) for (const module of CATALOG[name].modules) pending.set(module, name);
  if (pending.size === 0) return () => {};
  const proto = Module.prototype as unknown as { require: Require };
  const original = proto.require;
  const require: Require = function (this: NodeJS.Module, id: string) {
    // A Map lookup per require (two for a package subpath such as mysql2/promise).
    const name = pending.size === 0 ? undefined : (pending.get(id) ?? pending.get(packageOf(id)));
    if (name !== undefined) {
      for (const module of CATALOG[name].modules) pending.delete(module);
      const before = proto.require;
      load(name, id, this?.filename);
      const after = proto.require;
      if (after !== before) return after.call(this, id);
    }
    return original.call(this, id);
  };
  proto.require = require;
  return () => {
    if (proto.require === require) proto.require = original;
  };
}

/**
 * One value on globalThis under a registered symbol. Global, not module-level: a second copy
 * of the package (the app's own import, or --require plus --import) must reach the same value.
 */
export interface GlobalSlot<T> {
  get(): T | undefined;
  set(value: T | undefined): void;
}

export function globalSlot<T>(name: string): GlobalSlot<T> {
  const key = Symbol.for(name);
  const g = globalThis as typeof globalThis & Record<symbol, T | undefined>;
  return {
    get: () => g[key],
    set: (value) => {
      g[key] = value;
    },
  };
}

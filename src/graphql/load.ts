// Small helpers resolvers use on top of DataLoader.
import type DataLoader from 'dataloader';

/** Loads many keys, rethrowing the first failure and dropping keys that no longer exist (deleted since
 *  a cached list was written). */
export async function loadExisting<K, V>(loader: DataLoader<K, V | null, string>, keys: readonly K[]): Promise<V[]> {
  const values = await loader.loadMany(keys);
  const found: V[] = [];
  for (const value of values) {
    if (value instanceof Error) throw value;
    if (value !== null) found.push(value);
  }
  return found;
}

/** For a relation whose row must exist (a foreign key): a missing row is a bug, not a null. */
export async function loadRequired<K, V>(loader: DataLoader<K, V | null, string>, key: K, what: string): Promise<V> {
  const value = await loader.load(key);
  if (value === null) throw new Error(`${what} ${String(key)} is missing although a foreign key points to it`);
  return value;
}

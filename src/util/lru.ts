/** A bounded map that forgets the least recently used entry first (Map keeps insertion order). */
export interface Lru<K, V> {
  get(key: K): V | undefined;
  /** Stores the value; returns the entries evicted to stay within the bound. */
  set(key: K, value: V): Array<[K, V]>;
  delete(key: K): V | undefined;
  keys(): K[];
  readonly size: number;
}

export function makeLru<K, V>(maxEntries: number): Lru<K, V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  const map = new Map<K, V>();
  return {
    get(key) {
      const value = map.get(key);
      if (value === undefined) return undefined;
      map.delete(key);
      map.set(key, value);
      return value;
    },
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      const evicted: Array<[K, V]> = [];
      for (const [k, v] of map) {
        if (map.size <= maxEntries) break;
        map.delete(k);
        evicted.push([k, v]);
      }
      return evicted;
    },
    delete(key) {
      const value = map.get(key);
      map.delete(key);
      return value;
    },
    keys: () => [...map.keys()],
    get size() {
      return map.size;
    },
  };
}

/**
 * Reuses a value read within the last `ttlMs` (single flight per key): lets per-job
 * version checks of cached settings run at most once per interval per key instead of once
 * per job. ttlMs 0 reads every time.
 */
export interface Recent<T> {
  get(key: string, read: () => Promise<T>): Promise<T>;
}

export function makeRecent<T>(ttlMs: number, maxKeys = 10_000): Recent<T> {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return {
    get(key, read) {
      if (ttlMs <= 0) return read();
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < ttlMs) return hit.value;
      const value = read();
      entries.delete(key);
      entries.set(key, { at: now, value });
      value.catch(() => entries.delete(key));
      for (const oldest of entries.keys()) {
        if (entries.size <= maxKeys) break;
        entries.delete(oldest);
      }
      return value;
    },
  };
}

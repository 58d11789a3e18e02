/**
 * A tiny DataLoader: loads asked for in the same tick — and while a batch is in flight —
 * go to the store together as one call. No added delay when idle (the first load of a quiet
 * moment leaves on the next setImmediate); under load, batches grow by themselves. The
 * same key asked twice in one batch is read once. If a batch fails, each of its keys is
 * tried alone, so one bad key never fails the others. (The `dataloader` package batches per
 * tick only and caches by default; the in-flight gathering and the per-key retry are what
 * the worker needs, in fewer lines than its configuration would take.)
 */
export interface Batcher<K, V> {
  /** Resolves to the value for `key`, undefined when the store has none. */
  load(key: K): Promise<V | undefined>;
}

export interface BatcherOptions<K, V> {
  /** Identity of a key (two keys with the same id are one read). */
  readonly idOf: (key: K) => string;
  /** Reads many keys at once; the map is keyed by idOf. */
  readonly run: (keys: readonly K[]) => Promise<ReadonlyMap<string, V>>;
  /** @defaultValue 100 */
  readonly maxBatch?: number;
  /** Batches running at once. @defaultValue 2 */
  readonly maxInFlight?: number;
}

interface Waiting<K, V> {
  readonly key: K;
  readonly id: string;
  resolve(v: V | undefined): void;
  reject(err: unknown): void;
}

export function makeBatcher<K, V>(opts: BatcherOptions<K, V>): Batcher<K, V> {
  const maxBatch = opts.maxBatch ?? 100;
  const maxInFlight = opts.maxInFlight ?? 2;
  let queue: Waiting<K, V>[] = [];
  let inFlight = 0;
  let scheduled = false;

  async function runBatch(batch: Waiting<K, V>[]): Promise<void> {
    const byId = new Map<string, K>();
    for (const w of batch) if (!byId.has(w.id)) byId.set(w.id, w.key);
    try {
      const found = await opts.run([...byId.values()]);
      for (const w of batch) w.resolve(found.get(w.id));
    } catch (err) {
      if (byId.size === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // One key may be what failed: each alone, so only its own loads see the error.
      await Promise.all(
        [...byId].map(async ([id, key]) => {
          const mine = batch.filter((w) => w.id === id);
          try {
            const found = await opts.run([key]);
            for (const w of mine) w.resolve(found.get(id));
          } catch (alone) {
            for (const w of mine) w.reject(alone);
          }
        }),
      );
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      inFlight++;
      void runBatch(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    load(key) {
      return new Promise<V | undefined>((resolve, reject) => {
        queue.push({ key, id: opts.idOf(key), resolve, reject });
        if (scheduled) return;
        scheduled = true;
        // Let the loads of this tick join before the first batch leaves.
        setImmediate(() => {
          scheduled = false;
          pump();
        });
      });
    },
  };
}

/**
 * Cleanups registered as resources are acquired, run LIFO (house style §14): carry on past
 * errors, rethrow the first one. stop() is idempotent.
 */
export interface Releasers {
  add(name: string, release: () => Promise<unknown> | unknown): void;
  releaseAll(): Promise<void>;
}

export function makeReleasers(onError?: (name: string, err: unknown) => void): Releasers {
  const stack: { name: string; release: () => Promise<unknown> | unknown }[] = [];
  let releasing: Promise<void> | undefined;
  return {
    add(name, release) {
      stack.push({ name, release });
    },
    releaseAll() {
      releasing ??= (async () => {
        let first: unknown;
        for (let item = stack.pop(); item; item = stack.pop()) {
          try {
            await item.release();
          } catch (err) {
            onError?.(item.name, err);
            first ??= err;
          }
        }
        if (first !== undefined) throw first;
      })();
      return releasing;
    },
  };
}

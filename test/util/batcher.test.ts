/** The read batcher (util/batcher.ts): one call per tick, isolation of failures, dedupe. */
import { describe, expect, it } from 'vitest';

import { makeBatcher } from '../../src/util/batcher.js';

function recording(fail: (key: string) => boolean = () => false) {
  const calls: string[][] = [];
  const batcher = makeBatcher<string, string>({
    idOf: (k) => k,
    async run(keys) {
      calls.push([...keys]);
      await new Promise((r) => setTimeout(r, 5));
      if (keys.some(fail)) throw new Error(`bad key in ${keys.join(',')}`);
      return new Map(keys.filter((k) => k !== 'absent').map((k) => [k, `v:${k}`]));
    },
  });
  return { calls, batcher };
}

describe('makeBatcher', () => {
  it('sends the loads of one tick as one call, each load getting its own value', async () => {
    const { calls, batcher } = recording();
    const values = await Promise.all(['a', 'b', 'c', 'a'].map((k) => batcher.load(k)));
    expect(values).toEqual(['v:a', 'v:b', 'v:c', 'v:a']);
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('gathers the loads made while a batch is in flight into the next call', async () => {
    const calls: string[][] = [];
    const batcher = makeBatcher<string, string>({
      idOf: (k) => k,
      maxInFlight: 1,
      async run(keys) {
        calls.push([...keys]);
        await new Promise((r) => setTimeout(r, 20));
        return new Map(keys.map((k) => [k, k]));
      },
    });
    const first = batcher.load('a');
    await new Promise((r) => setTimeout(r, 5));
    const later = ['b', 'c', 'd'].map((k) => batcher.load(k));
    expect(await Promise.all([first, ...later])).toEqual(['a', 'b', 'c', 'd']);
    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('resolves undefined for a key the store has nothing for', async () => {
    const { batcher } = recording();
    expect(await Promise.all([batcher.load('absent'), batcher.load('x')])).toEqual([undefined, 'v:x']);
  });

  it('fails only the loads of a key that fails alone, not the others in its batch', async () => {
    const { calls, batcher } = recording((k) => k === 'bad');
    const results = await Promise.allSettled(['a', 'bad', 'b'].map((k) => batcher.load(k)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'v:a' });
    expect(results[2]).toMatchObject({ value: 'v:b' });
    // The batch, then each key alone.
    expect(calls[0]).toEqual(['a', 'bad', 'b']);
    expect(calls.slice(1).sort()).toEqual([['a'], ['b'], ['bad']]);
  });

  it('keeps batches at maxBatch keys', async () => {
    const calls: number[] = [];
    const batcher = makeBatcher<number, number>({
      idOf: String,
      maxBatch: 3,
      async run(keys) {
        calls.push(keys.length);
        return new Map(keys.map((k) => [String(k), k * 2]));
      },
    });
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => batcher.load(k)))).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(calls).toEqual([3, 3, 1]);
  });
});

import { afterEach, expect, it, vi } from 'vitest';

import { makeRecent } from '../../src/util/recent.js';

afterEach(() => {
  vi.useRealTimers();
});

it('reuses a value within the interval, reads again after it, never caches a failure', async () => {
  vi.useFakeTimers();
  const recent = makeRecent<number>(1000);
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  expect(await recent.get('k', read)).toBe(1);
  expect(await recent.get('k', read)).toBe(1);
  expect(await recent.get('other', read)).toBe(2);
  vi.advanceTimersByTime(1000);
  expect(await recent.get('k', read)).toBe(3);
  await expect(recent.get('bad', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect(await recent.get('bad', read)).toBe(4);
});

it('reads every time with an interval of 0', async () => {
  const recent = makeRecent<number>(0);
  let reads = 0;
  await recent.get('k', () => Promise.resolve(++reads));
  await recent.get('k', () => Promise.resolve(++reads));
  expect(reads).toBe(2);
});

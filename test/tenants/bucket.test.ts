/**
 * The Redis rate lane (src/limits/bucket.ts): the Lua token bucket on a real Redis, its clock
 * Redis TIME. Pacing at a configured rate, sharing between clients (replicas), AIMD on
 * throttles and successes, Retry-After pauses, and the unlimited lane that turns adaptive.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeBucket, MIN_RATE } from '../../src/limits/bucket.js';
import { REDIS_URL } from '../helpers/env.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix();
let a: Redis;
let b: Redis;

beforeAll(() => {
  a = new Redis(REDIS_URL);
  b = new Redis(REDIS_URL);
});
afterAll(async () => {
  a.disconnect();
  b.disconnect();
  await dropPrefix(prefix);
});

let n = 0;
const lane = (ratePerSec?: number) => ({ key: `lane${n++}`, ...(ratePerSec === undefined ? {} : { ratePerSec }) });

describe('rate lane', () => {
  it('spaces sends 1/rate apart, shared by every client of the cluster', async () => {
    const one = makeBucket(a, `${prefix}:limits`);
    const two = makeBucket(b, `${prefix}:limits`);
    const l = lane(10);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = await (i % 2 === 0 ? one : two).take(l, 10_000);
      expect(t.ok).toBe(true);
      waits.push(t.waitMs);
    }
    // Reserved back to back: 0, ~100, ~200, … (the calls themselves take a little time).
    for (let i = 1; i < waits.length; i++) expect(waits[i]! - waits[i - 1]!).toBeGreaterThan(60);
    expect(waits[5]).toBeGreaterThan(350);
    expect(waits[5]).toBeLessThanOrEqual(500);
  });

  it('reserves nothing when the wait is longer than the caller will wait', async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    const l = lane(1);
    expect((await bucket.take(l, 0)).ok).toBe(true);
    const late = await bucket.take(l, 100);
    expect(late.ok).toBe(false);
    expect(late.waitMs).toBeGreaterThan(800);
    // The refusal did not push the schedule further out.
    const again = await bucket.take(l, 100);
    expect(again.waitMs).toBeLessThanOrEqual(late.waitMs);
  });

  it('leaves an unlimited lane alone until a throttle, then halves the observed rate and recovers with successes', async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    const l = lane();
    for (let i = 0; i < 20; i++) expect(await bucket.take(l, 0)).toMatchObject({ ok: true, waitMs: 0, adaptive: false });
    expect(await bucket.rate(l)).toBe(0);
    const rate = await bucket.throttled(l, undefined);
    expect(rate).toBeGreaterThan(0);
    expect(await bucket.rate(l)).toBe(rate);
    for (let i = 0; i < 10; i++) await bucket.succeeded(l);
    expect(await bucket.rate(l)).toBeGreaterThan(rate);
  });

  it("counts the sends a process let out without asking into the unlimited lane's observed rate", async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    const l = lane();
    await bucket.take(l, 0);
    await bucket.take(l, 0, 38);
    // 40 sends within the last second: halved to 20/s.
    expect(await bucket.throttled(l, undefined)).toBe(20);
  });

  it('halves a configured rate once per burst of throttles, never below the floor, and climbs back to the ceiling only', async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    const l = lane(8);
    const before = await bucket.take(l, 10_000);
    expect(await bucket.throttled(l, undefined)).toBe(4);
    // A second answer of the same burst (within a second, or to a send reserved before the decrease) does not halve again.
    expect(await bucket.throttled(l, undefined)).toBe(4);
    expect(await bucket.throttled(l, undefined, before.ok ? before.reservedAt : 0)).toBe(4);
    // An answer to a send reserved after the decrease does.
    await new Promise((r) => setTimeout(r, 5));
    const after = await bucket.take(l, 10_000);
    expect(await bucket.throttled(l, undefined, after.ok ? after.reservedAt : 0)).toBe(2);
    for (let i = 0; i < 400; i++) await bucket.succeeded(l);
    expect(await bucket.rate(l)).toBe(8);
    const floor = lane(0.15);
    expect(await bucket.throttled(floor, undefined)).toBe(MIN_RATE);
  });

  it('pauses the lane for the Retry-After the provider asked for', async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    const l = lane(100);
    await bucket.throttled(l, 3000);
    const t = await bucket.take(l, 10_000);
    expect(t.ok).toBe(true);
    expect(t.waitMs).toBeGreaterThan(2500);
    expect(t.waitMs).toBeLessThanOrEqual(3000);
  });

  it('keeps the lane under the prefix and names it by the key given (a hash), with an expiry', async () => {
    const bucket = makeBucket(a, `${prefix}:limits`);
    await bucket.take({ key: 'abc123', ratePerSec: 5 }, 0);
    const keys = await a.keys(`${prefix}:limits:lane:*`);
    expect(keys).toContain(`${prefix}:limits:lane:abc123`);
    expect(await a.pttl(`${prefix}:limits:lane:abc123`)).toBeGreaterThan(0);
  });
});

/**
 * The limits around a send (src/limits/guard.ts) with a scripted channel and a real Redis:
 * the breaker opens after 5 connection failures and then fails fast without calling the
 * provider; a throttle is counted and slows the lane; the flood guard cancels over the limit
 * and counts a notification once across its retries; tenant lanes are hashes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Channel, SmsMessage } from '../../src/channels/types.js';
import { errorCode, HeraldError, isBreakerOpen, isPermanent, RateLimitedError } from '../../src/errors.js';
import { makeLimits, tenantLane } from '../../src/limits/guard.js';
import { REDIS_URL } from '../helpers/env.js';
import { silent } from '../helpers/herald.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix();
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

function limits(guard = true) {
  return makeLimits({
    redis,
    prefix,
    cfg: { instanceConcurrency: 1, recipientLimit: guard ? { count: 2, perMs: 60_000 } : undefined, rates: {}, breakerThreshold: 5 },
    secret: 'test-secret',
    logger: silent,
  });
}

function scripted(fail: (n: number) => Error | undefined): Channel<SmsMessage> & { calls: number } {
  const ch = {
    name: 'sns',
    calls: 0,
    async send() {
      ch.calls++;
      const err = fail(ch.calls);
      if (err) throw err;
      return {};
    },
    close: async () => undefined,
  };
  return ch;
}

let n = 0;
const sms = (to = '+41790000000', id = `n${n++}`): SmsMessage => ({
  kind: 'sms',
  to,
  text: 'code',
  notificationId: id,
  instanceId: 'i1',
  messageType: 'VerifyPhone',
});
const ctx = () => ({ signal: new AbortController().signal, logger: silent });
const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('guarded channel', () => {
  it('opens the breaker after 5 connection failures and then fails fast without calling the provider', async () => {
    const l = limits(false);
    const inner = scripted(() => Object.assign(new HeraldError('SNS_FAILED', 'connect ECONNREFUSED'), {}));
    const ch = l.guardChannel(inner, { key: `b${n++}` });
    for (let i = 0; i < 5; i++) expect(errorCode(await caught(ch.send(sms(), ctx())))).toBe('SNS_FAILED');
    const err = await caught(ch.send(sms(), ctx()));
    expect(isBreakerOpen(err)).toBe(true);
    expect(inner.calls).toBe(5);
    expect(l.stats.breakerOpen().get('sns')).toBe(1);
  });

  it('counts a throttle, keeps the breaker closed and slows the lane', async () => {
    const l = limits(false);
    const inner = scripted((i) => (i === 1 ? new RateLimitedError('PROVIDER_THROTTLED', 'slow down', { retryAfterMs: 2000 }) : undefined));
    const lane = { key: `t${n++}` };
    const ch = l.guardChannel(inner, lane);
    expect(errorCode(await caught(ch.send(sms(), ctx())))).toBe('PROVIDER_THROTTLED');
    expect(l.stats.throttled.get('sns')).toBe(1);
    expect(await l.bucket.rate(lane)).toBeGreaterThan(0);
    // The lane is paused for Retry-After: the next send goes back to delayed without reaching the provider.
    const paced = await caught(ch.send(sms(), ctx()));
    expect(errorCode(paced)).toBe('PROVIDER_PACED');
    expect((paced as RateLimitedError).retryAfterMs).toBeGreaterThan(1000);
    expect(inner.calls).toBe(1);
  });

  it('cancels over the recipient limit and counts one notification once across retries', async () => {
    const l = limits();
    const inner = scripted(() => undefined);
    const ch = l.guardChannel(inner, { key: `f${n++}` });
    const to = '+41791112233';
    await ch.send(sms(to, 'same'), ctx());
    await ch.send(sms(to, 'same'), ctx());
    await ch.send(sms(to, 'other'), ctx());
    const err = await caught(ch.send(sms(to), ctx()));
    expect(isPermanent(err)).toBe(true);
    expect(errorCode(err)).toBe('RECIPIENT_LIMIT');
    expect((err as Error).message).toBe('flood guard: more than 2 messages of type VerifyPhone to this recipient within 1m (HERALD_RECIPIENT_LIMIT)');
    expect(l.stats.recipientCanceled.get('VerifyPhone')).toBe(1);
    // Another recipient is not affected.
    await ch.send(sms('+41794445566'), ctx());
    expect(inner.calls).toBe(4);
    const keys = await redis.keys(`${prefix}:limits:flood:*`);
    expect(keys.join(' ')).not.toMatch(/4179/);
  });

  it('names tenant lanes by a hash of the provider identity, never the host or URL', () => {
    const lane = tenantLane({ kind: 'http', id: 'x', description: '', endpoint: 'https://hooks.tenant.example/sms' });
    expect(lane).toMatch(/^t-[0-9a-f]{24}$/);
    expect(tenantLane({ kind: 'http', id: 'y', description: 'other', endpoint: 'https://hooks.tenant.example/sms' })).toBe(lane);
  });
});

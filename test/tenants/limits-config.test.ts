/** HERALD_* limit settings (src/config/limits.ts) and the per-instance share (src/limits/slots.ts). */
import { describe, expect, it } from 'vitest';

import { parseRate } from '../../src/config/limits.js';
import { loadConfig } from '../../src/config/load.js';
import { ACTIVE_WINDOW_MS, makeInstanceSlots } from '../../src/limits/slots.js';

describe('limit settings', () => {
  it('reads <n>/<duration> and a bare <n> per second', () => {
    expect(parseRate('10/10m')).toEqual({ count: 10, perMs: 600_000 });
    expect(parseRate('14')).toEqual({ count: 14, perMs: 1000 });
    expect(parseRate('0.5/1s')).toEqual({ count: 0.5, perMs: 1000 });
    for (const bad of ['', 'x/1s', '10/', '10/1', '-1/1s', '0/1s', '5/48h', `${'9'.repeat(50)}/1s`]) expect(parseRate(bad)).toHaveProperty('problem');
  });

  it('defaults: share half of Workers (at least 1), guard 10/10m, no provider rates', () => {
    const cfg = loadConfig({ ZITADEL_NOTIFICATIONS_WORKERS: '9' });
    expect(cfg.limits).toEqual({ instanceConcurrency: 4, recipientLimit: { count: 10, perMs: 600_000 }, rates: {}, breakerThreshold: 5 });
    expect(loadConfig({ ZITADEL_NOTIFICATIONS_WORKERS: '1' }).limits.instanceConcurrency).toBe(1);
  });

  it('reads the variables, 0 turns the guard off, bad values exit with every problem named', () => {
    const cfg = loadConfig({ HERALD_INSTANCE_CONCURRENCY: '3', HERALD_RECIPIENT_LIMIT: '0', HERALD_SNS_RATE: '5/1s', HERALD_SMTP_RATE: '600/1m' });
    expect(cfg.limits.instanceConcurrency).toBe(3);
    expect(cfg.limits.recipientLimit).toBeUndefined();
    expect(cfg.limits.rates).toEqual({ sns: { count: 5, perMs: 1000 }, smtp: { count: 600, perMs: 60_000 } });
    expect(cfg.warnings).toEqual([]);
    expect(() => loadConfig({ HERALD_INSTANCE_CONCURRENCY: '0', HERALD_RECIPIENT_LIMIT: '1.5/1m', HERALD_WEBHOOK_RATE: 'fast' })).toThrow(
      /HERALD_INSTANCE_CONCURRENCY.*HERALD_RECIPIENT_LIMIT.*HERALD_WEBHOOK_RATE/,
    );
  });
});

describe('per-instance share of a process', () => {
  it('lets an instance alone use every slot', () => {
    const slots = makeInstanceSlots(2);
    for (let i = 0; i < 10; i++) expect(slots.tryAcquire('a')).toBe(true);
  });

  it('holds an instance at its share while another has work, and frees it when the other goes quiet', () => {
    let t = 0;
    const slots = makeInstanceSlots(2, () => t);
    expect(slots.tryAcquire('a')).toBe(true);
    expect(slots.tryAcquire('b')).toBe(true);
    slots.release('b');
    expect(slots.tryAcquire('a')).toBe(true);
    // b was fetched just now: a is at its share.
    expect(slots.tryAcquire('a')).toBe(false);
    expect(slots.inFlight('a')).toBe(2);
    t += ACTIVE_WINDOW_MS + 1;
    expect(slots.tryAcquire('a')).toBe(true);
    slots.release('a');
    expect(slots.inFlight('a')).toBe(2);
  });

  it('reads HERALD_BREAKER_THRESHOLD: 5 by default, 0 turns the breaker off, anything else is refused', () => {
    expect(loadConfig({}).limits.breakerThreshold).toBe(5);
    expect(loadConfig({ HERALD_BREAKER_THRESHOLD: '0' }).limits.breakerThreshold).toBeUndefined();
    expect(loadConfig({ HERALD_BREAKER_THRESHOLD: '12' }).limits.breakerThreshold).toBe(12);
    expect(() => loadConfig({ HERALD_BREAKER_THRESHOLD: 'many' })).toThrow(/HERALD_BREAKER_THRESHOLD/);
  });
});

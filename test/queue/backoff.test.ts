import { describe, expect, it } from 'vitest';

import { msToNs, nextBackoffMs, nsToMs } from '../../src/queue/backoff.js';

const cfg = { minRetryDelayMs: 1000, maxRetryDelayMs: 5000, retryDelayFactor: 1.5 };

describe("ZITADEL's retry backoff", () => {
  it('starts in [MinRetryDelay, factor·MinRetryDelay) from 0', () => {
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      const d = nextBackoffMs(0, cfg, () => r);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThan(1500);
    }
    expect(nextBackoffMs(0, cfg, () => 0)).toBe(1000);
    expect(nextBackoffMs(0, cfg, () => 0.5)).toBe(1250);
  });

  it('grows from the previous delay and is capped at MaxRetryDelay', () => {
    for (const r of [0, 0.5, 0.999999]) {
      const d = nextBackoffMs(4000, cfg, () => r);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(5000);
    }
    expect(nextBackoffMs(4000, cfg, () => 0.999999)).toBe(5000);
  });

  it('stays at MaxRetryDelay once reached', () => {
    expect(nextBackoffMs(5000, cfg, () => 0.3)).toBe(5000);
    expect(nextBackoffMs(60_000, cfg, () => 0.3)).toBe(5000);
  });

  it('keeps a constant delay for a factor of exactly 1 (ZITADEL panics there)', () => {
    const one = { ...cfg, retryDelayFactor: 1 };
    expect(nextBackoffMs(0, one, () => 0.7)).toBe(1000);
    expect(nextBackoffMs(1000, one, () => 0.7)).toBe(1000);
    expect(nextBackoffMs(3000, one, () => 0.7)).toBe(3000);
  });

  it('converts Go durations (ns) both ways', () => {
    expect(msToNs(1500)).toBe(1_500_000_000);
    expect(nsToMs(5_000_000_000)).toBe(5000);
  });
});

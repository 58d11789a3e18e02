/** HERALD_HISTORY_RETENTION: a Go duration, default 720h, 0 turns the history off, anything else exits 2. */
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { isConfigError } from '../../src/errors.js';

const load = (value?: string) => loadConfig(value === undefined ? {} : { HERALD_HISTORY_RETENTION: value }, undefined, '/srv');

describe('HERALD_HISTORY_RETENTION', () => {
  it('defaults to 30 days, takes Go durations, and 0 turns the history off', () => {
    expect(load().historyRetentionMs).toBe(720 * 3600_000);
    expect(load('48h').historyRetentionMs).toBe(48 * 3600_000);
    expect(load('0').historyRetentionMs).toBe(0);
    expect(load('0s').historyRetentionMs).toBe(0);
    expect(load('48h').warnings).toEqual([]);
  });

  it('refuses bare numbers and negative durations, naming the variable', () => {
    for (const bad of ['30', '-1h', 'a month']) {
      let caught: unknown;
      try {
        load(bad);
      } catch (err) {
        caught = err;
      }
      expect(isConfigError(caught)).toBe(true);
      expect((caught as Error).message).toContain('HERALD_HISTORY_RETENTION');
    }
  });
});

/** HERALD_REDIS_MODE, REDIS_URL seed lists and HERALD_KEEP_JOBS; BullMQ prefix and seeds. */
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { bullPrefix, connectionName, parseClusterSeeds } from '../../src/queue/connection.js';
import { jobOptions } from '../../src/queue/queues.js';

const load = (env: Record<string, string>) => loadConfig(env, () => '', '/');

describe('HERALD_REDIS_MODE', () => {
  it('is standalone by default and keeps the prefix as it is (existing keys stay)', () => {
    const cfg = load({});
    expect(cfg.redisMode).toBe('standalone');
    expect(bullPrefix(cfg.queuePrefix, cfg.redisMode)).toBe('herald');
  });

  it('cluster mode hash-tags the prefix and accepts several seed nodes', () => {
    const cfg = load({ HERALD_REDIS_MODE: 'cluster', REDIS_URL: 'rediss://u:p%40ss@a:7000, b:7001,rediss://c' });
    expect(bullPrefix(cfg.queuePrefix, cfg.redisMode)).toBe('{herald}');
    expect(parseClusterSeeds(cfg.redisUrl)).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: 'c', port: 6379 },
      ],
      username: 'u',
      password: 'p@ss',
      tls: true,
    });
  });

  it('refuses several URLs in standalone mode, bad modes, braces in a cluster prefix, without printing passwords', () => {
    expect(() => load({ REDIS_URL: 'redis://a:1,redis://b:2' })).toThrow(/REDIS_URL.*HERALD_REDIS_MODE=cluster/);
    expect(() => load({ HERALD_REDIS_MODE: 'sentinel' })).toThrow(/HERALD_REDIS_MODE.*standalone, cluster/);
    expect(() => load({ HERALD_REDIS_MODE: 'cluster', HERALD_QUEUE_PREFIX: 'a{b}' })).toThrow(/HERALD_QUEUE_PREFIX/);
    let message = '';
    try {
      load({ HERALD_REDIS_MODE: 'cluster', REDIS_URL: 'redis://u:s3cret@a:1,u:s3cret@b:2/x' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).not.toContain('s3cret');
  });

  it('names connections after role and prefix (CLIENT LIST shows whose they are)', () => {
    expect(connectionName('worker', 'blue green')).toBe('herald-worker-blue_green');
  });
});

describe('HERALD_KEEP_JOBS', () => {
  it('bounds finished jobs by count and age', () => {
    const cfg = load({ HERALD_KEEP_JOBS: '500' });
    expect(jobOptions(cfg.notifications, cfg.keepJobs)).toMatchObject({
      removeOnComplete: { count: 500, age: 24 * 3600 },
      removeOnFail: { count: 500, age: 7 * 24 * 3600 },
    });
    expect(load({}).keepJobs).toBe(10_000);
    expect(() => load({ HERALD_KEEP_JOBS: '0' })).toThrow(/HERALD_KEEP_JOBS/);
  });
});

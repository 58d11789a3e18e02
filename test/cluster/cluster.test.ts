/**
 * HERALD_REDIS_MODE=cluster against a real Redis Cluster on loopback (three masters, three
 * replicas; test/cluster/helpers/redis-cluster.ts): delivery, reconcile after Redis lost its
 * jobs, metrics, one hash tag for every key, and a master killed mid-run.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { duplicateCount, seedRequests, waitAllFinished } from '../faults/helpers/fleet.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { runHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { KEYS_ENV, newId } from '../helpers/zitadel.js';
import { type LocalCluster, startRedisCluster } from './helpers/redis-cluster.js';

let cluster: LocalCluster;
let h: Harness;
let sink: SmtpSink | undefined;
const running: Herald[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  h = await makeHarness();
}, 60_000);
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((x) => x.stop()));
  await sink?.close();
  sink = undefined;
});
afterAll(async () => {
  await h?.close();
  await cluster?.stop();
});

function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: cluster.url,
    HERALD_REDIS_MODE: 'cluster',
    SMTP_FROM: 'herald@example.com',
    HERALD_HTTP_PORT: '0',
    ZITADEL_NOTIFICATIONS_WORKERS: '4',
    ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '100ms',
    ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '1s',
    ...extra,
  };
}

async function start(roles: Parameters<Harness['start']>[1], env: Record<string, string>, loops = false): Promise<Herald> {
  const herald = await h.start(h.config(clusterEnv(env)), roles, { producerLoops: loops, http: { host: '127.0.0.1' } });
  running.push(herald);
  return herald;
}

/** Runs fn on a direct connection to every live master. */
async function onMasters<T>(fn: (node: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    (await cluster.masters()).map(async (port) => {
      const node = cluster.node(port);
      try {
        return await fn(node);
      } finally {
        node.disconnect();
      }
    }),
  );
}

/** Live jobs (waiting, prioritized, delayed, active) of the request queue. */
async function liveRequests(herald: Herald): Promise<number> {
  const c = await herald.queues.requests.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('HERALD_REDIS_MODE=cluster', () => {
  it('delivers every request once, with every key under the hash tag {<prefix>} in one slot', async () => {
    sink = await startSmtpSink();
    const herald = await start(['all'], { SMTP_URL: sink.url });
    const instanceId = newId();
    const seeded = await seedRequests(h.db.pool, instanceId, 20, 'd');
    await herald.producer?.tickRequests();
    const tally = await waitAllFinished(h.db.pool, instanceId, seeded.length, 20_000);
    expect([...tally.values()].every((t) => t.sent === 1 && t.canceled === 0)).toBe(true);
    expect(sink.messages).toHaveLength(20);
    expect(duplicateCount(sink.messages)).toBe(0);

    const keys = await onMasters((node) => node.keys('*'));
    expect(keys).toHaveLength(3);
    const holding = keys.filter((k) => k.length > 0);
    // One master holds them all (one slot), and nothing is outside the hash tag.
    expect(holding).toHaveLength(1);
    const mine = holding[0] ?? [];
    expect(mine.length).toBeGreaterThan(20);
    expect(mine.filter((k) => !k.startsWith(`{${h.prefix}}:`))).toEqual([]);
    expect(mine).toContain(`{${h.prefix}}:notification-requests:completed`);

    // Queue depth and the backlog figure are read through the cluster client too.
    const text = await (await fetch(`http://127.0.0.1:${herald.http?.port}/metrics`)).text();
    expect(text).toMatch(/herald_queue_jobs\{queue="notification-requests",state="completed"\} 20\b/);
    expect(text).toMatch(/^herald_backlog 0$/m);
  });

  it('reconcile rebuilds the queue after the cluster lost every job, then all are delivered once', async () => {
    const instanceId = newId();
    const producerOnly = await start(['producer'], {});
    const seeded = await seedRequests(h.db.pool, instanceId, 15, 'r');
    await producerOnly.producer?.tickRequests();
    expect(await liveRequests(producerOnly)).toBe(15);
    const text = await (await fetch(`http://127.0.0.1:${producerOnly.http?.port}/metrics`)).text();
    expect(text).toMatch(/^herald_backlog 15$/m);

    // Redis loses everything (every master flushed).
    expect(await onMasters((node) => node.flushall())).toEqual(['OK', 'OK', 'OK']);
    expect(await liveRequests(producerOnly)).toBe(0);

    const env = {
      ...clusterEnv(),
      DATABASE_URL: h.db.url,
      HERALD_QUEUE_PREFIX: h.prefix,
      HERALD_ENCRYPTION_KEYS: KEYS_ENV,
      LOG_LEVEL: 'warn',
    };
    const reconcile = await runHerald(['reconcile'], env);
    expect(reconcile.code, reconcile.output).toBe(0);
    expect(await liveRequests(producerOnly)).toBe(15);

    sink = await startSmtpSink();
    await start(['worker'], { SMTP_URL: sink.url });
    const tally = await waitAllFinished(h.db.pool, instanceId, seeded.length, 20_000);
    expect([...tally.values()].every((t) => t.sent === 1 && t.canceled === 0)).toBe(true);
    expect(duplicateCount(sink.messages)).toBe(0);
  });

  it('survives losing the master of its slot mid-run: nothing lost, duplicates only from jobs in flight', async () => {
    const workers = 4;
    // Each message takes a little while, so the run is still going when the master dies.
    sink = await startSmtpSink({ acceptDelayMs: () => 25 });
    await start(['all'], { SMTP_URL: sink.url, ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms' }, true);
    const instanceId = newId();
    const n = 200;
    const seeded = await seedRequests(h.db.pool, instanceId, n, 'f');
    await sink.waitFor(40, 20_000);

    const master = await cluster.masterFor(`{${h.prefix}}:notification-requests:wait`);
    await cluster.kill(master);
    const deliveredAtKill = sink.messages.length;
    expect(deliveredAtKill).toBeLessThan(n); // the kill really happened mid-run
    await cluster.waitHealthy();
    expect(await cluster.masterFor(`{${h.prefix}}:notification-requests:wait`)).not.toBe(master);

    // The sweep (every 30 s at most) re-adds anything the failover lost.
    const tally = await waitAllFinished(h.db.pool, instanceId, seeded.length, 75_000);
    expect([...tally.values()].filter((t) => t.sent !== 1 || t.canceled !== 0)).toEqual([]);
    await waitUntil(() => new Set(sink?.messages.flatMap((m) => m.envelope.to)).size === n, {
      what: 'every recipient has a mail',
    });
    // A job whose message left before the kill, but whose outcome was not written, may send
    // again: at most one per job in flight.
    expect(duplicateCount(sink.messages)).toBeLessThanOrEqual(workers);
  }, 120_000);
});

/**
 * Redis loses everything mid-run (FLUSHALL on a private redis-server, never the shared
 * one): herald keeps running, `herald reconcile` rebuilds the queue from the eventstore,
 * and after a restart every notification ends with exactly one notification.sent.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, runHerald, spawnHerald } from '../helpers/spawn.js';
import { newId } from '../helpers/zitadel.js';
import { duplicateCount, heraldEnv, seedRequests, tally, waitAllFinished } from './helpers/fleet.js';
import { type PrivateRedis, startPrivateRedis } from './helpers/redis-server.js';

const N = 300;
let h: Harness;
let sink: SmtpSink;
let redis: PrivateRedis;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await redis?.stop();
  await sink?.close();
  await h.close();
});

it('loses nothing when Redis is wiped mid-run: reconcile, restart, all delivered once', async () => {
  const instanceId = newId();
  const seeded = await seedRequests(h.db.pool, instanceId, N, 'w');
  // Slow workers (concurrency 1) so that most requests are still queued when Redis goes.
  const env = heraldEnv({ databaseUrl: h.db.url, redisUrl: redis.url, prefix: h.prefix, smtpUrl: sink.url }, { ZITADEL_NOTIFICATIONS_WORKERS: '1' });
  const first = spawnHerald(['start'], env);
  procs.push(first);

  await sink.waitFor(20, 30_000);
  const admin = redis.client();
  try {
    expect(await admin.flushall()).toBe('OK');
  } finally {
    admin.disconnect();
  }
  const wipedAt = Date.now();
  const pendingAtWipe = [...(await tally(h.db.pool, instanceId)).values()].filter((t) => t.sent + t.canceled === 0).length;
  expect(pendingAtWipe).toBeGreaterThan(N / 2); // the wipe really lost queued work

  // The process survives the wipe and still stops cleanly.
  expect(first.child.exitCode).toBeNull();
  expect(await first.stop('SIGTERM'), first.output()).toBe(0);

  const reconcile = await runHerald(['reconcile'], env);
  expect(reconcile.code, reconcile.output).toBe(0);
  const restarted = spawnHerald(['start'], { ...env, ZITADEL_NOTIFICATIONS_WORKERS: '8' });
  procs.push(restarted);

  const outcome = await waitAllFinished(h.db.pool, instanceId, N, 60_000);
  const recoveredMs = Date.now() - wipedAt;
  expect([...outcome.values()].filter((t) => t.sent === 1 && t.canceled === 0)).toHaveLength(N);
  const recipients = new Set(sink.messages.map((m) => m.envelope.to[0]));
  expect(seeded.every((s) => recipients.has(s.email))).toBe(true);
  const duplicates = duplicateCount(sink.messages);
  console.info(`[fault:redis-wipe] N=${N} pending-at-wipe=${pendingAtWipe} duplicates=${duplicates} recovered-after=${recoveredMs}ms`);
  expect(duplicates).toBe(0);
});

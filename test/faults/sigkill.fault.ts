/**
 * SIGKILL a worker process mid-run, then start it again: every notification still ends with
 * exactly one notification.sent, and the only duplicate deliveries are jobs the killed
 * process had in flight (BullMQ finds them stalled once their lock lapses and runs them
 * again; a message that left before the kill but whose notification.sent was not yet
 * written is sent a second time — at-least-once, bounded by the killed worker's concurrency).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { QUEUE } from '../../src/queue/names.js';
import { makeQueues } from '../../src/queue/queues.js';
import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { newId } from '../helpers/zitadel.js';
import { deliveriesByRecipient, duplicateCount, heraldEnv, seedRequests, waitAllFinished } from './helpers/fleet.js';

const N = 300;
const CONCURRENCY = 8;
let h: Harness;
let sink: SmtpSink;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await sink.close();
  await h.close();
});

it('recovers every notification after SIGKILL of a worker; duplicates only from its in-flight jobs', async () => {
  const instanceId = newId();
  const seeded = await seedRequests(h.db.pool, instanceId, N, 'k');
  const env = heraldEnv(
    { databaseUrl: h.db.url, redisUrl: REDIS_URL, prefix: h.prefix, smtpUrl: sink.url },
    { ZITADEL_NOTIFICATIONS_WORKERS: String(CONCURRENCY) },
  );
  const victim = spawnHerald(['start', '--role', 'worker'], env);
  const survivor = spawnHerald(['start', '--role', 'producer', '--role', 'worker'], env);
  procs.push(victim, survivor);

  await sink.waitFor(N / 3, 60_000);
  victim.child.kill('SIGKILL');
  const killedAt = Date.now();
  expect(await victim.exited()).toBeNull(); // killed by the signal, no exit code
  const deliveredAtKill = sink.messages.length;
  procs.push(spawnHerald(['start', '--role', 'worker'], env)); // the restart

  const outcome = await waitAllFinished(h.db.pool, instanceId, N, 110_000);
  const recoveredMs = Date.now() - killedAt;

  // Every notification: exactly one notification.sent, nothing canceled.
  const perNotification = [...outcome.values()];
  expect(perNotification.filter((t) => t.sent === 1 && t.canceled === 0)).toHaveLength(N);

  // Which jobs the killed process held: BullMQ counts a stall on each job it took back.
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const queues = makeQueues({ connection, prefix: h.prefix, notifications: { maxAttempts: 3 }, logger: silent });
  let stalled: string[];
  try {
    const jobs = await queues.byName(QUEUE.requests).getJobs(['completed'], 0, -1);
    expect(jobs).toHaveLength(N);
    stalled = jobs.filter((j) => j.stalledCounter > 0).map((j) => j.data.aggregateId);
  } finally {
    await queues.close();
    connection.disconnect();
  }

  const duplicates = duplicateCount(sink.messages);
  const counts = deliveriesByRecipient(sink.messages);
  const duplicated = seeded.filter((s) => (counts.get(s.email) ?? 0) > 1).map((s) => s.aggregateId);
  console.info(
    `[fault:sigkill] N=${N} delivered-before-kill=${deliveredAtKill} killed-in-flight=${stalled.length} ` +
      `duplicates=${duplicates} recovered-after=${recoveredMs}ms`,
  );
  expect(stalled.length).toBeGreaterThan(0); // the kill really hit jobs in flight
  expect(stalled.length).toBeLessThanOrEqual(CONCURRENCY);
  expect(duplicates).toBeLessThanOrEqual(stalled.length);
  expect(new Set(stalled)).toEqual(new Set([...stalled, ...duplicated])); // every duplicate was in flight in the killed worker
  expect(seeded.every((s) => (counts.get(s.email) ?? 0) >= 1)).toBe(true); // nobody missed
  expect(sink.messages).toHaveLength(N + duplicates);
});

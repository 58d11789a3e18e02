/**
 * Graceful shutdown with work in flight: a herald process with 50 jobs active against a slow
 * SMTP server gets SIGTERM. It lets what it can finish inside HERALD_SHUTDOWN_GRACE, aborts
 * and releases the rest to Redis, and exits 0 within the grace period. A second process
 * (worker only: no producer re-adding anything) then delivers what was released. Every
 * notification ends with exactly one notification.sent, every mail arrives once, and no job
 * is left active or waiting.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { QUEUE } from '../../src/queue/names.js';
import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { KEYS_ENV, newId, requestFor } from '../helpers/zitadel.js';

const N = 50;
const GRACE_MS = 3000;
/** Process teardown after the stop (closing pools, exiting node) on a loaded CI machine. */
const EXIT_SLACK_MS = 1500;

let h: Harness;
let sink: SmtpSink;
let slow = true;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  h = await makeHarness();
  // While the first process runs, each message takes 400 ms to be accepted (nodemailer's pool
  // sends 5 at a time), so most of the 50 jobs are still in flight when SIGTERM comes.
  sink = await startSmtpSink({ acceptDelayMs: () => (slow ? 400 : 0) });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await sink.close();
  await h.close();
});

async function countEvents(instanceId: string, eventType: string): Promise<number> {
  const { rows } = await h.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM eventstore.events2 WHERE instance_id = $1 AND event_type = $2`, [
    instanceId,
    eventType,
  ]);
  return Number(rows[0]?.n);
}

it('finishes or releases in-flight jobs on SIGTERM; a second process delivers the rest exactly once', async () => {
  const instanceId = newId();
  const orgId = newId();
  const events: ZitadelEvent[] = [];
  for (let i = 0; i < N; i++) {
    const userId = `s${i}-${newId()}`;
    const user = { instanceId, orgId, userId, email: `shutdown${i}@example.com` };
    const base = { instanceId, aggregateType: 'user', aggregateId: userId, owner: orgId };
    events.push(
      { ...base, eventType: 'user.human.added', payload: { userName: `s${i}`, displayName: `S ${i}`, preferredLanguage: 'en', email: user.email } },
      { ...base, eventType: 'user.human.email.verified', payload: null },
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: `sn${i}-${newId()}`,
        eventType: 'notification.requested',
        owner: orgId,
        payload: { request: requestFor(user, {}, `S${String(i).padStart(5, '0')}`) },
      },
    );
  }
  await insertZitadelEvents(h.db.pool, events);

  const env = {
    DATABASE_URL: h.db.url,
    REDIS_URL,
    HERALD_QUEUE_PREFIX: h.prefix,
    HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    HERALD_HTTP_PORT: '0',
    HERALD_SHUTDOWN_GRACE: `${GRACE_MS}ms`,
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    ZITADEL_NOTIFICATIONS_WORKERS: String(N),
    ZITADEL_NOTIFICATIONS_BULKLIMIT: String(N),
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    LOG_LEVEL: 'warn',
  };
  const first = spawnHerald(['start', '--role', 'producer', '--role', 'worker'], env);
  procs.push(first);
  await sink.waitFor(5, 20_000);
  const signalledAt = Date.now();
  const code = await first.stop('SIGTERM');
  const tookMs = Date.now() - signalledAt;
  expect(code, first.output()).toBe(0);
  expect(tookMs).toBeLessThan(GRACE_MS + EXIT_SLACK_MS);

  const sentByFirst = await countEvents(instanceId, 'notification.sent');
  // The grace period was too short for all 50: some were released, not lost.
  expect(sentByFirst).toBeLessThan(N);
  expect(first.output()).toContain('grace period over');

  slow = false;
  const second = spawnHerald(['start', '--role', 'worker'], env);
  procs.push(second);
  await waitUntil(async () => ((await countEvents(instanceId, 'notification.sent')) >= N ? true : undefined), {
    timeoutMs: 30_000,
    what: `${N} notification.sent events`,
  });
  expect(await second.stop('SIGTERM'), second.output()).toBe(0);

  // Exactly once in the eventstore: one notification.sent per request, nothing canceled.
  const { rows } = await h.db.pool.query<{ aggregate_id: string; sent: string }>(
    `SELECT aggregate_id, count(*) FILTER (WHERE event_type = 'notification.sent') AS sent
       FROM eventstore.events2
      WHERE instance_id = $1 AND aggregate_type = 'notification'
      GROUP BY aggregate_id`,
    [instanceId],
  );
  expect(rows).toHaveLength(N);
  expect(rows.every((r) => r.sent === '1')).toBe(true);
  expect(await countEvents(instanceId, 'notification.canceled')).toBe(0);

  // Every mail arrived. An aborted send the server had already accepted (its 250 was on the
  // wire when the connection was cut) is sent again by the second process: at-least-once
  // delivery, bounded by the sends that were aborted, i.e. the released jobs.
  const recipients = sink.messages.map((m) => m.envelope.to[0]);
  expect(new Set(recipients).size).toBe(N);
  const duplicates = recipients.length - N;
  expect(duplicates).toBeLessThanOrEqual(N - sentByFirst);

  // Nothing stuck in Redis.
  const queue = new Queue(QUEUE.requests, { connection: { url: REDIS_URL }, prefix: h.prefix });
  try {
    const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'completed');
    expect(counts).toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0, completed: N });
  } finally {
    await queue.close();
  }
  console.info(
    `shutdown: ${sentByFirst}/${N} sent before exit (${tookMs} ms after SIGTERM), ` +
      `${N - sentByFirst} released; ${sink.abandoned} SMTP replies abandoned by the abort; ${duplicates} delivered twice`,
  );
}, 90_000);

/**
 * The producer against real Postgres and Redis (no workers): per-instance windows bound
 * what sits in Redis, a quiet instance is not queued behind a busy one, the LISTEN/NOTIFY
 * nudge enqueues without waiting for a poll, and passes are idempotent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../../src/eventstore/schema.js';
import { compareCursor } from '../../src/producer/cursor.js';
import { makeProducer } from '../../src/producer/producer.js';
import { makeRedis } from '../../src/queue/connection.js';
import { jobIdFor } from '../../src/queue/names.js';
import { makeQueues, type Queues } from '../../src/queue/queues.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { waitUntil } from '../helpers/wait.js';
import { newId, requestFor } from '../helpers/zitadel.js';

let h: Harness;
let queues: Queues;
let connection: ReturnType<typeof makeRedis>;

beforeAll(async () => {
  h = await makeHarness();
  await migrate(h.db.pool, { logger: silent, notifyTrigger: true });
  connection = makeRedis('redis://127.0.0.1:6379', 'producer', silent);
  queues = makeQueues({ connection, prefix: h.prefix, notifications: { maxAttempts: 3 }, logger: silent });
});
afterAll(async () => {
  await queues.close();
  await connection.quit();
  await h.close();
});

function requests(instanceId: string, n: number, extra: Record<string, unknown> = {}): { events: ZitadelEvent[]; ids: string[] } {
  const orgId = newId();
  const user = { instanceId, orgId, userId: newId(), email: 'x@example.com' };
  const ids = Array.from({ length: n }, () => newId() + Math.random().toString(36).slice(2, 6));
  const events = ids.map((aggregateId) => ({
    instanceId,
    aggregateType: 'notification',
    aggregateId,
    eventType: 'notification.requested',
    owner: orgId,
    payload: { request: requestFor(user, extra) },
  }));
  return { events, ids };
}

describe('cursor order', () => {
  it('compares decimal positions exactly, then in_tx_order', () => {
    expect(compareCursor({ position: '9.5', inTxOrder: 0 }, { position: '10.1', inTxOrder: 0 })).toBeLessThan(0);
    expect(compareCursor({ position: '10.25', inTxOrder: 0 }, { position: '10.3', inTxOrder: 0 })).toBeLessThan(0);
    expect(compareCursor({ position: '10.30', inTxOrder: 0 }, { position: '10.3', inTxOrder: 0 })).toBe(0);
    expect(compareCursor({ position: '10.3', inTxOrder: 2 }, { position: '10.3', inTxOrder: 1 })).toBeGreaterThan(0);
  });
});

describe('producer', () => {
  it('keeps at most a window per instance in Redis and serves a quiet instance first', async () => {
    const cfg = h.config().notifications;
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { instanceWindow: 10, listen: false });
    const busy = newId();
    const quiet = newId();
    const a = requests(busy, 35);
    await insertZitadelEvents(h.db.pool, a.events);
    const b = requests(quiet, 1);
    await insertZitadelEvents(h.db.pool, b.events);

    expect(await producer.tickRequests()).toBe(11);
    expect(await producer.tickRequests()).toBe(0); // idempotent: nothing new to add
    const counts = await queues.requests.getJobCounts('prioritized', 'waiting');
    expect((counts.prioritized ?? 0) + (counts.waiting ?? 0)).toBe(11);

    const quietJob = await queues.requests.getJob(jobIdFor(quiet, b.ids[0]!, 1));
    const busyLast = await queues.requests.getJob(jobIdFor(busy, a.ids[9]!, 1));
    expect(quietJob?.opts.priority).toBeLessThan(busyLast?.opts.priority ?? 0);
    expect(await queues.requests.getJob(jobIdFor(busy, a.ids[10]!, 1))).toBeUndefined();

    // Finish the first 10 of the busy instance: the window moves on.
    await insertZitadelEvents(
      h.db.pool,
      a.ids.slice(0, 10).map((aggregateId) => ({
        instanceId: busy,
        aggregateType: 'notification',
        aggregateId,
        eventType: 'notification.sent',
        owner: 'o',
        payload: {},
      })),
    );
    expect(await producer.tickRequests()).toBe(10);
    expect(await queues.requests.getJob(jobIdFor(busy, a.ids[19]!, 1))).toBeDefined();
    expect(await queues.requests.getJob(jobIdFor(busy, a.ids[20]!, 1))).toBeUndefined();
    await producer.stop();
  });

  it('gives OTP requests the top priority', async () => {
    const producer = makeProducer({ pool: h.db.pool, queues, cfg: h.config().notifications, logger: silent }, { listen: false });
    const instanceId = newId();
    const r = requests(instanceId, 1, { isOTP: true, messageType: 'VerifyEmailOTP' });
    await insertZitadelEvents(h.db.pool, r.events);
    await producer.tickRequests();
    expect((await queues.requests.getJob(jobIdFor(instanceId, r.ids[0]!, 1)))?.opts.priority).toBe(1);
    await producer.stop();
  });

  it('reads only what came after the last request it added, and never offers more than the window', async () => {
    const cfg = h.config().notifications;
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { instanceWindow: 10, listen: false, probe: false });
    const instanceId = newId();
    const a = requests(instanceId, 6);
    await insertZitadelEvents(h.db.pool, a.events);
    expect(await producer.tickRequests()).toBe(6);
    const b = requests(instanceId, 7);
    await insertZitadelEvents(h.db.pool, b.events);
    // Room for 4 more: the window holds at most 10 of this instance.
    expect(await producer.tickRequests()).toBe(4);
    expect(await queues.requests.getJob(jobIdFor(instanceId, b.ids[3]!, 1))).toBeDefined();
    expect(await queues.requests.getJob(jobIdFor(instanceId, b.ids[4]!, 1))).toBeUndefined();
    // Finish the first six: the next pass recounts the full window and moves on.
    await insertZitadelEvents(
      h.db.pool,
      a.events.map((e) => ({ ...e, eventType: 'notification.sent', payload: {}, sequence: 2 })),
    );
    expect(await producer.tickRequests()).toBe(3);
    expect(await queues.requests.getJob(jobIdFor(instanceId, b.ids[6]!, 1))).toBeDefined();
    await producer.stop();
  });

  it('moves the discovery cursor over rows of other types below the guard, so later reads do not scan them again', async () => {
    const producer = makeProducer({ pool: h.db.pool, queues, cfg: h.config().notifications, logger: silent }, { listen: false, probe: false });
    const instanceId = newId();
    const r = requests(instanceId, 1);
    await insertZitadelEvents(h.db.pool, r.events);
    await insertZitadelEvents(h.db.pool, [{ ...r.events[0]!, eventType: 'notification.sent', payload: {} }]);
    await producer.tickRequests();
    const { rows } = await h.db.pool.query<{ behind: boolean }>(
      `SELECT c."position" >= (SELECT max(e."position") FROM eventstore.events2 e WHERE e.aggregate_type = 'notification') AS behind
         FROM herald.checkpoints c WHERE c.name = 'producer.requests'`,
    );
    expect(rows[0]?.behind).toBe(true);
    await producer.stop();
  });

  it('enqueues on a LISTEN/NOTIFY nudge without waiting for the next poll', async () => {
    const cfg = h.config({ ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '1h', ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY: '1h' }).notifications;
    // No probe: only the notification can have brought the job in.
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { probe: false });
    producer.start();
    const instanceId = newId();
    // Let the start-up passes run and LISTEN settle: a first request must arrive by nudge too.
    const first = requests(instanceId, 1);
    await insertZitadelEvents(h.db.pool, first.events);
    await waitUntil(() => queues.requests.getJob(jobIdFor(instanceId, first.ids[0]!, 1)), { timeoutMs: 5000, what: 'first job' });
    const second = requests(instanceId, 1);
    await insertZitadelEvents(h.db.pool, second.events);
    const job = await waitUntil(() => queues.requests.getJob(jobIdFor(instanceId, second.ids[0]!, 1)), {
      timeoutMs: 5000,
      what: 'job added by the nudge (the poll interval is 1h)',
    });
    expect(job.data).toEqual({ instanceId, aggregateId: second.ids[0], sequence: 1 });
    await producer.stop();
  });
});

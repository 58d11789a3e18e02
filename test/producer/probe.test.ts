/**
 * Pickup without the notify trigger (producer/probe.ts): with a poll interval of an hour and
 * no trigger installed, a committed request reaches Redis through the index probe — in
 * seconds, not at the next poll — and the probe's query stays cheap (it reads only rows
 * after its own high-water mark).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../../src/eventstore/schema.js';
import { PROBE_SQL } from '../../src/producer/probe.js';
import { makeProducer } from '../../src/producer/producer.js';
import { makeRedis } from '../../src/queue/connection.js';
import { jobIdFor } from '../../src/queue/names.js';
import { makeQueues, type Queues } from '../../src/queue/queues.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { waitUntil } from '../helpers/wait.js';
import { newId, requestFor } from '../helpers/zitadel.js';

let h: Harness;
let queues: Queues;
let connection: ReturnType<typeof makeRedis>;

beforeAll(async () => {
  h = await makeHarness();
  await migrate(h.db.pool, { logger: silent, notifyTrigger: false });
  connection = makeRedis('redis://127.0.0.1:6379', 'producer', silent);
  queues = makeQueues({ connection, prefix: h.prefix, notifications: { maxAttempts: 3 }, logger: silent });
});
afterAll(async () => {
  await queues.close();
  await connection.quit();
  await h.close();
});

function request(instanceId: string): { event: Parameters<typeof insertZitadelEvents>[1][number]; id: string } {
  const orgId = newId();
  const id = newId();
  const user = { instanceId, orgId, userId: newId(), email: 'x@example.com' };
  return {
    id,
    event: {
      instanceId,
      aggregateType: 'notification',
      aggregateId: id,
      eventType: 'notification.requested',
      owner: orgId,
      payload: { request: requestFor(user) },
    },
  };
}

describe('pickup probe', () => {
  it('enqueues a request committed without the trigger long before the next poll', async () => {
    const cfg = h.config({ ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '1h', ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY: '1h' }).notifications;
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { listen: false });
    const instanceId = newId();
    // Written before start: the start-up pass takes it. Once it is in Redis, that pass is done.
    const before = request(instanceId);
    await insertZitadelEvents(h.db.pool, [before.event]);
    producer.start();
    try {
      await waitUntil(() => queues.requests.getJob(jobIdFor(instanceId, before.id, 1)), { timeoutMs: 15_000, what: 'start-up pass' });
      for (let i = 0; i < 3; i++) {
        const r = request(instanceId);
        await insertZitadelEvents(h.db.pool, [r.event]);
        // The poll is an hour away and there is no trigger: only the probe can bring it in.
        const job = await waitUntil(() => queues.requests.getJob(jobIdFor(instanceId, r.id, 1)), {
          timeoutMs: 15_000,
          what: `request ${i} picked up by the probe`,
        });
        expect(job.data).toEqual({ instanceId, aggregateId: r.id, sequence: 1 });
      }
    } finally {
      await producer.stop();
    }
  });

  it('does not pick anything up with the probe off (the poll interval is an hour)', async () => {
    const cfg = h.config({ ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '1h', ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY: '1h' }).notifications;
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { listen: false, probe: false });
    const instanceId = newId();
    const before = request(instanceId);
    await insertZitadelEvents(h.db.pool, [before.event]);
    producer.start();
    try {
      await waitUntil(() => queues.requests.getJob(jobIdFor(instanceId, before.id, 1)), { timeoutMs: 15_000, what: 'start-up pass' });
      const r = request(instanceId);
      await insertZitadelEvents(h.db.pool, [r.event]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await queues.requests.getJob(jobIdFor(instanceId, r.id, 1))).toBeUndefined();
    } finally {
      await producer.stop();
    }
  });

  it('plans the probe as an index range scan after its high-water mark', async () => {
    const { rows } = await h.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${PROBE_SQL}`, ['0', 2000]);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('herald_notification_position');
    expect(plan).not.toMatch(/Seq Scan on events2/);
  });
});

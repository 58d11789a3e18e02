/** Group commit: concurrent pushes share transactions; one conflict fails only its own push. */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ConcurrencyError } from '../../src/errors.js';
import { makePushBatcher } from '../../src/eventstore/batch.js';
import { migrate } from '../../src/eventstore/schema.js';
import type { EventCommand } from '../../src/eventstore/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silent } from '../helpers/herald.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool, { logger: silent });
});
afterAll(async () => {
  await db.drop();
});

const cmd = (aggregateId: string, eventType = 'notification.sent'): EventCommand => ({
  instanceId: 'i1',
  aggregateType: 'notification',
  aggregateId,
  eventType,
  revision: 1,
  payload: {},
  creator: 'NOTIFICATION',
  owner: 'o',
});
const expectNone = (aggregateId: string) => [{ instanceId: 'i1', aggregateType: 'notification', aggregateId, sequence: 0 }];

it('writes 60 concurrent pushes in fewer transactions, each with its own sequence', async () => {
  const batcher = makePushBatcher(db.pool, { maxInFlight: 1 });
  const ids = Array.from({ length: 60 }, (_, i) => `agg-${i}`);
  await Promise.all(ids.map((id) => batcher.push([cmd(id)], { expected: expectNone(id) })));
  const { rows } = await db.pool.query<{ n: string; tx: string }>(
    `SELECT count(*) AS n, count(DISTINCT created_at) AS tx FROM eventstore.events2 WHERE aggregate_id LIKE 'agg-%'`,
  );
  expect(Number(rows[0]?.n)).toBe(60);
  expect(Number(rows[0]?.tx)).toBeLessThan(60);
});

it('fails only the push whose expected sequence is stale', async () => {
  const batcher = makePushBatcher(db.pool, { maxInFlight: 1 });
  await batcher.push([cmd('stale')], { expected: expectNone('stale') });
  const results = await Promise.allSettled([
    batcher.push([cmd('fresh-1')], { expected: expectNone('fresh-1') }),
    batcher.push([cmd('stale', 'notification.canceled')], { expected: expectNone('stale') }),
    batcher.push([cmd('fresh-2')], { expected: expectNone('fresh-2') }),
    batcher.push([cmd('fresh-3')], { expected: expectNone('fresh-3') }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
  const { rows } = await db.pool.query<{ aggregate_id: string }>(
    `SELECT aggregate_id FROM eventstore.events2 WHERE aggregate_id IN ('stale','fresh-1','fresh-2','fresh-3') ORDER BY aggregate_id, sequence`,
  );
  expect(rows.map((r) => r.aggregate_id)).toEqual(['fresh-1', 'fresh-2', 'fresh-3', 'stale']);
});

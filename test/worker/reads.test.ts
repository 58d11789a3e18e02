/**
 * The worker's batched reads (worker/reads.ts) against real Postgres: the jobs of one tick
 * share one query per kind, every job gets exactly its own aggregate's rows (never another
 * instance's with the same id), in sequence order.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../../src/eventstore/index.js';
import { makeWorkerReads, readNotificationsSql, readUsersEventsSql } from '../../src/worker/reads.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents } from '../helpers/events.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
  const n = (instanceId: string, aggregateId: string, eventType: string) => ({
    instanceId,
    aggregateType: 'notification',
    aggregateId,
    eventType,
    owner: `org-${instanceId}`,
    payload: eventType === 'notification.sent' ? {} : { request: { userID: `${instanceId}/${aggregateId}` } },
  });
  const u = (instanceId: string, aggregateId: string, eventType: string, payload: Record<string, unknown> | undefined = undefined) => ({
    instanceId,
    aggregateType: 'user',
    aggregateId,
    eventType,
    owner: `org-${instanceId}`,
    ...(payload ? { payload } : {}),
  });
  await insertZitadelEvents(db.pool, [n('i1', 'n1', 'notification.requested'), n('i2', 'n1', 'notification.requested')]);
  await insertZitadelEvents(db.pool, [n('i1', 'n1', 'notification.sent'), n('i1', 'n2', 'notification.requested')]);
  await insertZitadelEvents(db.pool, [
    u('i1', 'u1', 'user.human.added', { userName: 'one', email: 'one@i1.example.com' }),
    u('i2', 'u1', 'user.human.added', { userName: 'other', email: 'one@i2.example.com' }),
    u('i1', 'u1', 'user.human.email.verified'),
    u('i1', 'u1', 'user.token.added'),
  ]);
});
afterAll(async () => {
  await db.drop();
});

/** A pool that counts the statements it runs, by text. */
function counting(pool: pg.Pool): { db: pg.Pool; count(sql: string): number } {
  const seen: string[] = [];
  const db = {
    query: (text: string, values?: unknown[]) => {
      seen.push(text);
      return pool.query(text, values);
    },
  } as unknown as pg.Pool;
  return { db, count: (sql) => seen.filter((t) => t === sql).length };
}

describe('makeWorkerReads', () => {
  it('reads the notifications of jobs that start in the same tick with one query, each its own instance', async () => {
    const c = counting(db.pool);
    const reads = makeWorkerReads(c.db);
    const [a, b, d, missing] = await Promise.all([
      reads.notification({ instanceId: 'i1', aggregateId: 'n1' }),
      reads.notification({ instanceId: 'i2', aggregateId: 'n1' }),
      reads.notification({ instanceId: 'i1', aggregateId: 'n2' }),
      reads.notification({ instanceId: 'i3', aggregateId: 'n1' }),
    ]);
    expect(c.count(readNotificationsSql)).toBe(1);
    expect(a.map((e) => [e.instanceId, e.eventType, e.sequence])).toEqual([
      ['i1', 'notification.requested', 1],
      ['i1', 'notification.sent', 2],
    ]);
    expect(b.map((e) => [e.instanceId, e.eventType])).toEqual([['i2', 'notification.requested']]);
    expect(b[0]?.payload).toEqual({ request: { userID: 'i2/n1' } });
    expect(d.map((e) => e.aggregateId)).toEqual(['n2']);
    expect(missing).toEqual([]);
  });

  it('reads the users of concurrent jobs with one query, only the reduced event types, per instance', async () => {
    const c = counting(db.pool);
    const reads = makeWorkerReads(c.db);
    const [one, other] = await Promise.all([
      reads.userEvents({ instanceId: 'i1', aggregateId: 'u1' }),
      reads.userEvents({ instanceId: 'i2', aggregateId: 'u1' }),
    ]);
    expect(c.count(readUsersEventsSql)).toBe(1);
    expect(one.map((r) => r.event_type)).toEqual(['user.human.added', 'user.human.email.verified']);
    expect(other.map((r) => (r.payload as { userName: string }).userName)).toEqual(['other']);
  });
});

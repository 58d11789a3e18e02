import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePool, migrate, readAggregate, readEvents, withTransaction } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents } from '../helpers/events.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool);
  const n = (aggregateId: string, eventType: string, owner = 'org1', instanceId = 'i1') => ({
    instanceId,
    aggregateType: 'notification',
    aggregateId,
    eventType,
    owner,
    payload: eventType === 'notification.sent' ? {} : { request: { userID: aggregateId } },
  });
  await insertZitadelEvents(db.pool, [n('n1', 'notification.requested'), n('n2', 'notification.requested', 'org2')]);
  await insertZitadelEvents(db.pool, [
    { instanceId: 'i1', aggregateType: 'user', aggregateId: 'u1', eventType: 'user.human.added', owner: 'org1' },
    n('n1', 'notification.sent'),
    n('n3', 'notification.requested', 'org1', 'i2'),
  ]);
});
afterAll(async () => {
  await db.drop();
});

describe('readAggregate', () => {
  it('returns one aggregate in sequence order, mapped from the row', async () => {
    const events = await readAggregate(db.pool, { instanceId: 'i1', aggregateType: 'notification', aggregateId: 'n1' });
    expect(events).toEqual([
      expect.objectContaining({
        instanceId: 'i1',
        aggregateType: 'notification',
        aggregateId: 'n1',
        eventType: 'notification.requested',
        sequence: 1,
        revision: 1,
        creator: 'NOTIFICATION',
        owner: 'org1',
        payload: { request: { userID: 'n1' } },
        inTxOrder: 0,
      }),
      expect.objectContaining({ eventType: 'notification.sent', sequence: 2, payload: {}, inTxOrder: 1 }),
    ]);
    expect(events[0]?.createdAt).toBeInstanceOf(Date);
    expect(typeof events[0]?.position).toBe('string');
  });
});

describe('readEvents', () => {
  it('filters by instance and aggregate type, ordered by position and in_tx_order', async () => {
    const events = await readEvents(db.pool, { instanceId: 'i1', aggregateTypes: ['notification'] });
    expect(events.map((e) => `${e.aggregateId}/${e.eventType}`)).toEqual([
      'n1/notification.requested',
      'n2/notification.requested',
      'n1/notification.sent',
    ]);
  });

  it('filters by aggregate ids, event types and owner', async () => {
    const base = { instanceId: 'i1', aggregateTypes: ['notification', 'user'] } as const;
    expect((await readEvents(db.pool, { ...base, aggregateIds: ['n2', 'u1'] })).map((e) => e.aggregateId)).toEqual(['n2', 'u1']);
    const requested = await readEvents(db.pool, { ...base, eventTypes: ['notification.requested'] });
    expect(requested.map((e) => e.aggregateId)).toEqual(['n1', 'n2']);
    expect((await readEvents(db.pool, { ...base, owner: 'org2' })).map((e) => e.aggregateId)).toEqual(['n2']);
  });

  it('reads strictly after a position, exactly (DECIMAL compared in SQL)', async () => {
    const all = await readEvents(db.pool, { instanceId: 'i1', aggregateTypes: ['notification'] });
    const after = await readEvents(db.pool, {
      instanceId: 'i1',
      aggregateTypes: ['notification'],
      afterPosition: all[0]!.position,
    });
    expect(after).toEqual(all.slice(1));
    const tuple = await readEvents(db.pool, {
      instanceId: 'i1',
      aggregateTypes: ['notification'],
      afterPosition: all[0]!.position,
      afterInTxOrder: all[0]!.inTxOrder,
      limit: 1,
    });
    expect(tuple).toEqual(all.slice(1, 2));
  });

  it('rejects an empty aggregate type list', async () => {
    await expect(readEvents(db.pool, { instanceId: 'i1', aggregateTypes: [] })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('makePool and withTransaction', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = makePool(db.url, { applicationName: 'herald-read-test', max: 2, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('sets application_name on its connections', async () => {
    const { rows } = await pool.query<{ name: string }>(`SELECT current_setting('application_name') AS name`);
    expect(rows[0]?.name).toBe('herald-read-test');
  });

  it('commits on success, rolls back on error, and always releases the client', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS public.tx_probe (v INT)');
    await withTransaction(pool, (c) => c.query('INSERT INTO public.tx_probe VALUES (1)'));
    const boom = new Error('boom');
    await expect(
      withTransaction(pool, async (c) => {
        await c.query('INSERT INTO public.tx_probe VALUES (2)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    const { rows } = await pool.query('SELECT v FROM public.tx_probe ORDER BY v');
    expect(rows).toEqual([{ v: 1 }]);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });
});

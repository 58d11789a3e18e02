import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConcurrencyError, isConcurrency } from '../../src/errors.js';
import { hasPushFunction, migrate, push, readAggregate } from '../../src/eventstore/index.js';
import type { EventCommand } from '../../src/eventstore/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { command, installPushFunction, waitForLockWait } from './support.js';

const paths = [
  { name: 'ZITADEL 2.67+ SQL push function', withFunction: true, firstInTxOrder: 1 },
  { name: 'ZITADEL 2.66 Go-path insert', withFunction: false, firstInTxOrder: 0 },
] as const;

describe.each(paths)('push via $name', ({ withFunction, firstInTxOrder }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    if (withFunction) await installPushFunction(db.pool);
    // Records the application_name of the session that inserts each row.
    await db.pool.query(`
      CREATE TABLE public.seen_app_names (aggregate_id TEXT, app_name TEXT);
      CREATE FUNCTION public.record_app_name() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO public.seen_app_names VALUES (NEW.aggregate_id, current_setting('application_name'));
        RETURN NULL;
      END $$;
      CREATE TRIGGER record_app_name AFTER INSERT ON eventstore.events2
        FOR EACH ROW EXECUTE FUNCTION public.record_app_name();
    `);
  });
  afterAll(async () => {
    await db.drop();
  });

  it(`detects the push function: ${withFunction}`, async () => {
    expect(await hasPushFunction(db.pool)).toBe(withFunction);
  });

  it('appends contiguous sequences per aggregate, with in_tx_order per call', async () => {
    const stored = await push(db.pool, [
      command({ aggregateId: 'a1', owner: 'org1', eventType: 'notification.requested' }),
      command({ aggregateId: 'b1', owner: 'org2' }),
      command({ aggregateId: 'a1' }),
    ]);
    expect(stored.map((e) => [e.aggregateId, e.sequence, e.inTxOrder])).toEqual([
      ['a1', 1, firstInTxOrder],
      ['b1', 1, firstInTxOrder + 1],
      ['a1', 2, firstInTxOrder + 2],
    ]);
    const more = await push(db.pool, [command({ aggregateId: 'a1' }), command({ aggregateId: 'a1' })]);
    expect(more.map((e) => e.sequence)).toEqual([3, 4]);
    const all = await readAggregate(db.pool, { instanceId: 'inst-1', aggregateType: 'notification', aggregateId: 'a1' });
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    expect(all.map((e) => e.eventType)).toEqual(['notification.requested', 'notification.sent', 'notification.sent', 'notification.sent']);
    expect(all).toEqual([...stored.filter((e) => e.aggregateId === 'a1'), ...more].map((e) => expect.objectContaining(e)));
  });

  it('takes the aggregate owner for an empty owner and keeps creator and revision', async () => {
    await insertZitadelEvents(db.pool, [
      { instanceId: 'inst-1', aggregateType: 'user', aggregateId: 'u1', eventType: 'user.human.added', owner: 'orgU' },
    ]);
    const [sent] = await push(db.pool, [
      command({
        aggregateType: 'user',
        aggregateId: 'u1',
        eventType: 'user.human.initialization.code.sent',
        revision: 3,
        creator: '',
        payload: null,
      }),
    ]);
    expect(sent).toMatchObject({ sequence: 2, owner: 'orgU', creator: '', revision: 3, aggregateType: 'user' });
    expect(sent?.createdAt).toBeInstanceOf(Date);
    expect(sent?.position).toMatch(/^\d+\.\d+$/);
  });

  it('writes a nullish payload as SQL NULL and {} as an empty object', async () => {
    await push(db.pool, [
      command({ aggregateId: 'p1', payload: undefined, owner: 'o' }),
      command({ aggregateId: 'p1', payload: null }),
      command({ aggregateId: 'p1', payload: {} }),
      command({ aggregateId: 'p1', payload: { error: 'boom' } }),
    ]);
    const { rows } = await db.pool.query<{ isnull: boolean; text: string | null }>(
      `SELECT payload IS NULL AS isnull, payload::TEXT AS text FROM eventstore.events2
       WHERE aggregate_id = 'p1' ORDER BY "sequence"`,
    );
    expect(rows).toEqual([
      { isnull: true, text: null },
      { isnull: true, text: null },
      { isnull: false, text: '{}' },
      { isnull: false, text: '{"error": "boom"}' },
    ]);
    const read = await readAggregate(db.pool, { instanceId: 'inst-1', aggregateType: 'notification', aggregateId: 'p1' });
    expect(read.map((e) => e.payload)).toEqual([null, null, {}, { error: 'boom' }]);
  });

  it('sets application_name zitadel_es_pusher_<instance> inside the transaction only', async () => {
    await push(db.pool, [command({ instanceId: '2981234567', aggregateId: 'app1', owner: 'o' })]);
    const { rows } = await db.pool.query(`SELECT app_name FROM public.seen_app_names WHERE aggregate_id = 'app1'`);
    expect(rows).toEqual([{ app_name: 'zitadel_es_pusher_2981234567' }]);
    // SET LOCAL: the pooled connection is back to its own name afterwards.
    const clients = await Promise.all(Array.from({ length: 10 }, () => db.pool.connect()));
    try {
      for (const c of clients) {
        const r = await c.query<{ name: string }>(`SELECT current_setting('application_name') AS name`);
        expect(r.rows[0]?.name).not.toMatch(/^zitadel_es_pusher_/);
      }
    } finally {
      for (const c of clients) c.release();
    }
  });

  it('checks expected sequences before writing anything', async () => {
    await push(db.pool, [command({ aggregateId: 'e1', owner: 'o' }), command({ aggregateId: 'e1' })]);
    const ref = { instanceId: 'inst-1', aggregateType: 'notification', aggregateId: 'e1' };
    const attempt = push(db.pool, [command({ aggregateId: 'e1' }), command({ aggregateId: 'e2', owner: 'o' })], {
      expected: [{ ...ref, sequence: 1 }],
    });
    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await readAggregate(db.pool, ref)).toHaveLength(2);
    expect(await readAggregate(db.pool, { ...ref, aggregateId: 'e2' })).toHaveLength(0);

    const ok = await push(db.pool, [command({ aggregateId: 'e1' })], {
      expected: [
        { ...ref, sequence: 2 },
        { ...ref, aggregateId: 'never-written', sequence: 0 },
      ],
    });
    expect(ok.map((e) => e.sequence)).toEqual([3]);
  });

  it('turns a concurrent write of the same sequence into ConcurrencyError, never a duplicate', async () => {
    await push(db.pool, [command({ aggregateId: 'c1', owner: 'o' })]);
    // Another writer has inserted sequence 2 but not committed yet.
    const other = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO eventstore.events2 (instance_id, "owner", aggregate_type, aggregate_id, revision, creator,
           event_type, payload, "sequence", created_at, "position", in_tx_order)
         VALUES ('inst-1', 'o', 'notification', 'c1', 1, 'x', 'notification.canceled', '{"error":""}', 2,
           now(), EXTRACT(EPOCH FROM clock_timestamp()), 0)`,
      );
      const attempt = push(db.pool, [command({ aggregateId: 'c1' })]).then(
        () => undefined,
        (err: unknown) => err,
      );
      await waitForLockWait(db.pool);
      await other.query('COMMIT');
      const err = await attempt;
      expect(isConcurrency(err)).toBe(true);
      expect((err as Error).cause).toMatchObject({ code: '23505' });
    } finally {
      other.release();
    }
    const rows = await readAggregate(db.pool, { instanceId: 'inst-1', aggregateType: 'notification', aggregateId: 'c1' });
    expect(rows.map((e) => [e.sequence, e.eventType])).toEqual([
      [1, 'notification.sent'],
      [2, 'notification.canceled'],
    ]);
  });

  it('returns nothing and writes nothing for no commands', async () => {
    const empty: EventCommand[] = [];
    expect(await push(db.pool, empty)).toEqual([]);
  });
});

describe('owner rules that differ between the two ZITADEL push paths', () => {
  let fn: TestDatabase;
  let go: TestDatabase;
  beforeAll(async () => {
    [fn, go] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    await Promise.all([migrate(fn.pool), migrate(go.pool)]);
    await installPushFunction(fn.pool);
  });
  afterAll(async () => {
    await Promise.all([fn.drop(), go.drop()]);
  });

  it("SQL function: the latest event's owner wins; Go path: an explicit owner wins", async () => {
    for (const db of [fn, go]) await push(db.pool, [command({ aggregateId: 'o1', owner: 'first' })]);
    const [viaFn] = await push(fn.pool, [command({ aggregateId: 'o1', owner: 'second' })]);
    const [viaGo] = await push(go.pool, [command({ aggregateId: 'o1', owner: 'second' })]);
    expect(viaFn?.owner).toBe('first');
    expect(viaGo?.owner).toBe('second');
  });

  it('SQL function: one transaction shares created_at and position; Go path: clock per row', async () => {
    const cmds = [command({ aggregateId: 't1', owner: 'o' }), command({ aggregateId: 't1' })];
    const viaFn = await push(fn.pool, cmds);
    const viaGo = await push(go.pool, cmds);
    expect(viaFn[0]?.position).toBe(viaFn[1]?.position);
    expect(viaFn[0]?.createdAt).toEqual(viaFn[1]?.createdAt);
    expect(viaGo[0]?.createdAt).toEqual(viaGo[1]?.createdAt); // statement_timestamp()
    const { rows } = await go.pool.query<{ ordered: boolean }>(
      `SELECT bool_and(p2 >= p1) AS ordered FROM (
         SELECT "position" AS p2, lag("position") OVER (ORDER BY in_tx_order) AS p1
         FROM eventstore.events2 WHERE aggregate_id = 't1') x WHERE p1 IS NOT NULL`,
    );
    expect(rows[0]?.ordered).toBe(true);
  });
});

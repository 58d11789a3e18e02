import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HERALD_POSITION_INDEX, HERALD_STEPS, migrate, NOTIFY_CHANNEL } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents, ZITADEL_EVENTS2_DDL } from '../helpers/events.js';

const dbs: TestDatabase[] = [];
async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  dbs.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

async function columns(pool: pg.Pool): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT column_name, data_type, is_nullable, ordinal_position, numeric_precision, column_default
     FROM information_schema.columns WHERE table_schema = 'eventstore' AND table_name = 'events2'
     ORDER BY ordinal_position`,
  );
  return rows;
}

async function primaryKey(pool: pg.Pool): Promise<unknown[]> {
  const { rows } = await pool.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE conrelid = 'eventstore.events2'::regclass ORDER BY conname`,
  );
  return rows;
}

/** Index definitions on events2; herald's optional index excluded unless asked for. */
async function indexes(pool: pg.Pool, withHerald = false): Promise<{ indexname: string; indexdef: string }[]> {
  const { rows } = await pool.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE schemaname = 'eventstore' AND tablename = 'events2' ORDER BY indexname`,
  );
  return rows.filter((r) => withHerald || !r.indexname.startsWith('herald_'));
}

/** Everything migrate could create or change, by oid. */
async function catalogSnapshot(pool: pg.Pool): Promise<unknown> {
  const rel = await pool.query(
    `SELECT c.oid::INT AS oid, n.nspname, c.relname, c.relkind, i.indisvalid
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_index i ON i.indexrelid = c.oid
     WHERE n.nspname IN ('eventstore', 'herald') ORDER BY c.oid`,
  );
  const ns = await pool.query(`SELECT oid::INT, nspname FROM pg_namespace WHERE nspname IN ('eventstore', 'herald')`);
  const trg = await pool.query(`SELECT oid::INT, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY oid`);
  const fn = await pool.query(
    `SELECT p.oid::INT, p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'herald'`,
  );
  const steps = await pool.query('SELECT version, name, applied_at FROM herald.schema_migrations ORDER BY version');
  return { rel: rel.rows, ns: ns.rows, trg: trg.rows, fn: fn.rows, steps: steps.rows };
}

async function positionIndexValid(pool: pg.Pool): Promise<boolean | undefined> {
  const { rows } = await pool.query<{ valid: boolean }>(
    `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('eventstore.${HERALD_POSITION_INDEX}')`,
  );
  return rows[0]?.valid;
}

describe('migrate on a fresh database', () => {
  let fresh: TestDatabase;
  let reference: TestDatabase;
  beforeAll(async () => {
    [fresh, reference] = await Promise.all([freshDb(), freshDb()]);
    await migrate(fresh.pool);
    await reference.pool.query(ZITADEL_EVENTS2_DDL);
  });

  it('creates events2 with the same columns, primary key and indexes as ZITADEL', async () => {
    expect(await columns(fresh.pool)).toEqual(await columns(reference.pool));
    expect(await primaryKey(fresh.pool)).toEqual(await primaryKey(reference.pool));
    expect(await indexes(fresh.pool)).toEqual(await indexes(reference.pool));
    expect((await indexes(reference.pool)).map((i) => i.indexname)).toEqual(['es_active_instances', 'es_projection', 'es_wm', 'events2_pkey']);
  });

  it('creates herald.checkpoints and records the applied step', async () => {
    const { rows } = await fresh.pool.query(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'herald' AND table_name = 'checkpoints' ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: 'name', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'position', data_type: 'numeric', is_nullable: 'NO' },
      { column_name: 'in_tx_order', data_type: 'integer', is_nullable: 'NO' },
      { column_name: 'updated_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
    ]);
    const steps = await fresh.pool.query('SELECT version FROM herald.schema_migrations ORDER BY version');
    expect(steps.rows).toEqual(HERALD_STEPS.map((step) => ({ version: step.version })));
  });

  it('builds the optional partial position index, valid', async () => {
    const herald = (await indexes(fresh.pool, true)).find((i) => i.indexname === HERALD_POSITION_INDEX);
    expect(herald?.indexdef).toContain('("position", in_tx_order) WHERE (aggregate_type = \'notification\'::text)');
    expect(await positionIndexValid(fresh.pool)).toBe(true);
  });

  it('does not install the notify trigger without the flag', async () => {
    const { rows } = await fresh.pool.query(`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`);
    expect(rows).toEqual([]);
  });

  it('changes nothing when run again', async () => {
    const before = await catalogSnapshot(fresh.pool);
    await migrate(fresh.pool);
    expect(await catalogSnapshot(fresh.pool)).toEqual(before);
  });

  it('skips the position index when told to', async () => {
    const db = await freshDb();
    await migrate(db.pool, { positionIndex: false });
    expect(await positionIndexValid(db.pool)).toBeUndefined();
  });
});

describe('migrate from several replicas at once', () => {
  it('both calls succeed on a fresh database and leave one complete schema', async () => {
    const db = await freshDb();
    await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const reference = await freshDb();
    await reference.pool.query(ZITADEL_EVENTS2_DDL);
    expect(await columns(db.pool)).toEqual(await columns(reference.pool));
    expect(await indexes(db.pool)).toEqual(await indexes(reference.pool));
    const steps = await db.pool.query('SELECT version FROM herald.schema_migrations ORDER BY version');
    expect(steps.rows).toEqual(HERALD_STEPS.map((step) => ({ version: step.version })));
    // Any replica that skipped the build left it to the one that held the lock.
    expect(await positionIndexValid(db.pool)).toBe(true);
  });
});

describe('migrate on a database ZITADEL already set up', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDb();
    await db.pool.query(ZITADEL_EVENTS2_DDL);
    // What later ZITADEL setup steps do (zitadel-facts §1): replace/rename indexes.
    await db.pool.query(`
      DROP INDEX eventstore.es_wm;
      CREATE INDEX es_wm ON eventstore.events2 (instance_id, aggregate_id, aggregate_type, event_type, "position");
      CREATE INDEX events2_current_sequence2 ON eventstore.events2 (aggregate_id, aggregate_type, instance_id, "sequence" DESC);
      ALTER INDEX eventstore.es_projection RENAME TO es_projection_renamed;
    `);
    await insertZitadelEvents(db.pool, [
      { instanceId: 'i1', aggregateType: 'user', aggregateId: 'u1', eventType: 'user.human.added', owner: 'org1' },
    ]);
  });

  it("leaves ZITADEL's table, indexes and rows untouched", async () => {
    const idxBefore = await indexes(db.pool);
    const oidsBefore = await db.pool.query(`SELECT oid::INT, relname FROM pg_class WHERE relnamespace = 'eventstore'::regnamespace ORDER BY oid`);
    const rowsBefore = await db.pool.query('SELECT * FROM eventstore.events2');
    await migrate(db.pool);
    expect(await indexes(db.pool)).toEqual(idxBefore);
    const oidsAfter = await db.pool.query(
      `SELECT oid::INT, relname FROM pg_class WHERE relnamespace = 'eventstore'::regnamespace
       AND relname NOT LIKE 'herald_%' ORDER BY oid`,
    );
    expect(oidsAfter.rows).toEqual(oidsBefore.rows);
    expect((await db.pool.query('SELECT * FROM eventstore.events2')).rows).toEqual(rowsBefore.rows);
    expect(await positionIndexValid(db.pool)).toBe(true);
  });

  it('replaces an INVALID position index left by an interrupted CONCURRENTLY build', async () => {
    await migrate(db.pool);
    const oid = async (): Promise<number> =>
      (await db.pool.query<{ oid: number }>(`SELECT to_regclass('eventstore.${HERALD_POSITION_INDEX}')::oid::INT AS oid`)).rows[0]!.oid;
    const before = await oid();
    // What a failed CREATE INDEX CONCURRENTLY leaves behind.
    await db.pool.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1`, [before]);
    expect(await positionIndexValid(db.pool)).toBe(false);
    await migrate(db.pool);
    expect(await positionIndexValid(db.pool)).toBe(true);
    expect(await oid()).not.toBe(before);
  });
});

describe('migrate --notify-trigger', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDb();
    await migrate(db.pool, { notifyTrigger: true });
  });

  it('is idempotent and leaves an existing trigger alone without the flag', async () => {
    const triggers = async (): Promise<unknown[]> => (await db.pool.query(`SELECT oid::INT, tgname FROM pg_trigger WHERE NOT tgisinternal`)).rows;
    const before = await triggers();
    expect(before).toHaveLength(1);
    await migrate(db.pool, { notifyTrigger: true });
    expect(await triggers()).toEqual(before);
    await migrate(db.pool);
    expect(await triggers()).toEqual(before);
  });

  it('notifies herald_notification with the instance id for notification events only', async () => {
    const listener = await db.pool.connect();
    try {
      const received = new Promise<string | undefined>((resolve) => {
        listener.on('notification', (msg) => resolve(msg.payload));
      });
      await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
      // Notifications arrive in commit order: the user event (no notify) commits first.
      await insertZitadelEvents(db.pool, [
        { instanceId: 'i-user', aggregateType: 'user', aggregateId: 'u1', eventType: 'user.human.added', owner: 'o' },
      ]);
      await insertZitadelEvents(db.pool, [
        {
          instanceId: 'i-notif',
          aggregateType: 'notification',
          aggregateId: 'n1',
          eventType: 'notification.requested',
          owner: 'o',
        },
      ]);
      expect(await received).toBe('i-notif');
    } finally {
      await listener.query(`UNLISTEN ${NOTIFY_CHANNEL}`);
      listener.release();
    }
  });
});

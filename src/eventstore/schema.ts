/**
 * `herald migrate`: creates ZITADEL's events2 only where absent, then herald's own schema.
 * Safe to run from every replica at once (interface.md).
 *
 * Two advisory locks, on purpose: the main one (blocking) serialises replicas around the
 * DDL; the optional CONCURRENTLY index is built after releasing it, under a *try* lock.
 * CREATE INDEX CONCURRENTLY waits for every transaction with an older snapshot, and a
 * replica blocked in pg_advisory_lock() is such a transaction, so building the index while
 * holding the blocking lock would deadlock two replicas.
 */
import type pg from 'pg';

import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  CREATE_HERALD_POSITION_INDEX,
  CREATE_NOTIFY_FUNCTION,
  CREATE_NOTIFY_TRIGGER,
  DROP_HERALD_POSITION_INDEX,
  HERALD_POSITION_INDEX,
  HERALD_SCHEMA_MIGRATIONS_TABLE,
  HERALD_STEPS,
  type MigrationStep,
  NOTIFY_TRIGGER,
  ZITADEL_EVENTS2_INDEXES,
  ZITADEL_EVENTS2_TABLE,
} from './migrations.js';
import { withClient } from './pool.js';

export interface MigrateOptions {
  readonly logger?: Logger;
  /** Install the herald_notify trigger (`herald migrate --notify-trigger`). */
  readonly notifyTrigger?: boolean;
  /**
   * Build the optional herald_notification_position index.
   * @defaultValue true
   */
  readonly positionIndex?: boolean;
}

/** Fixed advisory-lock keys: 0x68657261 = "hera". */
const LOCK_CLASS = 0x68657261;
const MIGRATE_LOCK = 1;
const INDEX_LOCK = 2;

const lockSql = (key: number): string => `SELECT pg_advisory_lock(${LOCK_CLASS}, ${key})`;
const tryLockSql = (key: number): string => `SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${key}) AS locked`;
const unlockSql = (key: number): string => `SELECT pg_advisory_unlock(${LOCK_CLASS}, ${key})`;

const schemaExistsSql = 'SELECT to_regnamespace($1) IS NOT NULL AS exists';
const tableExistsSql = 'SELECT to_regclass($1) IS NOT NULL AS exists';
const appliedVersionsSql = 'SELECT version FROM herald.schema_migrations';
const recordVersionSql = 'INSERT INTO herald.schema_migrations (version, name) VALUES ($1, $2)';
const indexValiditySql = `
SELECT i.indisvalid AS valid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = 'eventstore' AND c.relname = $1`;
const triggerExistsSql = `
SELECT EXISTS (
    SELECT 1 FROM pg_trigger
    WHERE tgrelid = 'eventstore.events2'::regclass AND tgname = $1 AND NOT tgisinternal
) AS exists`;

export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<void> {
  const log = opts.logger?.child({ component: 'migrate' });
  await withSessionLock(pool, MIGRATE_LOCK, async (client) => {
    await ensureEventsTable(client, log);
    await ensureHeraldSchema(client);
    await applySteps(client, HERALD_STEPS, log);
    if (opts.notifyTrigger) await ensureNotifyTrigger(client, log);
  });
  if (opts.positionIndex !== false) await ensurePositionIndex(pool, log);
}

/** Runs fn on one client holding a session-level advisory lock; unlocks in finally. */
async function withSessionLock<T>(pool: pg.Pool, key: number, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  // A client that could not unlock is destroyed: closing the session frees the lock.
  return withClient(pool, async (client, markBroken) => {
    await client.query(lockSql(key));
    try {
      return await fn(client);
    } finally {
      const failed = await unlock(client, key);
      if (failed) markBroken(failed);
    }
  });
}

/** Unlocks; returns the error instead of throwing so the caller can destroy the client. */
async function unlock(client: pg.PoolClient, key: number): Promise<Error | undefined> {
  try {
    await client.query(unlockSql(key));
    return undefined;
  } catch (err) {
    return coerceError(err);
  }
}

async function exists(client: pg.PoolClient, sql: string, name: string): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>(sql, [name]);
  return rows[0]?.exists === true;
}

async function inTransaction(client: pg.PoolClient, statements: readonly string[]): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Creates events2 with ZITADEL's DDL only when absent. An existing table is ZITADEL's:
 * later setup steps rename/replace its indexes, so nothing about it is touched.
 */
async function ensureEventsTable(client: pg.PoolClient, log: Logger | undefined): Promise<void> {
  if (await exists(client, tableExistsSql, 'eventstore.events2')) return;
  // Checked first because CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database.
  const statements = (await exists(client, schemaExistsSql, 'eventstore')) ? [] : ['CREATE SCHEMA IF NOT EXISTS eventstore'];
  await inTransaction(client, [...statements, ZITADEL_EVENTS2_TABLE, ...ZITADEL_EVENTS2_INDEXES]);
  log?.info('created eventstore.events2 with ZITADEL DDL');
}

async function ensureHeraldSchema(client: pg.PoolClient): Promise<void> {
  const statements = (await exists(client, schemaExistsSql, 'herald')) ? [] : ['CREATE SCHEMA IF NOT EXISTS herald'];
  await inTransaction(client, [...statements, HERALD_SCHEMA_MIGRATIONS_TABLE]);
}

async function applySteps(client: pg.PoolClient, steps: readonly MigrationStep[], log: Logger | undefined): Promise<void> {
  const { rows } = await client.query<{ version: number }>(appliedVersionsSql);
  const applied = new Set(rows.map((r) => r.version));
  for (const step of steps) {
    if (applied.has(step.version)) continue;
    await client.query('BEGIN');
    try {
      for (const sql of step.statements) await client.query(sql);
      await client.query(recordVersionSql, [step.version, step.name]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    log?.info({ version: step.version, step: step.name }, 'applied herald migration');
  }
}

async function ensureNotifyTrigger(client: pg.PoolClient, log: Logger | undefined): Promise<void> {
  // The function is replaced each time (cheap, keeps its oid); the trigger is created only
  // when missing, so a repeated run takes no lock on events2.
  const statements = [CREATE_NOTIFY_FUNCTION];
  const present = await exists(client, triggerExistsSql, NOTIFY_TRIGGER);
  if (!present) statements.push(CREATE_NOTIFY_TRIGGER);
  await inTransaction(client, statements);
  if (!present) log?.info({ trigger: NOTIFY_TRIGGER }, 'installed notify trigger on eventstore.events2');
}

/**
 * Builds herald_notification_position CONCURRENTLY (outside any transaction), replacing an
 * INVALID leftover of an interrupted build. Skipped when another replica holds the build
 * lock: the index is optional and that replica finishes it.
 */
async function ensurePositionIndex(pool: pg.Pool, log: Logger | undefined): Promise<void> {
  await withClient(pool, async (client, markBroken) => {
    const { rows } = await client.query<{ locked: boolean }>(tryLockSql(INDEX_LOCK));
    if (rows[0]?.locked !== true) {
      log?.info({ index: HERALD_POSITION_INDEX }, 'another replica is building the index; skipping');
      return;
    }
    try {
      const state = await client.query<{ valid: boolean }>(indexValiditySql, [HERALD_POSITION_INDEX]);
      const valid = state.rows[0]?.valid;
      if (valid === true) return;
      if (valid === false) {
        log?.warn({ index: HERALD_POSITION_INDEX }, 'dropping invalid index left by an interrupted build');
        await client.query(DROP_HERALD_POSITION_INDEX);
      }
      await client.query(CREATE_HERALD_POSITION_INDEX);
      log?.info({ index: HERALD_POSITION_INDEX }, 'created index');
    } finally {
      const failed = await unlock(client, INDEX_LOCK);
      if (failed) markBroken(failed);
    }
  });
}

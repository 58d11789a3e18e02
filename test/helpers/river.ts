/**
 * River's schema as ZITADEL v2.71+ leaves it — River's migrations 1–6 of line `main`
 * (riverdriver/riverpgxv5/migration/main, schema `queue`) applied in order — and rows
 * inserted exactly as ZITADEL's user notifier inserts them (River's JobInsertFastMany with
 * only MaxAttempts set). Independent of herald's own code on purpose.
 */
import type pg from 'pg';

import { newId } from './zitadel.js';

const S = 'queue.';

/** River's up migrations 1..6 with the schema template filled in. */
export const RIVER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE ${S}river_migration(
     id bigserial PRIMARY KEY,
     created_at timestamptz NOT NULL DEFAULT NOW(),
     version bigint NOT NULL,
     CONSTRAINT version CHECK (version >= 1));
   CREATE UNIQUE INDEX ON ${S}river_migration USING btree(version);`,
  `CREATE TYPE ${S}river_job_state AS ENUM('available','cancelled','completed','discarded','retryable','running','scheduled');
   CREATE TABLE ${S}river_job(
     id bigserial PRIMARY KEY,
     state ${S}river_job_state NOT NULL DEFAULT 'available',
     attempt smallint NOT NULL DEFAULT 0,
     max_attempts smallint NOT NULL,
     attempted_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT NOW(),
     finalized_at timestamptz,
     scheduled_at timestamptz NOT NULL DEFAULT NOW(),
     priority smallint NOT NULL DEFAULT 1,
     args jsonb,
     attempted_by text[],
     errors jsonb[],
     kind text NOT NULL,
     metadata jsonb NOT NULL DEFAULT '{}',
     queue text NOT NULL DEFAULT 'default',
     tags varchar(255)[],
     CONSTRAINT finalized_or_finalized_at_null CHECK ((state IN ('cancelled', 'completed', 'discarded') AND finalized_at IS NOT NULL) OR finalized_at IS NULL),
     CONSTRAINT max_attempts_is_positive CHECK (max_attempts > 0),
     CONSTRAINT priority_in_range CHECK (priority >= 1 AND priority <= 4),
     CONSTRAINT queue_length CHECK (char_length(queue) > 0 AND char_length(queue) < 128),
     CONSTRAINT kind_length CHECK (char_length(kind) > 0 AND char_length(kind) < 128));
   CREATE INDEX river_job_kind ON ${S}river_job USING btree(kind);
   CREATE INDEX river_job_state_and_finalized_at_index ON ${S}river_job USING btree(state, finalized_at) WHERE finalized_at IS NOT NULL;
   CREATE INDEX river_job_prioritized_fetching_index ON ${S}river_job USING btree(state, queue, priority, scheduled_at, id);
   CREATE INDEX river_job_args_index ON ${S}river_job USING GIN(args);
   CREATE INDEX river_job_metadata_index ON ${S}river_job USING GIN(metadata);
   CREATE OR REPLACE FUNCTION ${S}river_job_notify() RETURNS TRIGGER AS $$
   DECLARE payload json;
   BEGIN
     IF NEW.state = 'available' THEN
       payload = json_build_object('queue', NEW.queue);
       PERFORM pg_notify('river_insert', payload::text);
     END IF;
     RETURN NULL;
   END; $$ LANGUAGE plpgsql;
   CREATE TRIGGER river_notify AFTER INSERT ON ${S}river_job FOR EACH ROW EXECUTE PROCEDURE ${S}river_job_notify();
   CREATE UNLOGGED TABLE ${S}river_leader(
     elected_at timestamptz NOT NULL,
     expires_at timestamptz NOT NULL,
     leader_id text NOT NULL,
     name text PRIMARY KEY,
     CONSTRAINT name_length CHECK (char_length(name) > 0 AND char_length(name) < 128),
     CONSTRAINT leader_id_length CHECK (char_length(leader_id) > 0 AND char_length(leader_id) < 128));`,
  `ALTER TABLE ${S}river_job ALTER COLUMN tags SET DEFAULT '{}';
   UPDATE ${S}river_job SET tags = '{}' WHERE tags IS NULL;
   ALTER TABLE ${S}river_job ALTER COLUMN tags SET NOT NULL;`,
  `ALTER TABLE ${S}river_job ALTER COLUMN args SET DEFAULT '{}';
   UPDATE ${S}river_job SET args = '{}' WHERE args IS NULL;
   ALTER TABLE ${S}river_job ALTER COLUMN args SET NOT NULL;
   ALTER TABLE ${S}river_job ALTER COLUMN args DROP DEFAULT;
   ALTER TABLE ${S}river_job ALTER COLUMN metadata SET DEFAULT '{}';
   UPDATE ${S}river_job SET metadata = '{}' WHERE metadata IS NULL;
   ALTER TABLE ${S}river_job ALTER COLUMN metadata SET NOT NULL;
   ALTER TYPE ${S}river_job_state ADD VALUE IF NOT EXISTS 'pending' AFTER 'discarded';
   ALTER TABLE ${S}river_job DROP CONSTRAINT finalized_or_finalized_at_null;
   ALTER TABLE ${S}river_job ADD CONSTRAINT finalized_or_finalized_at_null CHECK (
     (finalized_at IS NULL AND state NOT IN ('cancelled', 'completed', 'discarded')) OR
     (finalized_at IS NOT NULL AND state IN ('cancelled', 'completed', 'discarded')));
   DROP TRIGGER river_notify ON ${S}river_job;
   DROP FUNCTION ${S}river_job_notify;
   CREATE TABLE ${S}river_queue (
     name text PRIMARY KEY NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     metadata jsonb NOT NULL DEFAULT '{}' ::jsonb,
     paused_at timestamptz,
     updated_at timestamptz NOT NULL);
   ALTER TABLE ${S}river_leader
     ALTER COLUMN name SET DEFAULT 'default',
     DROP CONSTRAINT name_length,
     ADD CONSTRAINT name_length CHECK (name = 'default');`,
  `ALTER TABLE ${S}river_migration RENAME TO river_migration_old;
   CREATE TABLE ${S}river_migration(
     line TEXT NOT NULL,
     version bigint NOT NULL,
     created_at timestamptz NOT NULL DEFAULT NOW(),
     CONSTRAINT line_length CHECK (char_length(line) > 0 AND char_length(line) < 128),
     CONSTRAINT version_gte_1 CHECK (version >= 1),
     PRIMARY KEY (line, version));
   INSERT INTO ${S}river_migration (created_at, line, version) SELECT created_at, 'main', version FROM ${S}river_migration_old;
   DROP TABLE ${S}river_migration_old;
   ALTER TABLE ${S}river_job ADD COLUMN IF NOT EXISTS unique_key bytea;
   CREATE UNIQUE INDEX IF NOT EXISTS river_job_kind_unique_key_idx ON ${S}river_job (kind, unique_key) WHERE unique_key IS NOT NULL;
   CREATE UNLOGGED TABLE ${S}river_client (
     id text PRIMARY KEY NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     metadata jsonb NOT NULL DEFAULT '{}',
     paused_at timestamptz,
     updated_at timestamptz NOT NULL,
     CONSTRAINT name_length CHECK (char_length(id) > 0 AND char_length(id) < 128));
   CREATE UNLOGGED TABLE ${S}river_client_queue (
     river_client_id text NOT NULL REFERENCES ${S}river_client (id) ON DELETE CASCADE,
     name text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     max_workers bigint NOT NULL DEFAULT 0,
     metadata jsonb NOT NULL DEFAULT '{}',
     num_jobs_completed bigint NOT NULL DEFAULT 0,
     num_jobs_running bigint NOT NULL DEFAULT 0,
     updated_at timestamptz NOT NULL,
     PRIMARY KEY (river_client_id, name),
     CONSTRAINT name_length CHECK (char_length(name) > 0 AND char_length(name) < 128),
     CONSTRAINT num_jobs_completed_zero_or_positive CHECK (num_jobs_completed >= 0),
     CONSTRAINT num_jobs_running_zero_or_positive CHECK (num_jobs_running >= 0));`,
  `CREATE OR REPLACE FUNCTION ${S}river_job_state_in_bitmask(bitmask BIT(8), state ${S}river_job_state)
   RETURNS boolean LANGUAGE SQL IMMUTABLE AS $$
     SELECT CASE state
       WHEN 'available' THEN get_bit(bitmask, 7)
       WHEN 'cancelled' THEN get_bit(bitmask, 6)
       WHEN 'completed' THEN get_bit(bitmask, 5)
       WHEN 'discarded' THEN get_bit(bitmask, 4)
       WHEN 'pending'   THEN get_bit(bitmask, 3)
       WHEN 'retryable' THEN get_bit(bitmask, 2)
       WHEN 'running'   THEN get_bit(bitmask, 1)
       WHEN 'scheduled' THEN get_bit(bitmask, 0)
       ELSE 0
     END = 1; $$;
   ALTER TABLE ${S}river_job ADD COLUMN IF NOT EXISTS unique_states BIT(8);
   CREATE UNIQUE INDEX IF NOT EXISTS river_job_unique_idx ON ${S}river_job (unique_key)
     WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND ${S}river_job_state_in_bitmask(unique_states, state);
   DROP INDEX ${S}river_job_kind_unique_key_idx;`,
];

/** CREATE SCHEMA queue, migrations 1..6 (each recorded as River's migrator does), and ZITADEL's queue row. */
export async function createRiverSchema(pool: pg.Pool): Promise<void> {
  await pool.query('CREATE SCHEMA IF NOT EXISTS queue');
  for (const [i, sql] of RIVER_MIGRATIONS.entries()) {
    const version = i + 1;
    await pool.query('BEGIN');
    try {
      await pool.query(sql);
      if (version < 5) await pool.query(`INSERT INTO ${S}river_migration (version) VALUES ($1)`, [version]);
      else await pool.query(`INSERT INTO ${S}river_migration (line, version) VALUES ('main', $1)`, [version]);
      await pool.query('COMMIT');
    } catch (err) {
      await pool.query('ROLLBACK');
      throw err;
    }
  }
}

export interface RiverArgs {
  readonly aggregate: { id: string; type: string; resourceOwner: string; instanceId: string; version: string };
  readonly userID: string;
  readonly userResourceOwner: string;
  readonly triggeredAtOrigin: string;
  readonly eventType: string;
  readonly messageType: string;
  readonly notificationType: number;
  readonly [key: string]: unknown;
}

/**
 * One job as the user notifier's queue.Insert makes it: River's JobInsertFastMany with
 * max_attempts from config, priority 1, queue `notification`, metadata/tags empty, created
 * and scheduled now, state available; then River's insert NOTIFY (`queue.river_insert`).
 * `args` may be anything (bad-input tests). Returns the job id.
 */
export async function insertRiverJob(
  pool: pg.Pool,
  args: unknown,
  opts: { maxAttempts?: number; createdAt?: Date; kind?: string; queue?: string } = {},
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO queue.river_job (args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
     VALUES ($1::jsonb, coalesce($2::timestamptz, now()), $3, $4, '{}'::jsonb, 1, $5, coalesce($2::timestamptz, now()), 'available', '{}', NULL, NULL)
     RETURNING id::text AS id`,
    [JSON.stringify(args), opts.createdAt ?? null, opts.kind ?? 'notification_request', opts.maxAttempts ?? 3, opts.queue ?? 'notification'],
  );
  await pool.query(`SELECT pg_notify('queue.river_insert', $1)`, [JSON.stringify({ queue: opts.queue ?? 'notification' })]);
  return rows[0]!.id;
}

export interface RiverRow {
  id: string;
  state: string;
  attempt: number;
  max_attempts: number;
  attempted_by: string[] | null;
  errors: { at: string; attempt: number; error: string; trace: string }[] | null;
  finalized_at: Date | null;
  scheduled_at: Date;
  attempted_at: Date | null;
}

export async function riverRow(pool: pg.Pool, id: string): Promise<RiverRow> {
  const { rows } = await pool.query<RiverRow>(
    `SELECT id::text AS id, state::text AS state, attempt, max_attempts, attempted_by, errors, finalized_at, scheduled_at, attempted_at
       FROM queue.river_job WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

/** Stands in for ZITADEL's River leader: makes due retryable rows available now (JobSchedule). */
export async function scheduleRetriesNow(pool: pg.Pool): Promise<number> {
  const r = await pool.query(
    `UPDATE queue.river_job SET state = 'available', scheduled_at = now() WHERE state IN ('retryable', 'available') AND scheduled_at > now()`,
  );
  return r.rowCount ?? 0;
}

/** Args of a user event as the user notifier queues them. */
export function userArgs(
  user: { instanceId: string; orgId: string; userId: string },
  over: Partial<RiverArgs> & Record<string, unknown> = {},
): RiverArgs {
  return {
    aggregate: { id: user.userId, type: 'user', resourceOwner: user.orgId, instanceId: user.instanceId, version: 'v2' },
    userID: user.userId,
    userResourceOwner: user.orgId,
    triggeredAtOrigin: 'https://auth.example.com',
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: 0,
    ...over,
  };
}

export { newId };

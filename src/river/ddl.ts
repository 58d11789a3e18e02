/**
 * River's tables as migrations 1–6 of line `main` leave them (River v0.16–v0.35, every
 * ZITADEL v2.71+ so far), for `herald demo --source river` on a database without a ZITADEL.
 * Only created where absent; `herald migrate` never calls this (ZITADEL's setup owns them).
 */
import type { Pool } from 'pg';

import { withTransaction } from '../eventstore/pool.js';
import { riverTablesPresent } from './schema.js';

export const RIVER_DDL = `
CREATE SCHEMA IF NOT EXISTS queue;
CREATE TYPE queue.river_job_state AS ENUM ('available', 'cancelled', 'completed', 'discarded', 'pending', 'retryable', 'running', 'scheduled');
CREATE TABLE queue.river_job (
    id bigserial PRIMARY KEY,
    state queue.river_job_state NOT NULL DEFAULT 'available',
    attempt smallint NOT NULL DEFAULT 0,
    max_attempts smallint NOT NULL,
    attempted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    finalized_at timestamptz,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    priority smallint NOT NULL DEFAULT 1,
    args jsonb NOT NULL,
    attempted_by text[],
    errors jsonb[],
    kind text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    queue text NOT NULL DEFAULT 'default',
    tags varchar(255)[] NOT NULL DEFAULT '{}',
    unique_key bytea,
    unique_states bit(8),
    CONSTRAINT finalized_or_finalized_at_null CHECK (
        (finalized_at IS NULL AND state NOT IN ('cancelled', 'completed', 'discarded')) OR
        (finalized_at IS NOT NULL AND state IN ('cancelled', 'completed', 'discarded'))),
    CONSTRAINT max_attempts_is_positive CHECK (max_attempts > 0),
    CONSTRAINT priority_in_range CHECK (priority >= 1 AND priority <= 4),
    CONSTRAINT queue_length CHECK (char_length(queue) > 0 AND char_length(queue) < 128),
    CONSTRAINT kind_length CHECK (char_length(kind) > 0 AND char_length(kind) < 128)
);
CREATE INDEX river_job_kind ON queue.river_job USING btree (kind);
CREATE INDEX river_job_state_and_finalized_at_index ON queue.river_job USING btree (state, finalized_at) WHERE finalized_at IS NOT NULL;
CREATE INDEX river_job_prioritized_fetching_index ON queue.river_job USING btree (state, queue, priority, scheduled_at, id);
CREATE INDEX river_job_args_index ON queue.river_job USING gin (args);
CREATE INDEX river_job_metadata_index ON queue.river_job USING gin (metadata);
CREATE FUNCTION queue.river_job_state_in_bitmask(bitmask bit(8), state queue.river_job_state) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE state
        WHEN 'available' THEN get_bit(bitmask, 7) WHEN 'cancelled' THEN get_bit(bitmask, 6)
        WHEN 'completed' THEN get_bit(bitmask, 5) WHEN 'discarded' THEN get_bit(bitmask, 4)
        WHEN 'pending' THEN get_bit(bitmask, 3) WHEN 'retryable' THEN get_bit(bitmask, 2)
        WHEN 'running' THEN get_bit(bitmask, 1) WHEN 'scheduled' THEN get_bit(bitmask, 0)
        ELSE 0 END = 1; $$;
CREATE UNIQUE INDEX river_job_unique_idx ON queue.river_job (unique_key)
    WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND queue.river_job_state_in_bitmask(unique_states, state);
CREATE TABLE queue.river_queue (
    name text PRIMARY KEY NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    paused_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE UNLOGGED TABLE queue.river_leader (
    elected_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    leader_id text NOT NULL,
    name text PRIMARY KEY DEFAULT 'default',
    CONSTRAINT name_length CHECK (name = 'default'),
    CONSTRAINT leader_id_length CHECK (char_length(leader_id) > 0 AND char_length(leader_id) < 128)
);
CREATE TABLE queue.river_migration (
    line text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT line_length CHECK (char_length(line) > 0 AND char_length(line) < 128),
    CONSTRAINT version_gte_1 CHECK (version >= 1),
    PRIMARY KEY (line, version)
);
INSERT INTO queue.river_migration (line, version) SELECT 'main', v FROM generate_series(1, 6) AS v;`;

/** Creates River's tables unless they exist; returns whether it did. Serialised by an advisory lock. */
export async function ensureRiverTables(pool: Pool): Promise<boolean> {
  if (await riverTablesPresent(pool)) return false;
  return withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('herald.river-demo-ddl'))`);
    if (await riverTablesPresent(client)) return false;
    await client.query(RIVER_DDL);
    return true;
  });
}

/**
 * Writes events2 rows the way ZITADEL 2.66's Go pusher does (push.sql): sequence =
 * latest + 1, created_at = statement_timestamp(), position = clock_timestamp() epoch.
 * Independent of herald's own push code, so tests check herald against ZITADEL's shape.
 * Requires the table (run migrate first).
 */
import type pg from 'pg';

export interface ZitadelEvent {
  readonly instanceId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly payload?: unknown;
  readonly owner: string;
  readonly creator?: string;
  readonly revision?: number;
  /** Overrides created_at (e.g. to make a request look old). */
  readonly createdAt?: Date;
  /** Overrides position (epoch seconds), e.g. to write a request as if herald had been down. */
  readonly position?: number;
}

/** Inserts the events in one transaction, in order; returns their sequences. */
export async function insertZitadelEvents(pool: pg.Pool, events: readonly ZitadelEvent[]): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const sequences: number[] = [];
    for (const [i, e] of events.entries()) {
      await client.query(`SET LOCAL application_name = 'zitadel_es_pusher_${e.instanceId.replace(/'/g, "''")}'`);
      const { rows } = await client.query<{ sequence: string }>(
        `INSERT INTO eventstore.events2
           (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload,
            "sequence", created_at, "position", in_tx_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
           COALESCE((SELECT max("sequence") FROM eventstore.events2
                      WHERE instance_id = $1 AND aggregate_type = $3 AND aggregate_id = $4), 0) + 1,
           COALESCE($9::timestamptz, statement_timestamp()),
           COALESCE($11::numeric, EXTRACT(EPOCH FROM clock_timestamp())), $10)
         RETURNING "sequence"`,
        [
          e.instanceId,
          e.owner,
          e.aggregateType,
          e.aggregateId,
          e.revision ?? 1,
          e.creator ?? 'NOTIFICATION',
          e.eventType,
          e.payload === undefined || e.payload === null ? null : JSON.stringify(e.payload),
          e.createdAt ?? null,
          i,
          e.position ?? null,
        ],
      );
      sequences.push(Number(rows[0]?.sequence));
    }
    await client.query('COMMIT');
    return sequences;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** ZITADEL's DDL for events2 and its indexes (zitadel-facts.md §1), for tests that need a pre-existing table. */
export const ZITADEL_EVENTS2_DDL = `
CREATE SCHEMA IF NOT EXISTS eventstore;
CREATE TABLE IF NOT EXISTS eventstore.events2 (
    instance_id TEXT NOT NULL
    , aggregate_type TEXT NOT NULL
    , aggregate_id TEXT NOT NULL
    , event_type TEXT NOT NULL
    , "sequence" BIGINT NOT NULL
    , revision SMALLINT NOT NULL
    , created_at TIMESTAMPTZ NOT NULL
    , payload JSONB
    , creator TEXT NOT NULL
    , "owner" TEXT NOT NULL
    , "position" DECIMAL NOT NULL
    , in_tx_order INTEGER NOT NULL
    , PRIMARY KEY (instance_id, aggregate_type, aggregate_id, "sequence")
);
CREATE INDEX IF NOT EXISTS es_active_instances ON eventstore.events2 (created_at DESC, instance_id);
CREATE INDEX IF NOT EXISTS es_wm ON eventstore.events2 (aggregate_id, instance_id, aggregate_type, event_type);
CREATE INDEX IF NOT EXISTS es_projection ON eventstore.events2 (instance_id, aggregate_type, event_type, "position");
`;

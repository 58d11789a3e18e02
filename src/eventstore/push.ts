/**
 * Writing events to events2 exactly as ZITADEL does (eventstore.md "Writing events";
 * zitadel-facts.md §1): through ZITADEL's SQL push function where it exists (2.67+),
 * otherwise with 2.66's Go-path INSERT. Either way one transaction, marked with
 * application_name `zitadel_es_pusher_<instance>` so ZITADEL's projections wait for it.
 */
import type pg from 'pg';

import { ConcurrencyError, isConcurrency } from '../errors.js';
import { withTransaction } from './pool.js';
import { EVENT_COLUMNS, type EventRow, mapEventRow } from './read.js';
import type { AggregateRef, EventCommand, ExpectedSequence, StoredEvent } from './types.js';

export interface PushOptions {
  /** Optimistic check: each aggregate's latest sequence must still be the one given. */
  readonly expected?: readonly ExpectedSequence[];
}

export const PUSHER_APPLICATION_PREFIX = 'zitadel_es_pusher_';

/** Same effect as SET LOCAL application_name, but with a bound parameter. */
export const setPusherApplicationNameSql = "SELECT set_config('application_name', $1, true)";

export const hasPushFunctionSql = `
SELECT EXISTS (
    SELECT 1
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'eventstore' AND p.proname = 'push' AND p.pronargs = 1
      AND p.proargtypes[0] = to_regtype('eventstore.command[]')
) AS present`;

export const latestSequenceForUpdateSql = `
SELECT "sequence"
FROM eventstore.events2
WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3
ORDER BY "sequence" DESC
LIMIT 1
FOR UPDATE`;

/**
 * ZITADEL 2.67+: call eventstore.push. The command array is built from JSON with
 * jsonb_populate_record so it also fits later versions of the composite type that add
 * fields (they become NULL) — a ROW(...) cast would fail on a different field count.
 */
export const pushFunctionSql = `
SELECT ${EVENT_COLUMNS}
FROM eventstore.push(ARRAY(
    SELECT jsonb_populate_record(NULL::eventstore.command, c.cmd)
    FROM jsonb_array_elements($1::JSONB) WITH ORDINALITY AS c(cmd, n)
    ORDER BY c.n
))`;

/** ZITADEL 2.66 sequences_query.sql: lock the latest row of every aggregate written. */
export function latestSequencesSql(aggregates: number): string {
  const parts = Array.from({ length: aggregates }, (_, i) => {
    const p = i * 3;
    return `(SELECT instance_id, aggregate_type, aggregate_id, "sequence" FROM eventstore.events2
      WHERE instance_id = $${p + 1} AND aggregate_type = $${p + 2} AND aggregate_id = $${p + 3}
      ORDER BY "sequence" DESC LIMIT 1)`;
  });
  return `WITH existing AS (
    ${parts.join('\n    UNION ALL ')}
)
SELECT e.instance_id, e."owner", e.aggregate_type, e.aggregate_id, e."sequence"
FROM eventstore.events2 e
JOIN existing ON e.instance_id = existing.instance_id AND e.aggregate_type = existing.aggregate_type
    AND e.aggregate_id = existing.aggregate_id AND e."sequence" = existing."sequence"
FOR UPDATE OF e`;
}

const INSERT_ARGS = 10;

/** ZITADEL 2.66 push.sql, one VALUES row per command. */
export function insertEventsSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => {
    const p = (n: number): string => `$${i * INSERT_ARGS + n}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}::JSONB, ${p(9)},
      statement_timestamp(), EXTRACT(EPOCH FROM clock_timestamp()), ${p(10)})`;
  });
  return `INSERT INTO eventstore.events2 (instance_id, "owner", aggregate_type, aggregate_id, revision, creator,
    event_type, payload, "sequence", created_at, "position", in_tx_order)
VALUES ${values.join(',\n  ')}
RETURNING ${EVENT_COLUMNS}`;
}

const pushFunctionCache = new WeakMap<pg.Pool, Promise<boolean>>();

/** Whether the database has ZITADEL's SQL push function; looked up once per pool. */
export function hasPushFunction(pool: pg.Pool): Promise<boolean> {
  let cached = pushFunctionCache.get(pool);
  if (!cached) {
    cached = pool.query<{ present: boolean }>(hasPushFunctionSql).then((r) => r.rows[0]?.present === true);
    cached.catch(() => pushFunctionCache.delete(pool));
    pushFunctionCache.set(pool, cached);
  }
  return cached;
}

/** @internal Tests and ZITADEL upgrades: forget the cached detection. */
export function forgetPushFunction(pool: pg.Pool): void {
  pushFunctionCache.delete(pool);
}

export async function push(
  pool: pg.Pool,
  commands: readonly EventCommand[],
  opts: PushOptions = {},
): Promise<StoredEvent[]> {
  const first = commands[0];
  if (!first) return [];
  const useFunction = await hasPushFunction(pool);
  try {
    return await withTransaction(pool, async (client) => {
      await client.query(setPusherApplicationNameSql, [PUSHER_APPLICATION_PREFIX + first.instanceId]);
      if (opts.expected && opts.expected.length > 0) await checkExpected(client, opts.expected);
      const events = useFunction ? await pushWithFunction(client, commands) : await pushWithInsert(client, commands);
      return events.sort((a, b) => a.inTxOrder - b.inTxOrder);
    });
  } catch (err) {
    // The function vanished (e.g. a ZITADEL downgrade): detect again on the next push.
    if (useFunction && ['42883', '42704'].includes(pgCode(err) ?? '')) forgetPushFunction(pool);
    throw toConcurrencyError(err);
  }
}

const aggregateKey = (a: AggregateRef): string => JSON.stringify([a.instanceId, a.aggregateType, a.aggregateId]);

async function checkExpected(client: pg.PoolClient, expected: readonly ExpectedSequence[]): Promise<void> {
  // A stable lock order keeps two pushers of the same aggregates from deadlocking.
  const sorted = [...expected].sort((a, b) => (aggregateKey(a) < aggregateKey(b) ? -1 : 1));
  for (const e of sorted) {
    const { rows } = await client.query<{ sequence: string }>(latestSequenceForUpdateSql, [
      e.instanceId,
      e.aggregateType,
      e.aggregateId,
    ]);
    const current = Number(rows[0]?.sequence ?? 0);
    if (current !== e.sequence) {
      throw new ConcurrencyError(
        `${e.aggregateType} ${e.aggregateId}: expected sequence ${e.sequence}, found ${current}`,
      );
    }
  }
}

async function pushWithFunction(client: pg.PoolClient, commands: readonly EventCommand[]): Promise<StoredEvent[]> {
  const json = commands.map((c) => ({
    instance_id: c.instanceId,
    aggregate_type: c.aggregateType,
    aggregate_id: c.aggregateId,
    command_type: c.eventType,
    revision: c.revision,
    payload: c.payload ?? null,
    creator: c.creator,
    owner: c.owner,
  }));
  const { rows } = await client.query<EventRow>(pushFunctionSql, [JSON.stringify(json)]);
  return rows.map(mapEventRow);
}

interface AggregateState {
  sequence: number;
  owner: string;
}

async function pushWithInsert(client: pg.PoolClient, commands: readonly EventCommand[]): Promise<StoredEvent[]> {
  const aggregates = new Map<string, AggregateRef>();
  for (const c of commands) aggregates.set(aggregateKey(c), c);
  const refs = [...aggregates.values()];
  const { rows: latest } = await client.query<{
    instance_id: string;
    aggregate_type: string;
    aggregate_id: string;
    owner: string;
    sequence: string;
  }>(
    latestSequencesSql(refs.length),
    refs.flatMap((r) => [r.instanceId, r.aggregateType, r.aggregateId]),
  );
  const state = new Map<string, AggregateState>();
  for (const r of latest) {
    const key = aggregateKey({ instanceId: r.instance_id, aggregateType: r.aggregate_type, aggregateId: r.aggregate_id });
    state.set(key, { sequence: Number(r.sequence), owner: r.owner });
  }
  const args: unknown[] = [];
  for (const [i, c] of commands.entries()) {
    const key = aggregateKey(c);
    const prev = state.get(key) ?? { sequence: 0, owner: '' };
    // Empty owner: the aggregate's owner, as ZITADEL resolves it from the latest event.
    const next = { sequence: prev.sequence + 1, owner: c.owner === '' ? prev.owner : c.owner };
    state.set(key, next);
    args.push(
      c.instanceId,
      next.owner,
      c.aggregateType,
      c.aggregateId,
      c.revision,
      c.creator,
      c.eventType,
      serialisePayload(c.payload),
      next.sequence,
      i,
    );
  }
  const { rows } = await client.query<EventRow>(insertEventsSql(commands.length), args);
  return rows.map(mapEventRow);
}

function serialisePayload(payload: unknown): string | null {
  if (payload === null || payload === undefined) return null;
  return JSON.stringify(payload) ?? null;
}

function pgCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Another writer got to the aggregate first: its row took our sequence (23505 on the
 * events2 key), or Postgres aborted one of us (40001 serialization, 40P01 deadlock).
 */
function toConcurrencyError(err: unknown): unknown {
  if (isConcurrency(err)) return err;
  const code = pgCode(err);
  const fields = typeof err === 'object' && err !== null ? (err as { table?: unknown; constraint?: unknown }) : {};
  const onEvents = fields.table === 'events2' || fields.constraint === 'events2_pkey';
  if (code === '40001' || code === '40P01' || (code === '23505' && onEvents)) {
    return new ConcurrencyError('another writer pushed to the same aggregate', { cause: err });
  }
  return err;
}

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
  /** Runs first inside the push's transaction (River mode finishes its job row there); a throw rolls back. */
  readonly within?: (client: pg.PoolClient) => Promise<void>;
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

/**
 * ZITADEL 2.66 sequences_query.sql — lock the latest row of every aggregate written and
 * return its sequence and owner — as one constant statement over arrays (a LATERAL probe
 * of the primary key per aggregate). ZITADEL's UNION ALL form has a different text per
 * aggregate count and let the planner join all of events2 when statistics were missing;
 * this form is planned once and stays a key lookup per aggregate.
 */
export const latestSequencesSql = `
SELECT l.instance_id, l."owner", l.aggregate_type, l.aggregate_id, l."sequence"
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a(instance_id, aggregate_type, aggregate_id, n)
CROSS JOIN LATERAL (
    SELECT e.instance_id, e."owner", e.aggregate_type, e.aggregate_id, e."sequence"
    FROM eventstore.events2 e
    WHERE e.instance_id = a.instance_id AND e.aggregate_type = a.aggregate_type AND e.aggregate_id = a.aggregate_id
    ORDER BY e."sequence" DESC
    LIMIT 1
    FOR UPDATE OF e
) l
ORDER BY a.n`;

/**
 * ZITADEL 2.66 push.sql: created_at = statement_timestamp(), position = clock_timestamp()
 * per row, in command order; one constant statement over arrays.
 */
export const insertEventsSql = `
INSERT INTO eventstore.events2 (instance_id, "owner", aggregate_type, aggregate_id, revision, creator,
    event_type, payload, "sequence", created_at, "position", in_tx_order)
SELECT c.instance_id, c."owner", c.aggregate_type, c.aggregate_id, c.revision, c.creator,
    c.event_type, c.payload::JSONB, c."sequence", statement_timestamp(), EXTRACT(EPOCH FROM clock_timestamp()), c.in_tx_order
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int4[])
    WITH ORDINALITY AS c(instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload, "sequence", in_tx_order, n)
ORDER BY c.n
RETURNING ${EVENT_COLUMNS}`;

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

export async function push(pool: pg.Pool, commands: readonly EventCommand[], opts: PushOptions = {}): Promise<StoredEvent[]> {
  const first = commands[0];
  if (!first) return [];
  const useFunction = await hasPushFunction(pool);
  try {
    return await withTransaction(pool, async (client) => {
      await client.query(setPusherApplicationNameSql, [PUSHER_APPLICATION_PREFIX + first.instanceId]);
      await opts.within?.(client);
      const expected = opts.expected ?? [];
      // One locking read for every aggregate involved (the function path computes its own
      // sequences, so there only the expected aggregates are read).
      const state = await lockLatest(client, useFunction ? expected : [...expected, ...commands]);
      checkExpected(state, expected);
      const events = useFunction ? await pushWithFunction(client, commands) : await pushWithInsert(client, commands, state);
      return events.sort((a, b) => a.inTxOrder - b.inTxOrder);
    });
  } catch (err) {
    // The function vanished (e.g. a ZITADEL downgrade): detect again on the next push.
    if (useFunction && ['42883', '42704'].includes(pgCode(err) ?? '')) forgetPushFunction(pool);
    throw toConcurrencyError(err);
  }
}

const aggregateKey = (a: AggregateRef): string => JSON.stringify([a.instanceId, a.aggregateType, a.aggregateId]);

interface AggregateState {
  sequence: number;
  owner: string;
}

/** Locks the latest row of each aggregate (in a stable order: no deadlocks between pushers). */
async function lockLatest(client: pg.PoolClient, refs: readonly AggregateRef[]): Promise<Map<string, AggregateState>> {
  const unique = new Map<string, AggregateRef>();
  for (const r of refs) unique.set(aggregateKey(r), r);
  const state = new Map<string, AggregateState>();
  if (unique.size === 0) return state;
  const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  const { rows } = await client.query<{
    instance_id: string;
    aggregate_type: string;
    aggregate_id: string;
    owner: string;
    sequence: string;
  }>(latestSequencesSql, [sorted.map((r) => r.instanceId), sorted.map((r) => r.aggregateType), sorted.map((r) => r.aggregateId)]);
  for (const r of rows) {
    const key = aggregateKey({ instanceId: r.instance_id, aggregateType: r.aggregate_type, aggregateId: r.aggregate_id });
    state.set(key, { sequence: Number(r.sequence), owner: r.owner });
  }
  return state;
}

function checkExpected(state: ReadonlyMap<string, AggregateState>, expected: readonly ExpectedSequence[]): void {
  for (const e of expected) {
    const current = state.get(aggregateKey(e))?.sequence ?? 0;
    if (current !== e.sequence) {
      throw new ConcurrencyError(`${e.aggregateType} ${e.aggregateId}: expected sequence ${e.sequence}, found ${current}`);
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

async function pushWithInsert(
  client: pg.PoolClient,
  commands: readonly EventCommand[],
  latest: ReadonlyMap<string, AggregateState>,
): Promise<StoredEvent[]> {
  const state = new Map(latest);
  const cols: unknown[][] = Array.from({ length: 10 }, () => []);
  for (const [i, c] of commands.entries()) {
    const key = aggregateKey(c);
    const prev = state.get(key) ?? { sequence: 0, owner: '' };
    // Empty owner: the aggregate's owner, as ZITADEL resolves it from the latest event.
    const next = { sequence: prev.sequence + 1, owner: c.owner === '' ? prev.owner : c.owner };
    state.set(key, next);
    const row = [
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
    ];
    row.forEach((v, n) => cols[n]?.push(v));
  }
  const { rows } = await client.query<EventRow>(insertEventsSql, cols);
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

/**
 * Writes users and notification requests the way ZITADEL 2.66 pushes them (push.sql):
 * created_at = statement_timestamp(), position = clock_timestamp() epoch, in_tx_order by
 * row, `application_name = zitadel_es_pusher_<instance>` for the transaction, codes
 * AES-CFB encrypted under USER_KEY. Bulk paths use one multi-row INSERT (unnest) per
 * transaction; the paced path is one request per transaction, like a login pushing one.
 * Every aggregate is new, so its sequences are 1 (and 2) as ZITADEL's max+1 would give.
 *
 * One user per request: the worker reduces the user's events, and a shared user would
 * collect `*.sent` events and make later jobs dearer than earlier ones.
 */
import { randomInt } from 'node:crypto';

import type pg from 'pg';

import { type DemoUser, requestFor } from '../../test/helpers/zitadel.js';

export interface Row {
  aggregateType: string;
  aggregateId: string;
  eventType: string;
  sequence: number;
  payload: string | null;
  owner: string;
}

const INSERT_ROWS = `
INSERT INTO eventstore.events2
  (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload,
   "sequence", created_at, "position", in_tx_order)
SELECT $1, r.owner, r.agg_type, r.agg_id, 1, 'NOTIFICATION', r.ev_type, r.payload::jsonb,
       r.seq, CASE WHEN $8::boolean THEN now() ELSE statement_timestamp() END,
       CASE WHEN $8::boolean THEN EXTRACT(EPOCH FROM now()) ELSE EXTRACT(EPOCH FROM clock_timestamp()) END, (r.ord - 1)::int
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
       WITH ORDINALITY AS r(owner, agg_type, agg_id, ev_type, payload, seq, ord)`;

/**
 * One transaction, one statement: all rows of one instance. `shared`: as ZITADEL 2.67's SQL
 * push function writes them (created_at = now(), position = EXTRACT(EPOCH FROM now()): one
 * position for the whole transaction, the transaction's start), else as 2.66's Go INSERT.
 */
export async function insertRows(pool: pg.Pool, instanceId: string, rows: readonly Row[], shared = false): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL application_name = ${client.escapeLiteral(`zitadel_es_pusher_${instanceId}`)}`);
    await client.query(INSERT_ROWS, [
      instanceId,
      rows.map((r) => r.owner),
      rows.map((r) => r.aggregateType),
      rows.map((r) => r.aggregateId),
      rows.map((r) => r.eventType),
      rows.map((r) => r.payload),
      rows.map((r) => r.sequence),
      shared,
    ]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Recipient of request `i` of instance tag `tag`: the sink maps mails back by it. */
export function recipient(tag: string, i: number): string {
  return `${tag}${i}@bench.example.com`;
}

export function userOf(instanceId: string, tag: string, i: number): DemoUser {
  return { instanceId, orgId: `org-${tag}`, userId: `user-${tag}-${i}`, email: recipient(tag, i) };
}

function userRows(u: DemoUser, i: number): Row[] {
  const base = { aggregateType: 'user', aggregateId: u.userId, owner: u.orgId };
  const added = {
    userName: `${u.userId}`,
    firstName: 'Bench',
    lastName: `User ${i}`,
    displayName: `Bench User ${i}`,
    preferredLanguage: 'en',
    email: u.email,
  };
  return [
    { ...base, eventType: 'user.human.added', sequence: 1, payload: JSON.stringify(added) },
    { ...base, eventType: 'user.human.email.verified', sequence: 2, payload: null },
  ];
}

export function requestRow(u: DemoUser, tag: string, i: number): Row {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  return {
    aggregateType: 'notification',
    aggregateId: `n-${tag}-${i}`,
    eventType: 'notification.requested',
    sequence: 1,
    owner: u.orgId,
    payload: JSON.stringify({ request: requestFor(u, {}, code) }),
  };
}

const CHUNK = 2000;

/** Users tag0..tag(n-1) with verified emails, CHUNK users per transaction. */
export async function seedUsers(pool: pg.Pool, instanceId: string, tag: string, from: number, n: number): Promise<void> {
  for (let s = from; s < from + n; s += CHUNK) {
    const rows: Row[] = [];
    for (let i = s; i < Math.min(from + n, s + CHUNK); i++) rows.push(...userRows(userOf(instanceId, tag, i), i));
    await insertRows(pool, instanceId, rows);
  }
}

/**
 * Requests for users from..from+n-1, `perTx` per transaction; `shared`: one position per
 * transaction, as ZITADEL 2.67's push function writes them (insertRows).
 */
export async function seedRequests(
  pool: pg.Pool,
  instanceId: string,
  tag: string,
  from: number,
  n: number,
  perTx = CHUNK,
  shared = false,
): Promise<void> {
  for (let s = from; s < from + n; s += perTx) {
    const rows: Row[] = [];
    for (let i = s; i < Math.min(from + n, s + perTx); i++) rows.push(requestRow(userOf(instanceId, tag, i), tag, i));
    await insertRows(pool, instanceId, rows, shared);
  }
}

/** One request in its own transaction; resolves to its position (epoch ms) as committed. */
export async function pushRequest(pool: pg.Pool, instanceId: string, tag: string, i: number): Promise<number> {
  const r = requestRow(userOf(instanceId, tag, i), tag, i);
  const client = await pool.connect();
  try {
    // One round trip: BEGIN; SET LOCAL; INSERT; COMMIT (simple query protocol, literals escaped).
    const lit = (s: string): string => client.escapeLiteral(s);
    const res = (await client.query(`BEGIN;
SET LOCAL application_name = ${lit(`zitadel_es_pusher_${instanceId}`)};
INSERT INTO eventstore.events2
  (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload,
   "sequence", created_at, "position", in_tx_order)
VALUES (${lit(instanceId)}, ${lit(r.owner)}, 'notification', ${lit(r.aggregateId)}, 1, 'NOTIFICATION',
        'notification.requested', ${lit(r.payload ?? 'null')}::jsonb, 1, statement_timestamp(),
        EXTRACT(EPOCH FROM clock_timestamp()), 0)
RETURNING "position"::float8 AS position;
COMMIT;`)) as unknown as pg.QueryResult<{ position: number }>[];
    const pos = res.find((q) => q.command === 'INSERT')?.rows[0]?.position;
    if (pos === undefined) throw new Error('insert returned no position');
    return pos * 1000;
  } finally {
    client.release();
  }
}

/**
 * Refreshes the planner's statistics after a bulk load, as a long-lived events2 has them;
 * without it the first minutes run on plans for an empty table. Only where the requests are
 * already written (backlog, fairness): statistics taken with no notification rows at all
 * gave the producer's queries worse plans than none.
 */
export async function analyze(pool: pg.Pool): Promise<void> {
  await pool.query('ANALYZE eventstore.events2');
}

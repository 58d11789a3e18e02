/**
 * The delivery history's statements, as named functions. Writes take column arrays and
 * `unnest` them, so any number of rows is one statement with a fixed number of parameters.
 */
import type { Queryable } from '../eventstore/types.js';
import { type HistoryEntry, MAX_ATTEMPT_LOG, type PendingEntry } from './types.js';

const T = 'herald.deliveries';

/** An update that arrives after the row is final (another process was slower) keeps the final state. */
const STALE = `(d.state IN ('sent', 'canceled') AND EXCLUDED.state IN ('pending', 'retrying'))`;
const keep = (col: string): string => `${col} = COALESCE(EXCLUDED.${col}, d.${col})`;
const latest = (col: string): string => `${col} = CASE WHEN ${STALE} THEN d.${col} ELSE EXCLUDED.${col} END`;

const upsertSql = `
INSERT INTO ${T} AS d (source, id, instance_id, org_id, user_id, message_type, channel, provider_kind, recipient, state,
    attempts, attempt_log, result_class, error_code, reason, provider_message_id, otp, requested_at, finished_at, latency_ms, updated_at)
SELECT u.source, u.id, u.instance_id, u.org_id, u.user_id, u.message_type, u.channel, u.provider_kind, u.recipient, u.state,
    u.attempts, u.attempt_log, u.result_class, u.error_code, u.reason, u.provider_message_id, u.otp,
    to_timestamp(u.requested_ms / 1000.0), to_timestamp(u.finished_ms / 1000.0), u.latency_ms, now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
    $11::int[], $12::jsonb[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bool[], $18::float8[], $19::float8[], $20::float8[])
  AS u(source, id, instance_id, org_id, user_id, message_type, channel, provider_kind, recipient, state,
    attempts, attempt_log, result_class, error_code, reason, provider_message_id, otp, requested_ms, finished_ms, latency_ms)
ON CONFLICT (id, source, instance_id) DO UPDATE SET
  ${['org_id', 'user_id', 'message_type', 'channel', 'provider_kind', 'recipient', 'provider_message_id'].map(keep).join(',\n  ')},
  state = CASE WHEN ${STALE} THEN d.state ELSE EXCLUDED.state END,
  attempts = d.attempts + EXCLUDED.attempts,
  attempt_log = (
    SELECT COALESCE(jsonb_agg(t.e ORDER BY t.i), '[]'::jsonb)
      FROM jsonb_array_elements(d.attempt_log || EXCLUDED.attempt_log) WITH ORDINALITY AS t(e, i)
     WHERE t.i > jsonb_array_length(d.attempt_log || EXCLUDED.attempt_log) - ${MAX_ATTEMPT_LOG}),
  ${['result_class', 'error_code', 'reason', 'finished_at'].map(latest).join(',\n  ')},
  latency_ms = COALESCE(d.latency_ms, EXCLUDED.latency_ms),
  otp = d.otp OR EXCLUDED.otp,
  requested_at = LEAST(d.requested_at, EXCLUDED.requested_at),
  updated_at = now()`;

/** One statement for many entries, at most one per key (the writer merges them): attempt lines appended, sends summed. */
export async function upsertDeliveries(db: Queryable, entries: readonly MergedEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const col = <T>(f: (e: MergedEntry) => T): T[] => entries.map(f);
  await db.query(upsertSql, [
    col((e) => e.source),
    col((e) => e.id),
    col((e) => e.instanceId),
    col((e) => e.orgId ?? null),
    col((e) => e.userId ?? null),
    col((e) => e.messageType ?? null),
    col((e) => e.channel ?? null),
    col((e) => e.providerKind ?? null),
    col((e) => e.recipient ?? null),
    col((e) => e.state),
    col((e) => e.sends),
    col((e) => JSON.stringify(e.lines.slice(-MAX_ATTEMPT_LOG))),
    col((e) => e.resultClass ?? null),
    col((e) => e.errorCode ?? null),
    col((e) => e.reason ?? null),
    col((e) => e.providerMessageId ?? null),
    col((e) => e.otp),
    col((e) => e.requestedAt),
    col((e) => e.finishedAt ?? null),
    col((e) => e.latencyMs ?? null),
  ]);
}

/** Entries of one key merged in the writer's buffer: attempt lines in order, sends summed. */
export interface MergedEntry extends Omit<HistoryEntry, 'line'> {
  readonly lines: readonly NonNullable<HistoryEntry['line']>[];
}

const pendingSql = `
INSERT INTO ${T} (source, id, instance_id, state, otp, requested_at, org_id, user_id, message_type, channel)
SELECT u.source, u.id, u.instance_id, 'pending', u.otp, u.requested_at, u.org_id, u.user_id, u.message_type, u.channel
FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[])
  AS u(source, id, instance_id, otp, requested_at, org_id, user_id, message_type, channel)
ON CONFLICT (id, source, instance_id) DO NOTHING`;

/** Rows for what the producer enqueued; a notification already in the history is left alone. */
export async function insertPending(db: Queryable, entries: readonly PendingEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const col = <T>(f: (e: PendingEntry) => T): T[] => entries.map(f);
  const res = await db.query(pendingSql, [
    col((e) => e.source),
    col((e) => e.id),
    col((e) => e.instanceId),
    col((e) => e.otp),
    col((e) => e.requestedAt),
    col((e) => e.orgId ?? null),
    col((e) => e.userId ?? null),
    col((e) => e.messageType ?? null),
    col((e) => e.channel ?? null),
  ]);
  return res.rowCount ?? 0;
}

const deleteExpiredSql = `
DELETE FROM ${T} WHERE ctid IN (
  SELECT ctid FROM ${T} WHERE updated_at < now() - make_interval(secs => $1::float8 / 1000.0) LIMIT $2)`;

/** Deletes at most `limit` rows not changed for `retentionMs`; resolves to how many. */
export async function deleteExpired(db: Queryable, retentionMs: number, limit: number): Promise<number> {
  const res = await db.query(deleteExpiredSql, [retentionMs, limit]);
  return res.rowCount ?? 0;
}

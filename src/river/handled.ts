/**
 * Duplicates: ZITADEL's user notifier inserts the River job outside its projection's
 * transaction, so a retried projection can queue one trigger event twice — two rows with
 * identical args. Before sending, herald completes a row whose twin was already completed.
 *
 * Sent events cannot tell which trigger they answer (a sent event for an earlier code lands
 * after a newer trigger), so the check is on the rows: every code is encrypted with a fresh
 * IV, so equal args with a code mean one trigger. Args without a code (PasswordChange,
 * DomainClaimed) repeat legitimately; there the twin must also be younger than the latest
 * trigger event of that type at the row's creation, i.e. answer that same trigger.
 */
import type { Queryable } from '../eventstore/types.js';

/**
 * The hash under which a row's args are recorded: SHA-256 of the jsonb's canonical text, so
 * rows with identical args share it whatever whitespace or key order River stored.
 */
const ARGS_HASH = (expr: string): string => `sha256(convert_to((${expr})::jsonb::text, 'UTF8'))`;

/**
 * Records a row herald has just completed (in the completion's transaction where there is
 * one). $1 the River job id; reads the row's args and created_at itself.
 */
export const recordAnsweredSql = `
INSERT INTO herald.river_answered (args_hash, job_id, job_created_at)
SELECT ${ARGS_HASH('args')}, id, created_at FROM queue.river_job WHERE id = $1::bigint
ON CONFLICT DO NOTHING`;

/**
 * $1 args (jsonb text), $2 own id, $3 true when the args carry a code, $4 instance,
 * $5 aggregate type, $6 aggregate id, $7 trigger type. The row's own created_at is read in
 * the statement, not passed in: a JavaScript Date keeps milliseconds only, and a trigger
 * event written in the same millisecond as the row (but before it) would then look newer
 * than the row, making the earlier answer look like this row's twin.
 *
 * Twins are looked up in herald's own record of completed args (herald.river_answered, one
 * primary-key probe) rather than in River's table: a containment probe there walked every
 * completed row on a table without statistics (12.8 ms per check at 20 000 rows) and River's
 * GIN index on args is slow while its pending list is full after a burst. Rows completed by
 * ZITADEL's own worker before herald paused the queue are not in the record: a twin of one
 * of those is sent, as ZITADEL itself would send it.
 */
export const twinCompletedSql = `
WITH trig AS (
    SELECT max(created_at) AS at FROM eventstore.events2
    WHERE instance_id = $4 AND aggregate_type = $5 AND aggregate_id = $6 AND event_type = $7
      AND created_at <= (SELECT created_at FROM queue.river_job WHERE id = $2::bigint)
)
SELECT EXISTS (
    SELECT 1 FROM herald.river_answered a, trig
    WHERE a.args_hash = ${ARGS_HASH('$1')} AND a.job_id <> $2::bigint
      AND ($3::boolean OR (trig.at IS NOT NULL AND a.job_created_at >= trig.at))
) AS twin`;

/** Forgets answers older than `keepMs` (bounded per call); returns how many it deleted. */
export async function pruneAnswered(db: Queryable, keepMs: number, limit = 10_000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM herald.river_answered WHERE ctid IN (
        SELECT ctid FROM herald.river_answered WHERE completed_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2)`,
    [keepMs, limit],
  );
  return rowCount ?? 0;
}

export interface TwinQuery {
  readonly jobId: string;
  readonly argsText: string;
  readonly hasCode: boolean;
  readonly instanceId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly triggerType: string;
}

export async function alreadyAnswered(db: Queryable, q: TwinQuery): Promise<boolean> {
  const { rows } = await db.query<{ twin: boolean }>(twinCompletedSql, [
    q.argsText,
    q.jobId,
    q.hasCode,
    q.instanceId,
    q.aggregateType,
    q.aggregateId,
    q.triggerType,
  ]);
  return rows[0]?.twin === true;
}

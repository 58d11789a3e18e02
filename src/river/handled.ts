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
import { RIVER_KIND, RIVER_QUEUE } from './schema.js';

/**
 * $1 args (jsonb text), $2 own id, $3 true when the args carry a code, $4 instance,
 * $5 aggregate type, $6 aggregate id, $7 trigger type. The row's own created_at is read in
 * the statement, not passed in: a JavaScript Date keeps milliseconds only, and a trigger
 * event written in the same millisecond as the row (but before it) would then look newer
 * than the row, making the earlier answer look like this row's twin.
 * Uses River's GIN index on args for the containment probe.
 */
export const twinCompletedSql = `
WITH trig AS (
    SELECT max(created_at) AS at FROM eventstore.events2
    WHERE instance_id = $4 AND aggregate_type = $5 AND aggregate_id = $6 AND event_type = $7
      AND created_at <= (SELECT created_at FROM queue.river_job WHERE id = $2::bigint)
)
SELECT EXISTS (
    SELECT 1 FROM queue.river_job j, trig
    WHERE j.args @> $1::jsonb AND j.args = $1::jsonb AND j.id <> $2::bigint
      AND j.state = 'completed' AND j.queue = '${RIVER_QUEUE}' AND j.kind = '${RIVER_KIND}'
      AND ($3::boolean OR (trig.at IS NOT NULL AND j.created_at >= trig.at))
) AS twin`;

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

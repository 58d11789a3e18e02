/** Reading events2 rows, and the one row mapper that push() and the readers share. */
import type { AggregateRef, Queryable, StoredEvent } from './types.js';

/**
 * Column list for every SELECT/RETURNING on events2. position is cast to TEXT so a global
 * NUMERIC type parser can never turn it into a lossy float.
 */
export const EVENT_COLUMNS = `instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision,
  created_at, payload, creator, "owner", "position"::TEXT AS "position", in_tx_order`;

/** A raw events2 row as node-postgres returns it (BIGINT arrives as a string). */
export interface EventRow {
  readonly instance_id: string;
  readonly aggregate_type: string;
  readonly aggregate_id: string;
  readonly event_type: string;
  readonly sequence: string | number;
  readonly revision: number;
  readonly created_at: Date;
  readonly payload: unknown;
  readonly creator: string;
  readonly owner: string;
  readonly position: string;
  /** INTEGER, or BIGINT on databases migrated from before ZITADEL v2.39. */
  readonly in_tx_order: string | number;
}

export function mapEventRow(row: EventRow): StoredEvent {
  return {
    instanceId: row.instance_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    eventType: row.event_type,
    sequence: Number(row.sequence),
    revision: Number(row.revision),
    createdAt: row.created_at,
    payload: row.payload ?? null,
    creator: row.creator,
    owner: row.owner,
    position: row.position,
    inTxOrder: Number(row.in_tx_order),
  };
}

export const readAggregateSql = `SELECT ${EVENT_COLUMNS}
FROM eventstore.events2
WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3
ORDER BY "sequence"`;

/** All events of one aggregate, oldest first. */
export async function readAggregate(db: Queryable, ref: AggregateRef): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(readAggregateSql, [ref.instanceId, ref.aggregateType, ref.aggregateId]);
  return rows.map(mapEventRow);
}

export interface EventFilter {
  readonly instanceId: string;
  /** At least one. */
  readonly aggregateTypes: readonly string[];
  readonly aggregateIds?: readonly string[];
  readonly eventTypes?: readonly string[];
  readonly owner?: string;
  /** Only events with a position strictly greater (exact DECIMAL text). */
  readonly afterPosition?: string;
  /**
   * With afterPosition: also return events at exactly afterPosition whose in_tx_order is
   * greater, i.e. compare (position, in_tx_order) as a tuple. ZITADEL's SQL push gives
   * every event of one transaction the same position.
   */
  readonly afterInTxOrder?: number;
  readonly limit?: number;
}

/** Builds the filtered query; exported for tests and EXPLAIN. */
export function readEventsSql(filter: EventFilter): { text: string; values: unknown[] } {
  if (filter.aggregateTypes.length === 0) throw new TypeError('readEvents: aggregateTypes must not be empty');
  const values: unknown[] = [filter.instanceId, filter.aggregateTypes];
  const where = ['instance_id = $1', 'aggregate_type = ANY($2::TEXT[])'];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  if (filter.aggregateIds) where.push(`aggregate_id = ANY(${param(filter.aggregateIds)}::TEXT[])`);
  if (filter.eventTypes) where.push(`event_type = ANY(${param(filter.eventTypes)}::TEXT[])`);
  if (filter.owner !== undefined) where.push(`"owner" = ${param(filter.owner)}`);
  if (filter.afterPosition !== undefined) {
    const pos = param(filter.afterPosition);
    where.push(
      filter.afterInTxOrder === undefined
        ? `"position" > ${pos}::DECIMAL`
        : `("position", in_tx_order) > (${pos}::DECIMAL, ${param(filter.afterInTxOrder)}::INTEGER)`,
    );
  }
  const limit = filter.limit === undefined ? '' : `\nLIMIT ${param(filter.limit)}`;
  return {
    text: `SELECT ${EVENT_COLUMNS}
FROM eventstore.events2
WHERE ${where.join('\n  AND ')}
ORDER BY "position", in_tx_order${limit}`,
    values,
  };
}

/** Events of one instance matching the filter, in (position, in_tx_order) order. */
export async function readEvents(db: Queryable, filter: EventFilter): Promise<StoredEvent[]> {
  const { text, values } = readEventsSql(filter);
  const { rows } = await db.query<EventRow>(text, values);
  return rows.map(mapEventRow);
}

/** Rows of eventstore.events2, as herald reads and writes them. */
import type { Pool, PoolClient } from 'pg';

/** Anything that can run a query: a pool or a checked-out client. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

export interface StoredEvent<P = unknown> {
  readonly instanceId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly eventType: string;
  /** Per-aggregate sequence, 1-based. */
  readonly sequence: number;
  readonly revision: number;
  readonly createdAt: Date;
  /** Parsed JSONB; null for SQL NULL. */
  readonly payload: P | null;
  readonly creator: string;
  readonly owner: string;
  /** DECIMAL kept as its exact text form (compare in SQL, not in JS floats). */
  readonly position: string;
  readonly inTxOrder: number;
}

/** One event to push (ZITADEL's eventstore.command). */
export interface EventCommand {
  readonly instanceId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly revision: number;
  /** Serialised with JSON.stringify; null/undefined is written as SQL NULL. */
  readonly payload: unknown;
  readonly creator: string;
  /** Empty string: take the owner of the aggregate's latest event (as ZITADEL does). */
  readonly owner: string;
}

export interface AggregateRef {
  readonly instanceId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
}

export interface ExpectedSequence extends AggregateRef {
  /** The latest sequence the caller saw on this aggregate (0 = none). */
  readonly sequence: number;
}

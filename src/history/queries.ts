/**
 * Reading the delivery history: the list behind `herald history` and GET /api/v1/notifications,
 * and one notification's timeline behind `herald status` and GET /api/v1/notifications/<id>.
 */
import type { Queryable } from '../eventstore/types.js';
import type { AttemptLine, Delivery, DeliveryAttempt, DeliveryDetail, DeliveryState } from './types.js';

/** The most rows one list returns. */
export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;

export interface HistoryFilter {
  readonly instanceId?: string | undefined;
  readonly userId?: string | undefined;
  readonly state?: DeliveryState | undefined;
  /** Only notifications requested within this many ms before now. */
  readonly sinceMs?: number | undefined;
  /** 1 … MAX_LIMIT. @defaultValue 50 */
  readonly limit?: number | undefined;
}

interface Row {
  id: string;
  source: Delivery['source'];
  instance_id: string;
  org_id: string | null;
  user_id: string | null;
  message_type: string | null;
  channel: string | null;
  provider_kind: string | null;
  recipient: string | null;
  state: DeliveryState;
  attempts: number;
  attempt_log: unknown;
  result_class: string | null;
  error_code: string | null;
  reason: string | null;
  provider_message_id: string | null;
  otp: boolean;
  requested_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  latency_ms: number | null;
}

const COLUMNS = `id, source, instance_id, org_id, user_id, message_type, channel, provider_kind, recipient, state, attempts,
  result_class, error_code, reason, provider_message_id, otp, requested_at, updated_at, finished_at, latency_ms`;

const listSql = `
SELECT ${COLUMNS} FROM herald.deliveries
WHERE ($1::text IS NULL OR instance_id = $1)
  AND ($2::text IS NULL OR user_id = $2)
  AND ($3::text IS NULL OR state = $3)
  AND ($4::float8 IS NULL OR requested_at >= now() - make_interval(secs => $4 / 1000.0))
ORDER BY requested_at DESC, id DESC
LIMIT $5`;

const getSql = `SELECT ${COLUMNS}, attempt_log FROM herald.deliveries WHERE id = $1 ORDER BY requested_at DESC LIMIT 10`;

function toDelivery(r: Row): Delivery {
  return {
    id: r.id,
    source: r.source,
    instanceId: r.instance_id,
    orgId: r.org_id,
    userId: r.user_id,
    messageType: r.message_type,
    channel: r.channel,
    providerKind: r.provider_kind,
    recipient: r.recipient,
    state: r.state,
    attempts: r.attempts,
    resultClass: r.result_class,
    errorCode: r.error_code,
    reason: r.reason,
    providerMessageId: r.provider_message_id,
    otp: r.otp,
    requestedAt: r.requested_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    latencyMs: r.latency_ms === null ? null : Math.round(r.latency_ms),
  };
}

const iso = (ms: unknown): string => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '');
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toTimeline(log: unknown): DeliveryAttempt[] {
  if (!Array.isArray(log)) return [];
  return log
    .filter((l): l is Partial<AttemptLine> => typeof l === 'object' && l !== null)
    .map((l) => ({
      attempt: typeof l.attempt === 'number' ? l.attempt : 0,
      startedAt: iso(l.startedAt),
      finishedAt: iso(l.finishedAt),
      providerKind: str(l.providerKind) ?? 'none',
      resultClass: str(l.resultClass) ?? 'failed',
      errorCode: str(l.errorCode),
    }));
}

/** Newest first, at most `limit` (bounded by MAX_LIMIT). */
export async function listDeliveries(db: Queryable, filter: HistoryFilter = {}): Promise<Delivery[]> {
  const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIMIT)), MAX_LIMIT);
  const { rows } = await db.query<Row>(listSql, [
    filter.instanceId ?? null,
    filter.userId ?? null,
    filter.state ?? null,
    filter.sinceMs ?? null,
    limit,
  ]);
  return rows.map(toDelivery);
}

/** Every notification with this id (an aggregate id or a River job id; usually one), newest first. */
export async function getDeliveries(db: Queryable, id: string): Promise<DeliveryDetail[]> {
  const { rows } = await db.query<Row>(getSql, [id]);
  return rows.map((r) => ({ ...toDelivery(r), timeline: toTimeline(r.attempt_log) }));
}

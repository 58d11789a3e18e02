/**
 * Shared pieces of the fault scenarios: many requests written as ZITADEL writes them, the
 * environment of a spawned herald, and per-notification outcome counts read back from
 * events2 (the record: Redis may be wiped, processes killed).
 */
import type pg from 'pg';

import { insertZitadelEvents, type ZitadelEvent } from '../../helpers/events.js';
import type { ReceivedMail } from '../../helpers/smtp-sink.js';
import { waitUntil } from '../../helpers/wait.js';
import { KEYS_ENV, newId, requestFor } from '../../helpers/zitadel.js';

export interface Seeded {
  readonly aggregateId: string;
  readonly email: string;
  readonly code: string;
}

/** n users with a verified address, one request each, in one org of `instanceId`. */
export async function seedRequests(pool: pg.Pool, instanceId: string, n: number, tag = 'r'): Promise<Seeded[]> {
  const orgId = newId();
  const events: ZitadelEvent[] = [];
  const seeded: Seeded[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `${tag}${i}-${newId()}`;
    const email = `${tag}${i}-${userId}@example.com`;
    const base = { instanceId, aggregateType: 'user', aggregateId: userId, owner: orgId };
    events.push(
      { ...base, eventType: 'user.human.added', payload: { userName: `${tag}${i}`, displayName: `${tag} ${i}`, preferredLanguage: 'en', email } },
      { ...base, eventType: 'user.human.email.verified', payload: null },
    );
    const code = `${tag.toUpperCase()}${String(i).padStart(5, '0')}`;
    const aggregateId = `${tag}n${i}-${newId()}`;
    events.push({
      instanceId,
      aggregateType: 'notification',
      aggregateId,
      eventType: 'notification.requested',
      owner: orgId,
      payload: { request: requestFor({ instanceId, orgId, userId, email }, {}, code) },
    });
    seeded.push({ aggregateId, email, code });
  }
  for (let i = 0; i < events.length; i += 300) await insertZitadelEvents(pool, events.slice(i, i + 300));
  return seeded;
}

/** The environment of a spawned herald; short intervals keep the scenarios fast. */
export function heraldEnv(
  opts: { databaseUrl: string; redisUrl: string; prefix: string; smtpUrl: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    HERALD_QUEUE_PREFIX: opts.prefix,
    HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    HERALD_HTTP_PORT: '0',
    SMTP_URL: opts.smtpUrl,
    SMTP_FROM: 'herald@example.com',
    HERALD_SHUTDOWN_GRACE: '5s',
    ZITADEL_NOTIFICATIONS_WORKERS: '8',
    ZITADEL_NOTIFICATIONS_BULKLIMIT: '50',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY: '100ms',
    ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '100ms',
    ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '1s',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Tally {
  readonly sent: number;
  readonly canceled: number;
  readonly retries: number;
  /** Events after requested, in order. */
  readonly trail: readonly string[];
}

const TALLY_SQL = `
SELECT aggregate_id,
       count(*) FILTER (WHERE event_type = 'notification.sent') AS sent,
       count(*) FILTER (WHERE event_type = 'notification.canceled') AS canceled,
       count(*) FILTER (WHERE event_type = 'notification.retry.requested') AS retries,
       array_agg(event_type ORDER BY "sequence") AS trail
  FROM eventstore.events2
 WHERE instance_id = $1 AND aggregate_type = 'notification'
 GROUP BY aggregate_id`;

/** Outcome counts per notification aggregate of one instance. */
export async function tally(pool: pg.Pool, instanceId: string): Promise<Map<string, Tally>> {
  const { rows } = await pool.query<{ aggregate_id: string; sent: string; canceled: string; retries: string; trail: string[] }>(TALLY_SQL, [
    instanceId,
  ]);
  return new Map(
    rows.map((r) => [r.aggregate_id, { sent: Number(r.sent), canceled: Number(r.canceled), retries: Number(r.retries), trail: r.trail.slice(1) }]),
  );
}

/** Resolves with the tally once every notification of the instance is sent or canceled. */
export function waitAllFinished(pool: pg.Pool, instanceId: string, n: number, timeoutMs: number): Promise<Map<string, Tally>> {
  return waitUntil(
    async () => {
      const t = await tally(pool, instanceId);
      const done = [...t.values()].filter((x) => x.sent + x.canceled > 0).length;
      return t.size === n && done === n ? t : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${n} notifications of ${instanceId} finished` },
  );
}

/** Messages per recipient; duplicates are recipients with more than one. */
export function deliveriesByRecipient(messages: readonly ReceivedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) for (const to of m.envelope.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

/** Extra messages beyond one per recipient. */
export function duplicateCount(messages: readonly ReceivedMail[]): number {
  return [...deliveriesByRecipient(messages).values()].reduce((sum, c) => sum + c - 1, 0);
}

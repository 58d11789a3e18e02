/**
 * Event mode (ZITADEL v2.66–v2.70): a notification is the `notification` aggregate in
 * eventstore.events2. The attempt is read from its events (notification.requested, then
 * notification.retry.requested per retry); outcomes are written as notification.sent /
 * retry.requested / canceled (outcome.ts) with an optimistic check on the aggregate.
 */
import type { Pool } from 'pg';

import type { SendResult } from '../channels/types.js';
import { asDependency, isConcurrency, isPermanent } from '../errors.js';
import type { PushBatcher } from '../eventstore/batch.js';
import { parseRequestedPayload, parseRetryPayload } from '../eventstore/notification.js';
import { NotificationEvent } from '../eventstore/notification-types.js';
import { readAggregate } from '../eventstore/read.js';
import type { StoredEvent } from '../eventstore/types.js';
import { msToNs, nsToMs } from '../queue/backoff.js';
import type { Attempt, Loaded, WriteBack } from './attempt.js';
import { writeCanceled, writeRetry, writeSent } from './outcome.js';
import type { WorkerReads } from './reads.js';

const FINISHED: ReadonlySet<string> = new Set([NotificationEvent.sent, NotificationEvent.canceled]);
const isFinished = (events: readonly StoredEvent[]): boolean => events.some((e) => FINISHED.has(e.eventType));

export interface EventJob {
  readonly instanceId: string;
  readonly aggregateId: string;
  readonly delivered?: SendResult | undefined;
}

/** Parses the aggregate into the attempt to make; throws PermanentError on malformed input. */
function attemptOf(job: EventJob, events: readonly StoredEvent[], latest: StoredEvent, maxAttempts: number): Attempt {
  const common = {
    instanceId: job.instanceId,
    notificationId: job.aggregateId,
    number: latest.sequence,
    maxAttempts,
    eventType: latest.eventType,
    delivered: job.delivered,
  };
  if (latest.eventType === NotificationEvent.retryRequested) {
    const retry = parseRetryPayload(latest.payload);
    const previousDelayMs = nsToMs(retry.backOff);
    return {
      ...common,
      request: retry.request,
      snapshot: retry.notifyUser,
      previousDelayMs,
      requestedAt: (events.find((e) => e.eventType === NotificationEvent.requested) ?? latest).createdAt,
      since: latest.createdAt,
      dueAt: latest.createdAt.getTime() + previousDelayMs,
    };
  }
  const requested = events.find((e) => e.eventType === NotificationEvent.requested) ?? latest;
  return {
    ...common,
    request: parseRequestedPayload(requested.payload),
    snapshot: undefined,
    previousDelayMs: 0,
    requestedAt: requested.createdAt,
    since: requested.createdAt,
    dueAt: 0,
  };
}

/** Writes outcomes on the aggregate as last read (`latest`). */
export function makeEventWriteBack(pool: Pool, latest: StoredEvent, writer: PushBatcher | undefined): WriteBack {
  const ref = { instanceId: latest.instanceId, aggregateType: 'notification', aggregateId: latest.aggregateId };
  /** false when another worker wrote to the aggregate first. */
  const unlessConcurrent = async (write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (err) {
      if (isConcurrency(err)) return false;
      throw err;
    }
  };
  return {
    cancel: (error) => unlessConcurrent(() => writeCanceled(pool, latest, error)),
    retry: ({ request, user, error, delayMs }) =>
      unlessConcurrent(() => writeRetry(pool, latest, { request, notifyUser: user, error, backOffNs: msToNs(delayMs) })),
    async sent(target, { targetChecked }) {
      for (let tries = 1; ; tries++) {
        try {
          await writeSent(pool, latest, target, { ...(writer ? { batcher: writer } : {}), targetChecked });
          return true;
        } catch (err) {
          // A conflict may come from ZITADEL writing the user at the same moment: look again.
          const again = isConcurrency(err)
            ? await asDependency('re-reading the notification', () => readAggregate(pool, ref)).catch(() => undefined)
            : undefined;
          if (again && isFinished(again)) return false;
          if (tries >= 3 || again?.at(-1)?.sequence !== latest.sequence) throw err;
        }
      }
    },
  };
}

/** Reads the notification aggregate of a job into the attempt to make. */
export async function loadEventAttempt(
  pool: Pool,
  job: EventJob,
  opts: { readonly maxAttempts: number; readonly writer: PushBatcher | undefined; readonly reads?: WorkerReads | undefined },
): Promise<Loaded> {
  const ref = { instanceId: job.instanceId, aggregateType: 'notification', aggregateId: job.aggregateId };
  const { reads } = opts;
  const events = await asDependency('reading the notification', () => (reads ? reads.notification(job) : readAggregate(pool, ref)));
  const latest = events.at(-1);
  if (!latest) return { kind: 'missing' };
  if (isFinished(events)) return { kind: 'finished' };
  const writeBack = makeEventWriteBack(pool, latest, opts.writer);
  try {
    return { kind: 'attempt', attempt: attemptOf(job, events, latest, opts.maxAttempts), writeBack };
  } catch (err) {
    if (!isPermanent(err)) throw err;
    return { kind: 'malformed', error: err, writeBack };
  }
}

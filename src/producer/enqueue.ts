/**
 * Turns pending events into BullMQ jobs under idempotent ids. Re-adding an id that
 * exists is a no-op in BullMQ, so replicas and repeated sweeps never make a second job.
 */
import type { JobsOptions } from 'bullmq';

import { NotificationEvent } from '../eventstore/notification-types.js';
import { nsToMs } from '../queue/backoff.js';
import { JOB_KIND, jobIdFor, type NotificationJobData, PRIORITY } from '../queue/names.js';
import type { NotificationQueue, Queues } from '../queue/queues.js';
import type { PendingEvent } from './sql.js';

/** A job in one of these states will still run: the notification is in hand. */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

interface BulkJob {
  name: string;
  data: NotificationJobData;
  opts: JobsOptions;
}

/** BullMQ's largest priority. */
const MAX_PRIORITY = 2 ** 21 - 1; // 2 097 151
/** A rank that gives the lowest priority: work that must never delay a deliverable request. */
export const LAST_RANK = MAX_PRIORITY;

/** OTP priorities run from PRIORITY.otp up to just below PRIORITY.normal. */
const LAST_OTP_PRIORITY = PRIORITY.normal - 1;

/**
 * Priority: OTP first; then by rank in the instance's window, so a quiet instance's request
 * (rank 0) is served before the tail of a busy instance's backlog. Equal priorities are FIFO.
 * OTPs are ranked too (issue #15), by their rank among the instance's OTPs in one enqueue:
 * the first OTP of every instance gets PRIORITY.otp, a flood's later ones 2…9, so one
 * instance's OTP flood delays another instance's OTP by a few sends at most, and every OTP
 * still goes before any other mail.
 */
export function priorityOf(e: Pick<PendingEvent, 'isOTP'>, rank = 0, otpRank = 0): number {
  return e.isOTP ? Math.min(PRIORITY.otp + otpRank, LAST_OTP_PRIORITY) : Math.min(PRIORITY.normal + rank, MAX_PRIORITY);
}

/** A pending event, with its rank among its instance's pending requests when known. */
export type Offer = PendingEvent & { readonly rank?: number };

function toJob(e: Offer, now: number, otpRank = 0): BulkJob {
  const isRetry = e.eventType === NotificationEvent.retryRequested;
  const dueAt = isRetry ? e.createdAt.getTime() + nsToMs(e.backOffNs ?? 0) : now;
  return {
    name: isRetry ? JOB_KIND.retry : JOB_KIND.requested,
    data: { instanceId: e.instanceId, aggregateId: e.aggregateId, sequence: e.sequence },
    opts: {
      jobId: jobIdFor(e.instanceId, e.aggregateId, e.sequence),
      priority: priorityOf(e, e.rank, otpRank),
      ...(dueAt > now ? { delay: Math.ceil(dueAt - now) } : {}),
    },
  };
}

/**
 * A job that ended (completed/failed) while its notification is still pending has lost its
 * outcome (e.g. Postgres was down when it ran out of attempts): drop it so it can be re-added.
 */
async function clearEnded(queue: NotificationQueue, jobs: readonly BulkJob[]): Promise<void> {
  const states = await Promise.all(jobs.map((j) => queue.getJobState(j.opts.jobId as string)));
  await Promise.all(
    jobs.map(async (j, i) => {
      const state = states[i];
      if (state === 'completed' || state === 'failed') await queue.remove(j.opts.jobId as string);
    }),
  );
}

/** Told what a pass enqueued (the delivery history's pending rows); must not throw. */
export type EnqueueListener = (offers: readonly Offer[]) => Promise<void>;
/**
 * Listeners by queue set: attached once at wiring (app.ts), so none of enqueuePending's
 * callers has to carry the history along.
 */
const enqueueListeners = new WeakMap<Queues, EnqueueListener>();
export function onEnqueued(queues: Queues, listener: EnqueueListener): void {
  enqueueListeners.set(queues, listener);
}

/**
 * Requests go to the request queue. Retry events go to the retry queue unless herald's own
 * request job for that notification is still live (then the retry is herald's own, and
 * BullMQ already holds it as a delayed retry).
 */
export async function enqueuePending(
  queues: Queues,
  events: readonly Offer[],
  opts: { repair: boolean; bulkLimit: number; now?: number },
): Promise<number> {
  const now = opts.now ?? Date.now();
  const requests: BulkJob[] = [];
  const retries: BulkJob[] = [];
  const retryEvents = events.filter((e) => e.eventType === NotificationEvent.retryRequested);
  const ownerStates = await Promise.all(retryEvents.map((e) => queues.requests.getJobState(jobIdFor(e.instanceId, e.aggregateId, 1))));
  const heldByRequestJob = new Set(
    retryEvents.filter((_, i) => LIVE_STATES.has(ownerStates[i] ?? 'unknown')).map((e) => e.aggregateId + '\u0000' + e.instanceId),
  );
  // Each instance's OTPs, counted in the order offered (oldest first): their fair rank.
  const otpSeen = new Map<string, number>();
  const otpRankOf = (e: Offer): number => {
    if (!e.isOTP) return 0;
    const r = otpSeen.get(e.instanceId) ?? 0;
    otpSeen.set(e.instanceId, r + 1);
    return r;
  };
  for (const e of events) {
    if (e.eventType === NotificationEvent.requested) requests.push(toJob(e, now, otpRankOf(e)));
    else if (!heldByRequestJob.has(e.aggregateId + '\u0000' + e.instanceId)) retries.push(toJob(e, now));
  }
  if (opts.repair) {
    await clearEnded(queues.requests, requests);
    await clearEnded(queues.retries, retries);
  }
  // Chunks of BulkLimit; issued together, they share one connection and keep their order.
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < requests.length; i += opts.bulkLimit) {
    calls.push(queues.requests.addBulk(requests.slice(i, i + opts.bulkLimit)));
  }
  for (let i = 0; i < retries.length; i += opts.bulkLimit) {
    calls.push(queues.retries.addBulk(retries.slice(i, i + opts.bulkLimit)));
  }
  const listener = enqueueListeners.get(queues);
  if (listener && events.length > 0) calls.push(listener(events));
  await Promise.all(calls);
  return requests.length + retries.length;
}

/**
 * The BullMQ side of a notification attempt: concurrency, timeouts, and the mapping of
 * outcomes onto job states.
 * - sent / already finished → completed;
 * - canceled → failed with UnrecoverableError (notification.canceled is written);
 * - retry → failed attempt; BullMQ's delayed retry uses the delay written in
 *   notification.retry.requested (custom backoff strategy 'zitadel');
 * - not due / throttled by the provider / Postgres unavailable → moved back to delayed
 *   without using an attempt;
 * - an instance at its share of this process's slots (HERALD_INSTANCE_CONCURRENCY, while
 *   another instance has work here) → moved back to delayed for a moment, before anything
 *   is read: the job holds no slot while it waits (herald_instance_concurrency_deferred_total).
 */
import { DelayedError, type Job, type Telemetry, UnrecoverableError, Worker } from 'bullmq';

import type { NotificationsConfig } from '../config/types.js';
import { HeraldError, isConcurrency, isDependency, publicError, sanitizeText } from '../errors.js';
import { type InstanceShare, withInstanceShare } from '../limits/defer.js';
import { nextBackoffMs } from '../queue/backoff.js';
import type { RedisClient } from '../queue/connection.js';
import type { NotificationJobData, QueueName } from '../queue/names.js';
import { type Outcome, type ProcessDeps, processNotification } from './process.js';

/** Thrown after notification.retry.requested is written; carries the delay it names. */
export class RetryScheduledError extends HeraldError {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super('RETRY_SCHEDULED', message);
  }
}

/** BullMQ backoff strategy: the delay herald already wrote into the retry event. */
export function zitadelBackoff(cfg: NotificationsConfig) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    if (err instanceof RetryScheduledError || (err && 'delayMs' in err && typeof err.delayMs === 'number')) {
      return (err as RetryScheduledError).delayMs;
    }
    // An unexpected error: grow from MinRetryDelay like ZITADEL would have.
    let delay = 0;
    for (let i = 0; i < Math.max(1, attemptsMade); i++) delay = nextBackoffMs(delay, cfg);
    return delay;
  };
}

export interface OutcomeListener {
  (outcome: Outcome, job: Job<NotificationJobData>, durationMs: number): void;
}

export function makeNotificationWorker(opts: {
  queue: QueueName;
  concurrency: number;
  connection: RedisClient;
  prefix: string;
  deps: ProcessDeps;
  onOutcome?: OutcomeListener;
  /** Per-instance concurrency of this process (shared by its workers), and where deferrals are counted. */
  limits?: InstanceShare;
  /** BullMQ's telemetry (ops/tracing.ts): a `process` span around each attempt. */
  telemetry?: Telemetry;
}): Worker<NotificationJobData, Outcome> {
  const { cfg } = opts.deps;
  const logger = opts.deps.logger.child({ component: 'worker', queue: opts.queue });

  const processor = async (job: Job<NotificationJobData, Outcome>, token?: string, cancel?: AbortSignal): Promise<Outcome> => {
    return withInstanceShare(opts.limits, job.data.instanceId, job, token, () => run(job, token, cancel));
  };

  const run = async (job: Job<NotificationJobData, Outcome>, token?: string, cancel?: AbortSignal): Promise<Outcome> => {
    const signals = [AbortSignal.timeout(cfg.transactionDurationMs), ...(cancel ? [cancel] : [])];
    const started = Date.now();
    const deps = { ...opts.deps, logger: logger.child({ jobId: job.id }) };
    let outcome: Outcome;
    try {
      outcome = await processNotification(deps, job.data, {
        signal: AbortSignal.any(signals),
        released: () => cancel?.aborted === true,
        markDelivered: (result) => job.updateData({ ...job.data, delivered: { at: new Date().toISOString(), ...result } }),
      });
    } catch (err) {
      if (!isDependency(err) && !isConcurrency(err)) throw publicError(err);
      // State could not be read or written: come back later; this was not a send attempt.
      const delay = nextBackoffMs(0, cfg);
      logger.warn({ err, jobId: job.id, delayMs: delay }, 'dependency unavailable; job delayed');
      await job.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    }
    opts.onOutcome?.(outcome, job, Date.now() - started);
    switch (outcome.kind) {
      case 'canceled':
        throw new UnrecoverableError(`notification canceled: ${sanitizeText(outcome.error)}`);
      case 'retry':
        throw new RetryScheduledError(sanitizeText(outcome.error), outcome.delayMs);
      case 'not-due':
      case 'throttled':
        // Not an attempt: back to delayed, the attempt count untouched.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      default:
        return outcome;
    }
  };

  const worker = new Worker<NotificationJobData, Outcome>(opts.queue, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    autorun: false,
    settings: { backoffStrategy: zitadelBackoff(cfg) },
    // A killed worker's jobs come back after the lock lapses plus one stalled check:
    // ~20 s instead of BullMQ's default ~60 s. Locks are renewed every lockDuration / 2.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  return worker;
}

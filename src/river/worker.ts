/**
 * The BullMQ side of River attempts. River keeps the retry state, so every attempt ends its
 * BullMQ job as completed once the row is finished; only "could not read or write state"
 * (and a twin being sent right now) puts the job back to delayed without finishing the row.
 * An instance at its share of this process's slots (HERALD_INSTANCE_CONCURRENCY) is deferred
 * the same way, before the row is read (limits/defer.ts, shared with the event-mode worker).
 */
import { DelayedError, type Job, type Telemetry, Worker } from 'bullmq';

import { coerceError, isDependency } from '../errors.js';
import { type InstanceShare, withInstanceShare } from '../limits/defer.js';
import { nextBackoffMs } from '../queue/backoff.js';
import type { RedisClient as Redis } from '../queue/connection.js';
import { processRiverAttempt, type RiverDeps, type RiverOutcome } from './attempt.js';
import { failJob } from './finish.js';
import { RIVER_JOBS_QUEUE, type RiverJobData } from './queue.js';
import { planRetry } from './retry.js';
import { getJob } from './sql.js';

export type RiverOutcomeListener = (outcome: RiverOutcome, job: Job<RiverJobData>, durationMs: number) => void;

export function makeRiverWorker(opts: {
  concurrency: number;
  connection: Redis;
  prefix: string;
  deps: RiverDeps;
  onOutcome?: RiverOutcomeListener;
  /**
   * Per-instance concurrency of this process (HERALD_INSTANCE_CONCURRENCY): a job of an
   * instance at its share goes back to delayed before its row is read; the row stays `running`.
   */
  limits?: InstanceShare;
  /** BullMQ's telemetry (ops/tracing.ts): a `process` span around each attempt. */
  telemetry?: Telemetry;
}): Worker<RiverJobData, RiverOutcome> {
  const { cfg, pool } = opts.deps;
  const logger = opts.deps.logger.child({ component: 'worker', queue: RIVER_JOBS_QUEUE });

  /** An unexpected error is an error of the attempt, as River records a worker's returned error. */
  async function failUnexpected(data: RiverJobData, err: Error): Promise<RiverOutcome> {
    const job = await getJob(pool, data.riverId);
    if (!job || job.state !== 'running' || job.attempt !== data.attempt) return { kind: 'finished' };
    const policy = opts.deps.source.riverRetryPolicy === 'river' ? ({ kind: 'river' } as const) : ({ kind: 'herald', cfg } as const);
    const plan = planRetry(job, policy);
    const state = await failJob(pool, job, err.message, plan);
    if (state === undefined) return { kind: 'finished' };
    return state === 'discarded'
      ? { kind: 'discarded', error: err.message }
      : { kind: 'retry', state, delayMs: plan.delayMs ?? 0, error: err.message };
  }

  const processor = (job: Job<RiverJobData, RiverOutcome>, token?: string, cancel?: AbortSignal): Promise<RiverOutcome> =>
    withInstanceShare(opts.limits, job.data.instanceId, job, token, () => run(job, token, cancel));

  const run = async (job: Job<RiverJobData, RiverOutcome>, token?: string, cancel?: AbortSignal): Promise<RiverOutcome> => {
    const started = Date.now();
    const deps = { ...opts.deps, logger: logger.child({ jobId: job.id }) };
    const delay = async (ms: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError();
    };
    let outcome: RiverOutcome;
    try {
      outcome = await processRiverAttempt(deps, job.data, {
        signal: AbortSignal.any([AbortSignal.timeout(cfg.transactionDurationMs), ...(cancel ? [cancel] : [])]),
        released: () => cancel?.aborted === true,
        markDelivered: (result) => job.updateData({ ...job.data, delivered: { at: new Date().toISOString(), ...result } }),
      });
    } catch (caught) {
      const err = coerceError(caught);
      if (isDependency(err)) {
        const ms = nextBackoffMs(0, cfg);
        logger.warn({ err, jobId: job.id, delayMs: ms }, 'dependency unavailable; River attempt delayed');
        return delay(ms);
      }
      logger.error({ err, jobId: job.id }, 'River attempt failed unexpectedly');
      outcome = await failUnexpected(job.data, err).catch(async (failErr: unknown) => {
        logger.warn({ err: failErr }, 'could not record the error; River attempt delayed');
        return delay(nextBackoffMs(0, cfg));
      });
    }
    opts.onOutcome?.(outcome, job, Date.now() - started);
    if (outcome.kind === 'busy') return delay(outcome.delayMs);
    return outcome;
  };

  const worker = new Worker<RiverJobData, RiverOutcome>(RIVER_JOBS_QUEUE, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    autorun: false,
    lockDuration: 15_000,
    stalledInterval: 5_000,
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  return worker;
}

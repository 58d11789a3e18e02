/**
 * Prometheus metrics (prom-client), one private Registry per herald instance so that several
 * instances in one process (tests) never collide on metric names.
 *
 * Labels are bounded sets only: queue, job state, channel, message type, outcome, tail, provider
 * kind (PROVIDER_KINDS), result class (RESULT_CLASSES), source, otp. Never an
 * address, a code, a notification id or a replica id (one series per pod would grow unbounded
 * with rolling deploys; Prometheus adds `instance` itself).
 *
 * Queue depth and producer lag are read on scrape (collect), so an idle process costs nothing.
 * Every replica reports the same queue depth: aggregate with max(), not sum().
 *
 * `herald_backlog` (src/ops/backlog.ts) is what worker autoscaling watches; it is reported
 * where the producer runs (it reads the sources), and sources are added with addBacklogSource.
 */
import type { Job } from 'bullmq';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { LimitsStats } from '../limits/guard.js';
import type { Logger } from '../logger.js';
import type { NotificationJobData } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import type { RiverOutcome } from '../river/attempt.js';
import type { RiverJobData } from '../river/queue.js';
import type { AttemptReport } from '../worker/attempt.js';
import type { Outcome } from '../worker/process.js';
import { RESULT_CLASSES, type ResultClass } from '../worker/result-class.js';
import { backlogOf, type BacklogSource, type PendingAgeSource } from './backlog.js';
import { registerLimitMetrics } from './limit-metrics.js';
import { providerKindOf } from './provider-kind.js';
import { selectProducerLagSeconds } from './sql.js';

/** Provider kinds as metric labels: a channel's name, bounded (anything else is `other`). */
export { PROVIDER_KINDS, type ProviderKind, providerKindOf } from './provider-kind.js';

/**
 * email or sms, from what the report says: the single-kind providers name it, otherwise the
 * (masked) recipient's shape does (an email address keeps its `@`, a phone number has none).
 */
export function channelOf(report: AttemptReport): 'email' | 'sms' | 'unknown' {
  const kind = report.providerKind;
  if (kind === 'smtp' || kind === 'http-email') return 'email';
  if (kind === 'sns' || kind === 'twilio' || kind === 'http-sms') return 'sms';
  if (report.recipient === undefined) return 'unknown';
  return report.recipient.includes('@') ? 'email' : 'sms';
}

/** The result class as a label (the bounded set of result-class.ts). */
function classLabel(c: ResultClass): ResultClass {
  return RESULT_CLASSES.includes(c) ? c : 'failed';
}

/** Event-time latency buckets: 50 ms (an OTP mailed at once) to 1 h (far past any MaxTtl). */
export const DELIVERY_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Attempt numbers (MaxAttempts is 3 by default; River's max_attempts up to 25). */
export const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 25];

/** Job states reported as queue depth (BullMQ's names). */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children'] as const;

export interface Metrics {
  readonly registry: Registry;
  /** The worker's onOutcome hook: sends, attempt duration, latencies, results, attempts used. */
  observeOutcome(outcome: Outcome, job: Job<NotificationJobData>, durationMs: number): void;
  /** The River worker's onOutcome hook: the same figures for River mode. */
  observeRiverOutcome(outcome: RiverOutcome, job: Job<RiverJobData>, durationMs: number): void;
  /**
   * The tenants' figures (#15), registered here so that every name the alert rules use
   * exists: open circuit breakers in this process, and provider throttling answers.
   */
  /** Resolves when every latency lookup started so far has been recorded (tests, shutdown). */
  settled(): Promise<void>;
  /**
   * Adds a source of requests (e.g. River) to `herald_backlog`. Only where the producer
   * runs; elsewhere the gauge is not reported and this does nothing.
   */
  addBacklogSource(source: BacklogSource): void;
}

export interface MetricsDeps {
  readonly queues: Queues;
  readonly pool: Pool;
  /** Report producer lag and the backlog (only where the producer role runs). */
  readonly producer: boolean;
  /** Sources of requests counted in herald_backlog (with `producer`). */
  readonly backlog?: readonly BacklogSource[];
  /** Sources of requests whose oldest pending one herald_oldest_pending_seconds reports (with `producer`). */
  readonly pendingAge?: readonly PendingAgeSource[];
  readonly logger: Logger;
  /** The tenant limits' counters (breakers, throttles, flood guard, deferrals). */
  readonly limits?: LimitsStats;
}

export function makeMetrics(deps: MetricsDeps): Metrics {
  const { queues, pool, logger } = deps;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'herald_queue_jobs',
    help: 'Jobs in each herald queue by state (every replica reports the same value: use max)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of [queues.requests, queues.retries]) {
        try {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch (err) {
          // Redis away: leave the series out rather than fail the whole scrape (/readyz says why).
          logger.debug({ err, queue: queue.name }, 'queue depth unavailable');
        }
      }
    },
  });

  const sends = new Counter({
    name: 'herald_sends_total',
    help: 'Send attempts by channel, message type and outcome (sent, retry, canceled)',
    labelNames: ['channel', 'message_type', 'outcome'] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'herald_job_outcomes_total',
    help: 'Processed jobs by queue and outcome (including not-due, finished, missing)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'Duration of one job attempt (gather, render, send, write-back) by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'herald_request_to_delivery_seconds',
    help: "From the notification.requested event's created_at to notification.sent written",
    labelNames: ['channel', 'message_type'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });

  if (deps.limits) registerLimitMetrics(registry, deps.limits);
  const eventLatency = new Histogram({
    name: 'herald_delivery_latency_seconds',
    help: "From the ZITADEL event's created_at (the request) to the provider's acceptance, by channel (email, sms), provider kind and OTP",
    labelNames: ['channel', 'provider_kind', 'otp'] as const,
    buckets: DELIVERY_LATENCY_BUCKETS,
    registers: [registry],
  });
  const providerResults = new Counter({
    name: 'herald_provider_results_total',
    help: 'Attempts by provider kind and result class (accepted, throttled, breaker-open, rejected, timeout, unreachable, refused, failed, not-sent)',
    labelNames: ['provider_kind', 'class'] as const,
    registers: [registry],
  });
  const attemptsUsed = new Histogram({
    name: 'herald_attempts_used',
    help: 'The attempt number a notification ended with, by outcome (sent, canceled)',
    labelNames: ['outcome'] as const,
    buckets: ATTEMPT_BUCKETS,
    registers: [registry],
  });

  /** What every attempt report says: the result class, and the latency of an accepted one. */
  const observeReport = (report: AttemptReport): void => {
    const providerKind = providerKindOf(report.providerKind);
    providerResults.inc({ provider_kind: providerKind, class: classLabel(report.resultClass) });
    if (report.resultClass !== 'accepted') return;
    eventLatency.observe(
      { channel: channelOf(report), provider_kind: providerKind, otp: String(report.otp) },
      Math.max(0, report.finishedAt - report.requestedAt) / 1000,
    );
  };

  const backlogSources: BacklogSource[] = [...(deps.backlog ?? [])];
  if (deps.producer) {
    new Gauge({
      name: 'herald_backlog',
      help: 'Notifications ready to send and not started: unfinished at the sources minus live jobs, plus waiting jobs (scale workers on this; every producer replica reports the same value: use max)',
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const [unfinished, counts] = await Promise.all([
            Promise.all(backlogSources.map((s) => s.unfinished())),
            Promise.all([
              ...[queues.requests, queues.retries].map((q) => q.getJobCounts(...QUEUE_STATES)),
              ...backlogSources.flatMap((s) => (s.jobs ? [s.jobs()] : [])),
            ]),
          ]);
          const jobs: Record<string, number> = {};
          for (const c of counts) for (const [state, n] of Object.entries(c)) jobs[state] = (jobs[state] ?? 0) + (n ?? 0);
          this.set(
            backlogOf(
              unfinished.reduce((a, b) => a + b, 0),
              jobs,
            ),
          );
        } catch (err) {
          // Absent rather than wrong: a scaler keeps its replicas while the figure is missing.
          logger.debug({ err, sources: backlogSources.map((s) => s.name) }, 'backlog unavailable');
        }
      },
    });
    new Gauge({
      name: 'herald_oldest_pending_seconds',
      help: 'Age of the oldest request not finished yet, by source (events: notification.requested/retry.requested inside MaxTtl; river: available, retryable or running rows); 0 when none (every producer replica reports the same value: use max)',
      labelNames: ['source'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          (deps.pendingAge ?? []).map(async (s) => {
            try {
              this.set({ source: s.label }, (await s.oldestPendingSeconds()) ?? 0);
            } catch (err) {
              // Absent rather than wrong (the alert on it then stays quiet; /readyz says why).
              logger.debug({ err, source: s.label }, 'oldest pending age unavailable');
            }
          }),
        );
      },
    });
    new Gauge({
      name: 'herald_producer_lag_seconds',
      help: "Position of the newest notification.requested event minus the producer's checkpoint (0 = caught up)",
      // Labelled so that the series is absent (not 0) until the producer wrote a checkpoint.
      labelNames: ['tail'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const lag = await selectProducerLagSeconds(pool);
          if (lag !== undefined) this.set({ tail: 'requests' }, lag);
        } catch (err) {
          logger.debug({ err }, 'producer lag unavailable');
        }
      },
    });
  }

  return {
    registry,
    observeOutcome(outcome, job, durationMs) {
      jobs.inc({ queue: job.queueName, outcome: outcome.kind });
      attemptDuration.observe({ outcome: outcome.kind }, durationMs / 1000);
      // Outcomes of a send (sent, retry, throttled, canceled) name their channel.
      if (!('channel' in outcome)) return;
      observeReport(outcome.report);
      if (outcome.kind === 'sent' || outcome.kind === 'canceled') attemptsUsed.observe({ outcome: outcome.kind }, outcome.attempt);
      const labels = { channel: outcome.channel, message_type: outcome.messageType };
      sends.inc({ ...labels, outcome: outcome.kind });
      if (outcome.kind !== 'sent') return;
      // From the request's created_at (the report carries it: no lookup) to the write-back.
      deliveryLatency.observe(labels, Math.max(0, Date.now() - outcome.report.requestedAt) / 1000);
    },
    observeRiverOutcome(outcome, job, durationMs) {
      jobs.inc({ queue: job.queueName, outcome: outcome.kind });
      attemptDuration.observe({ outcome: outcome.kind }, durationMs / 1000);
      if (!('report' in outcome) || outcome.report === undefined) return;
      observeReport(outcome.report);
      // River's discarded (attempts used up) is ZITADEL's canceled.
      const ended = outcome.kind === 'sent' ? 'sent' : outcome.kind === 'cancelled' || outcome.kind === 'discarded' ? 'canceled' : undefined;
      if (ended) attemptsUsed.observe({ outcome: ended }, job.data.attempt);
    },
    async settled() {
      // Every figure is recorded synchronously now (the request time comes with the report).
    },
    addBacklogSource(source) {
      backlogSources.push(source);
    },
  };
}

/**
 * Wiring: builds the parts a set of roles needs, in order, registering each cleanup as it
 * is acquired (released LIFO on stop). Workers start consuming only once everything they
 * depend on is ready (autorun: false, then run()).
 */
import { createHash } from 'node:crypto';

import type { Worker } from 'bullmq';

import { type InstanceChannels, makeInstanceChannels } from './channels/instance-channels.js';
import { type DefaultChannels, makeDefaultChannels } from './channels/registry.js';
import type { Config } from './config/types.js';
import { makeKeyring } from './crypto/keyring.js';
import { makePushBatcher } from './eventstore/batch.js';
import { makePool } from './eventstore/pool.js';
import {
  eventHistoryListener,
  type HistoryWriter,
  makeHistoryCleanup,
  makeHistoryWriter,
  pendingFromEvents,
  pendingFromRiverJobs,
  riverHistoryListener,
} from './history/index.js';
import { makeInstanceSettings } from './instance/settings.js';
import { makeReleasers } from './lifecycle.js';
import { type Limits, makeLimits } from './limits/guard.js';
import type { Logger } from './logger.js';
import { type EgressPolicy, egressPolicyOf } from './net/egress.js';
import { eventstoreBacklog, type PendingAgeSource, riverBacklog, riverPendingAge } from './ops/backlog.js';
import { makeReadinessProbe } from './ops/health.js';
import { makeMetrics, type Metrics, QUEUE_STATES } from './ops/metrics.js';
import { makeOutcomeLog } from './ops/outcome-log.js';
import { type OpsServer, startOpsServer } from './ops/server.js';
import { startTracing } from './ops/tracing.js';
import { onEnqueued } from './producer/enqueue.js';
import { makeProducer, type Producer } from './producer/producer.js';
import { bullPrefix, makeRedis, redisSettings } from './queue/connection.js';
import { QUEUE } from './queue/names.js';
import { makeQueues, type Queues } from './queue/queues.js';
import { makeRiverProducer, type RiverProducer } from './river/producer.js';
import { makeRiverQueue, type RiverQueue } from './river/queue.js';
import { riverTablesPresent } from './river/schema.js';
import { makeRiverWorker, type RiverOutcomeListener } from './river/worker.js';
import { VERSION } from './version.js';
import { closeWorkers } from './worker/close.js';
import type { Outcome } from './worker/process.js';
import { makeWorkerReads } from './worker/reads.js';
import { makeNotificationWorker, type OutcomeListener } from './worker/worker.js';

/** How stale cached instance settings (custom texts included) may get. */
const SETTINGS_CHECK_MS = 1000;

export const ROLES = ['producer', 'worker', 'retry-worker', 'dashboard', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface Herald {
  readonly queues: Queues;
  readonly producer: Producer | undefined;
  /** River mode (HERALD_SOURCE includes river): its BullMQ queue and producer. */
  readonly river: { readonly queue: RiverQueue; readonly producer: RiverProducer | undefined } | undefined;
  readonly workers: readonly Worker<never, Outcome>[] | readonly Worker[];
  /** The ops HTTP server (health, metrics, dashboard) when StartOptions.http asked for it. */
  readonly http: OpsServer | undefined;
  readonly metrics: Metrics | undefined;
  /** The delivery history's writer (undefined when HERALD_HISTORY_RETENTION is 0). */
  readonly history: HistoryWriter | undefined;
  /** Stops taking work, lets in-flight jobs finish within the grace period, closes everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** false: the producer's timers are not started (tests call its passes directly). */
  readonly producerLoops?: boolean;
  readonly onOutcome?: OutcomeListener;
  readonly onRiverOutcome?: RiverOutcomeListener;
  /**
   * Serve /healthz, /readyz, /metrics (and /dashboard in the dashboard and all roles) on
   * cfg.http.port. The CLI always does; in-process tests opt in (with port 0).
   */
  readonly http?: { readonly host?: string };
  /** How often cached instance settings are checked against the eventstore. @defaultValue 1000 (tests: 0, every job) */
  readonly settingsCheckMs?: number;
  /** How the channels are built (tests point them at local endpoints). @defaultValue the real ones */
  readonly channels?: ChannelFactories;
  /** Circuit breaker threshold and cool-down (tests shorten them). @defaultValue 5 failures, 30 s */
  readonly breaker?: { readonly threshold?: number; readonly coolDownMs?: number };
}

/** Builds the deployment's default channels and the pools of the instances' own providers. */
export interface ChannelFactories {
  readonly defaults?: (cfg: Config, logger: Logger) => DefaultChannels;
  /** `egress` is the operator's egress rule (HERALD_EGRESS_ALLOW) for tenant providers. */
  readonly instance?: (logger: Logger, egress: EgressPolicy) => InstanceChannels;
}

/** `all` (the default) is every role, the dashboard included. */
export function expand(roles: readonly Role[]): Set<Role> {
  const set = new Set(roles.length === 0 ? (['all'] as Role[]) : roles);
  if (set.has('all')) {
    set.delete('all');
    for (const r of ['producer', 'worker', 'retry-worker', 'dashboard'] as const) set.add(r);
  }
  return set;
}

/** How the dashboard is served, for the start log. */
function dashboardAccess(dashboard: Config['dashboard']): string {
  return dashboard.user !== undefined && dashboard.password !== undefined
    ? 'basic auth'
    : 'loopback clients only (no HERALD_DASHBOARD_USER/PASSWORD)';
}

export async function startHerald(cfg: Config, roles: readonly Role[], rootLogger: Logger, opts: StartOptions = {}): Promise<Herald> {
  const active = expand(roles);
  const logger = rootLogger.child({ roles: [...active] });
  // Each role logs through its own child (role, then component/queue/jobId below it).
  const roleLogger = (role: Role | 'ops'): Logger => rootLogger.child({ role });
  const releasers = makeReleasers((name, err) => logger.error({ err, resource: name }, 'error while closing'));
  const n = cfg.notifications;
  try {
    // First acquired, last released: the spans of the last jobs are flushed after the workers.
    // undefined (and no SDK loaded) unless an OTLP endpoint is configured.
    const tracing = await startTracing(cfg.tracing, VERSION, logger);
    if (tracing) releasers.add('tracing', () => tracing.shutdown());
    const pool = makePool(cfg.databaseUrl, { applicationName: 'herald', logger, max: Math.max(10, n.workers + n.retryWorkers + 4) });
    releasers.add('postgres', () => pool.end());
    // The delivery history: written after the workers stop (released LIFO), before the pool ends.
    const history = cfg.historyRetentionMs > 0 ? makeHistoryWriter({ pool, logger }) : undefined;
    if (history) releasers.add('history', () => history.close());
    const record = history ? (entry: Parameters<HistoryWriter['record']>[0]) => history.record(entry) : undefined;

    const redis = redisSettings(cfg);
    const prefix = bullPrefix(cfg.queuePrefix, cfg.redisMode);
    const queueConnection = makeRedis(redis, 'producer', logger);
    releasers.add('redis (queues)', () => queueConnection.quit());
    const queues = makeQueues({ connection: queueConnection, prefix, notifications: n, keepJobs: cfg.keepJobs, logger });
    releasers.add('queues', () => queues.close());
    // Tenant limits (issue #15): rate lanes, breakers, flood guard, per-instance concurrency.
    const limits: Limits = makeLimits({
      redis: queueConnection,
      prefix,
      cfg: cfg.limits,
      secret: limitsSecret(cfg),
      logger,
      ...(opts.breaker ? { breaker: opts.breaker } : {}),
    });

    // Opened before the workers and closed after them: /readyz says "shutting down" while
    // in-flight jobs drain, and the metrics of those last jobs can still be scraped.
    let started = false;
    const workers: Worker[] = [];
    const readiness = makeReadinessProbe({ pool, redis: queueConnection, workers: () => (started ? workers : undefined), logger: roleLogger('ops') });
    let metrics: Metrics | undefined;
    let http: OpsServer | undefined;
    if (opts.http) {
      const events = eventstoreBacklog(pool, n.maxTtlMs);
      const pendingAge: PendingAgeSource[] = [...(cfg.source.events ? [events] : []), ...(cfg.source.river ? [riverPendingAge(pool)] : [])];
      const m = makeMetrics({
        queues,
        pool,
        producer: active.has('producer'),
        backlog: [events],
        pendingAge,
        logger: roleLogger('ops'),
        limits: limits.stats,
      });
      metrics = m;
      http = await startOpsServer({
        port: cfg.http.port,
        ...(opts.http.host === undefined ? {} : { host: opts.http.host }),
        logger: roleLogger(active.size === 1 && active.has('dashboard') ? 'dashboard' : 'ops'),
        registry: m.registry,
        readiness,
        ...(active.has('dashboard') ? { dashboard: { queues, ...cfg.dashboard, history: { pool } } } : {}),
      });
      const server = http;
      releasers.add('http', async () => {
        await server.close();
        await m.settled();
      });
    }
    // One info line per outcome (ops/outcome-log.ts), the metrics, the history, then the caller's listener.
    const outcomeLog = makeOutcomeLog(roleLogger('worker'));
    const onOutcome = combineListeners(
      tracing?.onOutcome,
      metrics?.observeOutcome,
      outcomeLog.event,
      record ? eventHistoryListener(record) : undefined,
      opts.onOutcome,
    );
    const onRiverOutcome = combineListeners(
      tracing?.onRiverOutcome,
      metrics?.observeRiverOutcome,
      outcomeLog.river,
      record ? riverHistoryListener(record) : undefined,
      opts.onRiverOutcome,
    );
    const telemetry = tracing ? { telemetry: tracing.telemetry } : {};

    const pools = [
      { role: 'worker' as const, queue: QUEUE.requests, concurrency: n.workers },
      { role: 'retry-worker' as const, queue: QUEUE.retries, concurrency: n.retryWorkers },
    ].filter((p) => cfg.source.events && active.has(p.role) && p.concurrency > 0);
    const riverWorking = cfg.source.river && active.has('worker') && n.workers > 0;
    let river: { queue: RiverQueue; producer: RiverProducer | undefined } | undefined;
    if (cfg.source.river) {
      if ((active.has('producer') || riverWorking) && !(await riverTablesPresent(pool))) {
        throw new Error(
          "HERALD_SOURCE=river: River's tables (queue.river_job, queue.river_queue) are absent; is this the database of a ZITADEL v2.71 or later?",
        );
      }
      const riverQueue = makeRiverQueue({ connection: queueConnection, prefix, logger });
      releasers.add('river queue', () => riverQueue.close());
      river = { queue: riverQueue, producer: undefined };
      // herald_backlog: River's ready and claimed rows, and the River queue's jobs (ops/backlog.ts).
      metrics?.addBacklogSource(riverBacklog(pool, () => riverQueue.getJobCounts(...QUEUE_STATES)));
    }

    if (pools.length > 0 || riverWorking) {
      const keyring = makeKeyring(cfg.crypto, pool, logger.child({ component: 'crypto' }));
      await keyring.load();
      const defaults = limits.guardDefaults((opts.channels?.defaults ?? makeDefaultChannels)(cfg, logger));
      releasers.add('channels', () => defaults.close());
      // With tracing, each send runs in a `herald.send` span.
      const channels = tracing
        ? { email: defaults.email && tracing.channel(defaults.email), sms: defaults.sms && tracing.channel(defaults.sms) }
        : defaults;
      // Per-instance settings and providers from the eventstore; closed before the defaults.
      // Settings (custom texts included) are re-checked against the eventstore at most once
      // a second per instance and org (not on every job): console changes apply within 1 s.
      const settings = makeInstanceSettings({ pool, keyring, logger, versionTtlMs: opts.settingsCheckMs ?? SETTINGS_CHECK_MS });
      const instanceChannels = limits.guardInstanceChannels(
        (opts.channels?.instance ?? ((l: Logger, egress: EgressPolicy) => makeInstanceChannels({ logger: l, egress })))(
          logger,
          egressPolicyOf(cfg.egressAllow),
        ),
      );
      const instance = {
        settings: tracing ? tracing.settings(settings) : settings,
        channels: tracing ? tracing.instanceChannels(instanceChannels) : instanceChannels,
      };
      releasers.add('instance channels', () => instance.channels.close());
      const batcher = makePushBatcher(pool);
      const writer = tracing ? tracing.writer(batcher) : batcher;
      // The aggregate and user reads of concurrent jobs go as one query per batch.
      const reads = makeWorkerReads(pool);
      const workerConnection = makeRedis(redis, 'worker', logger);
      releasers.add('redis (workers)', () => workerConnection.quit());
      for (const p of pools) {
        const worker = makeNotificationWorker({
          queue: p.queue,
          concurrency: p.concurrency,
          connection: workerConnection,
          prefix,
          deps: { pool, keyring, channels, cfg: n, logger: roleLogger(p.role), instance, writer, reads, now: Date.now },
          ...(onOutcome ? { onOutcome } : {}),
          limits,
          ...telemetry,
        });
        workers.push(worker);
      }
      if (riverWorking) {
        const worker = makeRiverWorker({
          concurrency: n.workers,
          connection: workerConnection,
          prefix,
          deps: {
            pool,
            keyring,
            channels,
            cfg: n,
            source: cfg.source,
            logger: roleLogger('worker'),
            instance,
            redis: queueConnection,
            lockPrefix: prefix,
          },
          ...(onRiverOutcome ? { onOutcome: onRiverOutcome } : {}),
          limits,
          ...telemetry,
        });
        workers.push(worker as unknown as Worker);
      }
    }

    if (river && active.has('producer')) {
      const p = makeRiverProducer({
        pool,
        queue: river.queue,
        clientId: riverClientId(cfg),
        logger: roleLogger('producer'),
        bulkLimit: n.bulkLimit,
        // A twin is worked within MaxTtl of its creation: keep the answers twice as long.
        answeredKeepMs: 2 * n.maxTtlMs,
        ...(history ? { onClaimed: (jobs) => history.pending(pendingFromRiverJobs(jobs)) } : {}),
      });
      river.producer = p;
      releasers.add('river producer', () => p.stop());
    }

    let producer: Producer | undefined;
    if (cfg.source.events && active.has('producer')) {
      producer = makeProducer({ pool, queues, cfg: n, logger: roleLogger('producer') });
      const p = producer;
      releasers.add('producer', () => p.stop());
      if (history) onEnqueued(queues, (offers) => history.pending(pendingFromEvents(offers)));
    }
    if (history && active.has('producer')) {
      const cleanup = makeHistoryCleanup({ pool, retentionMs: cfg.historyRetentionMs, logger: roleLogger('producer') });
      cleanup.start();
      releasers.add('history cleanup', () => cleanup.stop());
    }

    // Everything is ready: start consuming and producing.
    for (const w of workers) {
      w.run().catch((err: unknown) => logger.error({ err }, 'worker stopped with an error'));
    }
    releasers.add('workers', () => closeWorkers(workers, cfg.shutdownGraceMs, logger));
    if (producer && opts.producerLoops !== false) producer.start();
    if (river?.producer && opts.producerLoops !== false) await river.producer.start();
    started = true;
    const dashboard = http && active.has('dashboard') ? { dashboard: `/dashboard: ${dashboardAccess(cfg.dashboard)}` } : {};
    logger.info({ workers: n.workers, retryWorkers: n.retryWorkers, httpPort: http?.port, ...dashboard }, 'herald started');

    let stopping: Promise<void> | undefined;
    return {
      queues,
      producer,
      river,
      workers,
      http,
      metrics,
      history,
      stop() {
        readiness.drain();
        stopping ??= releasers.releaseAll();
        return stopping;
      },
    };
  } catch (err) {
    await releasers.releaseAll().catch(() => undefined);
    throw err;
  }
}

/**
 * Keys the flood guard's HMAC of recipients: derived from the deployment's key material, so
 * every replica computes the same keys and Redis never holds an address or a guessable hash.
 */
function limitsSecret(cfg: Config): string {
  const material = cfg.crypto.masterkey ?? JSON.stringify(cfg.crypto.keys ?? {});
  return createHash('sha256').update(`herald flood guard\u0000${cfg.queuePrefix}\u0000${material}`).digest('hex');
}

/** herald's stable River client id (last in attempted_by of the rows it claimed): one per deployment. */
export function riverClientId(cfg: Pick<Config, 'queuePrefix'>): string {
  return `herald@${cfg.queuePrefix}`;
}

function combineListeners<O, J>(...listeners: (((outcome: O, job: J, durationMs: number) => void) | undefined)[]) {
  const present = listeners.filter((l) => l !== undefined);
  if (present.length === 0) return undefined;
  return (outcome: O, job: J, durationMs: number): void => {
    for (const l of present) l(outcome, job, durationMs);
  };
}

/**
 * Wiring: builds the parts a set of roles needs, in order, registering each cleanup as it
 * is acquired (released LIFO on stop). Workers start consuming only once everything they
 * depend on is ready (autorun: false, then run()).
 */
import type { Worker } from 'bullmq';

import { makeDefaultChannels } from './channels/registry.js';
import type { Config } from './config/types.js';
import { makeKeyring } from './crypto/keyring.js';
import { makePool } from './eventstore/pool.js';
import { makeReleasers } from './lifecycle.js';
import type { Logger } from './logger.js';
import { makeProducer, type Producer } from './producer/producer.js';
import { makeRedis } from './queue/connection.js';
import { QUEUE } from './queue/names.js';
import { makeQueues, type Queues } from './queue/queues.js';
import type { Outcome } from './worker/process.js';
import { makeNotificationWorker, type OutcomeListener } from './worker/worker.js';

export const ROLES = ['producer', 'worker', 'retry-worker', 'dashboard', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface Herald {
  readonly queues: Queues;
  readonly producer: Producer | undefined;
  readonly workers: readonly Worker<never, Outcome>[] | readonly Worker[];
  /** Stops taking work, lets in-flight jobs finish within the grace period, closes everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** false: the producer's timers are not started (tests call its passes directly). */
  readonly producerLoops?: boolean;
  readonly onOutcome?: OutcomeListener;
}

function expand(roles: readonly Role[]): Set<Role> {
  const set = new Set(roles.length === 0 ? (['all'] as Role[]) : roles);
  if (set.has('all')) return new Set<Role>(['producer', 'worker', 'retry-worker']);
  return set;
}

export async function startHerald(
  cfg: Config,
  roles: readonly Role[],
  rootLogger: Logger,
  opts: StartOptions = {},
): Promise<Herald> {
  const active = expand(roles);
  const logger = rootLogger.child({ roles: [...active] });
  const releasers = makeReleasers((name, err) => logger.error({ err, resource: name }, 'error while closing'));
  const n = cfg.notifications;
  try {
    const pool = makePool(cfg.databaseUrl, { applicationName: 'herald', logger, max: Math.max(10, n.workers + n.retryWorkers + 4) });
    releasers.add('postgres', () => pool.end());

    const queueConnection = makeRedis(cfg.redisUrl, 'producer', logger);
    releasers.add('redis (queues)', () => queueConnection.quit());
    const queues = makeQueues({ connection: queueConnection, prefix: cfg.queuePrefix, notifications: n, logger });
    releasers.add('queues', () => queues.close());

    const workers: Worker[] = [];
    const pools = [
      { role: 'worker' as const, queue: QUEUE.requests, concurrency: n.workers },
      { role: 'retry-worker' as const, queue: QUEUE.retries, concurrency: n.retryWorkers },
    ].filter((p) => active.has(p.role) && p.concurrency > 0);

    if (pools.length > 0) {
      const keyring = makeKeyring(cfg.crypto, pool, logger.child({ component: 'crypto' }));
      await keyring.load();
      const channels = makeDefaultChannels(cfg, logger);
      releasers.add('channels', () => channels.close());
      const workerConnection = makeRedis(cfg.redisUrl, 'worker', logger);
      releasers.add('redis (workers)', () => workerConnection.quit());
      for (const p of pools) {
        const worker = makeNotificationWorker({
          queue: p.queue,
          concurrency: p.concurrency,
          connection: workerConnection,
          prefix: cfg.queuePrefix,
          deps: { pool, keyring, channels, cfg: n, logger },
          ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
        });
        workers.push(worker);
      }
    }

    let producer: Producer | undefined;
    if (active.has('producer')) {
      producer = makeProducer({ pool, queues, cfg: n, logger });
      const p = producer;
      releasers.add('producer', () => p.stop());
    }

    // Everything is ready: start consuming and producing.
    for (const w of workers) {
      w.run().catch((err: unknown) => logger.error({ err }, 'worker stopped with an error'));
    }
    releasers.add('workers', () => closeWorkers(workers, cfg.shutdownGraceMs, logger));
    if (producer && opts.producerLoops !== false) producer.start();
    logger.info({ workers: n.workers, retryWorkers: n.retryWorkers }, 'herald started');

    let stopping: Promise<void> | undefined;
    return {
      queues,
      producer,
      workers,
      stop() {
        stopping ??= releasers.releaseAll();
        return stopping;
      },
    };
  } catch (err) {
    await releasers.releaseAll().catch(() => undefined);
    throw err;
  }
}

/** Let in-flight jobs finish; past the grace period, force-close (their locks lapse and other replicas take them). */
async function closeWorkers(workers: readonly Worker[], graceMs: number, logger: Logger): Promise<void> {
  if (workers.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const graceful = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const result = await Promise.race([graceful, deadline]);
  if (timer) clearTimeout(timer);
  if (result === 'timeout') {
    logger.warn({ graceMs }, 'grace period over; releasing in-flight jobs to other replicas');
    await Promise.all(workers.map((w) => w.close(true)));
  }
}

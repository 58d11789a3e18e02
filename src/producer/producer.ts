/**
 * The producer: tails notification events into BullMQ.
 * - requests tail, every RequeueEvery: notification.requested → request queue;
 * - retries tail, every RetryRequeueEvery: foreign notification.retry.requested → retry queue
 *   (delayed until created_at + backOff);
 * - sweep, every SWEEP_EVERY: the whole MaxTtl window, unguarded, repairing lost jobs.
 * Each tail reads batches of BulkLimit while a batch is full.
 */
import type { Pool } from 'pg';

import type { NotificationsConfig } from '../config/types.js';
import { NotificationEvent } from '../eventstore/notification-types.js';
import type { Logger } from '../logger.js';
import type { Queues } from '../queue/queues.js';
import { enqueuePending } from './enqueue.js';
import { type Cursor, loadCheckpoint, saveCheckpoint, selectPending, START } from './sql.js';

/** Page size of the sweep (it reads the whole window, so BulkLimit would be too small). */
export const SWEEP_PAGE = 1000;

export interface Producer {
  start(): void;
  stop(): Promise<void>;
  /** One pass of the requests tail; resolves to the number of jobs offered. */
  tickRequests(): Promise<number>;
  /** One pass of the retries tail. */
  tickRetries(): Promise<number>;
  /** One pass over the whole window (also `herald reconcile`). */
  sweep(): Promise<number>;
}

const TAILS = {
  requests: { eventType: NotificationEvent.requested, checkpoint: 'producer.requests' },
  retries: { eventType: NotificationEvent.retryRequested, checkpoint: 'producer.retries' },
} as const;

export function sweepEveryMs(cfg: Pick<NotificationsConfig, 'requeueEveryMs'>): number {
  return Math.max(10 * cfg.requeueEveryMs, 30_000);
}

export function makeProducer(deps: {
  pool: Pool;
  queues: Queues;
  cfg: NotificationsConfig;
  logger: Logger;
}): Producer {
  const { pool, queues, cfg } = deps;
  const logger = deps.logger.child({ component: 'producer' });

  async function tail(kind: keyof typeof TAILS): Promise<number> {
    const { eventType, checkpoint } = TAILS[kind];
    let cursor: Cursor = (await loadCheckpoint(pool, checkpoint)) ?? START;
    let offered = 0;
    for (;;) {
      const batch = await selectPending(pool, {
        eventType,
        after: cursor,
        guarded: true,
        windowMs: cfg.maxTtlMs,
        activeInstancesMs: cfg.handleActiveInstancesMs,
        limit: cfg.bulkLimit,
      });
      const last = batch.at(-1);
      if (!last) break;
      offered += await enqueuePending(queues, batch, { repair: false });
      cursor = { position: last.position, inTxOrder: last.inTxOrder };
      await saveCheckpoint(pool, checkpoint, cursor);
      if (batch.length < cfg.bulkLimit) break;
    }
    if (offered > 0) logger.debug({ kind, offered }, 'enqueued pending notifications');
    return offered;
  }

  async function sweep(): Promise<number> {
    let offered = 0;
    for (const { eventType } of Object.values(TAILS)) {
      let cursor: Cursor = START;
      for (;;) {
        const batch = await selectPending(pool, {
          eventType,
          after: cursor,
          guarded: false,
          windowMs: cfg.maxTtlMs,
          activeInstancesMs: cfg.handleActiveInstancesMs,
          limit: SWEEP_PAGE,
        });
        const last = batch.at(-1);
        if (!last) break;
        offered += await enqueuePending(queues, batch, { repair: true });
        cursor = { position: last.position, inTxOrder: last.inTxOrder };
        if (batch.length < SWEEP_PAGE) break;
      }
    }
    logger.debug({ offered }, 'sweep done');
    return offered;
  }

  const loops: { stop(): Promise<void> }[] = [];

  function every(name: string, intervalMs: number, fn: () => Promise<unknown>): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    let stopped = false;
    const run = (): void => {
      running = fn()
        .catch((err: unknown) => logger.warn({ err, loop: name }, 'producer pass failed; retrying next interval'))
        .finally(() => {
          if (!stopped) timer = setTimeout(run, intervalMs);
        });
    };
    run();
    return {
      async stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        await running;
      },
    };
  }

  let stopping: Promise<void> | undefined;
  return {
    start() {
      if (loops.length > 0) return;
      loops.push(every('requests', cfg.requeueEveryMs, () => tail('requests')));
      loops.push(every('retries', cfg.retryRequeueEveryMs, () => tail('retries')));
      loops.push(every('sweep', sweepEveryMs(cfg), sweep));
    },
    stop() {
      stopping ??= Promise.all(loops.map((l) => l.stop())).then(() => undefined);
      return stopping;
    },
    tickRequests: () => tail('requests'),
    tickRetries: () => tail('retries'),
    sweep,
  };
}

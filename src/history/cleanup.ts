/**
 * Retention (HERALD_HISTORY_RETENTION): rows not changed for longer than the retention are
 * deleted in batches (index deliveries_updated), at most `maxBatches` × `batch` rows a run, a
 * run every 10 minutes in producer processes. Several producers may run it at once: deleting
 * a row twice is a no-op.
 */
import type { Pool } from 'pg';

import type { Logger } from '../logger.js';
import { deleteExpired } from './sql.js';

export const CLEANUP_EVERY_MS = 10 * 60_000;
const FIRST_RUN_MS = 30_000;

export interface CleanupOptions {
  /** Rows per DELETE. @defaultValue 1000 */
  readonly batch?: number;
  /** DELETEs per run. @defaultValue 20 */
  readonly maxBatches?: number;
}

/** One bounded run; resolves to the rows deleted. */
export async function cleanupHistory(pool: Pool, retentionMs: number, opts: CleanupOptions = {}): Promise<number> {
  if (retentionMs <= 0) return 0;
  const batch = opts.batch ?? 1000;
  const maxBatches = opts.maxBatches ?? 20;
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await deleteExpired(pool, retentionMs, batch);
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}

export interface HistoryCleanup {
  start(): void;
  stop(): Promise<void>;
}

export function makeHistoryCleanup(opts: { pool: Pool; retentionMs: number; logger: Logger; everyMs?: number; firstMs?: number }): HistoryCleanup {
  const logger = opts.logger.child({ component: 'history-cleanup' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  function run(): void {
    running = cleanupHistory(opts.pool, opts.retentionMs)
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted }, 'delivery history: expired rows deleted');
      })
      .catch((err: unknown) => logger.warn({ err }, 'delivery history cleanup failed; next run in 10 minutes'))
      .finally(() => {
        running = undefined;
        schedule(opts.everyMs ?? CLEANUP_EVERY_MS);
      });
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  }

  return {
    start() {
      if (opts.retentionMs > 0) schedule(opts.firstMs ?? FIRST_RUN_MS);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

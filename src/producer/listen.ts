/**
 * LISTEN/NOTIFY nudge: with `herald migrate --notify-trigger`, every notification request
 * or retry row notifies channel herald_notification at commit, and the producer runs a pass
 * at once instead of waiting for its next poll. Polling stays: nothing depends on a
 * notification arriving (the trigger may be absent, a connection may drop).
 */
import type { Pool, PoolClient } from 'pg';

import { NOTIFY_CHANNEL } from '../eventstore/migrations.js';
import type { Logger } from '../logger.js';

export interface Listener {
  close(): Promise<void>;
}

export function listenForRequests(
  pool: Pool,
  onNotify: () => void,
  logger: Logger,
  retryMs = 1000,
  /** River mode listens on `queue.river_insert` instead. */
  channel: string = NOTIFY_CHANNEL,
): Listener {
  let client: PoolClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let releaseCurrent: (() => void) | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    try {
      const c = await pool.connect();
      // The LISTEN connection is never handed back to the pool: released means destroyed,
      // so no other user inherits its listeners or its LISTEN.
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        c.release(true);
      };
      c.on('notification', () => onNotify());
      // Stays attached after release: a connection error after close() must not go unhandled.
      c.on('error', (err: Error) => {
        const active = client === c;
        if (active) client = undefined;
        release();
        if (closed || !active) return;
        logger.warn({ err: { message: err.message } }, 'LISTEN connection lost; polling continues, reconnecting');
        timer = setTimeout(() => void connect(), retryMs);
      });
      releaseCurrent = release;
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
      if (closed) {
        release();
        return;
      }
      client = c;
      onNotify(); // anything committed while we were not listening
    } catch (err) {
      logger.warn({ err }, 'LISTEN failed; polling continues, retrying');
      timer = setTimeout(() => void connect(), retryMs);
    }
  };
  void connect();

  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) releaseCurrent?.();
    },
  };
}

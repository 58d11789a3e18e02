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

export function listenForRequests(pool: Pool, onNotify: () => void, logger: Logger, retryMs = 1000): Listener {
  let client: PoolClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    try {
      const c = await pool.connect();
      c.on('notification', () => onNotify());
      c.on('error', (err: Error) => {
        logger.warn({ err }, 'LISTEN connection lost; polling continues, reconnecting');
        c.release(err);
        if (client === c) client = undefined;
        timer = setTimeout(() => void connect(), retryMs);
      });
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (closed) {
        c.release();
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
      if (c) {
        await c.query(`UNLISTEN ${NOTIFY_CHANNEL}`).catch(() => undefined);
        c.release();
      }
    },
  };
}

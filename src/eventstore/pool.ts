/**
 * Postgres pool and transaction helper (house style §8, §18): every pool has an error
 * listener, connections carry an application_name, and clients are released in finally.
 */
import pg from 'pg';

import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface PoolOptions {
  /** Shown in pg_stat_activity; push() overrides it per transaction with SET LOCAL. */
  readonly applicationName: string;
  /** @defaultValue 10 */
  readonly max?: number;
  /** @defaultValue 10 000 ms */
  readonly connectionTimeoutMillis?: number;
  readonly logger?: Logger;
}

const DEFAULT_MAX = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

export function makePool(url: string, opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: opts.applicationName,
    max: opts.max ?? DEFAULT_MAX,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MS,
  });
  // An idle client losing its connection emits here; without a listener Node would crash.
  // Log the message and code only: pg-pool hangs the whole client object on err.client.
  pool.on('error', (err: Error & { code?: unknown }) => {
    if (opts.logger) opts.logger.error({ err: { message: err.message, code: err.code } }, 'idle postgres client error');
    else process.emitWarning(coerceError(err).message);
  });
  return pool;
}

/**
 * Checks out a client that cannot crash the process: pg-pool removes its idle error
 * listener while a client is checked out, so a connection cut during use (Postgres
 * restarted) would emit an unhandled 'error'. The listener records it; release() then
 * destroys the client instead of returning it to the pool. `fn` may call markBroken() to
 * the same effect.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient, markBroken: (err: unknown) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (err: unknown): void => {
    broken ??= coerceError(err);
  };
  client.on('error', markBroken);
  try {
    return await fn(client, markBroken);
  } catch (err) {
    if (isConnectionLoss(err)) markBroken(err);
    throw err;
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}

function isConnectionLoss(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code.startsWith('ECONN'));
}

/**
 * Runs fn inside BEGIN/COMMIT on one client; ROLLBACK on any error (the original error is
 * rethrown; a failing ROLLBACK destroys the client instead of returning it to the pool).
 */
export function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, markBroken) => {
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(markBroken);
      throw err;
    }
  });
}

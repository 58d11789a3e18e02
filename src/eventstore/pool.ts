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
  pool.on('error', (err: Error) => {
    if (opts.logger) opts.logger.error({ err }, 'idle postgres client error');
    else process.emitWarning(coerceError(err));
  });
  return pool;
}

/**
 * Runs fn inside BEGIN/COMMIT on one client; ROLLBACK on any error (the original error is
 * rethrown, a failing ROLLBACK destroys the client instead of returning it to the pool).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = coerceError(rollbackErr);
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * One database per test file: created from scratch, dropped when the file is done,
 * so files run in parallel without sharing rows.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { PG_ADMIN_URL, pgUrl } from './env.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on the test database, ended by drop(). */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `herald_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = pgUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  let dropped = false;
  return {
    name,
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

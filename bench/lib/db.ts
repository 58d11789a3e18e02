/** One database per scenario on 127.0.0.1, migrated like `herald migrate`, dropped at the end. */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { migrate } from '../../src/eventstore/schema.js';
import { PG_ADMIN_URL, pgUrl } from '../../test/helpers/env.js';

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(opts: { notifyTrigger: boolean }): Promise<BenchDatabase> {
  const name = `herald_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = pgUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  pool.on('error', () => undefined);
  try {
    await migrate(pool, { notifyTrigger: opts.notifyTrigger });
  } catch (err) {
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    throw err;
  }
  let dropped = false;
  return {
    name,
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export async function serverVersion(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return rows[0]?.v ?? '?';
}

/** Count of notification events of one type (all instances, or one). */
export async function countEvents(pool: pg.Pool, eventType: string, instanceId?: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM eventstore.events2
      WHERE aggregate_type = 'notification' AND event_type = $1 AND ($2::text IS NULL OR instance_id = $2)`,
    [eventType, instanceId ?? null],
  );
  return Number(rows[0]?.n ?? 0);
}

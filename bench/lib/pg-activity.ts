/**
 * A poor man's Postgres profile: samples pg_stat_activity of the scenario's database every
 * 100 ms and counts what the active (and waiting) sessions run. The top entries say where
 * Postgres time goes without needing pg_stat_statements.
 */
import type pg from 'pg';

import { sleep } from './stats.js';

const SAMPLE_SQL = `
SELECT application_name AS app, COALESCE(wait_event_type, 'CPU') AS wait,
       regexp_replace(left(query, 200), '\\s+', ' ', 'g') AS query
  FROM pg_stat_activity
 WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`;

export interface ActivitySampler {
  /** Top entries as "share% app wait: query…". */
  stop(top?: number): Promise<string[]>;
}

export function sampleActivity(pool: pg.Pool, intervalMs = 100): ActivitySampler {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const { rows } = await pool.query<{ app: string; wait: string; query: string }>(SAMPLE_SQL);
        samples += 1;
        for (const r of rows) {
          const key = `${r.app} [${r.wait}] ${r.query.slice(0, 90)}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      } catch {
        // a failed sample is skipped
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop(top = 5) {
      stopped = true;
      await loop;
      return [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => `${(v / Math.max(1, samples)).toFixed(2)} active sessions avg: ${k}`);
    },
  };
}

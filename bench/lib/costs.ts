/**
 * Per-message costs over a window: CPU ms of herald's Postgres backends (from /proc, the
 * backends of this scenario's database that ever carried application_name `herald`), CPU ms
 * of the herald processes, and Redis commands (INFO commandstats delta). CPU time is robust
 * on a shared machine where wall-clock rates are not. Redis' counters are server-wide: other
 * users of the same Redis count too (the note says so).
 */
import { readFileSync } from 'node:fs';

import type pg from 'pg';

import { redisClient } from './redis.js';

const TICK_MS = 10;

function ticks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11] ?? 0) + Number(f[12] ?? 0);
  } catch {
    return undefined;
  }
}

async function redisCalls(): Promise<Map<string, number>> {
  const redis = redisClient();
  try {
    const info = await redis.info('commandstats');
    const out = new Map<string, number>();
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] ?? '?', Number(m[2]));
    return out;
  } finally {
    redis.disconnect();
  }
}

export interface Costs {
  readonly pgMsPerMsg: number;
  readonly heraldMsPerMsg: number;
  readonly redisCmdsPerMsg: number;
  /** The Redis commands that made up most of it, per message. */
  readonly topRedis: string;
}

export interface CostWindow {
  end(messages: number): Promise<Costs>;
}

export async function startCostWindow(pool: pg.Pool, database: string, heraldPids: readonly number[]): Promise<CostWindow> {
  /** backend pid → [ticks when first seen, latest ticks] */
  const backends = new Map<number, [number, number]>();
  const sample = async (): Promise<void> => {
    const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'herald%'`, [
      database,
    ]);
    for (const { pid } of rows) {
      const t = ticks(pid);
      if (t === undefined) continue;
      const seen = backends.get(pid);
      if (seen) seen[1] = t;
      else backends.set(pid, [t, t]);
    }
    // Backends seen before keep their latest ticks while they live.
    for (const [pid, seen] of backends) seen[1] = ticks(pid) ?? seen[1];
  };
  await sample();
  const heraldStart = heraldPids.map((p) => ticks(p) ?? 0);
  const redisStart = await redisCalls();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200));
      await sample().catch(() => undefined);
    }
  })();
  return {
    async end(messages) {
      stopped = true;
      await loop;
      await sample();
      const n = Math.max(1, messages);
      let pgTicks = 0;
      for (const [first, last] of backends.values()) pgTicks += last - first;
      const heraldTicks = heraldPids.reduce((a, p, i) => a + (ticks(p) ?? 0) - (heraldStart[i] ?? 0), 0);
      const redisEnd = await redisCalls();
      const deltas = [...redisEnd].map(([cmd, calls]) => [cmd, calls - (redisStart.get(cmd) ?? 0)] as const).filter(([, d]) => d > 0);
      const total = deltas.reduce((a, [, d]) => a + d, 0);
      const topRedis = deltas
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([cmd, d]) => `${cmd} ${(d / n).toFixed(1)}`)
        .join(', ');
      return {
        pgMsPerMsg: (pgTicks * TICK_MS) / n,
        heraldMsPerMsg: (heraldTicks * TICK_MS) / n,
        redisCmdsPerMsg: total / n,
        topRedis,
      };
    },
  };
}

export function formatCosts(c: Costs): string {
  return `Postgres ${c.pgMsPerMsg.toFixed(2)} CPU ms/msg, herald ${c.heraldMsPerMsg.toFixed(2)} CPU ms/msg, Redis ${c.redisCmdsPerMsg.toFixed(1)} cmds/msg (${c.topRedis})`;
}

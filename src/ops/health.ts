/**
 * Readiness: Postgres answers, Redis answers, and every worker this process should run is
 * running. Liveness (/healthz) is only "the event loop serves HTTP": a dependency outage must
 * not get healthy replicas restarted, it only takes them out of rotation.
 */
import type { Worker } from 'bullmq';
import type { Pool } from 'pg';

import { coerceError } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import { selectOne } from './sql.js';

/** A probe that takes longer than this counts as down (kubelet's default timeout is 1 s). */
export const PROBE_TIMEOUT_MS = 1000;

export type CheckResult = 'ok' | string;

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

export interface ReadinessProbe {
  check(): Promise<Readiness>;
  /** From now on not ready (shutdown started): load balancers stop sending work. */
  drain(): void;
}

export interface ReadinessDeps {
  readonly pool: Pool;
  /** A connection that fails fast when Redis is away (enableOfflineQueue: false). */
  readonly redis: RedisClient;
  /**
   * Workers this process runs (empty for producer-only and dashboard-only processes);
   * undefined while the process is still starting.
   */
  readonly workers: () => readonly Worker[] | undefined;
  readonly timeoutMs?: number;
}

async function withTimeout(what: string, timeoutMs: number, fn: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve(`${what} did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([fn().then(() => 'ok' as const), timeout]);
  } catch (err) {
    // Messages of pg/ioredis connection errors name host and port, never credentials.
    return `${what}: ${coerceError(err).message}`;
  } finally {
    clearTimeout(timer);
  }
}

function workerState(workers: readonly Worker[] | undefined, draining: boolean): CheckResult {
  if (draining) return 'shutting down';
  if (workers === undefined) return 'starting';
  const idle = workers.filter((w) => !w.isRunning()).map((w) => w.name);
  return idle.length > 0 ? `not running: ${idle.join(', ')}` : 'ok';
}

export function makeReadinessProbe(deps: ReadinessDeps): ReadinessProbe {
  const timeoutMs = deps.timeoutMs ?? PROBE_TIMEOUT_MS;
  let draining = false;
  return {
    drain() {
      draining = true;
    },
    async check() {
      const [postgres, redis] = await Promise.all([
        withTimeout('postgres', timeoutMs, () => selectOne(deps.pool)),
        withTimeout('redis', timeoutMs, () => deps.redis.ping()),
      ]);
      const checks: Record<string, CheckResult> = { postgres, redis, workers: workerState(deps.workers(), draining) };
      return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
    },
  };
}

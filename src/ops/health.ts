/**
 * Readiness: Postgres answers, Redis answers, and every worker this process should run is
 * running. Liveness (/healthz) is only "the event loop serves HTTP": a dependency outage must
 * not get healthy replicas restarted, it only takes them out of rotation.
 */
import type { Worker } from 'bullmq';
import type { Pool } from 'pg';

import { errorClass, errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../queue/connection.js';
import { selectOne } from './sql.js';

/** A probe that takes longer than this counts as down (kubelet's default timeout is 1 s). */
export const PROBE_TIMEOUT_MS = 1000;

/**
 * Every word /readyz may answer. Fixed words only: a dependency's error text names databases,
 * users and hosts (and /readyz is unauthenticated); the detail goes to the debug log.
 */
export const READINESS_WORDS = ['ok', 'unavailable', 'timeout', 'starting', 'shutting down', 'not running'] as const;

export type CheckResult = (typeof READINESS_WORDS)[number];

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
  /** Gets the class and code of a failed check at debug level. */
  readonly logger?: Logger;
}

async function withTimeout(what: string, timeoutMs: number, fn: () => Promise<unknown>, logger: Logger | undefined): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([fn().then(() => 'ok' as const), timeout]);
  } catch (err) {
    // Class and code only: pg and ioredis messages name the database, user and host.
    logger?.debug({ dependency: what, errorClass: errorClass(err), errorCode: errorCode(err) }, 'readiness check failed');
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

function workerState(workers: readonly Worker[] | undefined, draining: boolean): CheckResult {
  if (draining) return 'shutting down';
  if (workers === undefined) return 'starting';
  return workers.some((w) => !w.isRunning()) ? 'not running' : 'ok';
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
        withTimeout('postgres', timeoutMs, () => selectOne(deps.pool), deps.logger),
        withTimeout('redis', timeoutMs, () => deps.redis.ping(), deps.logger),
      ]);
      const checks: Record<string, CheckResult> = { postgres, redis, workers: workerState(deps.workers(), draining) };
      return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
    },
  };
}

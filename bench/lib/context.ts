/** What every scenario gets: options, and the baselines earlier scenarios measured. */
import type { Runner } from './herald.js';

export interface BenchOptions {
  readonly runner: Runner;
  /** Throughput request count. */
  readonly n: number;
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly backlog: number;
  /** The backlog scenario stops waiting after this long and reports what it has. */
  readonly backlogMaxSeconds: number;
  readonly fairnessA: number;
  readonly fairnessRate: number;
  readonly fairnessSeconds: number;
  /** Soak: steady requests/s and how long. */
  readonly soakRate: number;
  readonly soakSeconds: number;
  /** HERALD_KEEP_JOBS during the soak. */
  readonly soakKeep: number;
  readonly workers: number;
  readonly bulkLimit: number;
  readonly requeueEvery: string;
  readonly notifyTrigger: boolean;
  /** ANALYZE events2 after seeding (a production table has statistics). */
  readonly analyze: boolean;
  /** Extra ZITADEL_NOTIFICATIONS_* for herald. */
  readonly extraEnv: Record<string, string>;
  /** Upper bound for any one wait on herald (ms). */
  readonly timeoutMs: number;
}

/** Figures later scenarios compare against (filled as scenarios run). */
export interface Baselines {
  smtpPerSec?: number;
  bullmqPerSec?: number;
  smtpLatency?: { p50: number; p99: number };
  heraldPerSec?: number;
  /** Throughput with herald's defaults (defaults scenario). */
  defaultsPerSec?: number;
  heraldP99?: number;
}

export interface BenchContext {
  readonly opts: BenchOptions;
  readonly baselines: Baselines;
  readonly redisPid: number;
  readonly cores: number;
  log(msg: string): void;
}

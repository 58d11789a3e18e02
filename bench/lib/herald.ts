/**
 * Real herald processes for a scenario: the built CLI (bin/herald.js → dist) when run.ts
 * built it, else the sources through tsx (test/helpers/herald-process.ts), which adds
 * startup time but not per-job cost.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { REDIS_URL } from '../../test/helpers/env.js';
import { KEYS_ENV } from '../../test/helpers/zitadel.js';

export type Runner = 'dist' | 'tsx';

const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));
const TSX_ENTRY = fileURLToPath(new URL('../../test/helpers/herald-process.ts', import.meta.url));

export interface HeraldProc {
  readonly name: string;
  readonly pid: number;
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs (longer than herald's own 30 s stop limit, so its own exit path shows); resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** Exit code, or the signal that ended it; null while running. */
  readonly exitCode: number | string | null;
}

export interface HeraldSettings {
  databaseUrl: string;
  prefix: string;
  smtpUrl: string;
  /** undefined: herald's own default (the "defaults" rows set none of the three). */
  workers: number | undefined;
  bulkLimit: number | undefined;
  requeueEvery: string | undefined;
  /** Another Redis than the shared one (the soak measures a private server). */
  redisUrl?: string;
  /** Extra variables (ZITADEL_NOTIFICATIONS_*), passed through as they are. */
  extra?: Record<string, string>;
}

export function heraldEnv(s: HeraldSettings): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl ?? REDIS_URL,
    HERALD_QUEUE_PREFIX: s.prefix,
    HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    HERALD_HTTP_PORT: '0',
    SMTP_URL: s.smtpUrl,
    SMTP_FROM: 'herald-bench@example.com',
    ...(s.workers === undefined ? {} : { ZITADEL_NOTIFICATIONS_WORKERS: String(s.workers) }),
    ...(s.bulkLimit === undefined ? {} : { ZITADEL_NOTIFICATIONS_BULKLIMIT: String(s.bulkLimit) }),
    ...(s.requeueEvery === undefined ? {} : { ZITADEL_NOTIFICATIONS_REQUEUEEVERY: s.requeueEvery }),
    // The backlog takes minutes to drain: keep its requests inside the window.
    ZITADEL_NOTIFICATIONS_MAXTTL: '2h',
    LOG_LEVEL: 'warn',
    ...s.extra,
  };
}

export function spawnHerald(name: string, runner: Runner, roles: readonly string[], env: Record<string, string>): HeraldProc {
  // BENCH_CPU_PROF=<dir>: every herald process writes a V8 CPU profile there when it exits.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const entry = runner === 'dist' ? [...prof, BIN] : [...prof, '--import', 'tsx', TSX_ENTRY];
  const args = [...entry, 'start', ...roles.flatMap((r) => ['--role', r])];
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    name,
    pid: child.pid ?? 0,
    output: () => out,
    get exitCode() {
      return child.exitCode ?? child.signalCode;
    },
    async stop(graceMs = 40_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** One producer and `workers` worker processes, as the figures ask (or one part of it). */
export function spawnFleet(runner: Runner, settings: HeraldSettings, workers = 2, part: FleetPart = 'all'): HeraldProc[] {
  const env = heraldEnv(settings);
  return [
    ...(part === 'workers' ? [] : [spawnHerald('producer', runner, ['producer'], env)]),
    ...(part === 'producer' ? [] : Array.from({ length: workers }, (_, i) => spawnHerald(`worker${i + 1}`, runner, ['worker'], env))),
  ];
}

export type FleetPart = 'all' | 'producer' | 'workers';

/** Fails fast when a herald process died (bad config, crash) instead of waiting for a timeout. */
export function assertAlive(procs: readonly HeraldProc[]): void {
  const dead = procs.find((p) => p.exitCode !== null);
  if (dead) throw new Error(`herald ${dead.name} exited with ${dead.exitCode}:\n${dead.output().slice(-2000)}`);
}

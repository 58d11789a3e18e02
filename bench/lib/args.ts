/** Command line (`npm run bench -- --only ceilings,throughput --n 20000`) and BENCH_* env. */
import { parseArgs } from 'node:util';

import type { BenchOptions } from './context.js';

export const SCENARIOS = ['ceilings', 'defaults', 'throughput', 'scaling', 'latency', 'backlog', 'fairness', 'river', 'soak', 'tenants'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** What runs without --only: the soak (10+ minutes) and tenants (#15, ~3 minutes) are asked for by name. */
const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['ceilings', 'defaults', 'throughput', 'scaling', 'latency', 'backlog', 'fairness', 'river'];

export const USAGE = `npm run bench -- [options]
  --only <list>          scenarios, comma-separated: ${SCENARIOS.join(',')} (all but soak, tenants)
  --n <n>                throughput requests, also the ceiling sizes (20000)
  --latency-rate <r>     latency requests/s (200)     --latency-seconds <s> (30)
  --backlog <n>          backlog pending requests (200000)
  --backlog-max-seconds <s>  stop the backlog after this long, report as partial (420)
  --fairness-a <n>       instance A pending (100000)  --fairness-rate <r> B requests/s (20)
  --fairness-seconds <s> B duration (30)
  --soak-rate <r>        soak requests/s (50)         --soak-seconds <s> steady load (600)
  --soak-keep <n>        HERALD_KEEP_JOBS during the soak (1000)
  --workers <n>          ZITADEL_NOTIFICATIONS_WORKERS per worker process (25: each process's pg pool is Workers+5, Postgres allows 100)
  --bulk-limit <n>       ZITADEL_NOTIFICATIONS_BULKLIMIT (500)
  --requeue-every <d>    ZITADEL_NOTIFICATIONS_REQUEUEEVERY (100ms)
  --env KEY=VALUE        extra env for herald (repeatable)
  --runner dist|tsx      built CLI (default; runs npm run build) or sources via tsx
  --no-build             with --runner dist: use dist as it is
  --no-notify-trigger    migrate without the LISTEN/NOTIFY trigger
  --no-analyze           skip ANALYZE of events2 after seeding backlog/fairness
  --timeout <s>          longest wait on herald per step (900)
  --out <file>           results file (bench/results.md)`;

export interface Cli {
  readonly only: readonly ScenarioName[];
  readonly build: boolean;
  readonly out: string;
  readonly help: boolean;
  readonly opts: BenchOptions;
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): Cli {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      n: { type: 'string' },
      'latency-rate': { type: 'string' },
      'latency-seconds': { type: 'string' },
      backlog: { type: 'string' },
      'backlog-max-seconds': { type: 'string' },
      'fairness-a': { type: 'string' },
      'fairness-rate': { type: 'string' },
      'fairness-seconds': { type: 'string' },
      'soak-rate': { type: 'string' },
      'soak-seconds': { type: 'string' },
      'soak-keep': { type: 'string' },
      workers: { type: 'string' },
      'bulk-limit': { type: 'string' },
      'requeue-every': { type: 'string' },
      env: { type: 'string', multiple: true },
      runner: { type: 'string' },
      'no-build': { type: 'boolean' },
      'no-notify-trigger': { type: 'boolean' },
      'no-analyze': { type: 'boolean' },
      timeout: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const num = (name: string, v: string | undefined, envName: string, dflt: number): number => {
    const raw = v ?? env[envName];
    if (raw === undefined || raw === '') return dflt;
    const x = Number(raw);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return x;
  };
  const onlyRaw = values.only ?? env.BENCH_ONLY;
  const only = onlyRaw
    ? onlyRaw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...DEFAULT_SCENARIOS];
  for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}; pick from ${SCENARIOS.join(',')}`);
  const runner = values.runner ?? env.BENCH_RUNNER ?? 'dist';
  if (runner !== 'dist' && runner !== 'tsx') throw new Error(`--runner must be dist or tsx, got ${runner}`);
  const extraEnv: Record<string, string> = {};
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--env wants KEY=VALUE, got ${kv}`);
    extraEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    only: SCENARIOS.filter((s) => only.includes(s)),
    build: runner === 'dist' && !values['no-build'],
    out: values.out ?? 'bench/results.md',
    help: values.help ?? false,
    opts: {
      runner,
      n: num('n', values.n, 'BENCH_N', 20_000),
      latencyRate: num('latency-rate', values['latency-rate'], 'BENCH_LATENCY_RATE', 200),
      latencySeconds: num('latency-seconds', values['latency-seconds'], 'BENCH_LATENCY_SECONDS', 30),
      backlog: num('backlog', values.backlog, 'BENCH_BACKLOG', 200_000),
      backlogMaxSeconds: num('backlog-max-seconds', values['backlog-max-seconds'], 'BENCH_BACKLOG_MAX_SECONDS', 420),
      fairnessA: num('fairness-a', values['fairness-a'], 'BENCH_FAIRNESS_A', 100_000),
      fairnessRate: num('fairness-rate', values['fairness-rate'], 'BENCH_FAIRNESS_RATE', 20),
      fairnessSeconds: num('fairness-seconds', values['fairness-seconds'], 'BENCH_FAIRNESS_SECONDS', 30),
      soakRate: num('soak-rate', values['soak-rate'], 'BENCH_SOAK_RATE', 50),
      soakSeconds: num('soak-seconds', values['soak-seconds'], 'BENCH_SOAK_SECONDS', 600),
      soakKeep: num('soak-keep', values['soak-keep'], 'BENCH_SOAK_KEEP', 1000),
      workers: num('workers', values.workers, 'BENCH_WORKERS', 25),
      bulkLimit: num('bulk-limit', values['bulk-limit'], 'BENCH_BULK_LIMIT', 500),
      requeueEvery: values['requeue-every'] ?? env.BENCH_REQUEUE_EVERY ?? '100ms',
      notifyTrigger: !values['no-notify-trigger'],
      analyze: !values['no-analyze'],
      extraEnv,
      timeoutMs: num('timeout', values.timeout, 'BENCH_TIMEOUT', 900) * 1000,
    },
  };
}

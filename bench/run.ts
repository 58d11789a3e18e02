/**
 * `npm run bench`: builds herald, runs the chosen scenarios one after another (each with its
 * own database, Redis prefix, sink and herald processes), prints the table and writes
 * bench/results.md. See lib/args.ts for the options.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

import pg from 'pg';

import { PG_ADMIN_URL } from '../test/helpers/env.js';
import { runBacklog } from './backlog.js';
import { runCeilings } from './ceilings.js';
import { runDefaults } from './defaults.js';
import { runFairness } from './fairness.js';
import { runLatency } from './latency.js';
import { parseCli, type ScenarioName, USAGE } from './lib/args.js';
import type { BenchContext } from './lib/context.js';
import { serverVersion } from './lib/db.js';
import { redisPid, redisVersion } from './lib/redis.js';
import { consoleTable, describeMachine, resultsMarkdown, type ScenarioResult } from './lib/report.js';
import { runRiver } from './river.js';
import { runScaling } from './scaling.js';
import { runSoak } from './soak.js';
import { runTenants } from './tenants.js';
import { runThroughput } from './throughput.js';

const RUNNERS: Record<ScenarioName, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  ceilings: runCeilings,
  defaults: runDefaults,
  throughput: runThroughput,
  latency: runLatency,
  backlog: runBacklog,
  fairness: runFairness,
  river: runRiver,
  scaling: runScaling,
  soak: runSoak,
  tenants: runTenants,
};

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2), process.env);
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  const log = (msg: string): void => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
  let opts = cli.opts;
  if (cli.build) {
    log('npm run build');
    try {
      execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
    } catch {
      log('build failed: falling back to the sources through tsx');
      opts = { ...opts, runner: 'tsx' };
    }
  }
  const admin = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1 });
  const machine = describeMachine(await serverVersion(admin), await redisVersion());
  await admin.end();
  const ctx: BenchContext = { opts, baselines: {}, redisPid: await redisPid(), cores: cpus().length, log };

  const results: ScenarioResult[] = [];
  for (const name of cli.only) {
    const t0 = performance.now();
    const load = loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
    log(`── ${name} (load average ${load})`);
    let result: ScenarioResult;
    try {
      result = await RUNNERS[name](ctx);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`${name} failed: ${message}`);
      result = { name, wallSeconds: 0, figures: [], notes: [], error: message.slice(0, 2000) };
    }
    result = { ...result, wallSeconds: (performance.now() - t0) / 1000, notes: [`load average at start (1/5/15 min): ${load}`, ...result.notes] };
    log(`${name} done in ${result.wallSeconds.toFixed(1)} s`);
    for (const n of result.notes) log(`  ${n}`);
    results.push(result);
  }

  const figures = results.flatMap((r) => r.figures);
  console.log(`\n${consoleTable(figures)}\n`);
  const settings = `runner ${opts.runner}; 1 producer + 2 worker processes; Workers=${opts.workers}, BulkLimit=${opts.bulkLimit}, RequeueEvery=${opts.requeueEvery}, MaxTtl=2h; notify trigger ${opts.notifyTrigger ? 'installed' : 'not installed'}; ANALYZE after seeding ${opts.analyze ? 'yes' : 'no'}${Object.keys(opts.extraEnv).length > 0 ? `; extra env ${JSON.stringify(opts.extraEnv)}` : ''}`;
  writeFileSync(
    cli.out,
    resultsMarkdown({ machine, date: new Date(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), settings, results }),
  );
  log(`wrote ${cli.out}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);

/**
 * herald's entrypoint: parses the command line, loads the configuration once and hands it
 * down. Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Pool } from 'pg';

import { riverClientId, type Role, ROLES, startHerald, type StartOptions } from './app.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { DEMO_REQUEST_COUNT, seedDemo } from './demo.js';
import { coerceError, isConfigError } from './errors.js';
import { makePool } from './eventstore/pool.js';
import { migrate } from './eventstore/schema.js';
import { type DeliveryState, type HistoryOptions, runHistoryCommand, runStatusCommand, STATES } from './history/index.js';
import { type Logger, makeLogger } from './logger.js';
import { elapsed, makeProgress, type Progress } from './ops/progress.js';
import { makeProducer } from './producer/producer.js';
import type { RedisClient as Redis } from './queue/connection.js';
import { bullPrefix, makeRedis, pingRedis, redisSettings } from './queue/connection.js';
import { makeQueues } from './queue/queues.js';
import { makeRiverProducer } from './river/producer.js';
import { makeRiverQueue } from './river/queue.js';
import { riverTablesPresent } from './river/schema.js';
import { installSignalHandlers } from './signals.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

async function runMigrate(cfg: Config, logger: Logger, notifyTrigger: boolean): Promise<void> {
  const pool = makePool(cfg.databaseUrl, { applicationName: 'herald-migrate', logger });
  try {
    await migrate(pool, { logger, notifyTrigger });
    logger.info('migrations applied');
  } finally {
    await pool.end();
  }
}

async function runReconcile(cfg: Config, logger: Logger): Promise<number> {
  const pool = makePool(cfg.databaseUrl, { applicationName: 'herald-reconcile', logger });
  const connection = makeRedis(redisSettings(cfg), 'producer', logger);
  const prefix = bullPrefix(cfg.queuePrefix, cfg.redisMode);
  const queues = makeQueues({ connection, prefix, notifications: cfg.notifications, keepJobs: cfg.keepJobs, logger });
  const started = Date.now();
  const progress = makeProgress(process.stderr);
  const summary: string[] = [];
  try {
    await pingRedis(connection);
    let offered = 0;
    if (cfg.source.events) {
      const producer = makeProducer({ pool, queues, cfg: cfg.notifications, logger });
      const events = await producer.reconcile((p) =>
        progress.update(
          `herald reconcile: ${p.phase === 'expired' ? 'behind MaxTtl' : p.phase}: ${p.pages} pages with pending rows, ${p.offered} offered`,
        ),
      );
      offered += events;
      summary.push(`${events} pending notifications offered`);
      logger.info({ offered }, 'reconcile done: every pending notification inside MaxTtl is enqueued');
    }
    if (cfg.source.river) {
      progress.update('herald reconcile: River rows herald holds: taking them back');
      const taken = await reconcileRiver(cfg, logger, pool, connection);
      offered += taken;
      summary.push(`${taken} River rows taken back`);
    }
    progress.done(`herald reconcile: ${summary.join(', ')} in ${elapsed(started)}`);
    return offered;
  } finally {
    await queues.close().catch(() => undefined);
    connection.disconnect();
    await pool.end();
  }
}

/** River rows herald claimed that no BullMQ job holds (Redis lost, crash) go back into Redis. */
async function reconcileRiver(cfg: Config, logger: Logger, pool: Pool, connection: Redis): Promise<number> {
  if (!(await riverTablesPresent(pool))) throw new Error("HERALD_SOURCE=river: River's tables (queue.river_job) are absent");
  const queue = makeRiverQueue({ connection, prefix: bullPrefix(cfg.queuePrefix, cfg.redisMode), logger });
  try {
    const producer = makeRiverProducer({ pool, queue, clientId: riverClientId(cfg), logger, bulkLimit: cfg.notifications.bulkLimit });
    const taken = await producer.takeBack();
    logger.info({ taken }, 'reconcile done: every River row herald holds is in Redis again');
    return taken;
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** Runs until a signal stops it; resolves with the exit code. */
async function runStart(
  cfg: Config,
  roles: readonly Role[],
  logger: Logger,
  listeners: Pick<StartOptions, 'onOutcome' | 'onRiverOutcome'> = {},
): Promise<number> {
  const herald = await startHerald(cfg, roles, logger, { http: {}, ...listeners });
  return new Promise<number>((resolve) => {
    const detach = installSignalHandlers(
      () => herald.stop(),
      logger,
      (code) => {
        detach();
        resolve(code);
      },
      { graceMs: cfg.shutdownGraceMs },
    );
  });
}

/** `herald status` / `herald history`: read the delivery history (src/history/commands.ts). */
async function withHistoryPool(cfg: Config, logger: Logger, fn: (pool: Pool) => Promise<number>): Promise<number> {
  const pool = makePool(cfg.databaseUrl, { applicationName: 'herald-cli', logger, max: 1 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
const stdio = { stdout: (s: string) => void process.stdout.write(s), stderr: (s: string) => void process.stderr.write(s) };

function parseLimit(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
}

/**
 * `herald demo`'s progress: the seeded requests' outcomes as they come (a terminal line), then
 * one summary line once every one finished; herald keeps running until a signal.
 */
function demoProgress(progress: Progress, seeded: number): Pick<StartOptions, 'onOutcome' | 'onRiverOutcome'> {
  const started = Date.now();
  const count = { sent: 0, canceled: 0, retried: 0 };
  let reported = false;
  const seen = (kind: 'sent' | 'canceled' | 'retried' | 'other'): void => {
    if (kind === 'other' || reported) return;
    count[kind]++;
    const finished = count.sent + count.canceled;
    const line = `herald demo: ${finished} of ${seeded} requests finished (${count.sent} sent, ${count.canceled} canceled, ${count.retried} retries)`;
    if (finished < seeded) return progress.update(line);
    reported = true;
    progress.done(`${line} in ${elapsed(started)}; still running (Ctrl-C stops)`);
  };
  return {
    onOutcome: (o) => seen(o.kind === 'sent' ? 'sent' : o.kind === 'canceled' ? 'canceled' : o.kind === 'retry' ? 'retried' : 'other'),
    onRiverOutcome: (o) =>
      seen(
        o.kind === 'sent' || o.kind === 'duplicate'
          ? 'sent'
          : o.kind === 'cancelled' || o.kind === 'discarded'
            ? 'canceled'
            : o.kind === 'retry'
              ? 'retried'
              : 'other',
      ),
  };
}

function program(run: (fn: (cfg: Config, logger: Logger) => Promise<number | void>) => Promise<void>): Command {
  const cmd = new Command('herald')
    .description("Delivers ZITADEL's notifications from BullMQ workers")
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  cmd
    .command('migrate')
    .description("create eventstore.events2 (where absent) and herald's schema; safe on every replica")
    .option('--notify-trigger', "also install the LISTEN/NOTIFY trigger on eventstore.events2 (touches ZITADEL's table)", false)
    .action((o: { notifyTrigger: boolean }) => run((cfg, logger) => runMigrate(cfg, logger, o.notifyTrigger)));
  cmd
    .command('start')
    .description('run the long-lived process')
    .addOption(new Option('--role <role...>', 'roles to run (repeatable)').choices(ROLES).default(['all']))
    .action((o: { role: Role[] }) => run((cfg, logger) => runStart(cfg, o.role, logger)));
  cmd
    .command('reconcile')
    .description('re-enqueue every pending notification inside MaxTtl (after losing Redis)')
    .action(() => run(async (cfg, logger) => void (await runReconcile(cfg, logger))));
  cmd
    .command('status')
    .description("a notification's delivery timeline (exit 0 when found, 1 when not)")
    .argument('<id>', 'notification aggregate id or River job id')
    .option('--json', 'print JSON (one object per line)', false)
    .action((id: string, o: { json: boolean }) => run((cfg, logger) => withHistoryPool(cfg, logger, (pool) => runStatusCommand(pool, id, o, stdio))));
  cmd
    .command('history')
    .description('recent notifications from the delivery history, newest first')
    .option('--instance <id>', 'only this instance')
    .option('--user <id>', 'only this user')
    .addOption(new Option('--state <state>', 'only this state').choices(STATES))
    .option('--since <duration>', 'only requested within this Go duration (e.g. 1h)')
    .option('--limit <n>', 'at most this many (1-500)', parseLimit, 50)
    .option('--json', 'print JSON lines (one object per notification)', false)
    .action((o: { instance?: string; user?: string; state?: DeliveryState; since?: string; limit: number; json: boolean }) =>
      run((cfg, logger) => withHistoryPool(cfg, logger, (pool) => runHistoryCommand(pool, o satisfies HistoryOptions, stdio))),
    );
  cmd
    .command('demo')
    .description('seed a demo instance, user and notification requests, then run all roles')
    .option('--seed-only', 'only write the demo events', false)
    .addOption(new Option('--source <source>', 'seed notification.requested events or River jobs').choices(['events', 'river']).default('events'))
    .action((o: { seedOnly: boolean; source: 'events' | 'river' }) =>
      run(async (cfg, logger) => {
        // A first run should just work: the demo migrates (idempotent) before seeding.
        await runMigrate(cfg, logger, false);
        const demoCfg = await seedDemo(cfg, logger, { source: o.source });
        const progress = makeProgress(process.stderr);
        if (o.seedOnly) {
          progress.done(`herald demo: ${DEMO_REQUEST_COUNT} ${o.source === 'river' ? 'River jobs' : 'notification requests'} seeded`);
          return 0;
        }
        return runStart(demoCfg, ['all'], logger, demoProgress(progress, DEMO_REQUEST_COUNT));
      }),
    );
  return cmd;
}

/** `env` is passed in by bin/herald.js: only the config module interprets it. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let exitCode: number = EXIT.ok;
  const run = async (fn: (cfg: Config, logger: Logger) => Promise<number | void>): Promise<void> => {
    const cfg = loadConfig(env);
    const logger = makeLogger(cfg);
    for (const warning of cfg.warnings) logger.warn(warning);
    const code = await fn(cfg, logger);
    exitCode = typeof code === 'number' ? code : EXIT.ok;
  };
  try {
    await program(run).parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    if (isConfigError(err)) {
      process.stderr.write(`herald: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`herald: ${coerceError(err).message}\n`);
    return EXIT.failure;
  }
}

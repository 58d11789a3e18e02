/**
 * River mode's producer: claims `notification_request` rows as River's producer would
 * (JobGetAvailable, herald's stable client id in attempted_by) and adds one BullMQ job per
 * claimed attempt. Woken by `LISTEN "queue.river_insert"` with a ~1 s poll behind it; claims
 * only what the Redis window has room for, so every claimed row is worked (and finished)
 * long before River's 1 h rescue. OTP rows first; the rest fair between instances.
 */
import type { Pool } from 'pg';

import type { Logger } from '../logger.js';
import { type Listener, listenForRequests } from '../producer/listen.js';
import { PRIORITY } from '../queue/names.js';
import { pruneAnswered } from './handled.js';
import { makePauseKeeper, type PauseKeeper } from './pause.js';
import { LIVE_STATES, liveRiverJobs, RIVER_JOB_NAME, riverJobId, type RiverQueue } from './queue.js';
import { RIVER_INSERT_CHANNEL } from './schema.js';
import { claimFairJobs, claimOtpJobs, heldRows, releaseJob, type RiverJob } from './sql.js';

/** Claimed attempts that may sit in Redis at once. */
export const RIVER_WINDOW = 1000;
export const RIVER_POLL_MS = 1000;
const TAKE_BACK_PAGE = 1000;

/** River's scheduler, for herald's rows only: due `retryable`/`scheduled` rows become `available`. */
export const scheduleDueSql = `
UPDATE queue.river_job SET state = 'available'
WHERE state IN ('retryable', 'scheduled') AND queue = 'notification' AND kind = 'notification_request' AND scheduled_at <= now()`;

export interface RiverProducer {
  /** Pauses ZITADEL's queue, takes back rows no BullMQ job holds, then claims on LISTEN and poll. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One claim pass; resolves to the number of rows claimed. */
  tick(): Promise<number>;
  /** Re-adds every row herald holds as `running` that no live BullMQ job holds. */
  takeBack(): Promise<number>;
}

export interface RiverProducerDeps {
  readonly pool: Pool;
  readonly queue: RiverQueue;
  readonly clientId: string;
  readonly logger: Logger;
  readonly bulkLimit: number;
  readonly window?: number;
  readonly pollMs?: number;
  /** @defaultValue true: keep ZITADEL's own River worker paused. */
  readonly pause?: boolean;
  readonly listen?: boolean;
  /** How long the record of completed args (the duplicate check) is kept: twice MaxTtl. @defaultValue 2 h */
  readonly answeredKeepMs?: number;
  /** Told which rows a pass claimed and enqueued (the delivery history's pending rows); must not throw. */
  readonly onClaimed?: (jobs: readonly RiverJob[]) => Promise<void>;
}

const PRUNE_EVERY_MS = 10 * 60_000;
const ANSWERED_KEEP_MS = 2 * 60 * 60_000;

/** BullMQ priority: OTP first; then the row's rank within its instance in this claim. */
export function riverPriorities(jobs: readonly RiverJob[]): number[] {
  const rank = new Map<string, number>();
  return jobs.map((j) => {
    if (j.isOtp) return PRIORITY.otp;
    const key = j.instanceId ?? '';
    const r = rank.get(key) ?? 0;
    rank.set(key, r + 1);
    return PRIORITY.normal + r;
  });
}

export async function addRiverJobs(queue: RiverQueue, jobs: readonly RiverJob[], bulkLimit: number): Promise<void> {
  const priorities = riverPriorities(jobs);
  const bulk = jobs.map((j, i) => ({
    name: RIVER_JOB_NAME,
    data: { riverId: j.id, attempt: j.attempt, ...(j.instanceId ? { instanceId: j.instanceId } : {}) },
    opts: { jobId: riverJobId(j.id, j.attempt), priority: priorities[i] ?? PRIORITY.normal },
  }));
  for (let i = 0; i < bulk.length; i += bulkLimit) await queue.addBulk(bulk.slice(i, i + bulkLimit));
}

export function makeRiverProducer(deps: RiverProducerDeps): RiverProducer {
  const { pool, queue, clientId } = deps;
  const logger = deps.logger.child({ component: 'river-producer' });
  const window = deps.window ?? RIVER_WINDOW;
  const pollMs = deps.pollMs ?? RIVER_POLL_MS;
  let pauseKeeper: PauseKeeper | undefined;
  let listener: Listener | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  let prunedAt = 0;
  async function claimPass(): Promise<number> {
    await pool.query(scheduleDueSql);
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await pruneAnswered(pool, deps.answeredKeepMs ?? ANSWERED_KEEP_MS).catch((err: unknown) =>
        logger.warn({ err }, 'could not prune the record of answered River rows'),
      );
    }
    const room = window - (await liveRiverJobs(queue));
    if (room <= 0) return 0;
    const otp = await claimOtpJobs(pool, clientId, room);
    const rest = await claimFairJobs(pool, clientId, room - otp.length, 4 * room);
    const claimed = [...otp, ...rest];
    if (claimed.length === 0) return 0;
    try {
      await addRiverJobs(queue, claimed, deps.bulkLimit);
    } catch (err) {
      // Redis refused: give the rows back so nothing waits for the 1 h rescue.
      const released = await Promise.allSettled(claimed.map((j) => releaseJob(pool, j.id, j.attempt)));
      logger.warn(
        { err, claimed: claimed.length, released: released.filter((r) => r.status === 'fulfilled').length },
        'could not enqueue claimed River rows; released them',
      );
      throw err;
    }
    await deps.onClaimed?.(claimed);
    logger.debug({ claimed: claimed.length, otp: otp.length }, 'River rows claimed');
    return claimed.length;
  }

  /** Passes run one at a time; a wake-up during a pass runs one more pass after it. */
  function tick(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    const run = (async () => {
      let total = 0;
      do {
        again = false;
        const n = await claimPass();
        total += n;
        // A full claim means more may be waiting: go again at once.
        if (n > 0 && n >= window / 2) again = true;
      } while (again && !stopped);
      return total;
    })().finally(() => {
      running = undefined;
    });
    running = run;
    return run;
  }

  function wake(): void {
    if (stopped) return;
    tick().catch((err: unknown) => logger.warn({ err }, 'River claim pass failed; retrying next poll'));
  }

  function schedulePoll(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      wake();
      schedulePoll();
    }, pollMs);
  }

  async function takeBack(): Promise<number> {
    let after = '0';
    let added = 0;
    for (;;) {
      const rows = await heldRows(pool, clientId, after, TAKE_BACK_PAGE);
      const last = rows.at(-1);
      if (!last) break;
      const states = await Promise.all(rows.map((r) => queue.getJobState(riverJobId(r.id, r.attempt))));
      const missing: RiverJob[] = [];
      for (const [i, r] of rows.entries()) {
        const state = states[i] ?? 'unknown';
        if (LIVE_STATES.has(state)) continue;
        // An ended job whose row is still running lost its outcome: run the attempt again.
        if (state === 'completed' || state === 'failed') await queue.remove(riverJobId(r.id, r.attempt));
        missing.push(r);
      }
      if (missing.length > 0) await addRiverJobs(queue, missing, deps.bulkLimit);
      added += missing.length;
      after = last.id;
      if (rows.length < TAKE_BACK_PAGE) break;
    }
    if (added > 0) logger.info({ added }, 'took back River rows that no BullMQ job held');
    return added;
  }

  let stopping: Promise<void> | undefined;
  return {
    async start() {
      if (deps.pause !== false) {
        pauseKeeper = makePauseKeeper(pool, logger);
        await pauseKeeper.start();
      }
      await takeBack();
      if (deps.listen !== false) listener = listenForRequests(pool, wake, logger, 1000, RIVER_INSERT_CHANNEL);
      schedulePoll();
      wake();
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        pauseKeeper?.stop();
        await listener?.close();
        await running?.catch(() => undefined);
      })();
      return stopping;
    },
    tick,
    takeBack,
  };
}

/**
 * When the producer's passes run. Requests passes and retry passes run one at a time;
 * passes asked for while one is queued coalesce into it. The sweep (it reads the whole
 * window) runs beside them, never in front of them. Full windows are refilled on their own
 * timer, not on every nudge.
 */
import type { Logger } from '../logger.js';

export interface PassKind {
  /** Every known instance (timer), or only those with new requests (nudge). */
  readonly all: boolean;
  /** Include instances whose window was full. */
  readonly refill: boolean;
}

export interface Scheduler {
  start(): void;
  /** Asks for a requests pass (a LISTEN/NOTIFY nudge, say). */
  nudge(): void;
  stop(): Promise<void>;
}

export function makeScheduler(opts: {
  logger: Logger;
  requeueEveryMs: number;
  retryRequeueEveryMs: number;
  sweepEveryMs: number;
  refillEveryMs: number;
  requestsPass(kind: PassKind): Promise<unknown>;
  /** Whether some instance's window was full after the last pass. */
  hasFullWindows(): boolean;
  retriesPass(): Promise<unknown>;
  sweep(): Promise<unknown>;
}): Scheduler {
  const { logger } = opts;
  let running: Promise<unknown> = Promise.resolve();
  let queued: { all: boolean; refill: boolean } | undefined;
  let sweeping: Promise<unknown> | undefined;
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  let refillTimer: NodeJS.Timeout | undefined;

  function runSerial(task: () => Promise<unknown>, what: string): Promise<unknown> {
    running = running.then(task).catch((err: unknown) => logger.warn({ err, pass: what }, 'producer pass failed; retrying next interval'));
    return running;
  }

  function sweepOnce(): void {
    sweeping ??= opts
      .sweep()
      .catch((err: unknown) => logger.warn({ err }, 'sweep failed; retrying next interval'))
      .finally(() => {
        sweeping = undefined;
      });
  }

  function scheduleRefill(): void {
    if (!opts.hasFullWindows() || refillTimer || stopped) return;
    refillTimer = setTimeout(() => {
      refillTimer = undefined;
      requestPass({ all: false, refill: true });
    }, opts.refillEveryMs);
  }

  function requestPass(kind: PassKind): void {
    if (stopped) return;
    if (queued) {
      queued.all ||= kind.all;
      queued.refill ||= kind.refill;
      return;
    }
    const pass = { ...kind };
    queued = pass;
    void runSerial(async () => {
      queued = undefined;
      await opts.requestsPass(pass);
      scheduleRefill();
    }, 'requests');
  }

  let stopping: Promise<void> | undefined;
  return {
    start() {
      if (timers.length > 0 || stopped) return;
      requestPass({ all: true, refill: true });
      timers.push(setInterval(() => requestPass({ all: true, refill: false }), opts.requeueEveryMs));
      timers.push(setInterval(() => void runSerial(opts.retriesPass, 'retries'), opts.retryRequeueEveryMs));
      timers.push(setInterval(sweepOnce, opts.sweepEveryMs));
      sweepOnce();
    },
    nudge: () => requestPass({ all: false, refill: false }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        for (const t of timers) clearInterval(t);
        if (refillTimer) clearTimeout(refillTimer);
        await Promise.all([running, sweeping]);
      })();
      return stopping;
    },
  };
}

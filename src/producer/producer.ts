/**
 * The producer: turns pending notification events into BullMQ jobs.
 *
 * Requests, per pass (every RequeueEvery, and at once on a LISTEN/NOTIFY nudge):
 * 1. discovery: read new requests after a cross-instance cursor (guarded, repeated while a
 *    page is full) to learn which instances have work;
 * 2. windows: for those instances, read the first INSTANCE_WINDOW pending requests from each
 *    instance's low-water mark and add the ones not yet added. Redis holds at most a window
 *    per instance — the eventstore is the backlog — and a busy instance's backlog cannot
 *    delay a quiet one (per-instance windows, rank-based priority). Jobs are added with
 *    addBulk, at most BulkLimit a call.
 * Instances whose window was full are refilled every REFILL_EVERY (not on every pass).
 * Retries: every RetryRequeueEvery, foreign notification.retry.requested → retry queue.
 * Sweep: every max(10 × RequeueEvery, 30s) the whole MaxTtl window is re-read unguarded
 * (late commits that the guard could not see) and every window is re-offered with repair.
 * Expired: each sweep also reads up to EXPIRED_PAGES pages behind the window (requests and
 * retries that were already older than MaxTtl when herald first saw them: it was down, or
 * started late) from a stored cursor, and offers the pending ones at the lowest priority;
 * the worker's expiry check cancels them (one writer of outcomes). The cursor stops before
 * the first one still pending, so a lost job is offered again on the next sweep.
 */
import type { Pool } from 'pg';

import type { NotificationsConfig } from '../config/types.js';
import { NotificationEvent } from '../eventstore/notification-types.js';
import type { Logger } from '../logger.js';
import type { Queues } from '../queue/queues.js';
import { compareCursor, minCursor } from './cursor.js';
import { enqueuePending, LAST_RANK, type Offer } from './enqueue.js';
import { type Listener, listenForRequests } from './listen.js';
import { type Probe, startProbe } from './probe.js';
import { makeScheduler, type PassKind } from './schedule.js';
import {
  type Cursor,
  cursorOf,
  discoverRequests,
  loadCheckpoint,
  saveCheckpoint,
  selectExpired,
  selectPending,
  selectWindows,
  START,
} from './sql.js';

/** Pending requests per instance that may sit in Redis at once. */
export const INSTANCE_WINDOW = 1000;
/** Page size of the sweep and of reconcile. */
export const SWEEP_PAGE = 1000;
const REFILL_EVERY_MS = 250;
/** An instance with more offered than this since its last full read gets a full read. */
const INCREMENTAL_MAX = 16;
const CHECKPOINT_EVERY_MS = 1000;
/** Rows per discovery read (instance ids and positions only: cheap). */
const DISCOVERY_PAGE = 5000;
/** Pages (of SWEEP_PAGE rows) read behind the window per sweep: the eventstore can be large. */
export const EXPIRED_PAGES = 10;
/** Pages `herald reconcile` reads behind the window (1M rows); the sweeps go on from there. */
const RECONCILE_EXPIRED_PAGES = 1000;
const CHECKPOINTS = { discovery: 'producer.requests', retries: 'producer.retries', expired: 'producer.expired' } as const;

export interface Producer {
  start(): void;
  stop(): Promise<void>;
  /** One pass over requests (all known instances); resolves to the number of jobs offered. */
  tickRequests(): Promise<number>;
  /** One pass of the retries tail. */
  tickRetries(): Promise<number>;
  /** Re-reads the whole window unguarded and re-offers every instance's window, repairing. */
  sweep(): Promise<number>;
  /**
   * Offers pending notifications that are already older than MaxTtl (at most `pages` pages
   * from the stored cursor) so that the worker cancels them.
   */
  tickExpired(pages?: number): Promise<number>;
  /**
   * Enqueues every pending notification inside MaxTtl, ignoring windows, and the expired ones
   * behind it (`herald reconcile`).
   */
  reconcile(onProgress?: (progress: ReconcileProgress) => void): Promise<number>;
}

/** What `herald reconcile` has done so far (its progress line). */
export interface ReconcileProgress {
  /** requests, retries: the MaxTtl window; expired: behind it. */
  readonly phase: 'requests' | 'retries' | 'expired';
  /** Pages with pending rows read so far. */
  readonly pages: number;
  readonly offered: number;
}

export interface ProducerOptions {
  readonly instanceWindow?: number;
  /** Rows per page of the expired scan. @defaultValue SWEEP_PAGE */
  readonly expiredPage?: number;
  /** LISTEN for the notify trigger (started with start()). @defaultValue true */
  readonly listen?: boolean;
  /** Probe for new requests between polls (probe.ts; started with start()). @defaultValue true */
  readonly probe?: boolean;
  /** @defaultValue PROBE_EVERY_MS */
  readonly probeEveryMs?: number;
}

export function sweepEveryMs(cfg: Pick<NotificationsConfig, 'requeueEveryMs'>): number {
  return Math.max(10 * cfg.requeueEveryMs, 30_000);
}

interface InstanceState {
  /** Nothing pending before this cursor (as far as the guard lets us see). */
  low: Cursor;
  /** The last request this producer added to Redis (or read past: none pending up to it). */
  added: Cursor | undefined;
  /** Requests offered from `low` up to `added` (at most the window; an upper bound). */
  count: number;
}

export function makeProducer(deps: { pool: Pool; queues: Queues; cfg: NotificationsConfig; logger: Logger }, opts: ProducerOptions = {}): Producer {
  const { pool, queues, cfg } = deps;
  const logger = deps.logger.child({ component: 'producer' });
  const window = opts.instanceWindow ?? INSTANCE_WINDOW;
  const scope = { windowMs: cfg.maxTtlMs, activeInstancesMs: cfg.handleActiveInstancesMs };
  const instances = new Map<string, InstanceState>();
  const refillDue = new Set<string>();
  /** OTP requests found by discovery or the sweep, offered with the next fill. */
  let otpOffers: Offer[] = [];
  let discovery: Cursor | undefined;
  let repairNext = false;

  function note(instanceId: string, at: Cursor): void {
    const known = instances.get(instanceId);
    if (known) known.low = minCursor(known.low, at);
    else instances.set(instanceId, { low: at, added: undefined, count: 0 });
  }

  /**
   * The in-memory cursor is authoritative; the stored one only spares a restart a longer
   * first read. Written at most once a second: each write is a commit (a WAL flush), and
   * nudged passes run up to once per committed request.
   */
  let persistedAt = 0;
  async function persistDiscovery(): Promise<void> {
    if (!discovery || Date.now() - persistedAt < CHECKPOINT_EVERY_MS) return;
    persistedAt = Date.now();
    await saveCheckpoint(pool, CHECKPOINTS.discovery, discovery);
  }

  /**
   * Reads new requests after the discovery cursor; returns the instances that have some.
   * New OTP requests are offered at once: a login code never waits behind a full window.
   */
  async function discover(): Promise<Set<string>> {
    discovery ??= (await loadCheckpoint(pool, CHECKPOINTS.discovery)) ?? START;
    const found = new Set<string>();
    for (;;) {
      const { events: rows, below } = await discoverRequests(pool, { ...scope, after: discovery, guarded: true, limit: DISCOVERY_PAGE });
      for (const r of rows) {
        note(r.instanceId, cursorOf(r));
        found.add(r.instanceId);
        if (r.isOTP) otpOffers.push(r);
      }
      const last = rows.at(-1);
      if (last) discovery = cursorOf(last);
      if (rows.length < DISCOVERY_PAGE) {
        // Nothing more below the guard: step over the other rows written meanwhile.
        if (below && compareCursor(below, discovery) > 0) discovery = below;
        await persistDiscovery();
        break;
      }
      await persistDiscovery();
    }
    return found;
  }

  /**
   * Offers each target instance's window; forgets instances with nothing pending.
   * A full read scans an instance's window from its low-water mark (each row checked for
   * being pending); it runs for an instance's first fill, for full windows (refill timer)
   * and on the sweep (repair). Any other pass reads only what came after the last request
   * it added (a handful of rows per nudge, instead of re-checking the whole window), and
   * offers at most the room the window has left by `count` — an upper bound, since jobs
   * finish meanwhile; past INCREMENTAL_MAX the next pass's full read recounts (a window of
   * a few requests is a few rows to read).
   */
  async function fill(targets: ReadonlySet<string>): Promise<number> {
    const repair = repairNext;
    repairNext = false;
    const from = new Map<string, Cursor>();
    const after = new Map<string, Cursor>();
    for (const id of targets) {
      const s = instances.get(id);
      // `count` only grows between full reads, and it is the rank (priority) of what an
      // incremental read offers: past INCREMENTAL_MAX, recount, so that a quiet instance's
      // new request is not ranked behind a busy instance's window.
      const full = repair || refillDue.has(id) || !s?.added || s.count >= INCREMENTAL_MAX;
      refillDue.delete(id);
      if (!s) continue;
      if (full || !s.added) from.set(id, s.low);
      else after.set(id, { position: s.added.position, inTxOrder: s.added.inTxOrder + 1 });
    }
    const offers: Offer[] = [];
    if (from.size > 0) offers.push(...(await fullRead(from, repair)));
    if (after.size > 0) offers.push(...(await incrementalRead(after)));
    const inWindow = new Set(offers.map((o) => `${o.instanceId}/${o.aggregateId}`));
    offers.push(...otpOffers.filter((o) => !inWindow.has(`${o.instanceId}/${o.aggregateId}`)));
    otpOffers = [];
    if (offers.length > 0) await enqueuePending(queues, offers, { repair, bulkLimit: cfg.bulkLimit });
    return offers.length;
  }

  type WindowRow = Awaited<ReturnType<typeof selectWindows>>[number];
  function byInstance(rows: readonly WindowRow[]): Map<string, WindowRow[]> {
    const out = new Map<string, WindowRow[]>();
    for (const r of rows) {
      const list = out.get(r.instanceId) ?? [];
      list.push(r);
      out.set(r.instanceId, list);
    }
    // selectWindows orders by position only (with ties): put each instance's rows in cursor order.
    for (const list of out.values()) list.sort(compareCursor);
    return out;
  }

  async function fullRead(from: ReadonlyMap<string, Cursor>, repair: boolean): Promise<Offer[]> {
    const scanBudget = 2 * window;
    const rows = byInstance(await selectWindows(pool, { from, guarded: true, windowMs: cfg.maxTtlMs, limit: scanBudget }));
    const offers: Offer[] = [];
    for (const id of from.keys()) {
      const state = instances.get(id);
      const scanned = rows.get(id) ?? [];
      const lastScanned = scanned.at(-1);
      const pending: Offer[] = scanned
        .filter((r) => r.pending)
        .slice(0, window)
        .map((r, rank) => ({ ...r, rank }));
      const first = pending[0];
      const more = scanned.length >= scanBudget;
      if (!state || !lastScanned || (!first && !more)) {
        instances.delete(id);
        continue;
      }
      // Nothing pending before the first pending one (or before the last scanned).
      state.low = cursorOf(first ?? lastScanned);
      const added = repair ? undefined : state.added;
      offers.push(...(added ? pending.filter((r) => compareCursor(cursorOf(r), added) > 0) : pending));
      const lastPending = pending.at(-1);
      if (lastPending) state.added = cursorOf(lastPending);
      state.count = pending.length;
      if (more || pending.length >= window) refillDue.add(id);
    }
    return offers;
  }

  async function incrementalRead(after: ReadonlyMap<string, Cursor>): Promise<Offer[]> {
    const rows = byInstance(await selectWindows(pool, { from: after, guarded: true, windowMs: cfg.maxTtlMs, limit: window }));
    const offers: Offer[] = [];
    for (const id of after.keys()) {
      const state = instances.get(id);
      const scanned = rows.get(id) ?? [];
      if (!state || scanned.length === 0) continue;
      const room = Math.max(0, window - state.count);
      const pending = scanned.filter((r) => r.pending);
      const taken = pending.slice(0, room).map((r, i) => ({ ...r, rank: state.count + i }));
      offers.push(...taken);
      const lastTaken = taken.at(-1);
      if (lastTaken) state.added = cursorOf(lastTaken);
      else if (pending.length === 0) state.added = cursorOf(scanned.at(-1) ?? state.added ?? START);
      state.count += taken.length;
      if (pending.length > taken.length || scanned.length >= window || state.count >= window) refillDue.add(id);
    }
    return offers;
  }

  async function requestsPass(kind: PassKind): Promise<number> {
    const found = await discover();
    // A nudge only looks at instances with room in their window: the new requests of a
    // full one are beyond it (OTPs aside, offered by discover()). Full windows are
    // refilled on the refill timer, not on every commit.
    const candidates = kind.all ? [...instances.keys()] : [...found];
    const targets = new Set([...candidates.filter((id) => !refillDue.has(id)), ...(kind.refill ? refillDue : [])]);
    const offered = await fill(targets);
    if (offered > 0) logger.debug({ offered, instances: targets.size }, 'requests enqueued');
    return offered;
  }

  async function tickRetries(): Promise<number> {
    const saved = (await loadCheckpoint(pool, CHECKPOINTS.retries)) ?? START;
    let cursor = saved;
    let offered = 0;
    for (;;) {
      const page = await selectPending(pool, {
        ...scope,
        eventType: NotificationEvent.retryRequested,
        after: cursor,
        guarded: true,
        limit: SWEEP_PAGE,
      });
      if (page.last) {
        offered += await enqueuePending(queues, page.pending, { repair: false, bulkLimit: cfg.bulkLimit });
        cursor = page.last;
      }
      if (!page.full) {
        // As in discovery: step over everything below the guard (herald's own rows, mostly).
        if (page.below && compareCursor(page.below, cursor) > 0) cursor = page.below;
      }
      if (compareCursor(cursor, saved) > 0) await saveCheckpoint(pool, CHECKPOINTS.retries, cursor);
      if (!page.full) break;
    }
    return offered;
  }

  /** Every pending event of one type in the window, unguarded, in pages. */
  async function eachPendingPage(eventType: string, fn: (pending: Offer[]) => Promise<void>): Promise<void> {
    let cursor: Cursor = START;
    for (;;) {
      const page = await selectPending(pool, { ...scope, eventType, after: cursor, guarded: false, limit: SWEEP_PAGE });
      if (!page.last) return;
      if (page.pending.length > 0) await fn(page.pending);
      cursor = page.last;
      if (!page.full) return;
    }
  }

  /**
   * Reads behind the window from the stored cursor, at most `pages` pages, and offers what
   * is still pending there (the worker's expiry check cancels it). The cursor is saved just
   * before the first pending row (or after the last row read when none is pending), so a
   * row whose job is lost is read again; finished rows are read once.
   */
  async function tickExpired(pages = EXPIRED_PAGES): Promise<number> {
    const saved = (await loadCheckpoint(pool, CHECKPOINTS.expired)) ?? START;
    let cursor = saved;
    let hold: Cursor | undefined;
    let offered = 0;
    for (let page = 0; page < pages; page++) {
      const read = await selectExpired(pool, { ...scope, after: cursor, limit: opts.expiredPage ?? SWEEP_PAGE });
      if (!read.last) break;
      const first = read.pending[0];
      if (first) {
        hold ??= { position: first.position, inTxOrder: first.inTxOrder - 1 };
        const offers = read.pending.map((e) => ({ ...e, rank: LAST_RANK }));
        offered += await enqueuePending(queues, offers, { repair: true, bulkLimit: cfg.bulkLimit });
      }
      cursor = read.last;
      if (!read.full) break;
    }
    const next = hold ?? cursor;
    if (compareCursor(next, saved) > 0) await saveCheckpoint(pool, CHECKPOINTS.expired, next);
    if (offered > 0) logger.info({ offered }, 'requests older than MaxTtl offered for cancellation');
    return offered;
  }

  async function sweep(): Promise<number> {
    await eachPendingPage(NotificationEvent.requested, async (page) => {
      for (const e of page) {
        note(e.instanceId, cursorOf(e));
        if (e.isOTP) otpOffers.push(e);
      }
    });
    let offered = 0;
    await eachPendingPage(NotificationEvent.retryRequested, async (page) => {
      offered += await enqueuePending(queues, page, { repair: true, bulkLimit: cfg.bulkLimit });
    });
    repairNext = true;
    offered += await fill(new Set(instances.keys()));
    offered += await tickExpired();
    logger.debug({ offered, instances: instances.size }, 'sweep done');
    return offered;
  }

  async function reconcile(onProgress?: (progress: ReconcileProgress) => void): Promise<number> {
    let offered = 0;
    let pages = 0;
    for (const type of [NotificationEvent.requested, NotificationEvent.retryRequested]) {
      const phase = type === NotificationEvent.requested ? 'requests' : 'retries';
      await eachPendingPage(type, async (page) => {
        offered += await enqueuePending(queues, page, { repair: true, bulkLimit: cfg.bulkLimit });
        onProgress?.({ phase, pages: ++pages, offered });
      });
    }
    onProgress?.({ phase: 'expired', pages, offered });
    offered += await tickExpired(RECONCILE_EXPIRED_PAGES);
    return offered;
  }

  const scheduler = makeScheduler({
    logger,
    requeueEveryMs: cfg.requeueEveryMs,
    retryRequeueEveryMs: cfg.retryRequeueEveryMs,
    sweepEveryMs: sweepEveryMs(cfg),
    refillEveryMs: REFILL_EVERY_MS,
    requestsPass,
    hasFullWindows: () => refillDue.size > 0,
    retriesPass: tickRetries,
    sweep,
  });
  let listener: Listener | undefined;
  let probe: Probe | undefined;
  let stopping: Promise<void> | undefined;
  return {
    start() {
      scheduler.start();
      if (opts.listen !== false && !listener) listener = listenForRequests(pool, () => scheduler.nudge(), logger);
      if (opts.probe !== false && !probe) {
        probe = startProbe({
          pool,
          discovered: () => discovery?.position ?? START.position,
          nudge: () => scheduler.nudge(),
          logger,
          ...(opts.probeEveryMs === undefined ? {} : { everyMs: opts.probeEveryMs }),
        });
      }
    },
    stop() {
      stopping ??= (async () => {
        await listener?.close();
        await probe?.close();
        await scheduler.stop();
      })();
      return stopping;
    },
    // An explicit pass covers every instance, full windows too.
    tickRequests: () => requestsPass({ all: true, refill: true }),
    tickRetries,
    sweep,
    tickExpired,
    reconcile,
  };
}

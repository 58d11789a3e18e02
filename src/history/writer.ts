/**
 * The delivery history's writer: outcomes are buffered in memory and written together, one
 * multi-row `INSERT … ON CONFLICT DO UPDATE` per tick (at most `flushMs` after the first
 * outcome, or at once when `maxRows` notifications wait), on a pooled connection of its own
 * — no extra round trip in any job's path, and no job waits for it.
 *
 * Outcomes of one notification that meet in a buffer are merged (attempt lines appended in
 * order, sends summed), so a statement never touches a row twice. A failed write (Postgres
 * unavailable) is kept and tried again a second later, bounded by `maxBuffered`
 * notifications: beyond that the oldest are dropped and counted in a warning. What a crash
 * loses is the last buffer (≤ `flushMs` of outcomes); the eventstore or River stays the record.
 */
import type { Pool } from 'pg';

import type { Logger } from '../logger.js';
import { insertPending, type MergedEntry, upsertDeliveries } from './sql.js';
import { FINAL_STATES, type HistoryEntry, MAX_ATTEMPT_LOG, type PendingEntry } from './types.js';

export interface HistoryWriter {
  /** Buffers one outcome; never throws, never waits. */
  record(entry: HistoryEntry): void;
  /** Inserts `pending` rows for what the producer enqueued (one statement); logs failures, never throws. */
  pending(entries: readonly PendingEntry[]): Promise<void>;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Writes what is left and stops; later records are dropped. */
  close(): Promise<void>;
}

export interface HistoryWriterOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** @defaultValue 50 */
  readonly flushMs?: number;
  /** @defaultValue 500 */
  readonly maxRows?: number;
  /** @defaultValue 10 000 */
  readonly maxBuffered?: number;
  /** Delay before a failed write is tried again. @defaultValue 1000 */
  readonly retryMs?: number;
}

/** Rows in one statement at most. */
const MAX_STATEMENT_ROWS = 2000;

const keyOf = (e: { source: string; id: string; instanceId: string }): string => `${e.source}\u0000${e.instanceId}\u0000${e.id}`;
const isFinal = (state: HistoryEntry['state']): boolean => FINAL_STATES.includes(state);

function toMerged(e: HistoryEntry): MergedEntry {
  const { line, ...rest } = e;
  return { ...rest, lines: line ? [line] : [] };
}

/** `b` happened after `a`. A non-final state after a final one (out of order) keeps the final one. */
export function mergeEntries(a: MergedEntry, b: MergedEntry): MergedEntry {
  const stale = isFinal(a.state) && !isFinal(b.state);
  const last = stale ? a : b;
  return {
    source: a.source,
    id: a.id,
    instanceId: a.instanceId,
    orgId: b.orgId ?? a.orgId,
    userId: b.userId ?? a.userId,
    messageType: b.messageType ?? a.messageType,
    channel: b.channel ?? a.channel,
    providerKind: b.providerKind ?? a.providerKind,
    recipient: b.recipient ?? a.recipient,
    providerMessageId: b.providerMessageId ?? a.providerMessageId,
    state: last.state,
    resultClass: last.resultClass,
    errorCode: last.errorCode,
    reason: last.reason,
    finishedAt: last.finishedAt,
    latencyMs: a.latencyMs ?? b.latencyMs,
    sends: a.sends + b.sends,
    lines: [...a.lines, ...b.lines].slice(-MAX_ATTEMPT_LOG),
    otp: a.otp || b.otp,
    requestedAt: Math.min(a.requestedAt, b.requestedAt),
  };
}

export function makeHistoryWriter(opts: HistoryWriterOptions): HistoryWriter {
  const { pool } = opts;
  const logger = opts.logger.child({ component: 'history' });
  const flushMs = opts.flushMs ?? 50;
  const maxRows = opts.maxRows ?? 500;
  const maxBuffered = opts.maxBuffered ?? 10_000;
  const retryMs = opts.retryMs ?? 1000;
  let buffer = new Map<string, MergedEntry>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  let dropped = 0;
  let lastWarnAt = 0;

  function warn(obj: object, msg: string): void {
    // At most one warning per 10 s: an unavailable Postgres must not flood the log.
    if (Date.now() - lastWarnAt < 10_000) return;
    lastWarnAt = Date.now();
    logger.warn(obj, msg);
  }

  function schedule(ms: number): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void kick();
    }, ms);
    timer.unref();
  }

  /** Puts a batch that could not be written back in front of what arrived meanwhile. */
  function requeue(batch: Map<string, MergedEntry>): void {
    const merged = new Map<string, MergedEntry>();
    for (const [k, old] of batch) {
      const newer = buffer.get(k);
      merged.set(k, newer ? mergeEntries(old, newer) : old);
    }
    for (const [k, e] of buffer) if (!merged.has(k)) merged.set(k, e);
    const excess = merged.size - maxBuffered;
    if (excess > 0) {
      let n = 0;
      for (const k of merged.keys()) {
        if (n++ >= excess) break;
        merged.delete(k);
      }
      dropped += excess;
    }
    buffer = merged;
  }

  async function writeOnce(): Promise<boolean> {
    let batch = buffer;
    buffer = new Map();
    if (batch.size > MAX_STATEMENT_ROWS) {
      // Bounded statements: the rest goes in the next one, at once.
      const all = [...batch];
      batch = new Map(all.slice(0, MAX_STATEMENT_ROWS));
      buffer = new Map(all.slice(MAX_STATEMENT_ROWS));
    }
    try {
      await upsertDeliveries(pool, [...batch.values()]);
      return true;
    } catch (err) {
      requeue(batch);
      warn({ err, waiting: buffer.size, dropped }, 'could not write the delivery history; trying again');
      return false;
    }
  }

  function kick(): Promise<void> {
    if (flushing) return flushing;
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    let failed = false;
    flushing = (async () => {
      while (buffer.size > 0 && !failed) failed = !(await writeOnce());
    })().finally(() => {
      flushing = undefined;
      if (failed) schedule(retryMs);
      else if (buffer.size >= maxRows) void kick();
      else if (buffer.size > 0) schedule(flushMs);
    });
    return flushing;
  }

  return {
    record(entry) {
      if (closed) return;
      const k = keyOf(entry);
      const prev = buffer.get(k);
      const next = toMerged(entry);
      buffer.set(k, prev ? mergeEntries(prev, next) : next);
      if (flushing) return;
      if (buffer.size >= maxRows) void kick();
      else schedule(flushMs);
    },
    async pending(entries) {
      if (closed || entries.length === 0) return;
      try {
        await insertPending(pool, entries);
      } catch (err) {
        warn({ err, rows: entries.length }, 'could not record pending notifications in the delivery history');
      }
    },
    async flush() {
      await flushing;
      await kick();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flushing;
      if (buffer.size > 0) {
        const left = buffer.size;
        await writeOnce();
        if (buffer.size > 0) logger.warn({ lost: buffer.size, of: left }, 'delivery history: outcomes not written at close');
      }
      if (dropped > 0) logger.warn({ dropped }, 'delivery history: outcomes dropped while Postgres was unavailable');
    },
  };
}

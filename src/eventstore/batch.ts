/**
 * Group commit for herald's own hot write (notification.sent + the user/session sent event):
 * while a push is in flight, further pushes queue up and go together in the next
 * transaction — one commit (one WAL flush) for many jobs under load, no added delay when
 * idle. Batches never mix instances (each transaction carries its instance's pusher
 * application_name). If a batch fails (one aggregate conflicted, say), each of its pushes is
 * retried alone, so one job's conflict never fails another's.
 */
import type pg from 'pg';

import { push } from './push.js';
import type { EventCommand, ExpectedSequence } from './types.js';

export interface PushBatcher {
  push(commands: readonly EventCommand[], opts: { expected: readonly ExpectedSequence[] }): Promise<void>;
}

interface Pending {
  readonly commands: readonly EventCommand[];
  readonly expected: readonly ExpectedSequence[];
  resolve(): void;
  reject(err: unknown): void;
}

export function makePushBatcher(pool: pg.Pool, opts: { maxBatch?: number; maxInFlight?: number } = {}): PushBatcher {
  const maxBatch = opts.maxBatch ?? 100;
  const maxInFlight = opts.maxInFlight ?? 2;
  const queues = new Map<string, Pending[]>();
  let inFlight = 0;

  async function runBatch(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      await push(pool, only.commands, { expected: only.expected }).then(only.resolve, only.reject);
      return;
    }
    try {
      await push(
        pool,
        batch.flatMap((p) => p.commands),
        { expected: batch.flatMap((p) => p.expected) },
      );
      for (const p of batch) p.resolve();
    } catch {
      await Promise.all(batch.map((p) => push(pool, p.commands, { expected: p.expected }).then(p.resolve, p.reject)));
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight) {
      const next = [...queues.entries()].find(([, q]) => q.length > 0);
      if (!next) return;
      const [instanceId, queue] = next;
      const batch = queue.splice(0, maxBatch);
      if (queue.length === 0) queues.delete(instanceId);
      inFlight++;
      void runBatch(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    push(commands, { expected }) {
      const instanceId = commands[0]?.instanceId;
      if (instanceId === undefined) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(instanceId) ?? [];
        queue.push({ commands, expected, resolve, reject });
        queues.set(instanceId, queue);
        pump();
      });
    },
  };
}

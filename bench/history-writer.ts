/**
 * The delivery history's writer alone (not part of `npm run bench`): how many outcomes a
 * second one process's writer turns into rows, and with how many statements.
 * `node --import tsx bench/history-writer.ts [outcomes=20000] [perTick=200]`: records
 * `perTick` outcomes every millisecond-ish tick (as busy workers would), then waits for the
 * writer to catch up. Needs the test Postgres (127.0.0.1:5432).
 */
import { performance } from 'node:perf_hooks';

import type pg from 'pg';
import { pino } from 'pino';

import { migrate } from '../src/eventstore/schema.js';
import { type HistoryEntry, makeHistoryWriter } from '../src/history/index.js';
import { createTestDatabase } from '../test/helpers/db.js';

const total = Number(process.argv[2] ?? 20_000);
const perTick = Number(process.argv[3] ?? 200);
const logger = pino({ level: 'warn' });

const db = await createTestDatabase();
try {
  await migrate(db.pool, { logger });
  let statements = 0;
  const counted = new Proxy(db.pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: unknown[]) => {
          statements += 1;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  }) as pg.Pool;
  const writer = makeHistoryWriter({ pool: counted, logger });
  const now = Date.now();
  const entry = (i: number): HistoryEntry => ({
    source: 'events',
    id: `n${i}`,
    instanceId: `i${i % 50}`,
    orgId: 'o',
    userId: `u${i}`,
    messageType: 'InitCode',
    channel: 'email',
    providerKind: 'smtp',
    recipient: 'a***@example.com',
    state: 'sent',
    line: { attempt: 1, startedAt: now, finishedAt: now + 80, providerKind: 'smtp', resultClass: 'accepted', errorCode: null },
    sends: 1,
    resultClass: 'accepted',
    otp: false,
    requestedAt: now - 100,
    finishedAt: now + 80,
    latencyMs: 180,
  });
  const started = performance.now();
  for (let i = 0; i < total; i += perTick) {
    for (let j = i; j < Math.min(total, i + perTick); j++) writer.record(entry(j));
    await new Promise((r) => setImmediate(r));
  }
  await writer.close();
  const ms = performance.now() - started;
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM herald.deliveries');
  console.log(
    JSON.stringify({
      outcomes: total,
      rows: rows[0]?.n,
      statements,
      ms: Math.round(ms),
      perSecond: Math.round((total / ms) * 1000),
      outcomesPerStatement: Math.round(total / statements),
    }),
  );
} finally {
  await db.drop();
}

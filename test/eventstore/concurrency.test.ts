import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isConcurrency } from '../../src/errors.js';
import { makePool, migrate, push } from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { command, installPushFunction } from './support.js';

const WRITERS = 10;
const AGGREGATES = 10;
const EVENTS_PER_WRITER = 100;

describe.each([
  { name: 'SQL push function', withFunction: true },
  { name: 'Go-path insert', withFunction: false },
])('1 000 events from 10 concurrent writers via $name', ({ withFunction }) => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    if (withFunction) await installPushFunction(db.pool);
    // Silent logger: DROP DATABASE ... WITH (FORCE) may still see a closing connection.
    pool = makePool(db.url, { applicationName: 'herald-test', max: WRITERS, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('gives every aggregate contiguous sequences 1..100 and reports conflicts as ConcurrencyError', async () => {
    const otherErrors: unknown[] = [];
    let conflicts = 0;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < EVENTS_PER_WRITER; i++) {
        // Each writer hits every aggregate 10 times; writers w, w+3, w+6, w+9 always collide.
        const aggregateId = `agg-${(i + (w % 3)) % AGGREGATES}`;
        for (;;) {
          try {
            await push(pool, [command({ aggregateId, owner: 'org', payload: { writer: w, i } })]);
            break;
          } catch (err) {
            if (!isConcurrency(err)) {
              otherErrors.push(err);
              return;
            }
            conflicts++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    expect(otherErrors).toEqual([]);
    const { rows } = await db.pool.query<{ aggregate_id: string; n: number; min: number; max: number; distinct: number }>(
      `SELECT aggregate_id, count(*)::INT AS n, min("sequence")::INT AS min, max("sequence")::INT AS max,
              count(DISTINCT "sequence")::INT AS distinct
       FROM eventstore.events2 GROUP BY aggregate_id ORDER BY aggregate_id`,
    );
    expect(rows).toHaveLength(AGGREGATES);
    for (const r of rows) expect(r).toMatchObject({ n: 100, min: 1, max: 100, distinct: 100 });
    // Each (writer, i) was stored exactly once.
    const dup = await db.pool.query(`SELECT payload FROM eventstore.events2 GROUP BY payload HAVING count(*) > 1`);
    expect(dup.rows).toEqual([]);
    // Three or four writers share an aggregate at every step, so conflicts must have happened
    // (and every one of them surfaced as ConcurrencyError: otherErrors is empty).
    expect(conflicts).toBeGreaterThan(0);
  });
});

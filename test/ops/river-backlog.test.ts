/**
 * `herald_backlog` in River mode (HERALD_SOURCE=river): River's ready rows of ZITADEL's
 * `notification` queue (available, or retryable/scheduled and due) and the rows herald holds
 * (running, a notification-river job live in Redis) — each ready, not-started notification
 * counted once, whether it is still only a row or waits in the River queue. Real Postgres
 * with River's schema (migrations 1–6) and rows inserted as ZITADEL inserts them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { BACKLOG_COUNT_CAP, RIVER_UNFINISHED_SQL, selectRiverUnfinished } from '../../src/ops/backlog.js';
import { RIVER_KIND, RIVER_QUEUE } from '../../src/river/schema.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { createRiverSchema, insertRiverJob, userArgs } from '../helpers/river.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, newId, seedUser } from '../helpers/zitadel.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
  await createRiverSchema(h.db.pool);
});
afterAll(async () => {
  await h.close();
});

async function setState(id: string, state: string, scheduledInMs = 0): Promise<void> {
  await h.db.pool.query(
    `UPDATE queue.river_job
        SET state = $2::queue.river_job_state, scheduled_at = now() + $3 * interval '1 millisecond',
            attempt = CASE WHEN $2 IN ('running', 'retryable', 'completed') THEN 1 ELSE attempt END,
            finalized_at = CASE WHEN $2 = 'completed' THEN now() END
      WHERE id = $1`,
    [id, state, scheduledInMs],
  );
}

describe('herald_backlog in River mode', () => {
  it('counts ready and claimed rows of the notification queue and kind, capped', async () => {
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const args = userArgs(user, { code: encryptCode('123456') });
    const row = () => insertRiverJob(h.db.pool, args);
    await row();
    await row(); // two available
    await setState(await row(), 'retryable', -1000); // due: the producer makes it available
    await setState(await row(), 'retryable', 60_000); // not due: not backlog
    await setState(await row(), 'scheduled', -1000); // due
    await setState(await row(), 'scheduled', 60_000); // not due
    await setState(await row(), 'running'); // claimed by herald
    await setState(await row(), 'completed'); // finished
    await insertRiverJob(h.db.pool, args, { queue: 'other' }); // another queue
    await insertRiverJob(h.db.pool, args, { kind: 'other_kind' }); // another kind
    expect(await selectRiverUnfinished(h.db.pool)).toBe(5);
    expect(await selectRiverUnfinished(h.db.pool, 3)).toBe(3);
  });

  it("reads River's fetching index, not every row of the kind, on a table full of finished rows", async () => {
    // River keeps finished rows for a day: most of a busy table is completed.
    await h.db.pool.query(
      `INSERT INTO queue.river_job (args, kind, max_attempts, queue, state, attempt, finalized_at)
       SELECT '{}'::jsonb, 'notification_request', 3, 'notification', 'completed', 1, now() FROM generate_series(1, 20000)`,
    );
    await h.db.pool.query('ANALYZE queue.river_job');
    const { rows } = await h.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${RIVER_UNFINISHED_SQL}`, [RIVER_QUEUE, RIVER_KIND, BACKLOG_COUNT_CAP]);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('river_job_prioritized_fetching_index');
    expect(plan).not.toContain('Seq Scan');
    expect(await selectRiverUnfinished(h.db.pool)).toBe(5);
  });

  it('reports each River notification once in /metrics, before and after herald claims it', async () => {
    await h.db.pool.query('DELETE FROM queue.river_job');
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    for (let i = 0; i < 3; i++) await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode('123456') }));
    // The producer only (no worker): claimed rows wait in the River queue.
    const herald: Herald = await h.start(h.config({ HERALD_SOURCE: 'river', HERALD_HTTP_PORT: '0' }), ['producer'], {
      producerLoops: false,
      http: { host: '127.0.0.1' },
    });
    const backlog = async () => {
      const text = await (await fetch(`http://127.0.0.1:${herald.http?.port}/metrics`)).text();
      return Number(/^herald_backlog (\d+)/m.exec(text)?.[1]);
    };
    expect(await backlog()).toBe(3);
    expect(await herald.river?.producer?.tick()).toBe(3);
    const { rows } = await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM queue.river_job WHERE state = 'running'`);
    expect(rows[0]?.n).toBe(3);
    // Three running rows, three waiting River jobs: still 3, not 6 and not 0.
    expect(await backlog()).toBe(3);
    // Finished rows leave the backlog once their jobs are gone.
    await h.db.pool.query(`UPDATE queue.river_job SET state = 'completed', finalized_at = now()`);
    await herald.river?.queue.obliterate({ force: true });
    await waitUntil(async () => (await backlog()) === 0, { what: 'backlog 0' });
    await herald.stop();
  });
});

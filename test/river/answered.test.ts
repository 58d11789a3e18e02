/**
 * herald's record of the River rows it completed (herald.river_answered), which the duplicate
 * check probes instead of River's table: written with the completion, found by the args'
 * hash whatever their key order, pruned by age.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { alreadyAnswered, pruneAnswered, recordAnsweredSql } from '../../src/river/handled.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { createRiverSchema, insertRiverJob, userArgs } from '../helpers/river.js';
import { encryptCode, newId, seedUser } from '../helpers/zitadel.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
  await createRiverSchema(h.db.pool);
});
afterAll(() => h.close());

async function argsText(id: string): Promise<string> {
  const { rows } = await h.db.pool.query<{ t: string }>('SELECT args::text AS t FROM queue.river_job WHERE id = $1', [id]);
  return rows[0]!.t;
}

it('finds a completed twin by its args, also when River stored them in another key order', async () => {
  const user = await seedUser(h.db.pool, { instanceId: newId() });
  const args = userArgs(user, { code: encryptCode('123456') });
  const first = await insertRiverJob(h.db.pool, args);
  // The twin's args as another writer would spell them: the same keys, reversed.
  const reversed: unknown = Object.fromEntries(Object.entries(args).reverse());
  const twin = await insertRiverJob(h.db.pool, reversed);
  const query = (jobId: string, text: string) =>
    alreadyAnswered(h.db.pool, {
      jobId,
      argsText: text,
      hasCode: true,
      instanceId: user.instanceId,
      aggregateType: 'user',
      aggregateId: user.userId,
      triggerType: 'user.human.initialization.code.added',
    });
  expect(await query(twin, await argsText(twin))).toBe(false);
  await h.db.pool.query(`UPDATE queue.river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, [first]);
  await h.db.pool.query(recordAnsweredSql, [first]);
  expect(await query(twin, await argsText(twin))).toBe(true);
  // A row is never its own twin.
  expect(await query(first, await argsText(first))).toBe(false);
});

it('prunes answers older than the given age only', async () => {
  await h.db.pool.query(`INSERT INTO herald.river_answered (args_hash, job_id, job_created_at, completed_at) VALUES
      ('\\x01', 9001, now() - interval '3 hours', now() - interval '3 hours'),
      ('\\x02', 9002, now(), now())`);
  expect(await pruneAnswered(h.db.pool, 2 * 60 * 60_000)).toBe(1);
  const { rows } = await h.db.pool.query<{ job_id: string }>(`SELECT job_id FROM herald.river_answered WHERE job_id IN (9001, 9002)`);
  expect(rows.map((r) => r.job_id)).toEqual(['9002']);
});

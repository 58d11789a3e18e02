/** The backlog figure workers are scaled on: unfinished at the sources, minus live jobs, plus waiting jobs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backlogOf, selectUnfinishedNotifications } from '../../src/ops/backlog.js';
import { seedRequests } from '../faults/helpers/fleet.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { newId } from '../helpers/zitadel.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h.close();
});

describe('herald_backlog', () => {
  it('counts each ready, not-started notification once, wherever it is', () => {
    // Nothing in Redis yet: all of it is still at the source.
    expect(backlogOf(2500, {})).toBe(2500);
    // A window of 1 000 in Redis (900 waiting, 100 active): 1 500 at the source + 900 waiting.
    expect(backlogOf(2500, { prioritized: 900, active: 100 })).toBe(2400);
    // Retries not due and jobs in flight are not backlog.
    expect(backlogOf(30, { delayed: 10, active: 20 })).toBe(0);
    // Scrapes are not atomic: never negative.
    expect(backlogOf(0, { waiting: 5, active: 3 })).toBe(5);
  });

  it('reads unfinished notifications inside MaxTtl from the eventstore, capped', async () => {
    const instanceId = newId();
    const seeded = await seedRequests(h.db.pool, instanceId, 12, 'b');
    expect(await selectUnfinishedNotifications(h.db.pool, 5 * 60_000)).toBe(12);
    // Two finish (sent, canceled), one waits for a retry: 10 unfinished.
    const [a, b, c] = seeded;
    await insertZitadelEvents(h.db.pool, [
      { instanceId, aggregateType: 'notification', aggregateId: a!.aggregateId, eventType: 'notification.sent', owner: 'o', payload: {} },
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: b!.aggregateId,
        eventType: 'notification.canceled',
        owner: 'o',
        payload: { error: 'x' },
      },
      { instanceId, aggregateType: 'notification', aggregateId: c!.aggregateId, eventType: 'notification.retry.requested', owner: 'o', payload: {} },
    ]);
    expect(await selectUnfinishedNotifications(h.db.pool, 5 * 60_000)).toBe(10);
    expect(await selectUnfinishedNotifications(h.db.pool, 5 * 60_000, 4)).toBe(4);
    // Outside MaxTtl nothing counts (ZITADEL would not send them either).
    await h.db.pool.query(`UPDATE eventstore.events2 SET "position" = "position" - 3600 WHERE instance_id = $1`, [instanceId]);
    expect(await selectUnfinishedNotifications(h.db.pool, 5 * 60_000)).toBe(0);
  });
});

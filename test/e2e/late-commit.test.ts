/**
 * A request whose transaction commits after a later one (lower position, visible later) must
 * still be delivered by the producer's tail alone (eventstore.md, "The ordering problem").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { finishedAs, newId, requestFor, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink;
let herald: Herald;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  herald = await h.start(h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com' }));
});
afterAll(async () => {
  await herald.stop();
  await sink.close();
  await h.close();
});

it('delivers an event that commits late with a lower position, without the sweep', async () => {
  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId });
  const early = newId();
  const late = newId();

  // Transaction A takes its position first but stays open, like a slow ZITADEL pusher.
  const a = await h.db.pool.connect();
  try {
    await a.query('BEGIN');
    await a.query(`SET LOCAL application_name = 'zitadel_es_pusher_${instanceId}'`);
    await a.query(
      `INSERT INTO eventstore.events2 (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload, "sequence", created_at, "position", in_tx_order)
       VALUES ($1, $2, 'notification', $3, 1, 'NOTIFICATION', 'notification.requested', $4, 1, statement_timestamp(), EXTRACT(EPOCH FROM clock_timestamp()), 0)`,
      [instanceId, user.orgId, early, JSON.stringify({ request: requestFor(user, {}, 'EARLY1') })],
    );
    // B is written and committed after A took its position.
    await insertZitadelEvents(h.db.pool, [
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: late,
        eventType: 'notification.requested',
        owner: user.orgId,
        payload: { request: requestFor(user, {}, 'LATE22') },
      },
    ]);
    const positions = await h.db.pool.query<{ aggregate_id: string }>(
      `SELECT aggregate_id FROM eventstore.events2 WHERE aggregate_type = 'notification' ORDER BY "position"`,
    );
    expect(positions.rows.map((r) => r.aggregate_id)).toEqual([late]); // A is invisible until it commits

    // While A is open, the tail must not step past A's position.
    await herald.producer?.tickRequests();
    await a.query('COMMIT');
  } finally {
    a.release();
  }
  await herald.producer?.tickRequests();
  const done = await waitUntil(async () => {
    const [x, y] = [await finishedAs(h.db.pool, instanceId, early), await finishedAs(h.db.pool, instanceId, late)];
    return x && y ? [x, y] : undefined;
  });
  expect(done).toEqual(['notification.sent', 'notification.sent']);
  expect(sink.messages).toHaveLength(2);
});

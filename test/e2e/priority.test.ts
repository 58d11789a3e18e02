/**
 * Priority end to end: 2 000 InviteUser mails are queued, then one OTP request
 * (VerifyEmailOTP, isOTP) is written last. With one worker (Workers=1), the OTP must be
 * among the first few deliveries: the producer gives isOTP requests BullMQ priority 1,
 * everything else 10, so a flood of invitations cannot delay a login code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Outcome } from '../../src/worker/process.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { waitUntil } from '../helpers/wait.js';
import { eventsOf, finishedAs, newId, requestFor, seedUser } from '../helpers/zitadel.js';

const INVITATIONS = 2000;

let h: Harness;
let outbox: string;

beforeAll(async () => {
  h = await makeHarness();
  outbox = await mkdtemp(path.join(tmpdir(), 'herald-priority-'));
});
afterAll(async () => {
  await h.close();
  await rm(outbox, { recursive: true, force: true });
});

/** One multi-row INSERT, rows shaped as ZITADEL 2.66 writes them (sequence 1, clock positions). */
async function insertRequests(instanceId: string, owner: string, requests: readonly { id: string; request: unknown }[]) {
  await h.db.pool.query(
    `INSERT INTO eventstore.events2
       (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type, payload,
        "sequence", created_at, "position", in_tx_order)
     SELECT $1, $2, 'notification', t.id, 1, 'NOTIFICATION', 'notification.requested', t.payload::JSONB,
            1, statement_timestamp(), EXTRACT(EPOCH FROM clock_timestamp()), (t.ord - 1)::INTEGER
       FROM unnest($3::TEXT[], $4::TEXT[]) WITH ORDINALITY AS t(id, payload, ord)`,
    [instanceId, owner, requests.map((r) => r.id), requests.map((r) => JSON.stringify({ request: r.request }))],
  );
}

it('delivers an OTP enqueued after 2 000 invitations within the first few sends', async () => {
  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId, email: 'flood@example.com' });
  const invitations = Array.from({ length: INVITATIONS }, (_, i) => ({
    id: `inv${i}-${newId()}`,
    request: requestFor(
      user,
      {
        eventType: 'user.human.invite.code.added',
        messageType: 'InviteUser',
        unverifiedNotificationChannel: true,
        args: { applicationName: 'ACME' },
      },
      `INV${i}`,
    ),
  }));
  await insertRequests(instanceId, user.orgId, invitations);
  const otpId = newId();
  await insertZitadelEvents(h.db.pool, [
    {
      instanceId,
      aggregateType: 'notification',
      aggregateId: otpId,
      eventType: 'notification.requested',
      owner: user.orgId,
      payload: {
        request: requestFor(
          user,
          {
            eventType: 'user.human.mfa.otp.email.code.added',
            messageType: 'VerifyEmailOTP',
            isOTP: true,
            urlTemplate: undefined,
            args: { origin: 'https://auth.example.com', domain: 'auth.example.com', expiry: 300_000_000_000 },
          },
          '271828',
        ),
      },
    },
  ]);

  const cfg = h.config({
    HERALD_EMAIL_PROVIDER: 'outbox',
    HERALD_OUTBOX_DIR: outbox,
    ZITADEL_NOTIFICATIONS_WORKERS: '1',
    ZITADEL_NOTIFICATIONS_RETRYWORKERS: '0',
    ZITADEL_NOTIFICATIONS_BULKLIMIT: '1000',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
  });

  // The producer runs as in production (its loops on). Before any worker runs, it is driven
  // until a pass adds no job: whatever it is willing to hold in Redis is queued.
  const producer = await h.start(cfg, ['producer'], { producerLoops: true });
  const inRedis = async () => {
    const c = await producer.queues.requests.getJobCounts('prioritized', 'waiting');
    return (c.prioritized ?? 0) + (c.waiting ?? 0);
  };
  let previous = -1;
  await waitUntil(
    async () => {
      await producer.producer?.tickRequests();
      const now = await inRedis();
      const settled = now > 0 && now === previous;
      previous = now;
      return settled;
    },
    { what: 'the producer to settle' },
  );
  const queued = previous;

  const sends: { id: string; messageType: string }[] = [];
  const worker = await h.start(cfg, ['worker'], {
    producerLoops: false,
    onOutcome: (outcome: Outcome, job) => {
      if (outcome.kind === 'sent') sends.push({ id: job.data.aggregateId, messageType: outcome.messageType });
    },
  });
  try {
    await waitUntil(() => sends.some((s) => s.id === otpId), { what: 'the OTP delivery', timeoutMs: 40_000 });
  } finally {
    await worker.stop();
  }
  const position = sends.findIndex((s) => s.id === otpId) + 1;
  console.log(
    `priority: the OTP request, written after ${INVITATIONS} invitations, was send #${position} ` +
      `(${queued} jobs in Redis when the worker started; ` +
      `first sends: ${sends
        .slice(0, 5)
        .map((s) => s.messageType)
        .join(', ')})`,
  );
  expect(position).toBeGreaterThan(0);
  expect(position).toBeLessThanOrEqual(5);
  expect(await finishedAs(h.db.pool, instanceId, otpId)).toBe('notification.sent');
  expect((await eventsOf(h.db.pool, instanceId, user.userId)).at(-1)?.event_type).toMatch(
    /^user\.human\.(mfa\.otp\.email\.code|invite\.code)\.sent$/,
  );
}, 55_000);

/**
 * Issue #15 (d): 300 OTPs of one instance are ahead in the queue when another instance's
 * OTP arrives; the latter is delivered within 2 s. Fair OTP priority (each instance's first
 * OTP in an enqueue gets priority 1, a flood's later ones 2…9) and the per-instance share of
 * the worker slots (HERALD_INSTANCE_CONCURRENCY) make that so. A slow SMTP sink (50 ms per
 * mail, 4 workers) keeps the flood in the queue for several seconds.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Outcome } from '../../src/worker/process.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { newId, requestFor, requestNotification, seedUser } from '../helpers/zitadel.js';

const FLOOD = 300;

let h: Harness;
let sink: SmtpSink;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink({ acceptDelayMs: () => 50 });
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

const otp = {
  eventType: 'user.human.mfa.otp.email.code.added',
  messageType: 'VerifyEmailOTP',
  isOTP: true,
  urlTemplate: undefined,
  args: { origin: 'https://auth.example.com', domain: 'auth.example.com', expiry: 300_000_000_000 },
};

async function insertFlood(instanceId: string, owner: string, requests: readonly { id: string; request: unknown }[]) {
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

it("delivers another instance's OTP within 2 s while 300 OTPs of one instance are queued ahead of it", async () => {
  const busy = newId();
  const quiet = newId();
  const flooder = await seedUser(h.db.pool, { instanceId: busy, email: 'flooder@example.com' });
  const victim = await seedUser(h.db.pool, { instanceId: quiet, email: 'quiet@example.com' });
  await insertFlood(
    busy,
    flooder.orgId,
    Array.from({ length: FLOOD }, (_, i) => ({ id: `otp${i}-${newId()}`, request: requestFor(flooder, otp, String(100000 + i)) })),
  );

  const sentAt = new Map<string, number>();
  const cfg = h.config({
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    ZITADEL_NOTIFICATIONS_WORKERS: '4',
    ZITADEL_NOTIFICATIONS_BULKLIMIT: '1000',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    // The flood goes to one address on purpose: this test is about priority, not the guard.
    HERALD_RECIPIENT_LIMIT: '0',
  });
  await h.start(cfg, ['all'], {
    producerLoops: true,
    onOutcome: (outcome: Outcome, job) => {
      if (outcome.kind === 'sent') sentAt.set(job.data.aggregateId, Date.now());
    },
  });
  // The flood is in the queue and being worked on.
  await waitUntil(() => sentAt.size >= 20, { what: 'the flood to start', timeoutMs: 20_000 });

  const requested = Date.now();
  const id = await requestNotification(h.db.pool, victim, otp, { code: '424242' });
  const delivered = await waitUntil(() => sentAt.get(id), { what: "the quiet instance's OTP", timeoutMs: 20_000 });
  const floodSentBefore = [...sentAt.values()].filter((t) => t <= delivered).length;
  expect(floodSentBefore, 'the flood was still queued').toBeLessThan(FLOOD);
  expect(delivered - requested).toBeLessThan(2000);
}, 60_000);

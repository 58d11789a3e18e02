/**
 * Issue #15 (b): a shared SNS that throttles above 5 requests/s (a token bucket of 5, as AWS
 * meters) while 100 SMS are due. With HERALD_SNS_RATE=5/s herald's rate lane (Redis) paces
 * every worker: all 100 are delivered, none canceled, at most 1.05 SNS requests per delivered
 * SMS, and once settled the delivery rate is within 10 % of the limit. Real SNSClient against
 * a local endpoint speaking SNS's query protocol; herald in-process.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { makeSnsChannel } from '../../src/channels/sns.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { type SnsEndpoint, startSnsEndpoint, THROTTLING } from '../helpers/sns-endpoint.js';
import { waitUntil } from '../helpers/wait.js';
import { finishedAs, newId, requestFor, seedUser } from '../helpers/zitadel.js';

const SMS = 100;
const LIMIT = 5;

let h: Harness;
let endpoint: SnsEndpoint;
const accepted: number[] = [];
let throttled = 0;

/** SNS's meter: a bucket of LIMIT tokens refilled at LIMIT per second. */
function makeMeter() {
  let tokens = LIMIT;
  let at = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(LIMIT, tokens + ((now - at) * LIMIT) / 1000);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

beforeAll(async () => {
  h = await makeHarness();
  const meter = makeMeter();
  endpoint = await startSnsEndpoint({
    failWith: () => {
      if (!meter()) {
        throttled++;
        return THROTTLING;
      }
      accepted.push(Date.now());
      return undefined;
    },
  });
});
afterAll(async () => {
  await h.close();
  await endpoint.close();
});

it('delivers 100 due SMS through a throttling SNS at its rate without canceling or burning attempts', async () => {
  const instanceId = newId();
  const users = [];
  for (let i = 0; i < SMS; i++) users.push(await seedUser(h.db.pool, { instanceId, phone: `+4915100${String(i).padStart(5, '0')}` }));
  const events: ZitadelEvent[] = users.map((user, i) => ({
    instanceId,
    aggregateType: 'notification',
    aggregateId: `sms${i}-${newId()}`,
    eventType: 'notification.requested',
    owner: user.orgId,
    payload: {
      request: requestFor(
        user,
        { eventType: 'user.human.phone.code.added', messageType: 'VerifyPhone', notificationType: 1, urlTemplate: undefined, args: {} },
        String(200000 + i),
      ),
    },
  }));
  const cfg = h.config({
    HERALD_SMS_PROVIDER: 'sns',
    HERALD_SNS_RATE: `${LIMIT}/1s`,
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    ZITADEL_NOTIFICATIONS_BULKLIMIT: '200',
  });
  await h.start(cfg, ['all'], {
    producerLoops: true,
    channels: {
      defaults: () => {
        const sms = makeSnsChannel({
          logger: silent,
          clientConfig: { endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } },
        });
        return { email: undefined, sms, close: () => sms.close() };
      },
    },
  });
  await insertZitadelEvents(h.db.pool, events);

  const outcomes = await waitUntil(
    async () => {
      const all = await Promise.all(events.map((e) => finishedAs(h.db.pool, instanceId, e.aggregateId)));
      return all.every((o) => o !== undefined) && all;
    },
    { what: '100 SMS finished', timeoutMs: 90_000, intervalMs: 500 },
  );
  expect(outcomes.filter((o) => o === 'notification.sent').length).toBe(SMS);
  expect(accepted.length).toBe(SMS);
  // Attempts per delivered SMS: every request SNS saw, over the SMS delivered.
  expect(endpoint.requests.length / SMS).toBeLessThanOrEqual(1.05);
  // Settled: from the 20th accepted publish to the last.
  const settled = accepted.slice(19);
  const rate = ((settled.length - 1) * 1000) / (settled.at(-1)! - settled[0]!);
  expect(rate).toBeGreaterThan(LIMIT * 0.9);
  expect(rate).toBeLessThan(LIMIT * 1.1);
  expect(throttled).toBeLessThanOrEqual(5);
}, 120_000);

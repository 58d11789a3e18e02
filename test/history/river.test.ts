/**
 * The delivery history in River mode: rows keyed by the River job id (source `river`), a
 * pending row for every claimed job, sent / retrying / canceled (River's discarded and
 * cancelled) with the sends the SMTP sink saw.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { createRiverSchema, insertRiverJob, riverRow, scheduleRetriesNow, userArgs } from '../helpers/river.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, newId, seedUser } from '../helpers/zitadel.js';
import { allRowsText, deliveryRow, waitForRow } from './support.js';

let h: Harness;
let sink: SmtpSink | undefined;
let herald: Herald | undefined;

beforeAll(async () => {
  h = await makeHarness();
  await createRiverSchema(h.db.pool);
});
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
  await sink?.close();
  sink = undefined;
});
afterAll(async () => {
  await h.close();
});

describe('delivery history (River mode)', () => {
  it('records sent, discarded-after-retries and cancelled rows by River job id', async () => {
    sink = await startSmtpSink({
      failWith: (_n, mail) => (mail.envelope.to[0] === 'river-flaky@example.com' ? { code: 451, message: 'later' } : undefined),
    });
    herald = await h.start(h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', HERALD_SOURCE: 'river' }));
    const good = await seedUser(h.db.pool, { instanceId: newId(), email: 'river-good@example.com' });
    const flaky = await seedUser(h.db.pool, { instanceId: newId(), email: 'river-flaky@example.com' });
    const ids = {
      good: await insertRiverJob(h.db.pool, userArgs(good, { code: encryptCode('RV1X9Q') })),
      flaky: await insertRiverJob(h.db.pool, userArgs(flaky, { code: encryptCode('RV2X9Q') }), { maxAttempts: 2 }),
      malformed: await insertRiverJob(h.db.pool, { ...userArgs(good), messageType: 'NoSuchType' }),
    };
    await herald.river?.producer?.tick();

    const sent = await waitForRow(h.db.pool, ids.good);
    expect(sent).toMatchObject({
      source: 'river',
      instance_id: good.instanceId,
      user_id: good.userId,
      org_id: good.orgId,
      message_type: 'InitCode',
      channel: 'email',
      provider_kind: 'smtp',
      recipient: 'r***@example.com',
      state: 'sent',
      attempts: 1,
      result_class: 'accepted',
    });
    expect(sent.latency_ms).toBeGreaterThanOrEqual(0);

    const malformed = await waitForRow(h.db.pool, ids.malformed);
    expect(malformed).toMatchObject({ state: 'canceled', attempts: 0, result_class: 'not-sent', error_code: null });
    expect(malformed.reason).toMatch(/messageType/);

    const retrying = await waitForRow(h.db.pool, ids.flaky, ['retrying']);
    expect(retrying).toMatchObject({ attempts: 1, result_class: 'failed', error_code: 'SMTP_TEMPORARY' });
    await waitUntil(async () => ['available', 'retryable'].includes((await riverRow(h.db.pool, ids.flaky)).state));
    await scheduleRetriesNow(h.db.pool);
    await herald.river?.producer?.tick();
    const discarded = await waitForRow(h.db.pool, ids.flaky);
    expect({ state: discarded.state, attempts: discarded.attempts, lines: discarded.attempt_log.map((l) => [l.attempt, l.resultClass]) }).toEqual({
      state: 'canceled',
      attempts: sink.attempts - 1,
      lines: [
        [1, 'failed'],
        [2, 'failed'],
      ],
    });
    expect((await riverRow(h.db.pool, ids.flaky)).state).toBe('discarded');
    const text = await allRowsText(h.db.pool);
    for (const secret of ['river-good@example.com', 'river-flaky@example.com', 'RV1X9Q', 'RV2X9Q']) expect(text).not.toContain(secret);
  });

  it('inserts a pending row with the args’ ids for every claimed job', async () => {
    // The producer alone: the claimed rows wait for a worker.
    herald = await h.start(h.config({ HERALD_SOURCE: 'river' }), ['producer']);
    const u = await seedUser(h.db.pool, { instanceId: newId() });
    const id = await insertRiverJob(h.db.pool, userArgs(u, { messageType: 'VerifySMSOTP', notificationType: 1, isOTP: true }));
    await herald.river?.producer?.tick();
    expect(await deliveryRow(h.db.pool, id)).toMatchObject({
      source: 'river',
      state: 'pending',
      instance_id: u.instanceId,
      user_id: u.userId,
      org_id: u.orgId,
      message_type: 'VerifySMSOTP',
      channel: 'sms',
      attempts: 0,
    });
  });
});

/**
 * The event-time figures (#16): herald_delivery_latency_seconds from the ZITADEL event's
 * created_at, herald_oldest_pending_seconds per source, herald_provider_results_total by
 * provider kind and result class, herald_attempts_used — in event mode and in River mode —
 * and one info line per outcome without a code or a full address. Real Postgres, Redis,
 * SMTP sink; the ops server on port 0.
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type Herald, startHerald } from '../../src/app.js';
import { loggerOptions } from '../../src/logger.js';
import { channelOf, providerKindOf } from '../../src/ops/metrics.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { createRiverSchema, insertRiverJob, riverRow, userArgs } from '../helpers/river.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink;
let herald: Herald | undefined;
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];

beforeAll(async () => {
  h = await makeHarness();
  await createRiverSchema(h.db.pool);
  sink = await startSmtpSink({
    failWith: (_n, mail) => (mail.envelope.to[0] === 'bounce@example.com' ? { code: 550, message: 'no such user' } : undefined),
  });
});
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
  lines.length = 0;
  raw.length = 0;
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

async function start(env: Record<string, string> = {}): Promise<Herald> {
  const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', HERALD_HTTP_PORT: '0', ...env });
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString());
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  herald = await startHerald(cfg, ['all'], pino(loggerOptions({ logLevel: 'info' }), out), { producerLoops: false, http: { host: '127.0.0.1' } });
  return herald;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${herald!.http!.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const outcomeLines = (): Record<string, unknown>[] => lines.filter((l) => l.component === 'outcome');

describe('labels', () => {
  it('provider kinds are a bounded set; the channel follows the provider or the recipient', () => {
    expect(['smtp', 'sns', 'twilio', 'webhook', 'outbox', 'none', 'http-email', 'http-sms', 'x'.repeat(300)].map(providerKindOf)).toEqual([
      'smtp',
      'sns',
      'twilio',
      'webhook',
      'outbox',
      'none',
      'http',
      'http',
      'other',
    ]);
    const report = {
      requestedAt: 0,
      startedAt: 0,
      finishedAt: 0,
      resultClass: 'accepted',
      errorCode: undefined,
      providerMessageId: undefined,
      otp: false,
    } as const;
    expect(channelOf({ ...report, providerKind: 'twilio', recipient: undefined })).toBe('sms');
    expect(channelOf({ ...report, providerKind: 'webhook', recipient: 'a***@example.com' })).toBe('email');
    expect(channelOf({ ...report, providerKind: 'outbox', recipient: '+41******19' })).toBe('sms');
    expect(channelOf({ ...report, providerKind: 'none', recipient: undefined })).toBe('unknown');
  });
});

describe('event mode', () => {
  it('observes latency from the request, results by class, attempts used, the oldest pending age, and logs each outcome', async () => {
    const herald = await start();
    const instanceId = newId();
    const ok = await seedUser(h.db.pool, { instanceId, email: 'latency-ok@example.com' });
    const bounce = await seedUser(h.db.pool, { instanceId, email: 'bounce@example.com' });
    // Written by ZITADEL 40 s ago (inside MaxTtl): the latency counts from then.
    const old = await requestNotification(h.db.pool, ok, {}, { code: 'EVCODE1', createdAt: new Date(Date.now() - 40_000) });
    const otp = await requestNotification(
      h.db.pool,
      ok,
      { isOTP: true, messageType: 'VerifyEmailOTP', eventType: 'user.human.mfa.otp.email.code.added' },
      { code: 'EVCODE2' },
    );
    const rejected = await requestNotification(h.db.pool, bounce, {}, { code: 'EVCODE3' });

    const before = await scrape();
    expect(value(before, 'herald_oldest_pending_seconds{source="events"}')).toBeGreaterThanOrEqual(39);
    expect(before).not.toMatch(/^herald_oldest_pending_seconds\{source="river"\}/m);

    await herald.producer?.tickRequests();
    for (const id of [old, otp, rejected]) await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
    await herald.metrics?.settled();
    const text = await scrape();

    expect(value(text, 'herald_oldest_pending_seconds{source="events"}')).toBe(0);
    expect(value(text, 'herald_provider_results_total{provider_kind="smtp",class="accepted"}')).toBe(2);
    expect(value(text, 'herald_provider_results_total{provider_kind="smtp",class="rejected"}')).toBe(1);
    expect(value(text, 'herald_delivery_latency_seconds_count{channel="email",provider_kind="smtp",otp="false"}')).toBe(1);
    expect(value(text, 'herald_delivery_latency_seconds_count{channel="email",provider_kind="smtp",otp="true"}')).toBe(1);
    // The 40 s old request lands above the 30 s bucket: latency is event time, not job time.
    expect(value(text, 'herald_delivery_latency_seconds_bucket{le="30",channel="email",provider_kind="smtp",otp="false"}')).toBe(0);
    expect(value(text, 'herald_delivery_latency_seconds_bucket{le="60",channel="email",provider_kind="smtp",otp="false"}')).toBe(1);
    expect(value(text, 'herald_attempts_used_count{outcome="sent"}')).toBe(2);
    expect(value(text, 'herald_attempts_used_bucket{le="1",outcome="sent"}')).toBe(2);
    expect(value(text, 'herald_attempts_used_count{outcome="canceled"}')).toBe(1);
    // The tenants' figures exist (with no series yet) so that the alert rules name real metrics.
    expect(text).toContain('# TYPE herald_provider_throttled_total counter');
    expect(text).toContain('# TYPE herald_provider_breaker_open gauge');
    for (const secret of ['EVCODE1', 'EVCODE2', 'EVCODE3', '@example.com', instanceId]) expect(text).not.toContain(secret);

    const logged = outcomeLines();
    expect(logged.map((l) => l.msg).sort()).toEqual(['notification canceled', 'notification sent', 'notification sent']);
    const sent = logged.find((l) => l.notificationId === old);
    expect(sent).toMatchObject({
      level: 30,
      instanceId,
      notificationId: old,
      channel: 'email',
      providerKind: 'smtp',
      resultClass: 'accepted',
      attempt: 1,
      maskedRecipient: 'l***@example.com',
    });
    expect(sent?.latencyMs).toBeGreaterThanOrEqual(39_000);
    expect(logged.find((l) => l.notificationId === rejected)).toMatchObject({
      resultClass: 'rejected',
      providerKind: 'smtp',
      maskedRecipient: 'b***@example.com',
    });
    // One line per outcome: pipeline.ts no longer logs its own cancel line.
    expect(lines.filter((l) => l.msg === 'notification canceled')).toHaveLength(1);
    const all = raw.join('');
    for (const secret of ['EVCODE1', 'EVCODE2', 'EVCODE3', 'latency-ok@example.com', 'bounce@example.com']) expect(all).not.toContain(secret);
  });
});

describe('River mode', () => {
  it('reports River outcomes in /metrics and the oldest available row, and logs them', async () => {
    const herald = await start({ HERALD_SOURCE: 'river' });
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'river-metrics@example.com' });
    const id = await insertRiverJob(
      h.db.pool,
      userArgs(user, { code: encryptCode('RVCODE1'), codeExpiry: 600_000_000_000, urlTemplate: 'https://auth.example.com/x?c={{.Code}}' }),
      { createdAt: new Date(Date.now() - 90_000) },
    );
    const before = await scrape();
    expect(value(before, 'herald_oldest_pending_seconds{source="river"}')).toBeGreaterThanOrEqual(89);
    expect(before).not.toMatch(/^herald_oldest_pending_seconds\{source="events"\}/m);

    await herald.river?.producer?.tick();
    await waitUntil(async () => ((await riverRow(h.db.pool, id)).state === 'completed' ? true : undefined), { what: `River job ${id} completed` });
    const text = await waitUntil(
      async () => {
        const t = await scrape();
        return value(t, 'herald_attempts_used_count{outcome="sent"}') === 1 ? t : undefined;
      },
      { what: 'the River outcome observed' },
    );

    expect(value(text, 'herald_oldest_pending_seconds{source="river"}')).toBe(0);
    expect(value(text, 'herald_job_outcomes_total{queue="notification-river",outcome="sent"}')).toBe(1);
    expect(value(text, 'herald_provider_results_total{provider_kind="smtp",class="accepted"}')).toBe(1);
    expect(value(text, 'herald_delivery_latency_seconds_count{channel="email",provider_kind="smtp",otp="false"}')).toBe(1);
    expect(value(text, 'herald_delivery_latency_seconds_bucket{le="60",channel="email",provider_kind="smtp",otp="false"}')).toBe(0);
    expect(value(text, 'herald_attempts_used_bucket{le="1",outcome="sent"}')).toBe(1);

    expect(outcomeLines()).toEqual([
      expect.objectContaining({
        msg: 'notification sent',
        instanceId,
        notificationId: id,
        attempt: 1,
        channel: 'email',
        providerKind: 'smtp',
        resultClass: 'accepted',
      }),
    ]);
    expect(raw.join('')).not.toContain('RVCODE1');
    expect(raw.join('')).not.toContain('river-metrics@example.com');
  });
});

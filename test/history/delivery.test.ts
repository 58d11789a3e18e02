/**
 * The delivery history end to end, event mode: real Postgres, Redis, an SMTP sink (smtp-server),
 * a webhook sink, a closed port. One run per kind of failure; each notification's final state,
 * sends and result classes must equal what the fake providers saw, and no full address may
 * appear in the history rows, the log output or the API's answers.
 */
import { createServer } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { newId, requestNotification, seedUser } from '../helpers/zitadel.js';
import { allRowsText, capturingLogger, deliveryRow, startWith, waitForRow } from './support.js';

let h: Harness;
const log = capturingLogger();
const running: Herald[] = [];
const closers: (() => Promise<void>)[] = [];
/** Every address and phone number seeded by this file: none may appear in clear. */
const SEEDED: string[] = [];

beforeAll(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((x) => x.stop()));
  await Promise.allSettled(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  await h.close();
});

const FAST = { ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '50ms', ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '200ms', HERALD_HTTP_PORT: '0' };

async function start(env: Record<string, string>): Promise<Herald> {
  const herald = await startWith(log.logger, h.config({ ...FAST, ...env }), ['all'], { producerLoops: false, http: { host: '127.0.0.1' } });
  running.push(herald);
  return herald;
}

async function user(email: string, extra: { phone?: string; verified?: boolean } = {}) {
  SEEDED.push(email);
  if (extra.phone) SEEDED.push(extra.phone);
  return seedUser(h.db.pool, { instanceId: newId(), email, ...extra });
}

/** DATA attempts per recipient, as the SMTP sink saw them. */
function countingSink(reply: (to: string, nth: number) => { code: number; message: string } | undefined) {
  const seen = new Map<string, number>();
  return {
    seen,
    opts: {
      failWith: (_n: number, mail: { envelope: { to: readonly string[] } }) => {
        const to = mail.envelope.to[0] ?? '';
        const nth = (seen.get(to) ?? 0) + 1;
        seen.set(to, nth);
        return reply(to, nth);
      },
    },
  };
}

const classes = (row: { attempt_log: { resultClass: string }[] }) => row.attempt_log.map((l) => l.resultClass);

describe('delivery history (event mode)', () => {
  it('records accepted, rejected (5xx), retried-then-accepted, refused and not-sent as the SMTP sink saw them', async () => {
    const counter = countingSink((to, nth) => {
      if (to === 'bounce@example.com') return { code: 550, message: 'no such user' };
      if (to === 'flaky@example.com' && nth === 1) return { code: 451, message: 'try later' };
      return undefined;
    });
    const sink: SmtpSink = await startSmtpSink(counter.opts);
    closers.push(() => sink.close());
    const herald = await start({
      SMTP_URL: sink.url,
      SMTP_FROM: 'herald@example.com',
      HERALD_SMS_PROVIDER: 'outbox',
      HERALD_OUTBOX_DIR: '/tmp/herald-history-outbox',
    });

    const good = await user('good@example.com', { phone: '+41791234519' });
    const bounce = await user('bounce@example.com');
    const flaky = await user('flaky@example.com');
    const unverified = await user('unverified@example.com', { verified: false });
    const late = await user('late@example.com');
    const ids = {
      good: await requestNotification(h.db.pool, good, {}, { code: 'HX7Q2Z' }),
      sms: await requestNotification(h.db.pool, good, {
        eventType: 'user.human.phone.code.added',
        messageType: 'VerifyPhone',
        notificationType: 1,
        urlTemplate: undefined,
        args: { origin: 'https://auth.example.com' },
      }),
      bounce: await requestNotification(h.db.pool, bounce),
      flaky: await requestNotification(h.db.pool, flaky),
      refused: await requestNotification(h.db.pool, unverified),
      expired: await requestNotification(h.db.pool, late, {}, { createdAt: new Date(Date.now() - 6 * 60_000) }),
    };
    await herald.producer?.tickRequests();
    await herald.producer?.sweep();

    const rows = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await waitForRow(h.db.pool, id)] as const)));
    const summary = (k: keyof typeof ids) => ({ state: rows[k]!.state, attempts: rows[k]!.attempts, classes: classes(rows[k]!) });
    expect(summary('good')).toEqual({ state: 'sent', attempts: counter.seen.get('good@example.com'), classes: ['accepted'] });
    expect(summary('bounce')).toEqual({ state: 'canceled', attempts: counter.seen.get('bounce@example.com'), classes: ['rejected'] });
    expect(summary('flaky').state).toBe('sent');
    expect(summary('flaky').attempts).toBe(counter.seen.get('flaky@example.com'));
    expect(summary('flaky').attempts).toBe(2);
    expect(summary('flaky').classes).toHaveLength(2);
    expect(summary('flaky').classes[1]).toBe('accepted');
    expect(summary('flaky').classes[0]).not.toBe('accepted');
    expect(summary('refused')).toEqual({ state: 'canceled', attempts: 0, classes: ['refused'] });
    expect(counter.seen.get('unverified@example.com')).toBeUndefined();
    expect(summary('expired')).toEqual({ state: 'canceled', attempts: 0, classes: ['not-sent'] });
    expect(counter.seen.get('late@example.com')).toBeUndefined();
    expect(summary('sms')).toEqual({ state: 'sent', attempts: 1, classes: ['accepted'] });

    // Who, what, which provider, masked recipient, latency, reason.
    expect(rows.good).toMatchObject({
      source: 'events',
      instance_id: good.instanceId,
      org_id: good.orgId,
      user_id: good.userId,
      message_type: 'InitCode',
      channel: 'email',
      provider_kind: 'smtp',
      recipient: 'g***@example.com',
      result_class: 'accepted',
      error_code: null,
    });
    expect(rows.good!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(rows.good!.provider_message_id).toMatch(/^<[^\s]+@example\.com>$/); // nodemailer's Message-ID, from SMTP_FROM's domain
    expect(rows.good!.finished_at).not.toBeNull();
    expect(rows.sms).toMatchObject({ channel: 'sms', provider_kind: 'outbox', message_type: 'VerifyPhone' });
    expect(rows.sms!.recipient).toMatch(/^\+41\*+19$/);
    expect(rows.bounce).toMatchObject({ result_class: 'rejected', error_code: 'SMTP_REJECTED' });
    expect(rows.bounce!.reason).toMatch(/550/);
    expect(rows.refused).toMatchObject({ result_class: 'refused', error_code: 'NO_ADDRESS' });
    expect(rows.expired!.reason).toMatch(/MaxTtl/);

    // The API says the same, and nothing in it, in the rows or in the log is a full address or the code.
    const api = herald.http!.url;
    const list = await (await fetch(`${api}/api/v1/notifications?limit=100`)).text();
    const one = await (await fetch(`${api}/api/v1/notifications/${ids.flaky}`)).json();
    expect(one).toMatchObject({ id: ids.flaky, state: 'sent', attempts: 2 });
    expect((one as { timeline: unknown[] }).timeline).toHaveLength(2);
    const texts = { rows: await allRowsText(h.db.pool), log: log.text(), api: list + JSON.stringify(one) };
    expect(texts.api).toContain(ids.good);
    expect(texts.log).toContain('send failed'); // the capture works: the 451 and the 550 were logged
    for (const [where, text] of Object.entries(texts)) {
      for (const secret of [...SEEDED, 'HX7Q2Z']) expect({ where, found: text.includes(secret) }).toEqual({ where, found: false });
    }
  });

  it('records timeouts: a server that never answers DATA, tried MaxAttempts times', async () => {
    const sink = await startSmtpSink({ holdData: () => true });
    closers.push(() => sink.close());
    const herald = await start({
      SMTP_URL: sink.url,
      SMTP_FROM: 'herald@example.com',
      ZITADEL_NOTIFICATIONS_MAXATTEMPTS: '2',
      ZITADEL_NOTIFICATIONS_TRANSACTIONDURATION: '1s',
    });
    const u = await user('slow@example.com');
    const id = await requestNotification(h.db.pool, u);
    await herald.producer?.tickRequests();
    const row = await waitForRow(h.db.pool, id);
    expect({ state: row.state, attempts: row.attempts, classes: classes(row) }).toEqual({
      state: 'canceled',
      attempts: sink.attempts,
      classes: ['timeout', 'timeout'],
    });
    expect(sink.attempts).toBe(2);
    expect(row.error_code).toBe('SMTP_ABORTED');
  });

  it('records an unreachable server (a closed port) for every attempt', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const herald = await start({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'herald@example.com', ZITADEL_NOTIFICATIONS_MAXATTEMPTS: '3' });
    const u = await user('nowhere@example.com');
    const id = await requestNotification(h.db.pool, u);
    await herald.producer?.tickRequests();
    const row = await waitForRow(h.db.pool, id);
    expect({ state: row.state, attempts: row.attempts, classes: classes(row) }).toEqual({
      state: 'canceled',
      attempts: 3,
      classes: ['unreachable', 'unreachable', 'unreachable'],
    });
    expect(row.provider_kind).toBe('smtp');
  });

  it('records a throttled attempt (webhook 429) that used no attempt, then the acceptance', async () => {
    const hook = await startHttpSink({ respond: (n) => (n === 1 ? { status: 429 } : { status: 200 }) });
    closers.push(() => hook.close());
    const herald = await start({ HERALD_EMAIL_PROVIDER: 'webhook', HERALD_WEBHOOK_URL: hook.url });
    const u = await user('hooked@example.com');
    const id = await requestNotification(h.db.pool, u);
    await herald.producer?.tickRequests();
    const row = await waitForRow(h.db.pool, id);
    // After a throttle the webhook's adaptive rate lane may hold the next send back once
    // (class `paced`: herald's own wait, no request to the provider, not a send).
    expect({ state: row.state, attempts: row.attempts, classes: classes(row).filter((c) => c !== 'paced') }).toEqual({
      state: 'sent',
      attempts: hook.requests.length,
      classes: ['throttled', 'accepted'],
    });
    expect(new Set(row.attempt_log.map((l) => l.attempt))).toEqual(new Set([1]));
    expect(row.provider_kind).toBe('webhook');
  });

  it('inserts a pending row for what the producer enqueued, before any worker ran', async () => {
    const herald = await start({ ZITADEL_NOTIFICATIONS_WORKERS: '0', ZITADEL_NOTIFICATIONS_RETRYWORKERS: '0' });
    const u = await user('waiting@example.com');
    const id = await requestNotification(h.db.pool, u, { isOTP: true });
    await herald.producer?.tickRequests();
    const row = await deliveryRow(h.db.pool, id);
    expect(row).toMatchObject({ state: 'pending', attempts: 0, instance_id: u.instanceId, attempt_log: [] });
  });
});

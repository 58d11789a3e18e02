/**
 * River mode end to end: rows inserted as ZITADEL v2.71+'s user notifier inserts them →
 * herald's River producer → BullMQ → worker → real SMTP sink / SMS outbox → row finished
 * as River would finish it, sent event written. Real Postgres, Redis and SMTP.
 */
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { decodedBody } from '../helpers/mail.js';
import { createRiverSchema, insertRiverJob, riverRow, scheduleRetriesNow, userArgs } from '../helpers/river.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, eventsOf, newId, seedUser } from '../helpers/zitadel.js';

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

async function run(env: Record<string, string> = {}, failWith?: Parameters<typeof startSmtpSink>[0]) {
  sink = await startSmtpSink(failWith);
  const outbox = await mkdtemp(path.join(tmpdir(), 'herald-river-'));
  const cfg = h.config({
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    HERALD_SOURCE: 'river',
    HERALD_OUTBOX_DIR: outbox,
    HERALD_SMS_PROVIDER: 'outbox',
    ...env,
  });
  herald = await h.start(cfg);
  return { sink, herald, cfg, outbox };
}

function waitState(id: string, states: readonly string[]) {
  return waitUntil(
    async () => {
      const row = await riverRow(h.db.pool, id);
      return states.includes(row.state) ? row : undefined;
    },
    { what: `River job ${id} in ${states.join('/')}` },
  );
}

const TRIGGERS = [
  { eventType: 'user.human.initialization.code.added', messageType: 'InitCode', type: 0, sent: 'user.human.initialization.code.sent', payload: null },
  { eventType: 'user.human.email.code.added', messageType: 'VerifyEmail', type: 0, sent: 'user.human.email.code.sent', payload: null },
  {
    eventType: 'user.human.password.code.added',
    messageType: 'PasswordReset',
    type: 0,
    sent: 'user.human.password.code.sent',
    payload: { generatorInfo: {} },
  },
  {
    eventType: 'user.human.password.code.added',
    messageType: 'PasswordReset',
    type: 1,
    sent: 'user.human.password.code.sent',
    payload: { generatorInfo: {} },
  },
  {
    eventType: 'user.human.phone.code.added',
    messageType: 'VerifyPhone',
    type: 1,
    sent: 'user.human.phone.code.sent',
    payload: { generatorInfo: {} },
  },
  {
    eventType: 'user.human.mfa.otp.sms.code.added',
    messageType: 'VerifySMSOTP',
    type: 1,
    sent: 'user.human.mfa.otp.sms.code.sent',
    payload: { generatorInfo: {} },
    isOTP: true,
  },
  {
    eventType: 'user.human.mfa.otp.email.code.added',
    messageType: 'VerifyEmailOTP',
    type: 0,
    sent: 'user.human.mfa.otp.email.code.sent',
    payload: {},
    isOTP: true,
  },
  {
    eventType: 'user.domain.claimed',
    messageType: 'DomainClaimed',
    type: 0,
    sent: 'user.domain.claimed.sent',
    payload: null,
    noCode: true,
    requiresPreviousDomain: true,
  },
  {
    eventType: 'user.human.passwordless.initialization.code.requested',
    messageType: 'PasswordlessRegistration',
    type: 0,
    sent: 'user.human.passwordless.initialization.code.sent',
    codeId: true,
  },
  {
    eventType: 'user.human.password.changed',
    messageType: 'PasswordChange',
    type: 0,
    sent: 'user.human.password.change.sent',
    payload: null,
    noCode: true,
  },
  { eventType: 'user.human.invite.code.added', messageType: 'InviteUser', type: 0, sent: 'user.human.invite.code.sent', payload: null },
] as const;

describe('River mode delivery', () => {
  it('delivers every message type once, completes its row and writes its sent event', async () => {
    const { sink, herald, outbox } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'ada@example.com', phone: '+41790000001' });
    const jobs: { id: string; sent: string; payload: unknown; code: string; type: number }[] = [];
    for (const [i, t] of TRIGGERS.entries()) {
      const code = `C${i}X${newId().slice(-4)}`;
      const crypted = 'noCode' in t ? undefined : encryptCode(code);
      const [seq] = await insertZitadelEvents(h.db.pool, [
        {
          instanceId,
          aggregateType: 'user',
          aggregateId: user.userId,
          owner: user.orgId,
          eventType: t.eventType,
          payload: crypted ? { code: crypted } : {},
        },
      ]);
      const codeId = 'codeId' in t ? `code-${seq}` : undefined;
      const id = await insertRiverJob(
        h.db.pool,
        userArgs(user, {
          eventType: t.eventType,
          messageType: t.messageType,
          notificationType: t.type,
          ...(crypted ? { code: crypted, codeExpiry: 600_000_000_000 } : {}),
          ...('isOTP' in t ? { isOTP: true } : {}),
          ...('requiresPreviousDomain' in t ? { requiresPreviousDomain: true, args: { tempUsername: 'ada-old' } } : {}),
          ...(codeId ? { args: { codeID: codeId } } : {}),
          urlTemplate: 'https://auth.example.com/ui/x?userID={{.UserID}}&code={{.Code}}',
        }),
      );
      jobs.push({ id, sent: t.sent, payload: codeId ? { id: codeId } : 'payload' in t ? t.payload : null, code, type: t.type });
    }
    await herald.river?.producer?.tick();
    for (const j of jobs) {
      const row = await waitState(j.id, ['completed', 'cancelled', 'discarded']);
      expect({ id: j.id, state: row.state, errors: row.errors }).toEqual({ id: j.id, state: 'completed', errors: null });
      expect(row.finalized_at).not.toBeNull();
      expect(row.attempt).toBe(1);
      expect(row.attempted_by).toEqual([`herald@${h.prefix}`]);
    }
    const emails = jobs.filter((j) => j.type === 0);
    const mails = await sink.waitFor(emails.length);
    expect(mails).toHaveLength(emails.length);
    for (const j of emails.filter((e) => !e.code.startsWith('C7') && !e.code.startsWith('C9'))) {
      expect(mails.some((m) => decodedBody(m).includes(j.code))).toBe(true);
    }
    const sms = await waitUntil(async () => {
      const files = (await readdir(outbox)).filter((f) => f.endsWith('.json'));
      return files.length >= 3 ? files : undefined;
    });
    expect(sms).toHaveLength(3);
    const smsText = (await Promise.all(sms.map((f) => readFile(path.join(outbox, f), 'utf8')))).join('\n');
    for (const j of jobs.filter((x) => x.type === 1)) expect(smsText).toContain(j.code);
    const userEvents = await eventsOf(h.db.pool, instanceId, user.userId);
    for (const j of jobs) {
      expect(userEvents.filter((e) => e.event_type === j.sent).map((e) => e.payload)).toContainEqual(j.payload);
    }
    const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM eventstore.events2 WHERE event_type LIKE 'notification.%'`);
    expect(rows[0].n).toBe(0);
  });

  it("retries a failing send by River's default policy, then discards it after MaxAttempts", async () => {
    const { herald } = await run({}, { failWith: () => ({ code: 451, message: 'try again later' }) });
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const id = await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode('111111') }), { maxAttempts: 2 });
    const before = Date.now();
    await herald.river?.producer?.tick();
    const first = await waitState(id, ['available', 'retryable']);
    // (0+1)^4 s ± 10 %: due within River's 5 s scheduler interval, so `available`.
    expect(first.state).toBe('available');
    const delay = first.scheduled_at.getTime() - before;
    expect(delay).toBeGreaterThan(800);
    expect(delay).toBeLessThan(1100 + (Date.now() - before));
    expect(first.errors).toHaveLength(1);
    expect(first.errors?.[0]).toMatchObject({ attempt: 1, trace: '' });
    expect(first.errors?.[0]?.error).toContain('451');
    expect(first.finalized_at).toBeNull();
    await scheduleRetriesNow(h.db.pool);
    await herald.river?.producer?.tick();
    const last = await waitState(id, ['discarded']);
    expect(last.attempt).toBe(2);
    expect(last.errors).toHaveLength(2);
    expect(last.finalized_at).not.toBeNull();
  });

  it("sets retryable with the configured delay when the operator tuned herald's retry settings", async () => {
    const { herald } = await run(
      { ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '30s', ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '40s' },
      { failWith: () => ({ code: 451, message: 'later' }) },
    );
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const id = await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode('222222') }));
    const before = Date.now();
    await herald.river?.producer?.tick();
    const row = await waitState(id, ['available', 'retryable']);
    expect(row.state).toBe('retryable');
    const delay = row.scheduled_at.getTime() - before;
    expect(delay).toBeGreaterThanOrEqual(29_000);
    expect(delay).toBeLessThanOrEqual(41_000 + (Date.now() - before));
  });

  it("cancels a row older than MaxTtl with ZITADEL's reason and River's error element", async () => {
    const { sink, herald } = await run({ ZITADEL_NOTIFICATIONS_MAXTTL: '1m' });
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const id = await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode('333333') }), { createdAt: new Date(Date.now() - 120_000) });
    await herald.river?.producer?.tick();
    const row = await waitState(id, ['cancelled']);
    expect(row.errors).toEqual([
      { at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), attempt: 1, error: 'JobCancelError: notification is too old', trace: '' },
    ]);
    expect(row.finalized_at).not.toBeNull();
    expect(sink.attempts).toBe(0);
  });
});

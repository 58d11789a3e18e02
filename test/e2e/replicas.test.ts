/**
 * Two herald processes, each running a producer and a worker, over 500 requests: every
 * request is delivered exactly once, and SIGTERM ends each process with exit 0.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { decodedBody } from '../helpers/mail.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { KEYS_ENV, newId, requestFor } from '../helpers/zitadel.js';

const N = 500;
let h: Harness;
let sink: SmtpSink;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
  await h.close();
});

it('delivers 500 requests exactly once with two producers and two workers', async () => {
  const instanceId = newId();
  const orgId = newId();
  const events: ZitadelEvent[] = [];
  const codes: string[] = [];
  for (let i = 0; i < N; i++) {
    const userId = `u${i}-${newId()}`;
    const user = { instanceId, orgId, userId, email: `r${i}@example.com` };
    const base = { instanceId, aggregateType: 'user', aggregateId: userId, owner: orgId };
    events.push(
      { ...base, eventType: 'user.human.added', payload: { userName: `r${i}`, displayName: `R ${i}`, preferredLanguage: 'en', email: user.email } },
      { ...base, eventType: 'user.human.email.verified', payload: null },
    );
    const code = `C${String(i).padStart(5, '0')}`;
    codes.push(code);
    events.push({
      instanceId,
      aggregateType: 'notification',
      aggregateId: `n${i}-${newId()}`,
      eventType: 'notification.requested',
      owner: orgId,
      payload: { request: requestFor(user, {}, code) },
    });
  }
  for (let i = 0; i < events.length; i += 300) await insertZitadelEvents(h.db.pool, events.slice(i, i + 300));

  const env = {
    DATABASE_URL: h.db.url,
    REDIS_URL,
    HERALD_QUEUE_PREFIX: h.prefix,
    HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    ZITADEL_NOTIFICATIONS_WORKERS: '8',
    ZITADEL_NOTIFICATIONS_BULKLIMIT: '50',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    LOG_LEVEL: 'warn',
  };
  const procs = [
    spawnHerald(['start', '--role', 'producer', '--role', 'worker'], env),
    spawnHerald(['start', '--role', 'producer', '--role', 'worker'], env),
  ];
  try {
    await sink.waitFor(N, 60_000);
    const sent = await waitUntil(async () => {
      const { rows } = await h.db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM eventstore.events2 WHERE instance_id = $1 AND event_type = 'notification.sent'`,
        [instanceId],
      );
      return Number(rows[0]?.n) >= N ? Number(rows[0]?.n) : undefined;
    });
    expect(sent).toBe(N);
  } finally {
    const codesExit = await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    expect(codesExit, procs.map((p) => p.output()).join('\n')).toEqual([0, 0]);
  }
  expect(sink.messages).toHaveLength(N);
  const recipients = sink.messages.map((m) => m.envelope.to[0]);
  expect(new Set(recipients).size).toBe(N);
  const seen = sink.messages.map((m) => /C\d{5}/.exec(decodedBody(m))?.[0]);
  expect(new Set(seen)).toEqual(new Set(codes));
});

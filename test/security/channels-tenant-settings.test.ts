/**
 * #11 items 1, 4, 5 end to end, as a tenant admin would try them: settings written as ZITADEL
 * writes them (instance.smtp.config.*, instance.smtp.config.http.*) → producer → worker (the
 * app's own wiring, startHerald) → the notification's outcome in the eventstore. Each attack
 * must end `notification.canceled` on its first attempt with a reason naming herald's rule
 * (never remote text), while another tenant's mail keeps flowing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type HttpSink, startHttpSink } from '../helpers/http-sink.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, eventsOf, finishedAs, newId, requestNotification, seedUser, USER_KEY } from '../helpers/zitadel.js';

const SMTP_KEY = 'smtp-key-0123456789abcdef0123456';
const KEYS = JSON.stringify({ userKey: USER_KEY, smtpKey: SMTP_KEY });

let h: Harness;
let herald: Herald;
let goodSink: SmtpSink;
let hook: HttpSink;
const scratch = mkdtempSync(path.join(tmpdir(), 'herald-sec-'));

beforeAll(async () => {
  h = await makeHarness();
  goodSink = await startSmtpSink();
  hook = await startHttpSink();
  // The good tenant's sink is on 127.0.0.1, allowed as an operator would allow a relay; the
  // attacks use other loopback and link-local addresses, which stay refused.
  const cfg = h.config({
    HERALD_ENCRYPTION_KEYS: KEYS,
    HERALD_EGRESS_ALLOW: '127.0.0.1/32',
    HERALD_EMAIL_PROVIDER: 'none',
    HERALD_SMS_PROVIDER: 'none',
  });
  herald = await h.start(cfg, ['producer', 'worker']);
});

afterAll(async () => {
  await h?.close();
  await Promise.allSettled([goodSink?.close(), hook?.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh instance whose active email provider is set by `events`, and one request for its user. */
async function tenant(
  providerEvents: (instanceId: string) => Array<{ eventType: string; payload: unknown }>,
): Promise<{ instanceId: string; id: string }> {
  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId });
  await insertZitadelEvents(
    h.db.pool,
    [{ eventType: 'instance.added', payload: { name: 'tenant' } }, ...providerEvents(instanceId)].map((e) => ({
      instanceId,
      aggregateType: 'instance',
      aggregateId: instanceId,
      owner: instanceId,
      ...e,
    })),
  );
  return { instanceId, id: await requestNotification(h.db.pool, user) };
}

/** An SMTP config; without a user herald sends no AUTH (ZITADEL's HasAuth), as the sink wants. */
const smtpProvider =
  (host: string, user = '') =>
  () => [
    {
      eventType: 'instance.smtp.config.added',
      payload: {
        id: 's1',
        host,
        user,
        senderAddress: 'no-reply@tenant.example',
        senderName: 'Tenant',
        password: encryptCode('pw', 'smtpKey', SMTP_KEY),
      },
    },
    { eventType: 'instance.smtp.config.activated', payload: { id: 's1' } },
  ];

const httpProvider = (endpoint: string) => () => [
  { eventType: 'instance.smtp.config.http.added', payload: { id: 'h1', description: 'hook', endpoint } },
  { eventType: 'instance.smtp.config.activated', payload: { id: 'h1' } },
];

/** Runs the producer until the notification has an outcome; returns its events. */
async function outcome(t: { instanceId: string; id: string }) {
  await waitUntil(
    async () => {
      await herald.producer?.tickRequests();
      return finishedAs(h.db.pool, t.instanceId, t.id);
    },
    { what: `notification ${t.id} finished`, timeoutMs: 20_000 },
  );
  const events = await eventsOf(h.db.pool, t.instanceId, t.id);
  const last = events.at(-1);
  return {
    type: last?.event_type,
    reason: (last?.payload as { error?: string } | null)?.error ?? '',
    retries: events.filter((e) => e.event_type === 'notification.retry.requested').length,
  };
}

describe('tenant SMTP host and provider URL are attacker input', () => {
  it('a host that smuggles nodemailer options (sendmail → /bin/sh) is canceled naming the invalid host; nothing runs', async () => {
    const marker = path.join(scratch, 'pwned');
    const host = `mail.example?pool=false&sendmail=true&path=/bin/sh&args=-c&args=touch ${marker}&z=:25`;
    const attack = await tenant(smtpProvider(host, 'u'));
    // Another tenant's mail keeps flowing at the same time.
    const good = await tenant(smtpProvider(`127.0.0.1:${goodSink.port}`));

    const result = await outcome(attack);
    expect(existsSync(marker), 'the injected command ran').toBe(false);
    expect(result.type).toBe('notification.canceled');
    expect(result.retries).toBe(0);
    expect(result.reason).toMatch(/SMTP host is not a valid host name or IP address/);

    expect(await outcome(good)).toEqual({ type: 'notification.sent', reason: '', retries: 0 });
    expect((await goodSink.waitFor(1))[0]?.envelope.from).toBe('no-reply@tenant.example');
  });

  it.each([
    ['logger/debug (the code printed to stdout)', 'mail.example?logger=true&debug=true&z=:25'],
    ['jsonTransport (nothing sent, yet "sent")', 'mail.example?jsonTransport=true&z=:25'],
    ['proxy', 'mail.example?proxy=http://169.254.169.254/&z=:25'],
    ['a URL with credentials', 'user:pw@mail.example:25'],
  ])('a host with %s is canceled at once naming the invalid host', async (_what, host) => {
    const result = await outcome(await tenant(smtpProvider(host)));
    expect(result.type).toBe('notification.canceled');
    expect(result.retries).toBe(0);
    expect(result.reason).toMatch(/SMTP host is not a valid host name or IP address|SMTP host is not "host:port"/);
  });

  it('an SMTP host on a refused address (loopback outside the allowlist) is canceled naming the egress rule', async () => {
    const result = await outcome(await tenant(smtpProvider(`127.0.0.2:${goodSink.port}`)));
    expect(result).toMatchObject({ type: 'notification.canceled', retries: 0 });
    expect(result.reason).toMatch(/refused by the egress rule \(loopback address; .*HERALD_EGRESS_ALLOW\)/);
  });

  it('an HTTP provider on link-local / loopback addresses is canceled naming the egress rule, without a request', async () => {
    const port = new URL(hook.url).port;
    for (const endpoint of [
      `http://127.0.0.2:${port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::ffff:127.0.0.2]:${port}/hook`,
      `http://[::1]:${port}/hook`,
    ]) {
      const result = await outcome(await tenant(httpProvider(endpoint)));
      expect(result, endpoint).toMatchObject({ type: 'notification.canceled', retries: 0 });
      expect(result.reason, endpoint).toMatch(/refused by the egress rule/);
    }
    expect(hook.requests).toHaveLength(0);
  });

  it('an unparsable HTTP provider URL is canceled at once naming the rule, not retried', async () => {
    const result = await outcome(await tenant(httpProvider('not a url')));
    expect(result).toMatchObject({ type: 'notification.canceled', retries: 0 });
    expect(result.reason).toMatch(/HTTP provider endpoint is not a valid URL/);
  });
});

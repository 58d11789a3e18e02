/**
 * End to end, issue #8: two instances configured only through events as ZITADEL writes them
 * (SMTP with an smtpKey password, HTTP email provider, Twilio with an smsKey token, HTTP SMS
 * provider, label policies, a mail template, domain policies and org domains) → producer →
 * BullMQ → worker with per-instance settings → each instance's own provider. Real Postgres,
 * Redis, SMTP servers (with AUTH) and HTTP endpoints; herald is started as the CLI starts it
 * (startHerald), with only Twilio's API base URL pointed at a local endpoint.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startHerald } from '../../src/app.js';
import { type InstanceChannels, makeInstanceChannels } from '../../src/channels/instance-channels.js';
import { loadConfig } from '../../src/config/load.js';
import { migrate } from '../../src/eventstore/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { silent } from '../helpers/herald.js';
import { type HttpSink, startHttpSink } from '../helpers/http-sink.js';
import { decodedBody } from '../helpers/mail.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';
import { parseMail, type ReceivedMail } from '../helpers/smtp-sink.js';
import { startTwilioEndpoint, type TwilioEndpoint } from '../helpers/twilio-endpoint.js';
import { waitUntil } from '../helpers/wait.js';
import { type DemoUser, encryptCode, eventsOf, finishedAs, newId, seedUser, USER_KEY } from '../helpers/zitadel.js';

const SMTP_KEY = 'smtp-key-0123456789abcdef0123456';
const SMS_KEY = 'sms-key-0123456789abcdef01234567';
const KEYS = JSON.stringify({ userKey: USER_KEY, smtpKey: SMTP_KEY, smsKey: SMS_KEY });

interface AuthMail extends ReceivedMail {
  readonly auth: { readonly user: string; readonly pass: string };
}

/** An SMTP server that requires AUTH and records the credentials each message came with. */
async function startAuthSink() {
  const messages: AuthMail[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      callback(null, { user: `${auth.username ?? ''}\u0000${auth.password ?? ''}` });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const [user = '', pass = ''] = String(session.user).split('\u0000');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        messages.push({ ...parseMail(Buffer.concat(chunks).toString('utf8'), envelope), auth: { user, pass } });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    waitFor: (n: number) => waitUntil(() => messages.length >= n && messages, { what: `${n} mails on port ${port}` }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type AuthSink = Awaited<ReturnType<typeof startAuthSink>>;

/** herald's producer and request worker, with Twilio's API pointed at the local endpoint. */
async function startPipeline(db: TestDatabase, env: Record<string, string>, twilioBaseUrl: string) {
  const prefix = testPrefix();
  // The instances' SMTP servers and HTTP endpoints run on 127.0.0.1: allowed as an operator allows a relay.
  const cfg = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL,
    HERALD_QUEUE_PREFIX: prefix,
    HERALD_ENCRYPTION_KEYS: KEYS,
    LOG_LEVEL: 'silent',
    HERALD_EGRESS_ALLOW: '127.0.0.1/32',
    ZITADEL_NOTIFICATIONS_WORKERS: '4',
    ...env,
  });
  let instanceChannels: InstanceChannels | undefined;
  const herald = await startHerald(cfg, ['producer', 'worker'], silent, {
    // A console change must apply to the very next notification here, not within a second.
    settingsCheckMs: 0,
    producerLoops: false,
    channels: {
      instance: (logger, egress) => (instanceChannels = makeInstanceChannels({ logger, egress, twilioApiBaseUrl: twilioBaseUrl })),
    },
  });
  const producer = herald.producer;
  if (!producer || !instanceChannels) throw new Error('herald started without a producer or instance channels');
  return {
    producer,
    instance: { channels: instanceChannels },
    async close() {
      await herald.stop();
      await dropPrefix(prefix);
    },
  };
}
type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

const on =
  (instanceId: string, aggregateType: string, aggregateId: string) =>
  (eventType: string, payload?: unknown): ZitadelEvent => ({
    instanceId,
    aggregateType,
    aggregateId,
    owner: aggregateType === 'instance' ? instanceId : aggregateId,
    eventType,
    payload,
  });

let db: TestDatabase;
let twilio: TwilioEndpoint;
let hooks: HttpSink;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool, { logger: silent });
  twilio = await startTwilioEndpoint();
  hooks = await startHttpSink();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await Promise.allSettled([twilio?.close(), hooks?.close()]);
  await db?.drop();
});

async function sinks(n: number): Promise<AuthSink[]> {
  const list = await Promise.all(Array.from({ length: n }, () => startAuthSink()));
  for (const s of list) closers.push(() => s.close());
  return list;
}

async function pipeline(env: Record<string, string>): Promise<Pipeline> {
  const p = await startPipeline(db, env, twilio.baseUrl);
  closers.push(() => p.close());
  return p;
}

/** A notification.requested event as ZITADEL writes it; email InitCode unless overridden. */
async function request(user: DemoUser, over: Record<string, unknown> = {}): Promise<string> {
  const aggregateId = newId();
  const req = {
    userID: user.userId,
    userResourceOwner: user.orgId,
    notificationAggregateID: '',
    notificationAggregateResourceOwner: '',
    triggeredAtOrigin: '',
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: 0,
    urlTemplate: '{{.Origin}}/ui/login/user/init?userID={{.UserID}}&code={{.Code}}',
    code: encryptCode('K7Q9ZX'),
    args: { origin: '' },
    ...over,
  };
  await insertZitadelEvents(db.pool, [
    {
      instanceId: user.instanceId,
      aggregateType: 'notification',
      aggregateId,
      owner: user.orgId,
      eventType: 'notification.requested',
      payload: { request: req },
    },
  ]);
  return aggregateId;
}

const smsRequest = (user: DemoUser) =>
  request(user, { eventType: 'user.human.phone.code.added', messageType: 'VerifyPhone', notificationType: 1, urlTemplate: '' });

function finished(instanceId: string, id: string): Promise<string> {
  return waitUntil(() => finishedAs(db.pool, instanceId, id), { what: `notification ${id} finished` });
}

async function cancelReason(instanceId: string, id: string): Promise<string> {
  const last = (await eventsOf(db.pool, instanceId, id)).at(-1);
  return (last?.payload as { error?: string } | null)?.error ?? '';
}

describe('per-instance providers, branding and login names', () => {
  it('sends each instance through its own providers, with its branding and login names', async () => {
    const [sinkA, sinkB] = await sinks(2);
    const p = await pipeline({ HERALD_EMAIL_PROVIDER: 'none', HERALD_SMS_PROVIDER: 'none' });
    const a = newId();
    const b = newId();
    const userA = await seedUser(db.pool, { instanceId: a, phone: '+41790000001' });
    const userB = await seedUser(db.pool, { instanceId: b, phone: '+41790000002' });
    const A = on(a, 'instance', a);
    const B = on(b, 'instance', b);
    const orgA = on(a, 'org', userA.orgId);
    const orgB = on(b, 'org', userB.orgId);
    const template = Buffer.from(
      '<html><body style="color:{{.FontColor}}"><h1>{{.Title}}</h1><a href="{{.URL}}" style="background:{{.PrimaryColor}}">{{.ButtonText}}</a>{{if .LogoURL}}<img src="{{.LogoURL}}">{{end}}</body></html>',
    ).toString('base64');
    await insertZitadelEvents(db.pool, [
      A('instance.added', { name: 'A' }),
      A('instance.domain.primary.set', { domain: 'a.example' }),
      // Legacy config (empty id, active at once); the password arrives with password.changed.
      A('instance.smtp.config.added', {
        host: `127.0.0.1:${sinkA!.port}`,
        user: 'user-a',
        senderAddress: 'no-reply@a.example',
        senderName: 'Instance A',
        replyToAddress: 'help@a.example',
        password: encryptCode('old', 'smtpKey', SMTP_KEY),
      }),
      A('instance.smtp.config.password.changed', { password: encryptCode('pass-a', 'smtpKey', SMTP_KEY) }),
      A('instance.sms.configtwilio.added', {
        id: 'tw-a',
        sid: 'ACaaaa',
        token: encryptCode('tok-a', 'smsKey', SMS_KEY),
        senderNumber: '+15550000000',
        verifyServiceSid: 'VAaaaa',
      }),
      A('instance.sms.configactivated', { id: 'tw-a' }),
      A('instance.policy.label.added', { primaryColor: '#aa0000', fontColor: '#0a0a0a' }),
      A('instance.policy.label.logo.added', { storeKey: 'logo-a.png' }),
      A('instance.policy.label.activated'),
      A('instance.policy.label.changed', { primaryColor: '#preview' }), // preview only: not used
      A('instance.policy.domain.added', { userLoginMustBeDomain: true }),
      orgA('org.domain.added', { domain: 'org-a.example' }),
      orgA('org.domain.verified', { domain: 'org-a.example' }),
      orgA('org.domain.primary.set', { domain: 'org-a.example' }),
      B('instance.added', { name: 'B' }),
      B('instance.smtp.config.added', {
        id: 'smtp-b',
        host: `127.0.0.1:${sinkB!.port}`,
        user: 'user-b',
        senderAddress: 'no-reply@b.example',
        password: encryptCode('pass-b', 'smtpKey', SMTP_KEY),
      }),
      B('instance.smtp.config.activated', { id: 'smtp-b' }),
      B('instance.smtp.config.http.added', { id: 'http-b', description: 'hook', endpoint: `${hooks.url}/email-b` }),
      B('instance.smtp.config.activated', { id: 'http-b' }),
      B('instance.sms.confighttp.added', { id: 'sms-b', description: 'sms hook', endpoint: `${hooks.url}/sms-b` }),
      B('instance.sms.configactivated', { id: 'sms-b' }),
      B('instance.policy.label.added', { primaryColor: '#bb0000' }),
      B('instance.policy.label.activated'),
      orgB('org.policy.label.added', { primaryColor: '#b0b0b0' }),
      orgB('org.policy.label.activated'),
      orgB('org.mail.template.added', { template }),
      orgB('org.domain.added', { domain: 'org-b.example' }),
      orgB('org.domain.verified', { domain: 'org-b.example' }),
    ]);

    const ids = {
      mailA: await request(userA),
      smsA: await smsRequest(userA),
      mailB: await request(userB, { triggeredAtOrigin: 'https://login.b.example' }),
      smsB: await smsRequest(userB),
    };
    await p.producer.tickRequests();
    for (const [key, id] of Object.entries(ids)) expect(await finished(key.endsWith('A') ? a : b, id), key).toBe('notification.sent');

    // A: SMTP with the decrypted password, sender and Reply-To of the config, A's branding.
    const [mailA] = await sinkA!.waitFor(1);
    expect(mailA!.auth).toEqual({ user: 'user-a', pass: 'pass-a' });
    expect(mailA!.headers.from).toBe('Instance A <no-reply@a.example>');
    expect(mailA!.headers['reply-to']).toBe('help@a.example');
    const htmlA = decodedBody(mailA!);
    expect(htmlA).toContain('background-color:#aa0000');
    expect(htmlA).not.toContain('#preview');
    // No triggeredAtOrigin: the origin is the instance's primary domain.
    expect(htmlA).toContain('https://a.example/assets/v1/' + a + '/logo-a.png');
    expect(htmlA).toContain(`https://a.example/ui/login/user/init?userID=${userA.userId}`);
    // The domain policy wants a domain: the org's primary verified domain.
    expect(htmlA).toContain(`user${userA.userId}@org-a.example`);

    // A's SMS: Twilio Verify with the decrypted token; the verification id lands in the sent event.
    const verify = await twilio.waitForRequest(1);
    expect(verify.path).toBe('/v2/Services/VAaaaa/Verifications');
    expect(verify.form).toMatchObject({ To: '+41790000001', Channel: 'sms' });
    expect(verify.headers.authorization).toBe(`Basic ${Buffer.from('ACaaaa:tok-a').toString('base64')}`);
    const sentA = (await eventsOf(db.pool, a, userA.userId)).find((e) => e.event_type === 'user.human.phone.code.sent');
    expect(sentA).toMatchObject({ payload: { generatorInfo: { id: 'tw-a', verificationId: expect.stringMatching(/^VE/) } } });

    // B: the HTTP providers get ZITADEL's body; the org's label policy wins over the instance's.
    await waitUntil(() => hooks.requests.length >= 2, { what: 'two provider posts' });
    const posted = (path: string) =>
      JSON.parse(hooks.requests.find((r) => r.path === path)?.body ?? 'null') as {
        contextInfo: Record<string, unknown>;
        templateData: Record<string, unknown>;
        args: Record<string, unknown>;
      };
    const emailB = posted('/hook/email-b');
    expect(emailB.contextInfo).toEqual({
      eventType: 'notification.requested',
      provider: { id: 'http-b', description: 'hook' },
      recipientEmailAddress: userB.email,
    });
    expect(emailB.templateData).toMatchObject({
      primaryColor: '#b0b0b0',
      url: `https://login.b.example/ui/login/user/init?userID=${userB.userId}&code=K7Q9ZX`,
    });
    // No domain policy in B: the bare user name.
    expect(emailB.args).toMatchObject({ code: 'K7Q9ZX', preferredLoginName: `user${userB.userId}`, userID: userB.userId });
    const smsB = posted('/hook/sms-b');
    expect(smsB.contextInfo).toMatchObject({ recipientPhoneNumber: '+41790000002', provider: { id: 'sms-b', description: 'sms hook' } });
    expect(smsB.templateData.text).toContain('K7Q9ZX');
    expect(sinkB!.messages).toHaveLength(0);

    // A provider change in ZITADEL's console applies to the next notification, no restart:
    // B's SMTP config is active again, and the org's mail template renders the HTML.
    await insertZitadelEvents(db.pool, [B('instance.smtp.config.activated', { id: 'smtp-b' })]);
    const again = await request(userB, { triggeredAtOrigin: 'https://login.b.example' });
    await p.producer.tickRequests();
    expect(await finished(b, again)).toBe('notification.sent');
    const [mailB] = await sinkB!.waitFor(1);
    expect(mailB!.auth).toEqual({ user: 'user-b', pass: 'pass-b' });
    const htmlB = decodedBody(mailB!);
    expect(htmlB).toContain('<h1>');
    expect(htmlB).toContain('style="background:#b0b0b0"');
    expect(htmlB).toContain(`href="https://login.b.example/ui/login/user/init?userID=${userB.userId}&amp;code=K7Q9ZX"`);
    expect(hooks.requests.filter((r) => r.path === '/hook/email-b')).toHaveLength(1);

    // instance.removed: nothing more is sent for A, and its requests are canceled.
    await insertZitadelEvents(db.pool, [A('instance.removed')]);
    const afterRemoval = await request(userA);
    await p.producer.tickRequests();
    expect(await finished(a, afterRemoval)).toBe('notification.canceled');
    expect(await cancelReason(a, afterRemoval)).toMatch(/instance was removed/);
    expect(sinkA!.messages).toHaveLength(1);
    // A's SMTP pool and Twilio client are closed; B keeps its two channels.
    expect(p.instance.channels.size).toBe(2);
  });

  it('an instance without a provider and without a default is canceled with a clear error', async () => {
    const p = await pipeline({ HERALD_EMAIL_PROVIDER: 'none', HERALD_SMS_PROVIDER: 'none' });
    const c = newId();
    const user = await seedUser(db.pool, { instanceId: c, phone: '+41790000003' });
    const mail = await request(user);
    const sms = await smsRequest(user);
    await p.producer.tickRequests();
    expect(await finished(c, mail)).toBe('notification.canceled');
    expect(await finished(c, sms)).toBe('notification.canceled');
    expect(await cancelReason(c, mail)).toBe(
      'no active email provider for this instance and no default (HERALD_EMAIL_PROVIDER=none) (Errors.Notification.Channels.NotPresent)',
    );
    expect(await cancelReason(c, sms)).toMatch(/no active SMS provider .*HERALD_SMS_PROVIDER=none/);
  });

  it("falls back to herald's own channel only when the instance has no active provider", async () => {
    const [instanceSink, defaultSink] = await sinks(2);
    const p = await pipeline({ SMTP_URL: `smtp://default:default-pass@127.0.0.1:${defaultSink!.port}`, SMTP_FROM: 'herald@example.com' });
    const own = newId();
    const bare = newId();
    const userOwn = await seedUser(db.pool, { instanceId: own });
    const userBare = await seedUser(db.pool, { instanceId: bare });
    await insertZitadelEvents(db.pool, [
      on(
        own,
        'instance',
        own,
      )('instance.smtp.config.added', {
        id: 's',
        host: `127.0.0.1:${instanceSink!.port}`,
        user: 'own',
        senderAddress: 'no-reply@own.example',
        password: encryptCode('own-pass', 'smtpKey', SMTP_KEY),
      }),
      on(own, 'instance', own)('instance.smtp.config.activated', { id: 's' }),
    ]);
    const broken = newId();
    const userBroken = await seedUser(db.pool, { instanceId: broken });
    await insertZitadelEvents(db.pool, [
      // An active provider whose secret herald cannot decrypt cancels; it never falls back.
      on(
        broken,
        'instance',
        broken,
      )('instance.smtp.config.added', {
        id: 's',
        host: `127.0.0.1:${instanceSink!.port}`,
        senderAddress: 'x@broken.example',
        password: encryptCode('p', 'unknownKey', SMTP_KEY),
      }),
      on(broken, 'instance', broken)('instance.smtp.config.activated', { id: 's' }),
      // The notification policy turns password change mails off (passwordChange omitted = false).
      on(bare, 'instance', bare)('instance.policy.notification.added', {}),
    ]);
    const ids = [await request(userOwn), await request(userBare)];
    const brokenId = await request(userBroken);
    const passwordChange = await request(userBare, {
      eventType: 'user.human.password.changed',
      messageType: 'PasswordChange',
      urlTemplate: '',
      code: undefined,
    });
    await p.producer.tickRequests();
    expect(await finished(own, ids[0]!)).toBe('notification.sent');
    expect(await finished(bare, ids[1]!)).toBe('notification.sent');
    expect(await finished(broken, brokenId)).toBe('notification.canceled');
    expect(await cancelReason(broken, brokenId)).toMatch(/active SMTP config secret cannot be decrypted/);
    expect(await finished(bare, passwordChange)).toBe('notification.canceled');
    expect(await cancelReason(bare, passwordChange)).toBe('password change notifications are turned off by the notification policy');
    expect((await instanceSink!.waitFor(1)).map((m) => [m.envelope.to, m.auth.pass])).toEqual([[[userOwn.email], 'own-pass']]);
    expect((await defaultSink!.waitFor(1)).map((m) => [m.envelope.to, m.headers.from])).toEqual([[[userBare.email], 'herald@example.com']]);
  });
});

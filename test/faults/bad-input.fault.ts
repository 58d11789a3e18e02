/**
 * A corpus of malformed and hostile input, in one run with good requests interleaved: every
 * bad notification ends notification.canceled with a specific error, every good one is
 * sent, no header is injected, no markup from a display name reaches an HTML part
 * unescaped, and the herald process stays up throughout.
 *
 * Hostile display names are not a reason to refuse a password reset: those requests are
 * delivered, with the name printed as escaped text (checked below). Invalid UTF-8 cannot
 * be stored in JSONB, so it is exercised through the ciphertext (a code whose decrypted
 * bytes are not UTF-8).
 */
import { createCipheriv, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents, type ZitadelEvent } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { type DemoUser, encryptCode, eventsOf, newId, requestFor, seedUser, USER_KEY } from '../helpers/zitadel.js';
import { heraldEnv, waitAllFinished } from './helpers/fleet.js';
import { htmlParts } from './helpers/mime.js';

let h: Harness;
let sink: SmtpSink;
let herald: HeraldProcess | undefined;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await herald?.stop('SIGTERM');
  await sink.close();
  await h.close();
});

/** AES-256-CFB of raw bytes (the helpers' encryptCode takes a string, which is always UTF-8). */
function encryptBytes(bytes: Buffer) {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cfb', Buffer.from(USER_KEY), iv);
  return { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey', Crypted: Buffer.concat([iv, cipher.update(bytes), cipher.final()]).toString('base64') };
}

const HUGE = 'x'.repeat(70_000);
const INJECTED = 'attacker@evil.example';

/** What a bad case writes: a raw requested payload, request overrides, a raw retry payload, or a hostile user. */
type BadInput =
  | { readonly payload: unknown }
  | { readonly request: Record<string, unknown> }
  | { readonly retry: unknown }
  | { readonly email: string }
  | { readonly instance: 'unknown' };

interface BadCase {
  readonly name: string;
  readonly input: BadInput;
  /** The notification.canceled error must match. */
  readonly error: RegExp;
}

const CASES: readonly BadCase[] = [
  // Wrong JSON types and missing fields in the payload itself.
  { name: 'payload null', input: { payload: null }, error: /malformed notification\.requested payload: payload: .*expected object, received null/ },
  { name: 'payload empty object', input: { payload: {} }, error: /request: / },
  { name: 'payload is a string', input: { payload: 'request' }, error: /malformed notification\.requested payload: payload: / },
  { name: 'payload is an array', input: { payload: [1, 2, 3] }, error: /malformed notification\.requested payload/ },
  { name: 'request is a string', input: { payload: { request: 'hello' } }, error: /request: / },
  { name: 'request is an array', input: { payload: { request: [] } }, error: /request: / },
  { name: 'huge array as request', input: { payload: { request: Array.from({ length: 100_000 }, (_, i) => i) } }, error: /request: / },
  { name: 'userID missing', input: { request: { userID: undefined } }, error: /request\.userID/ },
  { name: 'userID a number', input: { request: { userID: 12345 } }, error: /request\.userID/ },
  { name: 'userID empty', input: { request: { userID: '' } }, error: /request\.userID: must not be empty/ },
  { name: 'userID huge', input: { request: { userID: HUGE } }, error: /request\.userID: longer than/ },
  { name: 'eventType missing', input: { request: { eventType: undefined } }, error: /request\.eventType/ },
  { name: 'eventType an object', input: { request: { eventType: { a: 1 } } }, error: /request\.eventType/ },
  { name: 'messageType missing', input: { request: { messageType: undefined } }, error: /request\.messageType/ },
  { name: 'messageType a number', input: { request: { messageType: 7 } }, error: /request\.messageType/ },
  { name: 'notificationType 2', input: { request: { notificationType: 2 } }, error: /request\.notificationType: must be 0 \(email\) or 1 \(SMS\)/ },
  { name: 'notificationType a string', input: { request: { notificationType: '0' } }, error: /request\.notificationType/ },
  { name: 'codeExpiry a string', input: { request: { codeExpiry: '5m' } }, error: /request\.codeExpiry/ },
  { name: 'isOTP a string', input: { request: { isOTP: 'yes' } }, error: /request\.isOTP/ },
  {
    name: 'unverifiedNotificationChannel a number',
    input: { request: { unverifiedNotificationChannel: 1 } },
    error: /request\.unverifiedNotificationChannel/,
  },
  { name: 'args a string', input: { request: { args: 'domain' } }, error: /request\.args/ },
  { name: 'args.expiry a string', input: { request: { args: { expiry: 'soon' } } }, error: /request\.args\.expiry/ },
  { name: 'args.domain huge', input: { request: { args: { domain: HUGE } } }, error: /request\.args\.domain: longer than/ },
  // Unknown message type and trigger events.
  { name: 'unknown message type', input: { request: { messageType: 'Bogus' } }, error: /unknown message type "Bogus"/ },
  { name: 'unknown trigger event type', input: { request: { eventType: 'foo.bar.baz' } }, error: /no sent handler for event type foo\.bar\.baz/ },
  {
    name: 'v1 trigger event type',
    input: { request: { eventType: 'user.email.code.added' } },
    error: /no sent handler for event type user\.email\.code\.added/,
  },
  // Codes: wrong shapes, invalid base64, unknown key, not decryptable, not UTF-8.
  { name: 'code a string', input: { request: { code: 'AAAA' } }, error: /request\.code/ },
  {
    name: 'code without Crypted',
    input: { request: { code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey' } } },
    error: /request\.code\.Crypted/,
  },
  {
    name: 'code Crypted invalid base64',
    input: { request: { code: { ...encryptCode('1'), Crypted: '%%%not-base64%%%' } } },
    error: /Crypted is not standard padded/,
  },
  {
    name: 'code Crypted shorter than the IV',
    input: { request: { code: { ...encryptCode('1'), Crypted: 'AAECAwQFBgc=' } } },
    error: /shorter than the 16-byte IV/,
  },
  {
    name: 'code unknown KeyID',
    input: { request: { code: encryptCode('123456', 'no-such-key') } },
    error: /encryption key "no-such-key" is not configured/,
  },
  { name: 'code hashed (CryptoType 1)', input: { request: { code: { ...encryptCode('1'), CryptoType: 1 } } }, error: /is a hash \(CryptoType 1\)/ },
  { name: 'code algorithm rsa', input: { request: { code: { ...encryptCode('1'), Algorithm: 'rsa' } } }, error: /unsupported algorithm "rsa"/ },
  {
    name: 'code decrypts to invalid UTF-8',
    input: { request: { code: encryptBytes(Buffer.from([0xff, 0xfe, 0xc3, 0x28])) } },
    error: /is not valid UTF-8/,
  },
  // URL templates and origins.
  {
    name: 'urlTemplate unclosed action',
    input: { request: { urlTemplate: 'https://x.example/{{.Code' } },
    error: /urlTemplate: template: .*unclosed action/,
  },
  {
    name: 'urlTemplate unknown function',
    input: { request: { urlTemplate: 'https://x.example/{{exec .Code}}' } },
    error: /urlTemplate: template: .*function "exec" not defined/,
  },
  { name: 'urlTemplate {{template}}', input: { request: { urlTemplate: '{{template "x" .}}' } }, error: /urlTemplate: template: / },
  // A missing key is not an error (Go prints "<no value>" for a map); a field of a string is.
  {
    name: 'urlTemplate field of a string',
    input: { request: { urlTemplate: 'https://x.example/{{.Code.Secret}}' } },
    error: /urlTemplate: template: .*Code\.Secret/,
  },
  { name: 'urlTemplate huge', input: { request: { urlTemplate: `https://x.example/${HUGE}` } }, error: /request\.urlTemplate: longer than/ },
  {
    name: 'origin javascript:',
    input: { request: { triggeredAtOrigin: 'javascript:alert(1)' } },
    error: /triggeredAtOrigin has unsupported scheme javascript:/,
  },
  { name: 'origin not a URL', input: { request: { triggeredAtOrigin: 'not a url' } }, error: /triggeredAtOrigin is not a valid URL/ },
  // Unknown user / instance, no address.
  { name: 'unknown user', input: { request: { userID: 'no-such-user' } }, error: /user no-such-user not found/ },
  { name: 'unknown instance', input: { instance: 'unknown' }, error: /user .* not found/ },
  {
    name: 'SMS to a user without phone',
    input: { request: { notificationType: 1, messageType: 'VerifySMSOTP', eventType: 'user.human.mfa.otp.sms.code.added' } },
    error: /has no verified phone number/,
  },
  // Header injection through the address (CR/LF, several mailboxes).
  { name: 'address with CRLF Bcc', input: { email: `victim@example.com\r\nBcc: ${INJECTED}` }, error: /recipient is not one plain email address/ },
  { name: 'address with LF To', input: { email: `victim@example.com\nTo: ${INJECTED}` }, error: /recipient is not one plain email address/ },
  { name: 'address with two mailboxes', input: { email: `victim@example.com, ${INJECTED}` }, error: /recipient is not one plain email address/ },
  { name: 'address with CR only', input: { email: `victim@example.com\rBcc: ${INJECTED}` }, error: /recipient is not one plain email address/ },
  // Retry events (foreign, ZITADEL-written) with a malformed body.
  {
    name: 'retry without notifyUser',
    input: { retry: { request: 'REQUEST', error: 'x', backOff: 0 } },
    error: /malformed notification\.retry\.requested payload: notifyUser/,
  },
  {
    name: 'retry notifyUser without ID',
    input: { retry: { request: 'REQUEST', error: 'x', backOff: 0, notifyUser: { VerifiedEmail: 'a@example.com' } } },
    error: /notifyUser\.ID/,
  },
  { name: 'retry backOff negative', input: { retry: { request: 'REQUEST', error: 'x', backOff: -1, notifyUser: { ID: 'u' } } }, error: /backOff/ },
];

/** Delivered (not canceled): untrusted display names, printed escaped. */
const HOSTILE_NAMES = [
  '<script>alert(1)</script>',
  '<b>{{.Code}}</b>',
  `Eve\r\nBcc: ${INJECTED}`,
  '"><img src=x onerror=alert(1)>',
  '{{template "x" .}}{{.Code}}',
];

it(`cancels ${CASES.length} bad inputs with clear errors while good mail keeps flowing`, async () => {
  expect(CASES.length).toBeGreaterThanOrEqual(40);
  const instanceId = newId();
  const pool = h.db.pool;
  const good = await seedUser(pool, { instanceId, email: 'good@example.com' });
  const bad = new Map<string, BadCase>();
  const goods: string[] = [];
  const hostile = new Map<string, string>();

  async function write(events: (aggregateId: string) => ZitadelEvent[]): Promise<string> {
    const aggregateId = newId();
    await insertZitadelEvents(pool, events(aggregateId));
    return aggregateId;
  }
  const requested = (user: DemoUser, aggregateId: string, payload: unknown, inst = user.instanceId): ZitadelEvent => ({
    instanceId: inst,
    aggregateType: 'notification',
    aggregateId,
    eventType: 'notification.requested',
    owner: user.orgId,
    payload,
  });

  for (const [i, c] of CASES.entries()) {
    let id: string;
    const input = c.input;
    if ('payload' in input) {
      id = await write((a) => [requested(good, a, input.payload)]);
    } else if ('request' in input) {
      const request = { ...requestFor(good), ...input.request };
      id = await write((a) => [requested(good, a, { request: JSON.parse(JSON.stringify(request)) as unknown })]);
    } else if ('retry' in input) {
      const retry = { ...(input.retry as Record<string, unknown>), request: requestFor(good) };
      id = await write((a) => [
        requested(good, a, { request: requestFor(good) }),
        { ...requested(good, a, retry), eventType: 'notification.retry.requested' },
      ]);
    } else if ('email' in input) {
      const victim = await seedUser(pool, { instanceId, email: input.email });
      id = await write((a) => [requested(victim, a, { request: requestFor(victim) })]);
    } else {
      const ghostInstance = `ghost-${newId()}`;
      id = await write((a) => [requested(good, a, { request: requestFor(good) }, ghostInstance)]);
    }
    bad.set(id, c);
    if (i % 4 === 3) goods.push(await write((a) => [requested(good, a, { request: requestFor(good, {}, `G${i}`) })]));
  }
  for (const name of HOSTILE_NAMES) {
    const user = await seedUser(pool, { instanceId, email: `hostile${hostile.size}@example.com`, displayName: name });
    hostile.set(await write((a) => [requested(user, a, { request: requestFor(user, {}, 'H0STILE') })]), name);
  }

  herald = spawnHerald(
    ['start'],
    heraldEnv(
      { databaseUrl: h.db.url, redisUrl: REDIS_URL, prefix: h.prefix, smtpUrl: sink.url },
      {
        HERALD_SMS_PROVIDER: 'outbox',
        // Every good request goes to the same user; the flood guard has its own tests (test/tenants/).
        HERALD_RECIPIENT_LIMIT: '0',
      },
    ),
  );
  const ghostIds = [...bad].filter(([, c]) => 'instance' in c.input).map(([id]) => id);
  const total = bad.size + goods.length + hostile.size - ghostIds.length;
  const outcome = await waitAllFinished(pool, instanceId, total, 60_000);

  // Every bad one: canceled, once, with its specific error; nothing was retried.
  const errors: Record<string, string> = {};
  for (const [id, c] of bad) {
    const inst = 'instance' in c.input ? undefined : instanceId;
    const events = inst
      ? await eventsOf(pool, inst, id)
      : (
          await pool.query<{ event_type: string; payload: unknown }>(
            `SELECT event_type, payload FROM eventstore.events2 WHERE aggregate_id = $1 ORDER BY "sequence"`,
            [id],
          )
        ).rows;
    const last = events.at(-1);
    errors[c.name] = last?.event_type === 'notification.canceled' ? (last.payload as { error: string }).error : `NOT CANCELED: ${last?.event_type}`;
  }
  const mismatched = CASES.filter((c) => !c.error.test(errors[c.name] ?? '')).map((c) => `${c.name}: ${errors[c.name]}`);
  expect(mismatched).toEqual([]);
  expect(Object.values(errors).filter((e) => e.length > 500)).toEqual([]); // clear, bounded texts
  for (const id of goods) expect(outcome.get(id)).toMatchObject({ sent: 1, canceled: 0 });
  for (const id of hostile.keys()) expect(outcome.get(id)).toMatchObject({ sent: 1, canceled: 0 });
  // Nothing was retried: the only retry events are the corpus' own (one each).
  const retried = [...outcome].filter(([id, t]) => t.retries !== (bad.get(id) && 'retry' in bad.get(id)!.input ? 1 : 0));
  expect(retried).toEqual([]);

  // The sink saw only the good and hostile-name mails: no injected recipient, one of each header.
  expect(sink.messages).toHaveLength(goods.length + hostile.size);
  for (const mail of sink.messages) {
    expect(mail.envelope.to).toHaveLength(1);
    expect(mail.envelope.to[0]).not.toContain('evil');
    const names = mail.headerLines.map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    expect(names.filter((n) => n === 'to')).toHaveLength(1);
    expect(names.filter((n) => n === 'subject')).toHaveLength(1);
    expect(names.filter((n) => n === 'from')).toHaveLength(1);
    expect(names).not.toContain('bcc');
    expect(names).not.toContain('cc');
    expect(mail.headerLines.filter((l) => l.includes(INJECTED))).toEqual([]); // (the body may quote a hostile name as text)
  }
  const hostileMails = sink.messages.filter((m) => m.envelope.to[0]?.startsWith('hostile'));
  expect(hostileMails).toHaveLength(HOSTILE_NAMES.length);
  for (const mail of hostileMails) {
    const [html, ...rest] = htmlParts(mail);
    expect(rest).toEqual([]);
    expect(html).toBeDefined();
    expect(html).not.toMatch(/<script|<b>|<img|<\/b>/i); // markup only as escaped text
  }
  const escaped = sink.messages.map((m) => htmlParts(m).join('')).join('\n');
  expect(escaped).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(escaped).toContain('Hello &lt;b&gt;{{.Code}}&lt;/b&gt;,'); // printed, not evaluated
  expect(escaped).toContain('Hello {{template &#34;x&#34; .}}{{.Code}},');
  expect(escaped).toContain('&lt;img src=x onerror=alert(1)&gt;');

  // Still up, still delivering: one more good request after the whole corpus.
  expect(herald.child.exitCode).toBeNull();
  const last = await write((a) => [requested(good, a, { request: requestFor(good, {}, 'LAST01') })]);
  await sink.waitFor(goods.length + hostile.size + 1, 15_000);
  expect((await waitAllFinished(pool, instanceId, total + 1, 15_000)).get(last)).toMatchObject({ sent: 1 });
  console.info(`[fault:bad-input] bad=${CASES.length} (all canceled) good=${goods.length + 1} hostile-names=${hostile.size} (delivered escaped)`);
  console.info(
    Object.entries(errors)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n'),
  );
});

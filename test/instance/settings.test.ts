import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Keyring } from '../../src/crypto/keyring.js';
import { makeKeyring } from '../../src/crypto/keyring.js';
import { isPermanent } from '../../src/errors.js';
import type { Queryable } from '../../src/eventstore/types.js';
import { brandingFor } from '../../src/instance/branding.js';
import { selectInstanceSettingsEventsSql } from '../../src/instance/events.js';
import { makeInstanceSettings } from '../../src/instance/settings.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents, ZITADEL_EVENTS2_DDL, type ZitadelEvent } from '../helpers/events.js';

const logger = pino({ level: 'silent' });
const KEYS = { smtpKey: 'smtp-key-0123456789abcdef0123456', smsKey: 'sms-key-0123456789abcdef01234567' };
let db: TestDatabase;
let keyring: Keyring;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(ZITADEL_EVENTS2_DDL);
  keyring = makeKeyring({ keys: KEYS }, db.pool);
});
afterAll(async () => {
  await db?.drop();
});

const on =
  (aggregateType: string, aggregateId: string, instanceId: string, owner: string) =>
  (eventType: string, payload?: unknown): ZitadelEvent => ({ instanceId, aggregateType, aggregateId, owner, eventType, payload });
const instanceOf = (id: string) => on('instance', id, id, id);
const orgOf = (instanceId: string, orgId: string) => on('org', orgId, instanceId, orgId);

/** Counts statements that re-read the instance events, to see the cache work. */
function counting(pool: Queryable): { pool: Queryable; reads: () => number } {
  let reads = 0;
  const wrapped = {
    query: ((text: string, values?: unknown[]) => {
      if (text === selectInstanceSettingsEventsSql) reads++;
      return pool.query(text, values);
    }) as Queryable['query'],
  };
  return { pool: wrapped, reads: () => reads };
}

describe('instance settings from the eventstore', () => {
  it('reduces two instances with different providers, branding and policies', async () => {
    const a = instanceOf('inst-a');
    const aOrg = orgOf('inst-a', 'org-a');
    const b = instanceOf('inst-b');
    const bOrg = orgOf('inst-b', 'org-b');
    const template = Buffer.from('<html>{{.Greeting}}</html>').toString('base64');
    await insertZitadelEvents(db.pool, [
      a('instance.added', { name: 'A' }),
      a('instance.domain.added', { domain: 'a.example', generated: true }),
      a('instance.domain.primary.set', { domain: 'a.example' }),
      a('instance.default.language.set', { language: 'de' }),
      a('instance.smtp.config.added', {
        host: 'mail.a.example:587',
        tls: true,
        user: 'a-user',
        senderAddress: 'no-reply@a.example',
        senderName: 'A',
        password: await keyring.encryptString('smtpKey', 'old-a'),
      }),
      a('instance.smtp.config.password.changed', { password: await keyring.encryptString('smtpKey', 'pass-a') }),
      a('instance.sms.configtwilio.added', {
        id: 'tw-a',
        sid: 'ACa',
        token: await keyring.encryptString('smsKey', 'tok-a'),
        senderNumber: '+100',
        verifyServiceSid: 'VAa',
      }),
      a('instance.sms.configactivated', { id: 'tw-a' }),
      a('instance.policy.label.added', { primaryColor: '#aa0000', fontColor: '#000001', disableMsgPopup: true }),
      a('instance.policy.label.logo.added', { storeKey: 'logo-a.png' }),
      a('instance.policy.label.font.added', { storeKey: 'fonts/Inter.ttf' }),
      a('instance.policy.label.activated'),
      a('instance.policy.label.changed', { primaryColor: '#preview' }),
      a('instance.mail.template.added', { template }),
      a('instance.policy.domain.added', { userLoginMustBeDomain: true }),
      a('instance.policy.notification.added', {}),
      {
        instanceId: 'inst-a',
        aggregateType: 'restrictions',
        aggregateId: 'restr-a',
        owner: 'inst-a',
        eventType: 'restrictions.set',
        payload: { allowedLanguages: ['de', 'en'] },
      },
      aOrg('org.domain.added', { domain: 'org-a.example' }),
      aOrg('org.domain.verified', { domain: 'org-a.example' }),
      aOrg('org.domain.primary.set', { domain: 'org-a.example' }),
      b('instance.added', { name: 'B' }),
      b('instance.smtp.config.added', {
        id: 'smtp-b',
        host: 'mail.b.example:25',
        senderAddress: 'b@b.example',
        password: await keyring.encryptString('smtpKey', 'pass-b'),
      }),
      b('instance.smtp.config.activated', { id: 'smtp-b' }),
      b('instance.smtp.config.http.added', { id: 'http-b', description: 'hook', endpoint: 'https://hook.b.example/email' }),
      b('instance.smtp.config.activated', { id: 'http-b' }),
      b('instance.sms.confighttp.added', { id: 'sms-http-b', endpoint: 'https://hook.b.example/sms' }),
      b('instance.sms.configtwilio.activated', { id: 'sms-http-b' }),
      b('instance.policy.label.added', { primaryColor: '#bb0000' }),
      b('instance.policy.label.activated'),
      bOrg('org.policy.label.added', { primaryColor: '#b0b0b0', disableMsgPopup: true }),
      bOrg('org.policy.label.activated'),
      bOrg('org.policy.label.changed', { disableWatermark: false }),
      bOrg('org.policy.notification.added', { passwordChange: true }),
    ]);
    const settings = makeInstanceSettings({ pool: db.pool, keyring, logger });

    const sa = await settings.get('inst-a', 'org-a');
    expect(sa.removed).toBe(false);
    expect(sa.email).toEqual({
      kind: 'smtp',
      id: 'inst-a',
      description: 'generic',
      host: 'mail.a.example',
      port: 587,
      tls: true,
      user: 'a-user',
      password: 'pass-a',
      senderAddress: 'no-reply@a.example',
      senderName: 'A',
      replyToAddress: '',
    });
    expect(sa.sms).toEqual({
      kind: 'twilio',
      id: 'tw-a',
      description: '',
      sid: 'ACa',
      token: 'tok-a',
      senderNumber: '+100',
      verifyServiceSid: 'VAa',
    });
    expect(sa.branding).toMatchObject({
      policyId: 'inst-a',
      owner: 'instance',
      primaryColor: '#aa0000',
      disableWatermark: true,
      logoKey: 'logo-a.png',
    });
    expect(brandingFor(sa.branding, 'https://a.example')).toEqual({
      primaryColor: '#aa0000',
      backgroundColor: '#fafafa',
      fontColor: '#000001',
      logoUrl: 'https://a.example/assets/v1/inst-a/logo-a.png',
      fontUrl: 'https://a.example/assets/v1/inst-a/fonts/Inter.ttf',
      fontFaceFamily: 'Inter.ttf',
      fontFamily: 'Inter.ttf,-apple-system, BlinkMacSystemFont, Segoe UI, Lato, Arial, Helvetica, sans-serif',
    });
    expect(sa.mailTemplate).toBe('<html>{{.Greeting}}</html>');
    expect(sa.passwordChangeNotify).toBe(false);
    expect(sa.defaultLanguage).toBe('de');
    expect(sa.allowedLanguages).toEqual(['de', 'en']);
    expect(sa.primaryDomain).toBe('a.example');
    expect(sa.login).toEqual({ mustBeDomain: true, verifiedDomains: ['org-a.example'], primaryDomain: 'org-a.example', orgRemoved: false });

    const sb = await settings.get('inst-b', 'org-b');
    expect(sb.email).toEqual({ kind: 'http', id: 'http-b', description: 'hook', endpoint: 'https://hook.b.example/email' });
    expect(sb.sms).toEqual({ kind: 'http', id: 'sms-http-b', description: '', endpoint: 'https://hook.b.example/sms' });
    expect(sb.branding).toMatchObject({ policyId: 'org-b', owner: 'org', primaryColor: '#b0b0b0', disableWatermark: true });
    expect(sb.mailTemplate).toBeUndefined();
    expect(sb.passwordChangeNotify).toBe(true);
    expect(sb.defaultLanguage).toBeUndefined();
    expect(sb.allowedLanguages).toEqual([]);
    expect(sb.login.mustBeDomain).toBe(false);

    // Another org of instance B without its own policy falls back to the instance's.
    expect((await settings.get('inst-b', 'org-other')).branding).toMatchObject({ policyId: 'inst-b', primaryColor: '#bb0000' });
  });

  it('re-reduces only after a new settings event, and then at once', async () => {
    const c = instanceOf('inst-c');
    await insertZitadelEvents(db.pool, [
      c('instance.smtp.config.added', {
        id: 's',
        host: 'mail:25',
        senderAddress: 'one@c.example',
        password: await keyring.encryptString('smtpKey', 'p'),
      }),
      c('instance.smtp.config.activated', { id: 's' }),
    ]);
    const count = counting(db.pool);
    const settings = makeInstanceSettings({ pool: count.pool, keyring, logger });
    expect((await settings.get('inst-c', 'org-c')).email).toMatchObject({ senderAddress: 'one@c.example' });
    await settings.get('inst-c', 'org-c');
    expect(count.reads()).toBe(1);

    // Events that are not settings do not invalidate.
    await insertZitadelEvents(db.pool, [c('instance.changed', { name: 'renamed' })]);
    await settings.get('inst-c', 'org-c');
    expect(count.reads()).toBe(1);

    await insertZitadelEvents(db.pool, [c('instance.smtp.config.changed', { id: 's', senderAddress: 'two@c.example' })]);
    expect((await settings.get('inst-c', 'org-c')).email).toMatchObject({ senderAddress: 'two@c.example' });
    expect(count.reads()).toBe(2);

    await insertZitadelEvents(db.pool, [c('instance.smtp.config.deactivated', { id: 's' })]);
    expect((await settings.get('inst-c', 'org-c')).email).toBeUndefined();

    await insertZitadelEvents(db.pool, [c('instance.removed')]);
    expect((await settings.get('inst-c', 'org-c')).removed).toBe(true);
  });

  it('picks up org-level changes (new org label policy activated)', async () => {
    const d = instanceOf('inst-d');
    const dOrg = orgOf('inst-d', 'org-d');
    await insertZitadelEvents(db.pool, [d('instance.policy.label.added', { primaryColor: '#d00000' }), d('instance.policy.label.activated')]);
    const settings = makeInstanceSettings({ pool: db.pool, keyring, logger });
    expect((await settings.get('inst-d', 'org-d')).branding?.policyId).toBe('inst-d');
    await insertZitadelEvents(db.pool, [dOrg('org.policy.label.added', { primaryColor: '#0d0d0d' })]);
    expect((await settings.get('inst-d', 'org-d')).branding?.policyId).toBe('inst-d'); // preview only
    await insertZitadelEvents(db.pool, [dOrg('org.policy.label.activated')]);
    expect((await settings.get('inst-d', 'org-d')).branding).toMatchObject({ policyId: 'org-d', primaryColor: '#0d0d0d' });
  });

  it('keeps an undecryptable secret as a PermanentError on the provider instead of failing', async () => {
    const e = instanceOf('inst-e');
    const foreign = makeKeyring({ keys: { otherKey: 'other-key-0123456789abcdef012345' } }, db.pool);
    await insertZitadelEvents(db.pool, [
      e('instance.sms.configtwilio.added', { id: 't', sid: 'ACe', token: await foreign.encryptString('otherKey', 'tok'), senderNumber: '+1' }),
      e('instance.sms.configactivated', { id: 't' }),
      e('instance.smtp.config.added', { id: 's', host: 'mail:25' }),
      e('instance.smtp.config.activated', { id: 's' }),
    ]);
    const s = await makeInstanceSettings({ pool: db.pool, keyring, logger }).get('inst-e', 'org-e');
    expect(s.sms?.kind === 'twilio' && s.sms.problem).toSatisfy(isPermanent);
    expect(s.sms?.kind === 'twilio' && s.sms.token).toBe('');
    // No password stored: ZITADEL cannot use the config either.
    expect(s.email?.kind === 'smtp' && s.email.problem?.code).toBe('PROVIDER_SECRET_MISSING');
  });

  it('retries a provider problem after problemRetryMs without new events', async () => {
    const f = instanceOf('inst-f');
    await insertZitadelEvents(db.pool, [
      f('instance.smtp.config.added', { id: 's', host: 'mail' }),
      f('instance.smtp.config.activated', { id: 's' }),
    ]);
    let clock = 0;
    const count = counting(db.pool);
    const settings = makeInstanceSettings({ pool: count.pool, keyring, logger, problemRetryMs: 1000, now: () => clock });
    expect((await settings.get('inst-f', 'o')).email).toMatchObject({ problem: expect.anything() });
    await settings.get('inst-f', 'o');
    expect(count.reads()).toBe(1);
    clock = 1000;
    await settings.get('inst-f', 'o');
    expect(count.reads()).toBe(2);
  });
});

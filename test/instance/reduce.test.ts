import { describe, expect, it } from 'vitest';

import type { SettingsEventRow } from '../../src/instance/events.js';
import { reduceLabelPolicy, reduceMailTemplate, reduceNotificationPolicy } from '../../src/instance/policies.js';
import { reduceEmailProviders, reduceSmsProviders } from '../../src/instance/providers.js';
import { mergePolicies, reduceInstanceSettings, reduceOrgSettings } from '../../src/instance/reduce.js';

const I = 'inst-1';
const inst = (eventType: string, payload?: unknown): SettingsEventRow => ({
  aggregateType: 'instance',
  aggregateId: I,
  eventType,
  payload: payload ?? null,
  owner: I,
});
const org = (eventType: string, payload?: unknown): SettingsEventRow => ({
  aggregateType: 'org',
  aggregateId: 'org-1',
  eventType,
  payload: payload ?? null,
  owner: 'org-1',
});
const pw = (tag: string) => ({ CryptoType: 0, Algorithm: 'aes', KeyID: 'smtpKey', Crypted: tag });

describe('email provider reducer', () => {
  it('treats a legacy added event with empty id as the active "generic" config of the instance', () => {
    const active = reduceEmailProviders(I, [inst('instance.smtp.config.added', { host: 'mail:25', password: pw('a') })]);
    expect(active).toMatchObject({ kind: 'smtp', id: I, description: 'generic', host: 'mail:25', password: pw('a') });
  });

  it('applies password.changed without id to the legacy config', () => {
    const active = reduceEmailProviders(I, [
      inst('instance.smtp.config.added', { host: 'mail:25', password: pw('old') }),
      inst('instance.smtp.config.password.changed', { password: pw('new') }),
    ]);
    expect(active).toMatchObject({ id: I, password: pw('new') });
  });

  it('ignores password.changed without id when only id-ed configs exist', () => {
    const active = reduceEmailProviders(I, [
      inst('instance.smtp.config.added', { id: 's1', host: 'mail:25', password: pw('old') }),
      inst('instance.smtp.config.activated', { id: 's1' }),
      inst('instance.smtp.config.password.changed', { password: pw('new') }),
    ]);
    expect(active).toMatchObject({ id: 's1', password: pw('old') });
  });

  it('keeps at most one active config and honours deactivate and remove', () => {
    const base = [
      inst('instance.smtp.config.added', { id: 's1', host: 'a:25' }),
      inst('instance.smtp.config.http.added', { id: 'h1', endpoint: 'http://hook' }),
      inst('instance.smtp.config.activated', { id: 's1' }),
      inst('instance.smtp.config.activated', { id: 'h1' }),
    ];
    expect(reduceEmailProviders(I, base)).toMatchObject({ kind: 'http', id: 'h1' });
    expect(reduceEmailProviders(I, [...base, inst('instance.smtp.config.deactivated', { id: 'h1' })])).toBeUndefined();
    expect(reduceEmailProviders(I, [...base, inst('instance.smtp.config.removed', { id: 'h1' })])).toBeUndefined();
    expect(reduceEmailProviders(I, [...base.slice(0, 2), inst('instance.smtp.config.activated', { id: 'nope' })])).toBeUndefined();
  });

  it('applies changed fields, including tls=false', () => {
    const active = reduceEmailProviders(I, [
      inst('instance.smtp.config.added', { id: 's1', host: 'a:25', tls: true, senderAddress: 'a@x' }),
      inst('instance.smtp.config.activated', { id: 's1' }),
      inst('instance.smtp.config.changed', { id: 's1', tls: false, senderAddress: 'b@x' }),
    ]);
    expect(active).toMatchObject({ tls: false, senderAddress: 'b@x', host: 'a:25' });
  });
});

describe('sms provider reducer', () => {
  it('reduces current and legacy activation events and token changes', () => {
    const rows = [
      inst('instance.sms.configtwilio.added', { id: 't1', sid: 'AC1', token: pw('t'), senderNumber: '+1' }),
      inst('instance.sms.configtwilio.activated', { id: 't1' }),
      inst('instance.sms.configtwilio.token.changed', { id: 't1', token: pw('t2') }),
    ];
    expect(reduceSmsProviders(rows)).toMatchObject({ kind: 'twilio', id: 't1', token: pw('t2') });
    const http = [
      ...rows,
      inst('instance.sms.confighttp.added', { id: 'h1', endpoint: 'http://x' }),
      inst('instance.sms.configactivated', { id: 'h1' }),
    ];
    expect(reduceSmsProviders(http)).toMatchObject({ kind: 'http', id: 'h1' });
    expect(reduceSmsProviders([...http, inst('instance.sms.configremoved', { id: 'h1' })])).toBeUndefined();
  });
});

describe('label policy reducer', () => {
  it('uses only the activated version; changed edits the preview', () => {
    const rows = [
      inst('instance.policy.label.added', { primaryColor: '#111111', disableMsgPopup: true }),
      inst('instance.policy.label.logo.added', { storeKey: 'LOGO' }),
      inst('instance.policy.label.activated'),
      inst('instance.policy.label.changed', { primaryColor: '#222222', disableWatermark: false }),
    ];
    expect(reduceLabelPolicy(rows, 'instance')).toMatchObject({ primaryColor: '#111111', disableWatermark: true, logoKey: 'LOGO', policyId: I });
    const reactivated = reduceLabelPolicy([...rows, inst('instance.policy.label.activated')], 'instance');
    expect(reactivated).toMatchObject({ primaryColor: '#222222', disableWatermark: false, logoKey: 'LOGO' });
  });

  it('reads the watermark flag from disableMsgPopup in added and disableWatermark in changed only', () => {
    const rows = [inst('instance.policy.label.added', { disableWatermark: true }), inst('instance.policy.label.activated')];
    expect(reduceLabelPolicy(rows, 'instance')?.disableWatermark).toBe(false);
    const changed = [
      inst('instance.policy.label.added', {}),
      inst('instance.policy.label.changed', { disableMsgPopup: true, disableWatermark: true }),
      inst('instance.policy.label.activated'),
    ];
    expect(reduceLabelPolicy(changed, 'instance')?.disableWatermark).toBe(true);
  });

  it('has no active version while only a preview exists, and none after org removal', () => {
    expect(reduceLabelPolicy([org('org.policy.label.added', { primaryColor: '#1' })], 'org')).toBeUndefined();
    const active = [org('org.policy.label.added', {}), org('org.policy.label.activated')];
    expect(reduceLabelPolicy(active, 'org')).toBeDefined();
    expect(reduceLabelPolicy([...active, org('org.policy.label.removed')], 'org')).toBeUndefined();
  });

  it('clears assets on assets.removed and font.removed', () => {
    const rows = [
      inst('instance.policy.label.added', {}),
      inst('instance.policy.label.font.added', { storeKey: 'fonts/F.ttf' }),
      inst('instance.policy.label.logo.dark.added', { storeKey: 'D' }),
      inst('instance.policy.label.assets.removed'),
      inst('instance.policy.label.activated'),
    ];
    expect(reduceLabelPolicy(rows, 'instance')).toMatchObject({ fontKey: '', logoDarkKey: '' });
  });
});

describe('mail template and notification policy', () => {
  it('decodes the base64 template; org removal drops it', () => {
    const b64 = Buffer.from('<p>{{.Text}}</p>').toString('base64');
    expect(reduceMailTemplate([inst('instance.mail.template.added', { template: b64 })])).toBe('<p>{{.Text}}</p>');
    expect(reduceMailTemplate([org('org.mail.template.added', { template: b64 }), org('org.mail.template.removed')])).toBeUndefined();
  });

  it('added omits false; changed sets; no policy is undefined', () => {
    expect(reduceNotificationPolicy([inst('instance.policy.notification.added', {})])).toBe(false);
    expect(
      reduceNotificationPolicy([
        inst('instance.policy.notification.added', {}),
        inst('instance.policy.notification.changed', { passwordChange: true }),
      ]),
    ).toBe(true);
    expect(reduceNotificationPolicy([])).toBeUndefined();
  });

  it('merges org over instance, defaulting passwordChange to true', () => {
    const i = reduceInstanceSettings(I, [inst('instance.policy.label.added', { primaryColor: '#i' }), inst('instance.policy.label.activated')]);
    const o = reduceOrgSettings([org('org.policy.label.added', { primaryColor: '#o' })]);
    const merged = mergePolicies(i, o);
    expect(merged.branding?.primaryColor).toBe('#i'); // the org policy is only a preview
    expect(merged.passwordChangeNotify).toBe(true);
  });
});

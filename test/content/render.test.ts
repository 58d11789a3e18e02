import { describe, expect, it } from 'vitest';

import { buildArgs } from '../../src/content/args.js';
import { renderMessage } from '../../src/content/render.js';
import type { MessageType, RenderedEmail, RenderedSms, RenderInput } from '../../src/content/types.js';
import { MessageTypes } from '../../src/content/types.js';
import { isPermanent } from '../../src/errors.js';
import { makeRequest, makeUser } from './fixtures.js';

const ORIGIN = 'https://auth.example.com';
const CODE = 'K7Q2XZ';

const SMS_TYPES: ReadonlySet<MessageType> = new Set(['VerifyPhone', 'VerifySMSOTP']);
/** Types whose default text shows the code (the others carry it in the link only). */
const CODE_IN_TEXT: ReadonlySet<MessageType> = new Set(['InitCode', 'PasswordReset', 'VerifyEmail', 'VerifyPhone', 'VerifySMSOTP', 'VerifyEmailOTP']);

function argsFor(type: MessageType, userOverrides = {}) {
  return buildArgs({
    request: makeRequest({
      messageType: type,
      isOTP: type === 'VerifySMSOTP' || type === 'VerifyEmailOTP',
      args: { origin: ORIGIN, domain: 'auth.example.com', expiry: 300e9, tempUsername: 'tmp-ada', applicationName: 'Acme' },
    }),
    user: makeUser(userOverrides),
    code: CODE,
    origin: ORIGIN,
  });
}

function email(input: Partial<RenderInput> & { messageType: string }): RenderedEmail {
  const out = renderMessage({ language: 'en', channel: 'email', args: argsFor('InitCode'), ...input });
  if (out.kind !== 'email') throw new Error('expected email');
  return out;
}

function sms(input: Partial<RenderInput> & { messageType: string }): RenderedSms {
  const out = renderMessage({ language: 'en', channel: 'sms', args: argsFor('VerifySMSOTP'), ...input });
  if (out.kind !== 'sms') throw new Error('expected sms');
  return out;
}

describe('renderMessage: every message type', () => {
  for (const language of ['en', 'de']) {
    for (const type of MessageTypes) {
      it(`${type} in ${language}`, () => {
        const args = argsFor(type);
        if (SMS_TYPES.has(type)) {
          const out = sms({ messageType: type, language, args });
          expect(out.language).toBe(language);
          expect(out.text.length).toBeGreaterThan(0);
          expect(out.text.length).toBeLessThanOrEqual(160);
          expect(out.text).toContain(CODE);
          expect(out.text).not.toContain('<no value>');
          return;
        }
        const out = email({ messageType: type, language, args, urlTemplate: `${ORIGIN}/ui/console?login_hint={{.PreferredLoginName}}` });
        expect(out.language).toBe(language);
        expect(out.subject.length).toBeGreaterThan(0);
        expect(out.text.length).toBeGreaterThan(0);
        expect(out.html).toContain('<!DOCTYPE html>');
        expect(out.text).not.toContain('<no value>');
        expect(out.html).not.toContain('{{');
        expect(out.text).toContain('Ada Lovelace');
        if (CODE_IN_TEXT.has(type)) {
          expect(out.text).toContain(CODE);
          expect(out.html).toContain(CODE);
        }
      });
    }
  }

  it('DomainClaimed names the old user name and the temporary one', () => {
    const out = email({ messageType: 'DomainClaimed', args: argsFor('DomainClaimed') });
    expect(out.text).toContain('your user ada was renamed to tmp-ada');
  });

  it('VerifySMSOTP mentions domain and expiry and ends with the WebOTP line', () => {
    const out = sms({ messageType: 'VerifySMSOTP' });
    expect(out.text).toContain('5m0s');
    expect(out.text.endsWith(`@auth.example.com #${CODE}`)).toBe(true);
  });
});

describe('renderMessage: language', () => {
  it.each([
    ['en', 'en'],
    ['de', 'de'],
    ['de-AT', 'de'],
    ['de-CH', 'de'],
    ['DE', 'de'],
    ['fr', 'en'],
    ['und', 'en'],
    ['', 'en'],
  ])('%j → %s', (preferred, want) => {
    expect(email({ messageType: 'VerifyEmail', language: preferred }).language).toBe(want);
  });

  it('German texts are German', () => {
    expect(email({ messageType: 'VerifyEmail', language: 'de-AT' }).text).toContain('Hallo Ada Lovelace');
  });
});

describe('renderMessage: escaping and injection', () => {
  const hostile = '<b>{{.Code}}</b>';

  it('a display name with markup and template syntax is escaped in HTML and literal in text', () => {
    const out = email({ messageType: 'InitCode', args: argsFor('InitCode', { DisplayName: hostile }) });
    expect(out.html).toContain('&lt;b&gt;{{.Code}}&lt;/b&gt;');
    expect(out.html).not.toContain('<b>');
    expect(out.text).toContain(`Hello ${hostile},`);
    // The code appears only where the text puts it, not where the name was.
    expect(out.text.split(CODE)).toHaveLength(2);
  });

  it('a <script> display name never reaches the HTML unescaped', () => {
    const out = email({ messageType: 'PasswordChange', args: argsFor('PasswordChange', { DisplayName: '<script>alert(1)</script>' }) });
    expect(out.html).not.toContain('<script>');
    expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('strips CR/LF from the subject', () => {
    const out = email({
      messageType: 'InitCode',
      overrides: { Subject: 'Hi {{.DisplayName}}' },
      args: argsFor('InitCode', { DisplayName: 'Ada\r\nBcc: evil@example.com' }),
    });
    expect(out.subject).not.toMatch(/[\r\n]/);
    expect(out.subject).toBe('Hi Ada Bcc: evil@example.com');
  });

  it.each(['javascript:alert({{.Code}})', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,x'])('never links %j', (urlTemplate) => {
    const out = email({ messageType: 'InitCode', urlTemplate });
    expect(out.html).toContain('href="#"');
    expect(out.html).not.toMatch(/href="[^#]/);
  });

  it('ignores branding values that could break out of CSS or attributes', () => {
    const out = email({
      messageType: 'InitCode',
      urlTemplate: `${ORIGIN}/x`,
      branding: {
        primaryColor: '#fff" onload="x',
        backgroundColor: 'rgb(1,2,3)',
        fontColor: 'red;}</style><script>',
        fontFamily: "Lato'}</style><script>",
        fontUrl: 'https://x.example/f.ttf")}</style>',
        logoUrl: 'javascript:alert(1)',
      },
    });
    expect(out.html).not.toContain('<script>');
    expect(out.html).not.toContain('onload');
    expect(out.html).not.toContain('<img');
    expect(out.html).not.toContain('@font-face');
    expect(out.html).toContain('background-color:rgb(1,2,3)');
    expect(out.html).toContain('background-color:#5282C1');
  });
});

describe('renderMessage: URL templates (ZITADEL defaults)', () => {
  const loginName = 'a&b<c>@example.com';
  const args = argsFor('InitCode', { PreferredLoginName: loginName });

  it('InitCode link: email args are HTML-escaped, missing PasswordSet prints <no value>', () => {
    const urlTemplate = `${ORIGIN}/ui/login/user/init?userID=u1&loginname={{.LoginName}}&code={{.Code}}&orgID=org1&passwordset={{.PasswordSet}}&authRequestID=`;
    const out = email({ messageType: 'InitCode', args, urlTemplate });
    expect(out.url).toBe(
      `${ORIGIN}/ui/login/user/init?userID=u1&loginname=a&amp;b&lt;c&gt;@example.com&code=${CODE}&orgID=org1&passwordset=<no value>&authRequestID=`,
    );
    // The recipient follows the link with the raw args, escaped exactly once in the HTML.
    expect(out.text).toContain(`loginname=${loginName}&code=${CODE}`);
    expect(out.html).toContain(`href="${ORIGIN}/ui/login/user/init?userID=u1&amp;loginname=a&amp;b&lt;c&gt;@example.com&amp;code=${CODE}`);
    expect(out.html).toContain('passwordset=&lt;no value&gt;');
  });

  it.each([
    ['/ui/login/mail/verification?userID=u1&code={{.Code}}&orgID=org1&authRequestID=', `code=${CODE}&orgID`],
    ['/ui/login/password/init?userID=u1&code={{.Code}}&orgID=org1&authRequestID=', `code=${CODE}&orgID`],
    ['/ui/login/user/invite?userID=u1&loginname={{.LoginName}}&code={{.Code}}&orgID=org1&authRequestID=', `code=${CODE}`],
    ['/ui/login/mfa/otp/verify?authRequestID=ar1&code={{.Code}}&selectedProvider=4', `code=${CODE}&selectedProvider=4`],
    ['/ui/login/login?orgID=org1', '/ui/login/login?orgID=org1'],
    ['/ui/console?login_hint={{.PreferredLoginName}}', 'login_hint=a&amp;b&lt;c&gt;@example.com'],
    ['/ui/login/login/passwordless/init?userID=u1&orgID=org1&codeID=c1&code={{.Code}}', `codeID=c1&code=${CODE}`],
    ['/otp/verify?loginName={{.LoginName}}&code={{.Code}}', `loginName=a&amp;b&lt;c&gt;@example.com&code=${CODE}`],
  ])('%s', (path, fragment) => {
    const out = email({ messageType: 'VerifyEmail', args, urlTemplate: `${ORIGIN}${path}` });
    expect(out.url.startsWith(ORIGIN)).toBe(true);
    expect(out.url).toContain(fragment);
  });

  it('SMS does not escape URL args', () => {
    const out = renderMessage({
      messageType: 'VerifySMSOTP',
      language: 'en',
      channel: 'sms',
      args,
      urlTemplate: '{{.LoginName}}',
      overrides: { Text: 'go to {{.URL}}' },
    });
    expect(out.kind === 'sms' && out.text).toBe(`go to ${loginName}`);
  });

  it('a broken URL template cancels with TEMPLATE_INVALID', () => {
    let caught: unknown;
    try {
      email({ messageType: 'InitCode', urlTemplate: `${ORIGIN}/x?code={{.Code` });
    } catch (err) {
      caught = err;
    }
    expect(isPermanent(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe('TEMPLATE_INVALID');
  });
});

describe('renderMessage: overrides, branding, errors', () => {
  it('overrides replace individual keys and may use {{.URL}}', () => {
    const out = email({
      messageType: 'VerifyEmail',
      urlTemplate: `${ORIGIN}/verify?code={{.Code}}`,
      overrides: { Text: 'Custom: {{.URL}}', Footer: 'Acme Inc.' },
    });
    expect(out.text).toContain(`Custom: ${ORIGIN}/verify?code=${CODE}`);
    expect(out.text).toContain('Acme Inc.');
    expect(out.html).toContain('Acme Inc.');
    expect(out.subject).toBe('Confirm your email address');
  });

  it('has no footer by default', () => {
    const out = email({ messageType: 'VerifyEmail' });
    expect(out.text.trim().endsWith(CODE)).toBe(true);
  });

  it('uses branding colours and logo, with defaults', () => {
    const plain = email({ messageType: 'VerifyEmail', urlTemplate: `${ORIGIN}/v` });
    expect(plain.html).toContain('#5282C1');
    expect(plain.html).toContain('#fafafa');
    expect(plain.html).toContain('#22292f');
    const branded = email({
      messageType: 'VerifyEmail',
      urlTemplate: `${ORIGIN}/v`,
      branding: {
        primaryColor: '#ff0000',
        backgroundColor: '#000000',
        fontColor: 'red;background:url(x)',
        logoUrl: `${ORIGIN}/assets/v1/org1/logo.png`,
      },
    });
    expect(branded.html).toContain('background-color:#ff0000');
    expect(branded.html).toContain(`<img src="${ORIGIN}/assets/v1/org1/logo.png"`);
    expect(branded.html).not.toContain('url(x)');
    expect(branded.html).toContain('#22292f');
  });

  it('a text template error in an override cancels', () => {
    expect(() => email({ messageType: 'VerifyEmail', overrides: { Text: '{{if .Code}}' } })).toThrow(/VerifyEmail.Text/);
  });

  it('unknown message type → PermanentError UNKNOWN_MESSAGE_TYPE', () => {
    let caught: unknown;
    try {
      email({ messageType: 'NoSuchType' });
    } catch (err) {
      caught = err;
    }
    expect(isPermanent(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe('UNKNOWN_MESSAGE_TYPE');
  });
});

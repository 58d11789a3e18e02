import { describe, expect, it } from 'vitest';

import { buildArgs, urlArgs } from '../../src/content/args.js';
import { renderGoTemplate } from '../../src/content/go-template.js';
import { makeRequest, makeUser } from './fixtures.js';

describe('buildArgs', () => {
  it('maps request args (ToMap keys), code and user fields like ZITADEL', () => {
    const args = buildArgs({
      request: makeRequest({
        isOTP: true,
        args: { origin: 'https://auth.example.com', domain: 'auth.example.com', expiry: 300_000_000_000, sessionID: 's1' },
      }),
      user: makeUser(),
      code: '123456',
      origin: 'https://ignored.example',
    });
    expect(args).toMatchObject({
      Origin: 'https://auth.example.com',
      Domain: 'auth.example.com',
      Expiry: '5m0s',
      TempUsername: '',
      ApplicationName: '',
      CodeID: '',
      SessionID: 's1',
      AuthRequestID: '',
      Code: '123456',
      OTP: '123456',
      UserID: 'u1',
      OrgID: 'org1',
      UserName: 'ada',
      FirstName: 'Ada',
      LastName: 'Lovelace',
      NickName: 'ada',
      DisplayName: 'Ada Lovelace',
      LastEmail: 'ada@example.com',
      VerifiedEmail: 'ada@example.com',
      LastPhone: '+41790000000',
      VerifiedPhone: '',
      PreferredLoginName: 'ada@example.com',
      LoginName: 'ada@example.com',
      LoginNames: ['ada@example.com', 'ada@other.example'],
      ChangeDate: '2024-11-06T10:00:00Z',
      CreationDate: '2024-11-05T10:00:00.123456Z',
    });
    expect(renderGoTemplate('{{.LoginNames}} {{.Expiry}}', args)).toBe('[ada@example.com ada@other.example] 5m0s');
  });

  it('sets OTP only for OTP requests, as ZITADEL does', () => {
    const args = buildArgs({ request: makeRequest(), user: makeUser(), code: 'abc', origin: 'https://a.example' });
    expect(args.Code).toBe('abc');
    expect('OTP' in args).toBe(false);
    expect(renderGoTemplate('{{.OTP}}', args)).toBe('<no value>');
  });

  it('without request args only Origin (from the resolved origin) is set; the rest print <no value>', () => {
    const args = buildArgs({ request: makeRequest(), user: makeUser(), code: '', origin: 'https://a.example' });
    expect(args.Origin).toBe('https://a.example');
    expect(renderGoTemplate('{{.Domain}}|{{.Expiry}}', args)).toBe('<no value>|<no value>');
  });

  it('renders a zero expiry as 0s and a nil LoginNames as []', () => {
    const args = buildArgs({
      request: makeRequest({ args: { domain: 'd' } }),
      user: makeUser({ LoginNames: null }),
      code: '',
      origin: 'https://a.example',
    });
    expect(renderGoTemplate('{{.Expiry}} {{.LoginNames}} {{.Origin}}', args)).toBe('0s [] https://a.example');
  });
});

describe('urlArgs', () => {
  const args = { LoginName: `a&b<"'>`, LoginNames: ['<x>'], Num: 1 };

  it('HTML-escapes string args for email', () => {
    expect(urlArgs(args, 'email')).toEqual({ LoginName: 'a&amp;b&lt;&#34;&#39;&gt;', LoginNames: ['<x>'], Num: 1 });
  });

  it('leaves SMS args alone', () => {
    expect(urlArgs(args, 'sms')).toBe(args);
  });
});

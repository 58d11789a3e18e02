/**
 * #11 item 8: tenant settings that can never work cancel at once with a reason naming the
 * rule (a PermanentError when the channel is picked), instead of being retried as transient
 * until MaxTtl. Before, a channel's ConfigError (bad endpoint, bad Twilio sid) was retried.
 */
import { describe, expect, it } from 'vitest';

import { makeInstanceChannels } from '../../src/channels/instance-channels.js';
import { isPermanent } from '../../src/errors.js';
import type { EmailProvider, SmsProvider } from '../../src/instance/types.js';
import { silentLogger, useCleanups } from '../helpers/channel-test.js';

const cleanups = useCleanups();

const smtp = (over: Record<string, unknown>): EmailProvider =>
  ({
    kind: 'smtp',
    id: 's',
    description: '',
    host: 'mail.example.com',
    port: 587,
    tls: true,
    user: '',
    password: 'x',
    senderAddress: 'no-reply@t.example',
    senderName: '',
    replyToAddress: '',
    ...over,
  }) as EmailProvider;

function pick(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('invalid tenant settings cancel at once, naming the rule', () => {
  it.each([
    ['a host with a query string', smtp({ host: 'mail.example?logger=true' }), /SMTP host is not a valid host name or IP address/],
    ['a host with a path', smtp({ host: 'mail.example/x' }), /SMTP host is not a valid host name or IP address/],
    ['a host with spaces', smtp({ host: 'mail example' }), /SMTP host is not a valid host name or IP address/],
    ['a label starting with a hyphen', smtp({ host: '-mail.example' }), /SMTP host is not a valid host name or IP address/],
    ['port 0', smtp({ port: 0 }), /SMTP port is not an integer from 1 to 65535/],
    ['port 70000', smtp({ port: 70000 }), /SMTP port is not an integer from 1 to 65535/],
    [
      'an endpoint that is no URL',
      { kind: 'http', id: 'h', description: '', endpoint: 'not a url' } as EmailProvider,
      /HTTP provider endpoint is not a valid URL/,
    ],
    [
      'a file: endpoint',
      { kind: 'http', id: 'h', description: '', endpoint: 'file:///etc/passwd' } as EmailProvider,
      /must be an http:\/\/ or https:\/\/ URL/,
    ],
  ])('email: %s', (_what, provider, reason) => {
    const c = makeInstanceChannels({ logger: silentLogger });
    cleanups.push(() => c.close());
    const err = pick(() => c.email('i-1', provider));
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(reason);
    expect(c.size).toBe(0);
  });

  it('sms: a Twilio config the SDK cannot use (sid without AC)', () => {
    const c = makeInstanceChannels({ logger: silentLogger });
    cleanups.push(() => c.close());
    const provider: SmsProvider = {
      kind: 'twilio',
      id: 't',
      description: '',
      sid: 'XX123',
      token: 'tok',
      senderNumber: '+15550000000',
      verifyServiceSid: '',
    };
    const err = pick(() => c.sms('i-1', provider));
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/the instance's provider settings are invalid: twilio account sid must start with AC/);
  });

  it('valid host names and IP literals are accepted', () => {
    const c = makeInstanceChannels({ logger: silentLogger });
    cleanups.push(() => c.close());
    for (const host of ['mail.example.com', 'smtp-relay.internal.', 'xn--mller-kva.example', '192.0.2.7', '2001:db8::25', '[2001:db8::26]']) {
      expect(() => c.email(`i-${host}`, smtp({ host })), host).not.toThrow();
    }
  });
});

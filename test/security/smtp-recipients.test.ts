/**
 * #11 item 9 (recipients): a user's address and an instance's sender are attacker input. A
 * display-name form, a list, or a line separator (U+2028/U+2029, CR/LF, other controls) must
 * never reach another mailbox: the envelope is built from one validated plain address and
 * everything else is refused permanently. A real SMTP server records the envelope.
 */
import { describe, expect, it } from 'vitest';

import { makeInstanceChannels } from '../../src/channels/instance-channels.js';
import { makeSmtpChannel } from '../../src/channels/smtp.js';
import type { EmailMessage } from '../../src/channels/types.js';
import { isPermanent } from '../../src/errors.js';
import { parseEgressAllow } from '../../src/net/egress.js';
import { sendContext, silentLogger, useCleanups } from '../helpers/channel-test.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const cleanups = useCleanups();

const mail = (to: string): EmailMessage => ({
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to,
  subject: 'code',
  text: 'your code is 123456',
  html: '<p>your code is 123456</p>',
});

async function sink() {
  const s = await startSmtpSink();
  cleanups.push(() => s.close());
  return s;
}

describe('recipients reach exactly one address', () => {
  it.each([
    ['a display name pointing elsewhere', '"alice@example.com" <evil@attacker.example>'],
    ['a list', 'alice@example.com, evil@attacker.example'],
    ['a group', 'friends: alice@example.com, evil@attacker.example;'],
    ['U+2028 before a second address', 'alice@example.com\u2028evil@attacker.example'],
    ['U+2029', 'alice@example.com\u2029'],
    ['a CR/LF header', 'alice@example.com\r\nBcc: evil@attacker.example'],
    ['a NUL', 'alice@example.com\u0000evil@attacker.example'],
    ['a comment', 'alice@example.com (evil@attacker.example)'],
  ])('%s is refused permanently and nothing is sent', async (_what, to) => {
    const s = await sink();
    const channel = makeSmtpChannel({ url: `smtp://127.0.0.1:${s.port}`, from: 'herald@example.com', logger: silentLogger, pool: false });
    cleanups.push(() => channel.close());
    const err = await channel.send(mail(to), sendContext()).catch((e: unknown) => e);
    expect(isPermanent(err)).toBe(true);
    expect((err as { code?: string }).code).toBe('BAD_ADDRESS');
    expect((err as Error).message).not.toContain('attacker');
    expect(s.attempts).toBe(0);
    expect(s.messages).toHaveLength(0);
  });

  it('a plain address is sent with an envelope of exactly that address', async () => {
    const s = await sink();
    const channel = makeSmtpChannel({ url: `smtp://127.0.0.1:${s.port}`, from: 'Herald <herald@example.com>', logger: silentLogger, pool: false });
    cleanups.push(() => channel.close());
    await channel.send(mail('alice@example.com'), sendContext());
    const [received] = await s.waitFor(1);
    expect(received?.envelope).toEqual({ from: 'herald@example.com', to: ['alice@example.com'] });
  });

  it('an instance sender or Reply-To that is not one plain address cancels at once (invalid setting)', async () => {
    const s = await sink();
    const channels = makeInstanceChannels({ logger: silentLogger, egress: parseEgressAllow('127.0.0.1/32').policy });
    cleanups.push(() => channels.close());
    const base = {
      kind: 'smtp',
      id: 's',
      description: '',
      host: '127.0.0.1',
      port: s.port,
      tls: false,
      user: '',
      password: 'x',
      senderName: 'T',
      senderAddress: '',
      replyToAddress: '',
    } as const;
    for (const over of [
      { senderAddress: 'no-reply@t.example>, evil@attacker.example' },
      { senderAddress: 'no-reply@t.example', replyToAddress: 'a@t.example\u2028b@attacker.example' },
    ]) {
      let err: unknown;
      try {
        channels.email('i-1', { ...base, ...over });
      } catch (e) {
        err = e;
      }
      expect(isPermanent(err)).toBe(true);
      expect((err as Error).message).toMatch(/^the instance's SMTP (sender|Reply-To) address is not one plain email address$/);
    }
    expect(s.attempts).toBe(0);
  });
});

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { makeInstanceChannels, smtpServerFor } from '../../src/channels/instance-channels.js';
import type { EmailMessage, SendContext, SmsMessage } from '../../src/channels/types.js';
import { PermanentError } from '../../src/errors.js';
import type { SmtpProvider, TwilioProvider } from '../../src/instance/types.js';
import { parseEgressAllow, STRICT_EGRESS } from '../../src/net/egress.js';
import { useCleanups } from '../helpers/channel-test.js';
import { startHttpSink } from '../helpers/http-sink.js';
import type { SmtpSink } from '../helpers/smtp-sink.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { startTwilioEndpoint } from '../helpers/twilio-endpoint.js';

const logger = pino({ level: 'silent' });
const ctx: SendContext = { signal: new AbortController().signal, logger };
/** The sinks listen on 127.0.0.1, which the egress rule refuses unless allowed. */
const egress = parseEgressAllow('127.0.0.1/32').policy;

const mail = (instanceId: string): EmailMessage => ({
  kind: 'email',
  notificationId: `n-${instanceId}`,
  instanceId,
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: `hello from ${instanceId}`,
  text: 'text',
  html: '<p>html</p>',
});
const SMS: SmsMessage = { kind: 'sms', notificationId: 'n', instanceId: 'i-1', messageType: 'VerifySMSOTP', to: '+41790000001', text: 't' };

function smtp(sink: SmtpSink, over: Partial<SmtpProvider> = {}): SmtpProvider {
  return {
    kind: 'smtp',
    id: 'smtp-1',
    description: '',
    host: '127.0.0.1',
    port: sink.port,
    tls: false,
    user: '',
    password: 'secret',
    senderAddress: 'no-reply@one.example',
    senderName: 'Instance "One"',
    replyToAddress: '',
    ...over,
  };
}

const cleanups = useCleanups();

async function sinks(n: number): Promise<SmtpSink[]> {
  const list = await Promise.all(Array.from({ length: n }, () => startSmtpSink()));
  for (const s of list) cleanups.push(() => s.close());
  return list;
}

function channels(maxPools?: number) {
  const c = makeInstanceChannels({ logger, egress, ...(maxPools === undefined ? {} : { maxPools }) });
  cleanups.push(() => c.close());
  return c;
}

describe('instance channels: SMTP pools', () => {
  it('reuses one pooled transport per instance and config, with the instance sender', async () => {
    const [sink] = await sinks(1);
    const c = channels();
    await c.email('i-1', smtp(sink!)).send(mail('i-1'), ctx);
    await c.email('i-1', smtp(sink!)).send(mail('i-1'), ctx);
    const received = await sink!.waitFor(2);
    expect(sink!.connections).toBe(1);
    expect(c.size).toBe(1);
    expect(received[0]?.from).toBe('"Instance \\"One\\"" <no-reply@one.example>');
  });

  it('keeps instances apart: each gets its own pool and server', async () => {
    const [a, b] = await sinks(2);
    const c = channels();
    await c.email('i-1', smtp(a!)).send(mail('i-1'), ctx);
    await c.email('i-2', smtp(b!, { senderAddress: 'two@two.example', senderName: '' })).send(mail('i-2'), ctx);
    expect((await a!.waitFor(1))[0]?.subject).toBe('hello from i-1');
    expect((await b!.waitFor(1))[0]?.from).toBe('two@two.example');
    expect(c.size).toBe(2);
  });

  it('replaces the pool when the config changes', async () => {
    const [oldSink, newSink] = await sinks(2);
    const c = channels();
    await c.email('i-1', smtp(oldSink!)).send(mail('i-1'), ctx);
    await c.email('i-1', smtp(newSink!)).send(mail('i-1'), ctx);
    await newSink!.waitFor(1);
    expect(oldSink!.messages).toHaveLength(1);
    expect(c.size).toBe(1);
  });

  it('closes the least recently used pool beyond maxPools and reopens it on demand', async () => {
    const [a, b] = await sinks(2);
    const c = channels(1);
    await c.email('i-1', smtp(a!)).send(mail('i-1'), ctx);
    await c.email('i-2', smtp(b!)).send(mail('i-2'), ctx);
    expect(c.size).toBe(1);
    await c.email('i-1', smtp(a!)).send(mail('i-1'), ctx);
    await a!.waitFor(2);
    expect(a!.connections).toBe(2); // the first pool was closed, a new one connected
  });

  it('a send picked before a config change finishes on the old config without pushing the new pool out', async () => {
    const [oldSink, newSink] = await sinks(2);
    const c = channels();
    const before = c.email('i-1', smtp(oldSink!));
    const after = c.email('i-1', smtp(newSink!)); // retires the old pool
    await after.send(mail('i-1'), ctx);
    await before.send(mail('i-1'), ctx);
    await after.send(mail('i-1'), ctx);
    expect(oldSink!.messages).toHaveLength(1);
    await newSink!.waitFor(2);
    expect(newSink!.connections).toBe(1); // the new pool stayed open across the old send
    expect(c.size).toBe(1);
  });

  it('forget closes the instance channels', async () => {
    const [a] = await sinks(1);
    const c = channels();
    await c.email('i-1', smtp(a!)).send(mail('i-1'), ctx);
    await c.forget('i-1');
    expect(c.size).toBe(0);
  });

  it('a view’s close() leaves the shared pool open', async () => {
    const [a] = await sinks(1);
    const c = channels();
    const view = c.email('i-1', smtp(a!));
    await view.close();
    await c.email('i-1', smtp(a!)).send(mail('i-1'), ctx);
    await a!.waitFor(1);
  });

  it('throws the provider problem instead of building a channel', () => {
    const c = channels();
    const problem = new PermanentError('PROVIDER_SECRET_UNREADABLE', 'nope');
    expect(() => c.email('i-1', { ...smtp({ port: 25 } as SmtpSink), problem })).toThrow(problem);
    expect(c.size).toBe(0);
  });
});

describe('instance channels: other providers', () => {
  it('hands out HTTP email channels that send ZITADEL payloads carried on the message', async () => {
    const sink = await startHttpSink();
    cleanups.push(() => sink.close());
    const channel = channels().email('i-1', { kind: 'http', id: 'h', description: 'd', endpoint: sink.url });
    await channel.send({ ...mail('i-1'), zitadel: { eventType: 'notification.requested', templateData: { title: 'T' }, args: { Code: 'c' } } }, ctx);
    const body = JSON.parse((await sink.waitForRequest(1)).body) as { templateData: unknown; args: unknown };
    expect(body).toMatchObject({ templateData: { title: 'T' }, args: { code: 'c' } });
  });

  it('builds Twilio channels from the instance provider', async () => {
    const endpoint = await startTwilioEndpoint();
    cleanups.push(() => endpoint.close());
    const c = makeInstanceChannels({ logger, egress, twilioApiBaseUrl: endpoint.baseUrl });
    cleanups.push(() => c.close());
    const provider: TwilioProvider = {
      kind: 'twilio',
      id: 'tw-1',
      description: '',
      sid: 'AC1',
      token: 'tok',
      senderNumber: '+1555',
      verifyServiceSid: 'VA1',
    };
    const result = await c.sms('i-1', provider).send(SMS, ctx);
    expect(result.generatorInfo?.id).toBe('tw-1');
    expect((await endpoint.waitForRequest(1)).path).toBe('/v2/Services/VA1/Verifications');
  });
});

describe('smtpServerFor', () => {
  const base = {
    kind: 'smtp',
    id: '',
    description: '',
    user: 'u@x',
    password: 'p:ä/%',
    senderAddress: '',
    senderName: '',
    replyToAddress: '',
  } as const;
  it('uses implicit TLS on 465, required STARTTLS elsewhere, and passes credentials as fields', () => {
    expect(smtpServerFor({ ...base, host: 'mail', port: 465, tls: true }, STRICT_EGRESS)).toEqual({
      host: 'mail',
      port: 465,
      secure: true,
      requireTLS: false,
      auth: { user: 'u@x', pass: 'p:ä/%' },
      egress: STRICT_EGRESS,
    });
    expect(smtpServerFor({ ...base, host: 'mail', port: 587, tls: true }, STRICT_EGRESS)).toMatchObject({ secure: false, requireTLS: true });
    const plain = smtpServerFor({ ...base, user: '', host: '::1', port: 25, tls: false }, STRICT_EGRESS);
    expect(plain).toMatchObject({ host: '::1', secure: false, requireTLS: false });
    expect(plain).not.toHaveProperty('auth');
  });
});

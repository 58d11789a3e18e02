import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeOutboxChannel, safeFileComponent } from '../../src/channels/outbox.js';
import type { EmailMessage, SendContext, SmsMessage } from '../../src/channels/types.js';
import { PermanentError } from '../../src/errors.js';
import { parseMail } from '../helpers/smtp-sink.js';

const logger = pino({ level: 'silent' });
const ctx = (signal: AbortSignal = new AbortController().signal): SendContext => ({ signal, logger });
const STAMP = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-/;

const email: EmailMessage = {
  kind: 'email',
  notificationId: '312345678901234567',
  instanceId: '298765432109876543',
  messageType: 'VerifyEmail',
  to: 'alice@example.com',
  subject: 'Verify your email',
  text: 'Your code is 123456',
  html: '<p>Your code is <b>123456</b></p>',
};

const sms: SmsMessage = {
  kind: 'sms',
  notificationId: '312345678901234568',
  instanceId: '298765432109876543',
  messageType: 'VerifySMSOTP',
  to: '+41791234567',
  text: 'Your one-time code is 654321',
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'herald-outbox-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  return path.join(await mkdtemp(path.join(root, `${name}-`)), 'nested', 'outbox');
}

describe('outbox channel', () => {
  it('writes an email as a parseable .eml with headers and both parts, creating the directory', async () => {
    const dir = await freshDir('eml');
    const channel = makeOutboxChannel({ dir, logger });
    const result = await channel.send(email, ctx());

    const files = await readdir(dir);
    expect(files).toEqual([result.providerMessageId]);
    const [file] = files;
    expect(file).toMatch(STAMP);
    expect(file?.endsWith('-298765432109876543-312345678901234567.eml')).toBe(true);

    const raw = await readFile(path.join(dir, file ?? ''), 'utf8');
    const mail = parseMail(raw, { from: '', to: [] });
    expect(mail.to).toBe('alice@example.com');
    expect(mail.from).toBe('herald@localhost');
    expect(mail.subject).toBe('Verify your email');
    expect(mail.headers['mime-version']).toBe('1.0');
    expect(mail.headers['message-id']).toMatch(/^<.+>$/);
    expect(mail.headers['date']).toBeDefined();
    expect(mail.headers['x-herald-notification-id']).toBe('312345678901234567');
    expect(mail.headers['x-herald-message-type']).toBe('VerifyEmail');
    expect(mail.headers['content-type']).toMatch(/^multipart\/alternative; boundary=/);
    expect(mail.body).toMatch(/Content-Type: text\/plain[\s\S]*Your code is 123456/);
    expect(mail.body).toMatch(/Content-Type: text\/html[\s\S]*<p>Your code is <b>123456<\/b><\/p>/);

    // Holds the code by design, so only the owner may read it.
    expect((await stat(path.join(dir, file ?? ''))).mode & 0o777).toBe(0o600);
    await channel.close();
  });

  it('uses the message sender when set', async () => {
    const dir = await freshDir('from');
    const channel = makeOutboxChannel({ dir, logger, from: 'default@herald.test' });
    await channel.send({ ...email, from: 'Tenant <tenant@herald.test>' }, ctx());
    const [file] = await readdir(dir);
    const mail = parseMail(await readFile(path.join(dir, file ?? ''), 'utf8'), { from: '', to: [] });
    expect(mail.from).toBe('Tenant <tenant@herald.test>');
  });

  it('writes an SMS as .json with the documented fields', async () => {
    const dir = await freshDir('sms');
    const channel = makeOutboxChannel({ dir, logger });
    await channel.send(sms, ctx());
    const [file, ...rest] = await readdir(dir);
    expect(rest).toEqual([]);
    expect(file).toMatch(STAMP);
    expect(file?.endsWith('-298765432109876543-312345678901234568.json')).toBe(true);
    const record = JSON.parse(await readFile(path.join(dir, file ?? ''), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual(['createdAt', 'instanceId', 'messageType', 'notificationId', 'text', 'to'].sort());
    expect(record).toMatchObject({
      to: '+41791234567',
      text: 'Your one-time code is 654321',
      messageType: 'VerifySMSOTP',
      notificationId: '312345678901234568',
      instanceId: '298765432109876543',
    });
    expect(new Date(String(record['createdAt'])).toISOString()).toBe(record['createdAt']);
  });

  it('keeps ids like ../../x from escaping the directory', async () => {
    const dir = await freshDir('traversal');
    const channel = makeOutboxChannel({ dir, logger });
    await channel.send({ ...sms, notificationId: '../../x', instanceId: '/etc/passwd' }, ctx());
    await channel.send({ ...email, notificationId: '..\\..\\y', instanceId: '' }, ctx());

    const files = await readdir(dir);
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file).not.toMatch(/[/\\]/);
      expect(file).not.toContain('..');
    }
    expect(files.some((f) => f.endsWith('-_etc_passwd-______x.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('-_-______y.eml'))).toBe(true);
    // Nothing landed next to or above the outbox.
    expect(await readdir(path.dirname(dir))).toEqual(['outbox']);
    expect(safeFileComponent('a'.repeat(500))).toHaveLength(64);
  });

  it('writes atomically: no temp files remain, and an aborted send leaves nothing', async () => {
    const dir = await freshDir('atomic');
    const channel = makeOutboxChannel({ dir, logger });
    await Promise.all(Array.from({ length: 10 }, (_, i) => channel.send({ ...sms, notificationId: `n${i}` }, ctx())));
    const files = await readdir(dir);
    expect(files).toHaveLength(10);
    expect(files.filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);

    await expect(channel.send({ ...sms, notificationId: 'aborted' }, ctx(AbortSignal.abort()))).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.includes('aborted'))).toEqual([]);
  });

  it('refuses a CR/LF address as BAD_ADDRESS and folds CR/LF out of the subject', async () => {
    const dir = await freshDir('inject');
    const channel = makeOutboxChannel({ dir, logger });
    const bad = channel.send({ ...email, to: 'alice@example.com\r\nBcc: evil@attacker.test' }, ctx());
    await expect(bad).rejects.toBeInstanceOf(PermanentError);
    await expect(bad).rejects.toMatchObject({ code: 'BAD_ADDRESS' });

    await channel.send({ ...email, subject: 'Hi\r\nBcc: evil@attacker.test' }, ctx());
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    const mail = parseMail(await readFile(path.join(dir, files[0] ?? ''), 'utf8'), { from: '', to: [] });
    const lower = mail.headerLines.map((l) => l.toLowerCase());
    expect(lower.filter((l) => l.startsWith('subject:'))).toHaveLength(1);
    expect(lower.some((l) => l.startsWith('bcc:'))).toBe(false);
  });
});

/**
 * #11 item 6: the deployment fallback is an explicit operator choice. The outbox writes
 * decrypted codes to disk, so it serves only when chosen or when nothing deliverable is
 * configured at all (a local run, `herald demo`). With a real provider configured, an unset
 * SMS provider means none: an instance without its own SMS provider is canceled (ZITADEL's
 * Errors.Notification.Channels.NotPresent), never written to the outbox. The start log says
 * which channel serves each kind.
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { makeDefaultChannels } from '../../src/channels/registry.js';
import { loadConfig } from '../../src/config/load.js';
import { isPermanent } from '../../src/errors.js';
import { pickChannel } from '../../src/worker/instance.js';

const providers = (env: Record<string, string>) => {
  const cfg = loadConfig(env);
  return { email: cfg.email.provider, sms: cfg.sms.provider };
};

describe('deployment fallback channels', () => {
  it.each([
    ['nothing deliverable (local run, demo)', {}, { email: 'outbox', sms: 'outbox' }],
    ['SMTP_URL only', { SMTP_URL: 'smtp://mail:25' }, { email: 'smtp', sms: 'none' }],
    ['HERALD_WEBHOOK_URL only', { HERALD_WEBHOOK_URL: 'https://hooks.example/h' }, { email: 'none', sms: 'none' }],
    ['SNS for SMS only', { HERALD_SMS_PROVIDER: 'sns' }, { email: 'none', sms: 'sns' }],
    ['SMTP plus an explicit outbox for SMS', { SMTP_URL: 'smtp://mail:25', HERALD_SMS_PROVIDER: 'outbox' }, { email: 'smtp', sms: 'outbox' }],
  ])('%s', (_what, env, expected) => {
    expect(providers(env)).toEqual(expected);
  });

  it('with SMTP configured, an SMS of an instance without its own SMS provider is canceled, not written to the outbox', () => {
    const cfg = loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25', SMTP_FROM: 'herald@example.com', LOG_LEVEL: 'silent' });
    const defaults = makeDefaultChannels(cfg, pino({ level: 'silent' }));
    let err: unknown;
    try {
      pickChannel('sms', 'i-1', undefined, undefined, defaults);
    } catch (e) {
      err = e;
    }
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/no active SMS provider .*\(Errors\.Notification\.Channels\.NotPresent\)/);
    void defaults.close();
  });

  it('the start log names the channel each kind uses', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const defaults = makeDefaultChannels(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25' }), logger);
    await defaults.close();
    const line = lines.map((l) => JSON.parse(l) as { msg: string; email?: string; sms?: string }).find((l) => l.email !== undefined);
    expect(line).toMatchObject({ email: 'smtp', sms: 'none' });
    expect(line?.msg).toMatch(/email smtp, SMS none/);
  });
});

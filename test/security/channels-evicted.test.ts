/**
 * #11 item 7: the per-instance channel cache (an LRU of `maxPools` instances) must never close
 * a channel under a send. With maxPools = 1 and two instances alternating against slow
 * servers, every eviction lands while the other instance is sending or between picking a
 * channel and sending through it (the worker renders in between). No send may fail: a
 * CHANNEL_CLOSED-style race would use up one of the notification's attempts.
 */
import { describe, expect, it } from 'vitest';

import { makeInstanceChannels } from '../../src/channels/instance-channels.js';
import type { EmailMessage } from '../../src/channels/types.js';
import type { HttpEmailProvider, SmtpProvider } from '../../src/instance/types.js';
import { parseEgressAllow } from '../../src/net/egress.js';
import { sendContext, silentLogger, useCleanups } from '../helpers/channel-test.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const cleanups = useCleanups();
const egress = parseEgressAllow('127.0.0.1/32').policy;

const mail = (instanceId: string, n: number): EmailMessage => ({
  kind: 'email',
  notificationId: `${instanceId}-${n}`,
  instanceId,
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: `${instanceId} #${n}`,
  text: 't',
  html: '<p>h</p>',
});

const smtp = (port: number): SmtpProvider => ({
  kind: 'smtp',
  id: 's',
  description: '',
  host: '127.0.0.1',
  port,
  tls: false,
  user: '',
  password: 'x',
  senderAddress: 'no-reply@tenant.example',
  senderName: '',
  replyToAddress: '',
});

function channels() {
  const c = makeInstanceChannels({ logger: silentLogger, egress, maxPools: 1 });
  cleanups.push(() => c.close());
  return c;
}

describe('evicted instance channels finish their sends', () => {
  it('SMTP: two instances alternating with maxPools=1 and a slow server: no send fails', async () => {
    const sinks = await Promise.all([0, 1].map(() => startSmtpSink({ acceptDelayMs: () => 150 })));
    for (const s of sinks) cleanups.push(() => s.close());
    const c = channels();
    const ids = ['i-a', 'i-b'] as const;
    const sends: Promise<unknown>[] = [];
    for (let n = 0; n < 8; n++) {
      const i = n % 2;
      // Pick (as the worker does), let the other instance pick (evicting this one), then send.
      const view = c.email(ids[i]!, smtp(sinks[i]!.port));
      c.email(ids[1 - i]!, smtp(sinks[1 - i]!.port));
      sends.push(view.send(mail(ids[i]!, n), sendContext()));
    }
    const results = await Promise.allSettled(sends);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    await Promise.all(sinks.map((s) => s.waitFor(4)));
    expect(c.size).toBe(1);
  });

  it('HTTP providers: a view picked before its eviction still sends (no CHANNEL_CLOSED)', async () => {
    const sink = await startHttpSink();
    cleanups.push(() => sink.close());
    const c = channels();
    const provider = (id: string): HttpEmailProvider => ({ kind: 'http', id, description: 'd', endpoint: `${sink.url}/${id}` });
    const a = c.email('i-a', provider('a'));
    const b = c.email('i-b', provider('b')); // evicts i-a
    const results = await Promise.allSettled([a.send(mail('i-a', 1), sendContext()), b.send(mail('i-b', 1), sendContext())]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(sink.requests.map((r) => r.path).sort()).toEqual(['/hook/a', '/hook/b']);
  });
});

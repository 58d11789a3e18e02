/**
 * #12 item 3: every channel has exactly one `send(message, ctx)`. What ZITADEL's HTTP
 * providers need beyond the rendered message (unrendered templateData, args, the event being
 * answered) travels on the message, so the worker needs no type sniffing or downcast.
 */
import { describe, expect, it } from 'vitest';

import { makeInstanceChannels } from '../../src/channels/instance-channels.js';
import type { Channel, EmailMessage, OutgoingMessage, SendContext, SendResult } from '../../src/channels/types.js';
import type { MailTemplateData } from '../../src/content/types.js';
import type { NotificationRequest } from '../../src/eventstore/notification-types.js';
import { deliver } from '../../src/worker/instance.js';
import type { Built } from '../../src/worker/message.js';
import { sendContext, silentLogger, useCleanups } from '../helpers/channel-test.js';

const cleanups = useCleanups();

const MESSAGE: EmailMessage = {
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: 'Initialize user',
  text: 't',
  html: '<p>h</p>',
};

const TEMPLATE_DATA = {
  Title: 'Welcome',
  PreHeader: '',
  Subject: 'Initialize user',
  Greeting: 'Hello Alice,',
  Text: 'Your code',
  URL: 'https://x.example/u',
  ButtonText: 'Go',
  PrimaryColor: '#5469d4',
  BackgroundColor: '#fff',
  FontColor: '#000',
  LogoURL: '',
  FontURL: '',
  FontFaceFamily: '',
  FontFamily: 'sans',
  IncludeFooter: false,
  FooterText: '',
} satisfies MailTemplateData;

describe('one send per channel', () => {
  it("deliver hands every channel the message with ZITADEL's payload on it", async () => {
    const seen: OutgoingMessage[] = [];
    const recorder: Channel<OutgoingMessage> = {
      name: 'recorder',
      send: async (m: OutgoingMessage, _ctx: SendContext): Promise<SendResult> => {
        seen.push(m);
        return {};
      },
      close: async () => undefined,
    };
    const built: Built = { message: MESSAGE, templateData: TEMPLATE_DATA, args: { Code: '123456', Expiry: '5m0s' } };
    const request = { args: { expiry: 300_000_000_000 } } as unknown as NotificationRequest;
    await deliver(recorder, built, request, 'notification.retry.requested', sendContext());
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      ...MESSAGE,
      zitadel: {
        eventType: 'notification.retry.requested',
        templateData: { title: 'Welcome', greeting: 'Hello Alice,', url: 'https://x.example/u' },
        args: { Code: '123456', Expiry: 300_000_000_000 },
      },
    });
  });

  it('instance channels of every provider kind expose name, send and close only', () => {
    const c = makeInstanceChannels({ logger: silentLogger });
    cleanups.push(() => c.close());
    const http = c.email('i-1', { kind: 'http', id: 'h', description: 'd', endpoint: 'https://hooks.example/h' });
    const sms = c.sms('i-1', { kind: 'http', id: 'h', description: 'd', endpoint: 'https://hooks.example/s' });
    for (const channel of [http, sms]) expect(Object.keys(channel).sort()).toEqual(['close', 'name', 'send']);
  });
});

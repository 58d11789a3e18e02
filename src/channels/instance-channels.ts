/**
 * Channels for an instance's own providers (from the eventstore, src/instance), reused
 * across jobs: one pooled nodemailer transport per (instance, provider id, config), built by
 * makeSmtpChannel. A changed config (new password, host, …) or another active provider
 * closes the old pool and opens a new one; at most `maxPools` instances keep a channel of
 * each kind, the least recently used is closed first; `forget` closes an instance's
 * channels (instance removed). Channels handed out are views whose close() does nothing:
 * their lifetime belongs to this module, so a caller cannot close a shared pool.
 */
import { createHash } from 'node:crypto';

import type { Logger } from '../logger.js';
import type { Lru } from '../util/lru.js';
import { makeLru } from '../util/lru.js';
import type { HttpProviderChannel } from './http-provider.js';
import { makeHttpEmailProviderChannel, makeHttpSmsProviderChannel } from './http-provider.js';
import type { EmailProvider, SmsProvider, SmtpProvider } from './provider-settings.js';
import type { SmtpChannelOptions } from './smtp.js';
import { makeSmtpChannel } from './smtp.js';
import { makeTwilioChannel } from './twilio.js';
import type { Channel, EmailMessage, SmsMessage } from './types.js';

export interface InstanceChannelsOptions {
  readonly logger: Logger;
  /** Instances with an open channel of one kind (email or SMS); the LRU one is closed beyond. @defaultValue 50 */
  readonly maxPools?: number;
  /** Connections per instance SMTP pool. @defaultValue 2 */
  readonly maxConnectionsPerPool?: number;
  /** @internal Test hook: route Twilio API calls to a local endpoint. */
  readonly twilioApiBaseUrl?: string;
}

export interface InstanceChannels {
  /** The channel for the instance's active email provider; throws the provider's PermanentError when it has one. */
  email(instanceId: string, provider: EmailProvider): Channel<EmailMessage>;
  sms(instanceId: string, provider: SmsProvider): Channel<SmsMessage>;
  /** Closes the instance's channels (instance removed). */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
  /** Open channels (email + SMS), for tests and metrics. */
  readonly size: number;
}

interface Pooled<M extends EmailMessage | SmsMessage> {
  /** Hash of everything the channel was built from, secrets included; never logged. */
  readonly fingerprint: string;
  readonly channel: Channel<M>;
  readonly view: Channel<M>;
}

function fingerprint(provider: EmailProvider | SmsProvider): string {
  const { problem: _problem, ...config } = provider as EmailProvider & { problem?: unknown };
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** RFC 5322 quoted display name; CR/LF are refused later by the SMTP channel. */
function mailbox(name: string, address: string): string {
  if (name === '') return address;
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
}

/**
 * ZITADEL's `tls`: implicit TLS on 465, else STARTTLS required. Without it nodemailer still
 * upgrades when the server offers STARTTLS. Credentials only when user and password are both
 * set (ZITADEL's HasAuth). Exported for tests; the URL holds the password: never log it.
 */
export function smtpUrlFor(p: SmtpProvider): string {
  const implicit = p.tls && p.port === 465;
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  const auth = p.user !== '' && p.password !== '' ? `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@` : '';
  const query = p.tls && !implicit ? '?requireTLS=true' : '';
  return `${implicit ? 'smtps' : 'smtp'}://${auth}${host}:${p.port}${query}`;
}

function viewOf<M extends EmailMessage | SmsMessage>(channel: Channel<M>): Channel<M> {
  const view: Channel<M> = { name: channel.name, send: (m, ctx) => channel.send(m, ctx), close: async () => undefined };
  const rich = channel as Partial<HttpProviderChannel<M>>;
  if (typeof rich.sendZitadel === 'function') {
    const sendZitadel = rich.sendZitadel.bind(channel);
    return { ...view, sendZitadel } as HttpProviderChannel<M>;
  }
  return view;
}

export function makeInstanceChannels(opts: InstanceChannelsOptions): InstanceChannels {
  const log = opts.logger.child({ component: 'instance-channels' });
  const maxPools = opts.maxPools ?? 50;
  const emails = makeLru<string, Pooled<EmailMessage>>(maxPools);
  const smses = makeLru<string, Pooled<SmsMessage>>(maxPools);

  function closeQuietly(instanceId: string, pooled: { readonly channel: Channel<never> }, why: string): Promise<void> {
    log.debug({ instanceId, channel: pooled.channel.name, why }, 'closing instance channel');
    return pooled.channel.close().catch((err: unknown) => log.warn({ err, instanceId }, 'closing instance channel failed'));
  }

  function reuse<M extends EmailMessage | SmsMessage>(
    lru: Lru<string, Pooled<M>>,
    instanceId: string,
    provider: EmailProvider | SmsProvider,
    build: () => Channel<M>,
  ): Channel<M> {
    const print = fingerprint(provider);
    const current = lru.get(instanceId);
    if (current?.fingerprint === print) return current.view;
    if (current) void closeQuietly(instanceId, current, 'provider config changed');
    const channel = build();
    const pooled: Pooled<M> = { fingerprint: print, channel, view: viewOf(channel) };
    for (const [evictedId, evicted] of lru.set(instanceId, pooled)) void closeQuietly(evictedId, evicted, 'pool limit');
    return pooled.view;
  }

  function email(instanceId: string, provider: EmailProvider): Channel<EmailMessage> {
    if (provider.kind === 'smtp' && provider.problem) throw provider.problem;
    return reuse<EmailMessage>(emails, instanceId, provider, () => {
      const logger = opts.logger.child({ instanceId });
      if (provider.kind === 'http') {
        return makeHttpEmailProviderChannel({ endpoint: provider.endpoint, providerId: provider.id, description: provider.description, logger });
      }
      const smtp: SmtpChannelOptions = {
        url: smtpUrlFor(provider),
        from: mailbox(provider.senderName, provider.senderAddress),
        ...(provider.replyToAddress === '' ? {} : { replyTo: provider.replyToAddress }),
        maxConnections: opts.maxConnectionsPerPool ?? 2,
        logger,
      };
      return makeSmtpChannel(smtp);
    });
  }

  function sms(instanceId: string, provider: SmsProvider): Channel<SmsMessage> {
    if (provider.kind === 'twilio' && provider.problem) throw provider.problem;
    return reuse<SmsMessage>(smses, instanceId, provider, () => {
      const logger = opts.logger.child({ instanceId });
      if (provider.kind === 'http') {
        return makeHttpSmsProviderChannel({ endpoint: provider.endpoint, providerId: provider.id, description: provider.description, logger });
      }
      return makeTwilioChannel({
        sid: provider.sid,
        token: provider.token,
        senderNumber: provider.senderNumber,
        verifyServiceSid: provider.verifyServiceSid,
        providerId: provider.id,
        logger,
        ...(opts.twilioApiBaseUrl === undefined ? {} : { apiBaseUrl: opts.twilioApiBaseUrl }),
      });
    });
  }

  async function forget(instanceId: string): Promise<void> {
    const closing: Promise<void>[] = [];
    const e = emails.delete(instanceId);
    if (e) closing.push(closeQuietly(instanceId, e, 'instance forgotten'));
    const s = smses.delete(instanceId);
    if (s) closing.push(closeQuietly(instanceId, s, 'instance forgotten'));
    await Promise.all(closing);
  }

  async function close(): Promise<void> {
    const ids = new Set([...emails.keys(), ...smses.keys()]);
    await Promise.all([...ids].map((id) => forget(id)));
  }

  return {
    email,
    sms,
    forget,
    close,
    get size() {
      return emails.size + smses.size;
    },
  };
}

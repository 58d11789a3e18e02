/**
 * Channels for an instance's own providers (from the eventstore, src/instance), reused
 * across jobs: one channel (an SMTP pool, an HTTP client, a Twilio client) per (instance,
 * kind, config). A changed config or another active provider retires the old channel; at
 * most `maxPools` instances keep a channel of each kind, the least recently used is retired
 * first; `forget` retires an instance's channels (instance removed).
 *
 * Retiring never cuts a send short: every send holds a lease on the channel it runs on, and
 * a retired channel is closed when its last lease ends. Channels handed out are views whose
 * send leases the instance's current channel (building it again if it was retired meanwhile)
 * and whose close() does nothing, so a caller can neither close a shared pool nor hit one
 * that was closed under it (no CHANNEL_CLOSED race, no attempt used for one).
 *
 * Everything an instance admin set is attacker input. Settings are validated when the
 * channel is picked, and one that can never work (a host that is not a host name or an IP
 * literal, a bad port, an endpoint that is not an http(s) URL, a sender that is not one plain
 * address) throws a PermanentError naming the rule: the notification is canceled at once.
 * nodemailer gets an options object of fixed keys, never a URL, and every address connected
 * to passes the egress rule (src/net/egress.ts).
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

import { isConfigError, PermanentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EgressPolicy } from '../net/egress.js';
import { isHostName, STRICT_EGRESS } from '../net/egress.js';
import type { Lru } from '../util/lru.js';
import { makeLru } from '../util/lru.js';
import { plainAddress, safeDisplayName } from './address.js';
import { makeHttpEmailProviderChannel, makeHttpSmsProviderChannel, parseProviderEndpoint } from './http-provider.js';
import type { EmailProvider, SmsProvider, SmtpProvider } from './provider-settings.js';
import type { SmtpChannelOptions, SmtpServer } from './smtp.js';
import { makeSmtpChannel } from './smtp.js';
import { makeTwilioChannel } from './twilio.js';
import type { Channel, EmailMessage, SendContext, SendResult, SmsMessage } from './types.js';

export interface InstanceChannelsOptions {
  readonly logger: Logger;
  /** Instances with an open channel of one kind (email or SMS); the LRU one is retired beyond. @defaultValue 50 */
  readonly maxPools?: number;
  /** Connections per instance SMTP pool. @defaultValue 2 */
  readonly maxConnectionsPerPool?: number;
  /** The egress rule for tenant providers (HERALD_EGRESS_ALLOW). @defaultValue STRICT_EGRESS */
  readonly egress?: EgressPolicy;
  /** @internal Test hook: route Twilio API calls to a local endpoint. */
  readonly twilioApiBaseUrl?: string;
}

export interface InstanceChannels {
  /** The channel for the instance's active email provider; throws a PermanentError when it cannot send. */
  email(instanceId: string, provider: EmailProvider): Channel<EmailMessage>;
  sms(instanceId: string, provider: SmsProvider): Channel<SmsMessage>;
  /** Retires the instance's channels (instance removed); in-flight sends finish first. */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
  /** Instances with an open channel (email + SMS), for tests and metrics. */
  readonly size: number;
}

type Kind = 'email' | 'sms';
type Message = EmailMessage | SmsMessage;

interface Pooled {
  /** Hash of everything the channel was built from, secrets included; never logged. */
  readonly fingerprint: string;
  readonly channel: Channel<Message>;
  /** Sends running on this channel. */
  leases: number;
  /** Replaced, evicted or forgotten: closed when the last lease ends. */
  retired: boolean;
  closed?: Promise<void>;
}

function fingerprint(provider: EmailProvider | SmsProvider): string {
  const { problem: _problem, ...config } = provider as EmailProvider & { problem?: unknown };
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

function invalid(rule: string): PermanentError {
  return new PermanentError('PROVIDER_SETTINGS_INVALID', `the instance's ${rule}`);
}

/**
 * The tenant's SMTP server as validated fields. ZITADEL stores "host:port" and splits at the
 * last colon, so the host may be anything; here it must be an RFC 1123 host name or an IP
 * literal. ZITADEL's `tls`: implicit TLS on 465, else STARTTLS required; credentials only
 * when user and password are both set (ZITADEL's HasAuth).
 */
export function smtpServerFor(p: SmtpProvider, egress: EgressPolicy): SmtpServer {
  const literal = p.host.startsWith('[') && p.host.endsWith(']') ? p.host.slice(1, -1) : p.host;
  if (net.isIP(literal) === 0 && !isHostName(literal)) {
    throw invalid('SMTP host is not a valid host name or IP address (RFC 1123 labels only)');
  }
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw invalid('SMTP port is not an integer from 1 to 65535');
  const implicit = p.tls && p.port === 465;
  return {
    host: literal,
    port: p.port,
    secure: implicit,
    requireTLS: p.tls && !implicit,
    ...(p.user !== '' && p.password !== '' ? { auth: { user: p.user, pass: p.password } } : {}),
    egress,
  };
}

function smtpOptions(p: SmtpProvider, egress: EgressPolicy, maxConnections: number, logger: Logger): SmtpChannelOptions {
  const server = smtpServerFor(p, egress);
  const address = plainAddress(p.senderAddress);
  if (address === undefined) throw invalid('SMTP sender address is not one plain email address');
  if (p.replyToAddress !== '' && plainAddress(p.replyToAddress) === undefined) {
    throw invalid('SMTP Reply-To address is not one plain email address');
  }
  return {
    server,
    from: { name: safeDisplayName(p.senderName), address },
    ...(p.replyToAddress === '' ? {} : { replyTo: p.replyToAddress }),
    maxConnections,
    logger,
  };
}

export function makeInstanceChannels(opts: InstanceChannelsOptions): InstanceChannels {
  const log = opts.logger.child({ component: 'instance-channels' });
  const maxPools = opts.maxPools ?? 50;
  const egress = opts.egress ?? STRICT_EGRESS;
  const pools: Record<Kind, Lru<string, Pooled>> = { email: makeLru(maxPools), sms: makeLru(maxPools) };

  function closeNow(instanceId: string, pooled: Pooled, why: string): Promise<void> {
    pooled.closed ??= (async () => {
      log.debug({ instanceId, channel: pooled.channel.name, why }, 'closing instance channel');
      await pooled.channel.close().catch((err: unknown) => log.warn({ err, instanceId }, 'closing instance channel failed'));
    })();
    return pooled.closed;
  }

  /** Marks the channel retired; it closes now if idle, else when its last send ends. */
  function retire(instanceId: string, pooled: Pooled, why: string): Promise<void> {
    pooled.retired = true;
    return pooled.leases === 0 ? closeNow(instanceId, pooled, why) : Promise.resolve();
  }

  /**
   * Every provider kind's channel, built from validated settings. A setting a channel refuses
   * (ConfigError: a Twilio sid without AC, an empty token) is the instance admin's, not the
   * operator's: it cancels the notification instead of being retried.
   */
  function build(kind: Kind, instanceId: string, provider: EmailProvider | SmsProvider): Channel<Message> {
    try {
      return buildChannel(kind, instanceId, provider);
    } catch (err) {
      if (isConfigError(err)) throw invalid(`provider settings are invalid: ${err.message}`);
      throw err;
    }
  }

  function buildChannel(kind: Kind, instanceId: string, provider: EmailProvider | SmsProvider): Channel<Message> {
    const logger = opts.logger.child({ instanceId });
    if (provider.kind === 'http') {
      const http = { endpoint: provider.endpoint, providerId: provider.id, description: provider.description, egress, logger };
      return (kind === 'email' ? makeHttpEmailProviderChannel(http) : makeHttpSmsProviderChannel(http)) as Channel<Message>;
    }
    if (provider.kind === 'smtp') {
      return makeSmtpChannel(smtpOptions(provider, egress, opts.maxConnectionsPerPool ?? 2, logger)) as Channel<Message>;
    }
    return makeTwilioChannel({
      sid: provider.sid,
      token: provider.token,
      senderNumber: provider.senderNumber,
      verifyServiceSid: provider.verifyServiceSid,
      providerId: provider.id,
      logger,
      ...(opts.twilioApiBaseUrl === undefined ? {} : { apiBaseUrl: opts.twilioApiBaseUrl }),
    }) as Channel<Message>;
  }

  /** The instance's current channel for this config, built when absent or retired. */
  function current(kind: Kind, instanceId: string, provider: EmailProvider | SmsProvider, print: string): Pooled {
    const lru = pools[kind];
    const existing = lru.get(instanceId);
    if (existing?.fingerprint === print && !existing.retired) return existing;
    const pooled: Pooled = { fingerprint: print, channel: build(kind, instanceId, provider), leases: 0, retired: false };
    if (existing && !existing.retired) void retire(instanceId, existing, 'provider config changed');
    for (const [evictedId, evicted] of lru.set(instanceId, pooled)) void retire(evictedId, evicted, 'pool limit');
    return pooled;
  }

  function view<M extends Message>(kind: Kind, instanceId: string, provider: EmailProvider | SmsProvider): Channel<M> {
    if ('problem' in provider && provider.problem) throw provider.problem;
    if (provider.kind === 'http') parseProviderEndpoint(provider.endpoint);
    const print = fingerprint(provider);
    let mine = current(kind, instanceId, provider, print);
    /** The channel this send runs on: the picked one, or a new one if it was retired meanwhile. */
    const lease = (): Pooled => {
      if (!mine.retired) return mine;
      const latest = pools[kind].get(instanceId);
      if (latest && !latest.retired && latest.fingerprint !== print) {
        // The config changed after this notification picked its channel: finish on a one-off
        // channel (closed after the send) rather than push the new config's channel out.
        return { fingerprint: print, channel: build(kind, instanceId, provider), leases: 0, retired: true };
      }
      mine = current(kind, instanceId, provider, print);
      return mine;
    };
    return {
      name: mine.channel.name,
      async send(message: M, ctx: SendContext): Promise<SendResult> {
        const pooled = lease();
        pooled.leases++;
        try {
          return await pooled.channel.send(message, ctx);
        } finally {
          pooled.leases--;
          if (pooled.retired && pooled.leases === 0) void closeNow(instanceId, pooled, 'last send ended');
        }
      },
      close: async () => undefined,
    };
  }

  async function forget(instanceId: string): Promise<void> {
    const retiring: Promise<void>[] = [];
    for (const lru of Object.values(pools)) {
      const pooled = lru.delete(instanceId);
      if (pooled) retiring.push(retire(instanceId, pooled, 'instance forgotten'));
    }
    await Promise.all(retiring);
  }

  async function close(): Promise<void> {
    // At shutdown the workers are closed first, so nothing is sending any more.
    const closing: Promise<void>[] = [];
    for (const lru of Object.values(pools)) {
      for (const id of lru.keys()) {
        const pooled = lru.delete(id);
        if (pooled) closing.push(closeNow(id, pooled, 'shutdown'));
      }
    }
    await Promise.all(closing);
  }

  return {
    email: (instanceId, provider) => view<EmailMessage>('email', instanceId, provider),
    sms: (instanceId, provider) => view<SmsMessage>('sms', instanceId, provider),
    forget,
    close,
    get size() {
      return pools.email.size + pools.sms.size;
    },
  };
}

/**
 * The deployment's default channels, chosen by a table (not a chain of ifs): one factory per
 * provider name. An instance's own provider from the eventstore comes first (worker/
 * instance.ts); these are the fallback. `none` builds no channel: a notification of an
 * instance without its own provider is then canceled, as ZITADEL cancels it. These are the
 * operator's providers (SMTP_URL, HERALD_WEBHOOK_URL, SNS): the tenant egress rule does not
 * apply to them.
 */
import type { Config, EmailProviderName, SmsProviderName } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { makeOutboxChannel } from './outbox.js';
import { makeSmtpChannel } from './smtp.js';
import { makeSnsChannel } from './sns.js';
import type { Channel, EmailMessage, SmsMessage } from './types.js';
import { makeWebhookChannel } from './webhook.js';

function required(value: string | undefined, name: string): string {
  if (!value) throw new ConfigError(`${name} is required by the chosen provider`);
  return value;
}

/** One webhook channel per kind: both kinds may point at the same receiver. */
function webhook(cfg: Config, logger: Logger): Channel<EmailMessage | SmsMessage> {
  return makeWebhookChannel({
    url: required(cfg.webhook.url, 'HERALD_WEBHOOK_URL'),
    ...(cfg.webhook.signingKey ? { signingKey: cfg.webhook.signingKey } : {}),
    timeoutMs: cfg.webhook.timeoutMs,
    logger,
  });
}

type Factory<M extends EmailMessage | SmsMessage> = (cfg: Config, logger: Logger) => Channel<M> | undefined;

const EMAIL: Record<EmailProviderName, Factory<EmailMessage>> = {
  smtp: (cfg, logger) =>
    makeSmtpChannel({
      url: required(cfg.email.smtpUrl, 'SMTP_URL'),
      ...(cfg.email.smtpFrom ? { from: cfg.email.smtpFrom } : {}),
      logger,
    }),
  webhook,
  outbox: (cfg, logger) => makeOutboxChannel({ dir: cfg.outboxDir, logger }),
  none: () => undefined,
};

const SMS: Record<SmsProviderName, Factory<SmsMessage>> = {
  // Region, endpoint and credentials: the SDK reads AWS_REGION, AWS_ENDPOINT_URL_SNS and its
  // credential chain itself, so herald never handles AWS secrets.
  sns: (cfg, logger) =>
    makeSnsChannel({
      logger,
      smsType: cfg.sms.sns.smsType,
      ...(cfg.sms.sns.senderId === undefined ? {} : { senderId: cfg.sms.sns.senderId }),
    }),
  webhook,
  outbox: (cfg, logger) => makeOutboxChannel({ dir: cfg.outboxDir, logger }),
  none: () => undefined,
};

export interface DefaultChannels {
  /** undefined: HERALD_EMAIL_PROVIDER=none. */
  readonly email: Channel<EmailMessage> | undefined;
  /** undefined: HERALD_SMS_PROVIDER=none. */
  readonly sms: Channel<SmsMessage> | undefined;
  close(): Promise<void>;
}

/**
 * The deployment's channels, and one start log line saying which channel serves each kind
 * when an instance has no provider of its own (the outbox only when chosen or when nothing
 * deliverable is configured: config/load.ts).
 */
export function makeDefaultChannels(cfg: Config, logger: Logger): DefaultChannels {
  const email = EMAIL[cfg.email.provider](cfg, logger.child({ channel: cfg.email.provider }));
  const sms = SMS[cfg.sms.provider](cfg, logger.child({ channel: cfg.sms.provider }));
  const name = (p: string): string => (p === 'none' ? 'none (canceled, as ZITADEL)' : p);
  logger.info(
    { email: cfg.email.provider, sms: cfg.sms.provider, egressAllow: cfg.egressAllow.length },
    `deployment channels for instances without their own provider: email ${name(cfg.email.provider)}, SMS ${name(cfg.sms.provider)}`,
  );
  return {
    email,
    sms,
    async close() {
      await Promise.allSettled([email?.close(), sms?.close()]);
    },
  };
}

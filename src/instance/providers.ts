/**
 * Email and SMS provider configs folded from the instance aggregate, the way ZITADEL's
 * smtp_configs5 and sms_configs3 projections reduce them (zitadel-config-events.md §1, §2).
 * Pure: secrets stay encrypted here; settings.ts decrypts the active one.
 */
import type { SettingsEventRow } from './events.js';
import { bool, payloadOf, SmsEvent, SmtpEvent, str } from './events.js';

export interface RawSmtpConfig {
  readonly kind: 'smtp';
  readonly id: string;
  readonly description: string;
  readonly senderAddress: string;
  readonly senderName: string;
  readonly replyToAddress: string;
  readonly tls: boolean;
  /** "host:port" as ZITADEL stores it. */
  readonly host: string;
  readonly user: string;
  /** The CryptoValue from the payload; undefined when none was ever set. */
  readonly password: unknown;
}

export interface RawHttpConfig {
  readonly kind: 'http';
  readonly id: string;
  readonly description: string;
  readonly endpoint: string;
}

export interface RawTwilioConfig {
  readonly kind: 'twilio';
  readonly id: string;
  readonly description: string;
  readonly sid: string;
  readonly token: unknown;
  readonly senderNumber: string;
  readonly verifyServiceSid: string;
}

export type RawEmailConfig = RawSmtpConfig | RawHttpConfig;
export type RawSmsConfig = RawTwilioConfig | RawHttpConfig;

interface Entry<T> {
  config: T;
  active: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** At most one config is active: activating one deactivates every other. */
function activate<T>(configs: Map<string, Entry<T>>, id: string): void {
  const target = configs.get(id);
  if (!target) return; // the projection's UPDATE would match no row
  for (const entry of configs.values()) entry.active = false;
  target.active = true;
}

function firstActive<T>(configs: Map<string, Entry<T>>): T | undefined {
  for (const entry of configs.values()) if (entry.active) return entry.config;
  return undefined;
}

/** A changed event's present fields replace the stored ones (Go pointer fields). */
function assignPresent<T extends object>(target: Mutable<T>, p: Readonly<Record<string, unknown>>, keys: readonly (keyof T & string)[]): void {
  for (const key of keys) {
    const v = p[key];
    if (v === undefined || v === null) continue;
    if (typeof v === typeof target[key] || key === 'password' || key === 'token') {
      (target as Record<string, unknown>)[key] = v;
    }
  }
}

const SMTP_FIELDS = ['description', 'senderAddress', 'senderName', 'replyToAddress', 'tls', 'host', 'user', 'password'] as const;
const HTTP_FIELDS = ['description', 'endpoint'] as const;
const TWILIO_FIELDS = ['description', 'sid', 'senderNumber', 'verifyServiceSid'] as const;

/**
 * The active email provider of the instance. Quirks kept from ZITADEL: an `added` event
 * with an empty id is the legacy config (id = instance id, description "generic") and is
 * active at once; an empty id in any later event means that legacy config, which is also
 * where `password.changed` (written without an id) lands.
 */
export function reduceEmailProviders(instanceId: string, rows: readonly SettingsEventRow[]): RawEmailConfig | undefined {
  const configs = new Map<string, Entry<Mutable<RawEmailConfig>>>();
  for (const row of rows) {
    if (row.aggregateType !== 'instance') continue;
    const p = payloadOf(row);
    const owner = row.owner || instanceId;
    const rawId = str(p, 'id') ?? '';
    const id = rawId === '' ? owner : rawId;
    const entry = configs.get(id);
    switch (row.eventType) {
      case SmtpEvent.added: {
        const legacy = rawId === '';
        configs.set(id, {
          active: legacy,
          config: {
            kind: 'smtp',
            id,
            description: legacy ? 'generic' : (str(p, 'description') ?? ''),
            senderAddress: str(p, 'senderAddress') ?? '',
            senderName: str(p, 'senderName') ?? '',
            replyToAddress: str(p, 'replyToAddress') ?? '',
            tls: bool(p, 'tls') ?? false,
            host: str(p, 'host') ?? '',
            user: str(p, 'user') ?? '',
            password: p.password ?? undefined,
          },
        });
        break;
      }
      case SmtpEvent.httpAdded:
        configs.set(id, {
          active: false,
          config: { kind: 'http', id, description: str(p, 'description') ?? '', endpoint: str(p, 'endpoint') ?? '' },
        });
        break;
      case SmtpEvent.changed:
      case SmtpEvent.passwordChanged:
        if (entry?.config.kind === 'smtp') assignPresent(entry.config, p, SMTP_FIELDS);
        break;
      case SmtpEvent.httpChanged:
        if (entry?.config.kind === 'http') assignPresent(entry.config, p, HTTP_FIELDS);
        break;
      case SmtpEvent.activated:
        activate(configs, id);
        break;
      case SmtpEvent.deactivated:
        if (entry) entry.active = false;
        break;
      case SmtpEvent.removed:
        configs.delete(id);
        break;
    }
  }
  return firstActive(configs);
}

/** The active SMS provider: the same state machine as email, without the empty-id fallback. */
export function reduceSmsProviders(rows: readonly SettingsEventRow[]): RawSmsConfig | undefined {
  const configs = new Map<string, Entry<Mutable<RawSmsConfig>>>();
  for (const row of rows) {
    if (row.aggregateType !== 'instance') continue;
    const p = payloadOf(row);
    const id = str(p, 'id') ?? '';
    const entry = configs.get(id);
    switch (row.eventType) {
      case SmsEvent.twilioAdded:
        configs.set(id, {
          active: false,
          config: {
            kind: 'twilio',
            id,
            description: str(p, 'description') ?? '',
            sid: str(p, 'sid') ?? '',
            token: p.token ?? undefined,
            senderNumber: str(p, 'senderNumber') ?? '',
            verifyServiceSid: str(p, 'verifyServiceSid') ?? '',
          },
        });
        break;
      case SmsEvent.httpAdded:
        configs.set(id, {
          active: false,
          config: { kind: 'http', id, description: str(p, 'description') ?? '', endpoint: str(p, 'endpoint') ?? '' },
        });
        break;
      case SmsEvent.twilioChanged:
        if (entry?.config.kind === 'twilio') assignPresent(entry.config, p, TWILIO_FIELDS);
        break;
      case SmsEvent.twilioTokenChanged:
        if (entry?.config.kind === 'twilio' && p.token !== undefined && p.token !== null) entry.config.token = p.token;
        break;
      case SmsEvent.httpChanged:
        if (entry?.config.kind === 'http') assignPresent(entry.config, p, HTTP_FIELDS);
        break;
      case SmsEvent.activated:
      case SmsEvent.legacyActivated:
        activate(configs, id);
        break;
      case SmsEvent.deactivated:
      case SmsEvent.legacyDeactivated:
        if (entry) entry.active = false;
        break;
      case SmsEvent.removed:
      case SmsEvent.legacyRemoved:
        configs.delete(id);
        break;
    }
  }
  return firstActive(configs);
}

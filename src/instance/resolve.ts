/**
 * Turns the active raw provider configs into usable providers: secrets decrypted (SMTP
 * password with its KeyID, smtpKey by default; Twilio token, smsKey by default) and the
 * SMTP "host:port" split. What can never work becomes a `problem` on the provider rather
 * than an exception, so settings still load and only a send through that provider cancels.
 */
import type { Keyring } from '../crypto/keyring.js';
import { isPermanent, PermanentError } from '../errors.js';
import type { RawEmailConfig, RawSmsConfig } from './providers.js';
import type { EmailProvider, SmsProvider, SmtpProvider, TwilioProvider } from './types.js';

/** "host:port" or "[v6]:port", as Go's net.SplitHostPort reads it. */
export function splitHostPort(hostPort: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(hostPort) ?? /^([^:[\]]+):(\d{1,5})$/.exec(hostPort);
  const host = m?.[1];
  const port = Number(m?.[2]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** Decrypts, or returns the PermanentError; anything else (a database down) is thrown. */
async function decrypt(keyring: Keyring, value: unknown, what: string): Promise<string | PermanentError> {
  if (value === undefined || value === null) {
    // ZITADEL's SMTPConfigActive/SMSProviderConfigActive answer NotFound for a nil secret.
    return new PermanentError('PROVIDER_SECRET_MISSING', `the instance's active ${what} has no stored secret`);
  }
  try {
    return await keyring.decryptString(value);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    return new PermanentError('PROVIDER_SECRET_UNREADABLE', `the instance's active ${what} secret cannot be decrypted: ${err.message}`, {
      cause: err,
    });
  }
}

export async function resolveEmailProvider(raw: RawEmailConfig | undefined, keyring: Keyring): Promise<EmailProvider | undefined> {
  if (raw === undefined) return undefined;
  if (raw.kind === 'http') return { kind: 'http', id: raw.id, description: raw.description, endpoint: raw.endpoint };
  const hostPort = splitHostPort(raw.host);
  const secret = await decrypt(keyring, raw.password, 'SMTP config');
  let problem = typeof secret === 'string' ? undefined : secret;
  if (!hostPort) {
    problem ??= new PermanentError('SMTP_HOST_INVALID', `the instance's active SMTP host is not "host:port"`);
  }
  const provider: SmtpProvider = {
    kind: 'smtp',
    id: raw.id,
    description: raw.description,
    host: hostPort?.host ?? '',
    port: hostPort?.port ?? 0,
    tls: raw.tls,
    user: raw.user,
    password: typeof secret === 'string' ? secret : '',
    senderAddress: raw.senderAddress,
    senderName: raw.senderName,
    replyToAddress: raw.replyToAddress,
    ...(problem ? { problem } : {}),
  };
  return provider;
}

export async function resolveSmsProvider(raw: RawSmsConfig | undefined, keyring: Keyring): Promise<SmsProvider | undefined> {
  if (raw === undefined) return undefined;
  if (raw.kind === 'http') return { kind: 'http', id: raw.id, description: raw.description, endpoint: raw.endpoint };
  const secret = await decrypt(keyring, raw.token, 'Twilio config');
  const provider: TwilioProvider = {
    kind: 'twilio',
    id: raw.id,
    description: raw.description,
    sid: raw.sid,
    token: typeof secret === 'string' ? secret : '',
    senderNumber: raw.senderNumber,
    verifyServiceSid: raw.verifyServiceSid,
    ...(typeof secret === 'string' ? {} : { problem: secret }),
  };
  return provider;
}

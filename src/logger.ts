/** The one root logger (house style §7): created in the entrypoint, narrowed with child(). */
import { hostname } from 'node:os';

import { pino } from 'pino';

import type { Config } from './config/types.js';
import { errorClass, errorCode, MAX_PUBLIC_REASON, publicReason, sanitizeText } from './errors.js';
import { VERSION } from './version.js';

export type { Logger } from 'pino';

/**
 * Paths never logged in clear: codes, secrets, recipient addresses. Errors are not redacted by
 * path but rebuilt by the `err` serializer below (class, herald's code, sanitised message):
 * path redaction hid `err.code` (herald's own SMTP_REJECTED) while `err.message` and
 * `err.response` (a remote reply) went out in clear.
 */
export const REDACT_PATHS = [
  'code',
  '*.code',
  'Code',
  '*.Code',
  'OTP',
  '*.OTP',
  'password',
  '*.password',
  'to',
  '*.to',
  'recipient',
  '*.recipient',
  'email',
  '*.email',
  'phone',
  '*.phone',
  'html',
  '*.html',
  'text',
  '*.text',
  'Crypted',
  '*.Crypted',
  // credentials that could reach a log through an error or a config object
  'pass',
  '*.pass',
  'secret',
  '*.secret',
  'signingKey',
  '*.signingKey',
  'masterkey',
  '*.masterkey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  // addresses nodemailer puts on errors and results
  'rcptTo',
  '*.rcptTo',
  'envelope',
  '*.envelope',
  'accepted',
  '*.accepted',
  'rejected',
  '*.rejected',
  // ioredis puts the failed command on errors: AUTH carries the Redis password
  'command',
  '*.command',
  // pg-pool hangs the whole client (connection parameters) on errors
  'client',
  '*.client',
];

const MAX_STACK_FRAMES = 12;
const MAX_CAUSES = 3;

export interface LoggedError {
  readonly type: string;
  readonly errorCode?: string;
  readonly message: string;
  readonly stack?: string;
  readonly cause?: LoggedError;
}

/**
 * The only form an error takes in a log line: its class, herald's (or a library's) symbolic
 * code, its public reason, and its stack frames without the message line. Every other field
 * (nodemailer's `response`, `rejected`, pg's `client`, ioredis' `command`) is dropped.
 */
export function serializeError(err: unknown, depth = 0): LoggedError {
  const code = errorCode(err);
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack.slice(0, 4000) : undefined;
  const frames = stack
    ?.split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, MAX_STACK_FRAMES)
    .join('\n');
  const cause = err instanceof Error ? err.cause : undefined;
  return {
    type: errorClass(err),
    ...(code ? { errorCode: code } : {}),
    message: err instanceof Error || typeof err === 'string' ? publicReason(err) : '',
    ...(frames ? { stack: frames } : {}),
    ...(cause !== undefined && depth < MAX_CAUSES ? { cause: serializeError(cause, depth + 1) } : {}),
  };
}

/** Free-text fields (a cancel reason, a reply): sanitised like an event's reason. */
function serializeText(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value, MAX_PUBLIC_REASON);
  if (typeof value === 'object' && value !== null) return serializeError(value);
  return value;
}

/** The root logger's options (exported so tests can attach a stream). */
export function loggerOptions(cfg: Pick<Config, 'logLevel'>, version = VERSION): pino.LoggerOptions {
  return {
    level: cfg.logLevel,
    // pid and hostname identify the replica (pino's defaults, kept next to service/version).
    base: { service: 'herald', version, pid: process.pid, hostname: hostname() },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: (value: unknown) => serializeError(value),
      error: serializeText,
      reason: serializeText,
      response: serializeText,
    },
  };
}

export function makeLogger(cfg: Pick<Config, 'logLevel'>, version = VERSION): pino.Logger {
  return pino(loggerOptions(cfg, version));
}

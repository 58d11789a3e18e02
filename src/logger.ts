/** The one root logger (house style §7): created in the entrypoint, narrowed with child(). */
import { hostname } from 'node:os';

import { pino } from 'pino';

import type { Config } from './config/types.js';
import { VERSION } from './version.js';

export type { Logger } from 'pino';

/** Paths never logged in clear: codes, secrets, recipient addresses. */
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

export function makeLogger(cfg: Pick<Config, 'logLevel'>, version = VERSION): pino.Logger {
  return pino({
    level: cfg.logLevel,
    // pid and hostname identify the replica (pino's defaults, kept next to service/version).
    base: { service: 'herald', version, pid: process.pid, hostname: hostname() },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

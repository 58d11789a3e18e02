/** The one root logger (house style §7): created in the entrypoint, narrowed with child(). */
import { pino } from 'pino';

import type { Config } from './config/types.js';

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
];

export function makeLogger(cfg: Pick<Config, 'logLevel'>, version = '0.1.0'): pino.Logger {
  return pino({
    level: cfg.logLevel,
    base: { service: 'herald', version },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

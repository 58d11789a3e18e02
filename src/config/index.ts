export { formatGoDuration, parseGoDuration } from './duration.js';
export { loadConfig } from './load.js';
export type { Config, EmailProviderName, NotificationsConfig, SmsProviderName, SnsSmsType } from './types.js';

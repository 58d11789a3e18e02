export { formatGoDuration, parseGoDuration } from './duration.js';
export { loadConfig } from './load.js';
export type { Config, EmailProviderName, NotificationsConfig, SmsProviderName } from './types.js';

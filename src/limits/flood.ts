/**
 * The recipient flood guard (HERALD_RECIPIENT_LIMIT): at most `count` messages of one message
 * type to one recipient of one instance per sliding window. Redis sorted set per
 * (instance, recipient, message type), keyed by an HMAC so neither the address nor the
 * phone number is ever in a key; members are notification ids (hashed), so retries of
 * one notification count once. Clock: Redis TIME.
 */
import { createHmac } from 'node:crypto';

import type { Rate } from '../config/limits.js';
import type { RedisClient } from '../queue/connection.js';

export interface FloodGuard {
  readonly limit: Rate;
  /** true: this notification may be sent (and is now counted); false: over the limit. */
  admit(m: { instanceId: string; to: string; messageType: string; notificationId: string }): Promise<boolean>;
}

const SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
return 1
`;

/** Recipient addresses compare case-insensitively; phone numbers have no case. */
function normal(to: string): string {
  return to.trim().toLowerCase();
}

export function makeFloodGuard(redis: RedisClient, keyPrefix: string, secret: string, limit: Rate): FloodGuard {
  const mac = (parts: readonly string[]): string => createHmac('sha256', secret).update(parts.join('\u0000')).digest('base64url').slice(0, 32);
  return {
    limit,
    async admit(m) {
      const key = `${keyPrefix}:flood:${mac([m.instanceId, normal(m.to), m.messageType])}`;
      const member = mac(['n', m.instanceId, m.notificationId]).slice(0, 16);
      const ok = await redis.eval(SCRIPT, 1, key, member, String(limit.count), String(Math.ceil(limit.perMs)));
      return ok === 1;
    },
  };
}

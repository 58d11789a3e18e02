/**
 * One send lane per provider (the deployment's SMTP, SNS, webhook; each tenant provider),
 * paced by a token bucket shared through Redis so every worker of the cluster slows down
 * together. The bucket is GCRA with a burst of one (a token bucket of capacity 1): each send
 * reserves the next slot `1 / rate` after the previous one. The clock is Redis `TIME`, so
 * replicas with skewed clocks share one schedule.
 *
 * Rates: a configured rate (HERALD_SMTP_RATE, HERALD_SNS_RATE, HERALD_WEBHOOK_RATE) is the
 * ceiling; without one a lane is unlimited until the provider throttles. Then AIMD: a
 * throttle halves the lane's rate (once per round: answers to sends reserved before the last
 * decrease do not count again; from the send rate of the last second when the lane was
 * unlimited) and pauses the lane for the
 * provider's Retry-After; every successful send adds back a little (about +max(0.5, 10 %)
 * per second at full pace) up to the ceiling. An idle lane's state expires after 10 minutes.
 */
import type { RedisClient } from '../queue/connection.js';

/** A lane's Redis key suffix is a hash of the provider identity: never a host or URL. */
export interface LaneId {
  readonly key: string;
  /** Configured ceiling in sends per second; undefined: unlimited until throttled. */
  readonly ratePerSec?: number;
}

export type Take =
  /** `reservedAt`: Redis time of the reservation (ms), handed back with a throttle. */
  | { readonly ok: true; readonly waitMs: number; readonly adaptive: boolean; readonly reservedAt: number }
  | { readonly ok: false; readonly waitMs: number };

export interface Bucket {
  /**
   * Reserves a send; `ok` with the time to wait (≤ maxWaitMs), else how long until a slot is
   * free. `unseenSends`: sends this process let out on an unlimited lane without asking
   * (counted into the observed rate).
   */
  take(lane: LaneId, maxWaitMs: number, unseenSends?: number): Promise<Take>;
  /**
   * The provider throttled the send reserved at `reservedAt` (0: unknown): halve the rate
   * unless it was already halved since that reservation, pause for Retry-After. Returns the
   * new rate per second.
   */
  throttled(lane: LaneId, retryAfterMs: number | undefined, reservedAt?: number): Promise<number>;
  /** A send succeeded on an adaptive lane: raise the rate a little. */
  succeeded(lane: LaneId): Promise<void>;
  /** The lane's current rate per second (0: unlimited), for tests and logs. */
  rate(lane: LaneId): Promise<number>;
}

/** Lowest rate a throttle can push a lane to: one send every 10 s. */
export const MIN_RATE = 0.1;
const IDLE_EXPIRE_MS = 600_000;

/**
 * KEYS[1] lane hash. ARGV[1] op (take | throttle | ok | rate), ARGV[2] configured rate
 * (0: none), ARGV[3] max wait (take) or Retry-After ms (throttle), ARGV[4] the throttled
 * send's reservation time (0: unknown), ARGV[5] sends let out without asking (take). Replies {ok, wait ms, rate × 1000, now ms}.
 * Fields: rate (per s, 0 unlimited), ceil, tat (ms), ws/wc (1 s window start/count), obs
 * (observed rate), dec (last decrease).
 */
const SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local op = ARGV[1]
local conf = tonumber(ARGV[2])
local arg = tonumber(ARGV[3])
local sent = tonumber(ARGV[4]) or 0
local unseen = tonumber(ARGV[5]) or 0
local h = redis.call('HMGET', key, 'rate', 'ceil', 'tat', 'ws', 'wc', 'obs', 'dec')
local rate = tonumber(h[1])
local ceil = tonumber(h[2]) or 0
local tat = tonumber(h[3]) or 0
local ws = tonumber(h[4]) or now
local wc = tonumber(h[5]) or 0
local obs = tonumber(h[6]) or 0
local dec = tonumber(h[7]) or 0
if rate == nil then rate = conf end
if conf ~= ceil then
  ceil = conf
  if conf > 0 and (rate == 0 or rate > conf) then rate = conf end
end
local result
if op == 'take' then
  if now - ws >= 1000 then
    obs = wc * 1000 / (now - ws)
    ws = now
    wc = 0
  end
  wc = wc + unseen
  local start = math.max(tat, now)
  local wait = start - now
  if wait > arg then
    result = {0, wait, rate * 1000, now}
  else
    if rate > 0 then tat = start + 1000 / rate else tat = start end
    wc = wc + 1
    result = {1, wait, rate * 1000, now}
  end
elseif op == 'throttle' then
  local fresh
  if sent > 0 then fresh = sent > dec else fresh = now - dec >= 1000 end
  if fresh then
    local base = rate
    if base == 0 then
      base = math.max(obs, wc * 1000 / math.max(now - ws, 1000), ${MIN_RATE * 2})
    end
    rate = math.max(${MIN_RATE}, base / 2)
    dec = now
  end
  local pause = now + math.max(arg, 1000 / rate)
  if pause > tat then tat = pause end
  result = {1, 0, rate * 1000, now}
elseif op == 'ok' then
  if rate > 0 then
    rate = rate + math.max(0.5, rate * 0.1) / rate
    if ceil > 0 and rate > ceil then rate = ceil end
  end
  result = {1, 0, rate * 1000, now}
else
  result = {1, 0, rate * 1000, now}
end
redis.call('HSET', key, 'rate', tostring(rate), 'ceil', tostring(ceil), 'tat', tostring(tat), 'ws', tostring(ws), 'wc', tostring(wc), 'obs', tostring(obs), 'dec', tostring(dec))
redis.call('PEXPIRE', key, ${IDLE_EXPIRE_MS})
return result
`;

type Reply = [number, number, number, number];

export function makeBucket(redis: RedisClient, keyPrefix: string): Bucket {
  const run = async (lane: LaneId, op: string, arg: number, sent = 0, unseen = 0): Promise<Reply> =>
    (await redis.eval(
      SCRIPT,
      1,
      `${keyPrefix}:lane:${lane.key}`,
      op,
      String(lane.ratePerSec ?? 0),
      String(Math.max(0, Math.round(arg))),
      String(Math.max(0, Math.round(sent))),
      String(Math.max(0, Math.round(unseen))),
    )) as Reply;
  return {
    async take(lane, maxWaitMs, unseenSends = 0) {
      const [ok, wait, rate, now] = await run(lane, 'take', maxWaitMs, 0, unseenSends);
      return ok === 1 ? { ok: true, waitMs: wait, adaptive: rate > 0, reservedAt: now } : { ok: false, waitMs: wait };
    },
    async throttled(lane, retryAfterMs, reservedAt) {
      const [, , rate] = await run(lane, 'throttle', retryAfterMs ?? 0, reservedAt);
      return rate / 1000;
    },
    async succeeded(lane) {
      await run(lane, 'ok', 0);
    },
    async rate(lane) {
      const [, , rate] = await run(lane, 'rate', 0);
      return rate / 1000;
    },
  };
}

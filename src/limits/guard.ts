/**
 * The limits around every send (issue #15), applied by wrapping the channels once at start
 * (app.ts), so the pipeline and the River worker send through them unchanged:
 *
 *   breaker (fail fast, no attempt) → flood guard (cancel, RECIPIENT_LIMIT) →
 *   token bucket (wait ≤ 1 s in the slot, else back to delayed) → send →
 *   throttle answer: halve the lane's rate, pause it for Retry-After; connection failure or
 *   timeout: count towards the breaker.
 *
 * Lanes: the deployment's channels by name (`default-smtp`, …); a tenant provider by a hash
 * of its identity (kind, host and port, endpoint or account sid) — never the raw value.
 * Redis trouble in the bucket or the guard fails open (the send goes out) and is logged.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { InstanceChannels } from '../channels/instance-channels.js';
import type { EmailProvider, SmsProvider } from '../channels/provider-settings.js';
import type { DefaultChannels } from '../channels/registry.js';
import type { Channel, OutgoingMessage, SendContext, SendResult } from '../channels/types.js';
import type { LimitsConfig, Rate } from '../config/limits.js';
import { errorCode, isPermanent, isRateLimited, PermanentError, RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../queue/connection.js';
import { makeLru } from '../util/lru.js';
import { type BreakerOptions, type Breakers, makeBreakers } from './breaker.js';
import { type Bucket, type LaneId, makeBucket, type Take } from './bucket.js';
import { type FloodGuard, makeFloodGuard } from './flood.js';
import { type InstanceSlots, makeInstanceSlots } from './slots.js';

/** Longest wait for a token inside a worker slot; longer waits go back to delayed. */
export const MAX_SLOT_WAIT_MS = 1000;
/**
 * A lane Redis called unlimited (no rate, no pause) is not asked again for this long: the
 * common case (no provider has throttled) costs no round trip per send, and a throttle seen
 * by another replica reaches this one within this time.
 */
export const UNLIMITED_RECHECK_MS = 1000;

/** Longest Retry-After honoured (a provider asking for an hour gets 5 minutes). */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Counters read by /metrics (ops/metrics.ts). */
export interface LimitsStats {
  readonly throttled: Map<string, number>;
  readonly recipientCanceled: Map<string, number>;
  deferred: number;
  breakerOpen(): Map<string, number>;
}

export interface Limits {
  readonly stats: LimitsStats;
  readonly slots: InstanceSlots;
  readonly breakers: Breakers;
  readonly bucket: Bucket;
  readonly flood: FloodGuard | undefined;
  guardDefaults(defaults: DefaultChannels): DefaultChannels;
  guardInstanceChannels(inner: InstanceChannels): InstanceChannels;
  guardChannel<M extends OutgoingMessage>(channel: Channel<M>, lane: LaneId): Channel<M>;
}

export interface LimitsOptions {
  readonly redis: RedisClient;
  /** BullMQ's prefix (bullPrefix: `{prefix}` in cluster mode), so the keys share its slot. */
  readonly prefix: string;
  readonly cfg: LimitsConfig;
  /** Keys the flood guard's HMAC; the same on every replica (derived from the masterkey/keys). */
  readonly secret: string;
  readonly logger: Logger;
  readonly breaker?: BreakerOptions;
}

const bump = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

const perSecond = (r: Rate | undefined): number | undefined => (r === undefined ? undefined : (r.count * 1000) / r.perMs);

/** Codes meaning "no answer": connection refused/reset, DNS, TLS, timeouts. */
const NO_ANSWER = new Set(['SMTP_UNAVAILABLE', 'SNS_FAILED', 'TWILIO_UNAVAILABLE']);

/** A connection failure or timeout (the provider did not answer), for the breaker. */
export function isConnectionFailure(err: unknown): boolean {
  if (isPermanent(err) || isRateLimited(err)) return false;
  const code = errorCode(err);
  if (code === undefined) return false;
  const e = err as { status?: unknown; responseCode?: unknown; httpStatusCode?: unknown };
  const answered = typeof e.status === 'number' || typeof e.responseCode === 'number' || typeof e.httpStatusCode === 'number';
  if (code.endsWith('_TIMEOUT')) return true;
  if (answered) return false;
  return NO_ANSWER.has(code) || code === 'WEBHOOK_UNAVAILABLE' || code === 'HTTP_PROVIDER_UNAVAILABLE';
}

/** The identity of a tenant provider, hashed: kind and where it sends to (not its secrets). */
export function tenantLane(provider: EmailProvider | SmsProvider): string {
  const identity =
    provider.kind === 'smtp'
      ? ['smtp', provider.host.toLowerCase(), String(provider.port)]
      : provider.kind === 'http'
        ? ['http', provider.endpoint]
        : ['twilio', provider.sid];
  return `t-${createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 24)}`;
}

export function makeLimits(opts: LimitsOptions): Limits {
  const log = opts.logger.child({ component: 'limits' });
  const keyPrefix = `${opts.prefix}:limits`;
  const bucket = makeBucket(opts.redis, keyPrefix);
  // HERALD_BREAKER_THRESHOLD=0: no breaker (a threshold no run of failures reaches).
  const breakers = makeBreakers(opts.breaker ?? { threshold: opts.cfg.breakerThreshold ?? Number.POSITIVE_INFINITY });
  const flood = opts.cfg.recipientLimit ? makeFloodGuard(opts.redis, keyPrefix, opts.secret, opts.cfg.recipientLimit) : undefined;
  const slots = makeInstanceSlots(opts.cfg.instanceConcurrency);
  /** Lanes known to be unlimited: until when (process clock), and the sends let out meanwhile. */
  const unlimitedUntil = makeLru<string, { until: number; unseen: number }>(10_000);
  const stats: LimitsStats = { throttled: new Map(), recipientCanceled: new Map(), deferred: 0, breakerOpen: () => breakers.openByKind() };

  /** Redis trouble must not stop delivery: the limit is skipped for this send. */
  async function orOpen<T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      log.warn({ err }, `${what} unavailable; sending without it`);
      return fallback;
    }
  }

  function floodReason(messageType: string, limit: Rate): string {
    const window = limit.perMs % 60_000 === 0 ? `${limit.perMs / 60_000}m` : limit.perMs % 1000 === 0 ? `${limit.perMs / 1000}s` : `${limit.perMs}ms`;
    return `flood guard: more than ${limit.count} messages of type ${messageType} to this recipient within ${window} (HERALD_RECIPIENT_LIMIT)`;
  }

  function guardChannel<M extends OutgoingMessage>(channel: Channel<M>, lane: LaneId): Channel<M> {
    const kind = channel.name;
    async function send(message: M, ctx: SendContext): Promise<SendResult> {
      breakers.admit(lane.key, kind);
      let reservedAt = 0;
      try {
        if (flood) {
          const admitted = await orOpen('flood guard', () => flood.admit(message), true);
          if (!admitted) {
            bump(stats.recipientCanceled, message.messageType);
            throw new PermanentError('RECIPIENT_LIMIT', floodReason(message.messageType, flood.limit));
          }
        }
        const take = await takeToken(lane);
        if (!take.ok) {
          throw new RateLimitedError(
            'PROVIDER_PACED',
            `${kind} provider paced: the lane's rate allows the next send in ${Math.ceil(take.waitMs)} ms`,
            {
              retryAfterMs: Math.min(take.waitMs, MAX_RETRY_AFTER_MS),
            },
          );
        }
        reservedAt = take.reservedAt;
        if (take.waitMs > 0) await sleep(take.waitMs, undefined, { signal: ctx.signal });
        const result = await channel.send(message, ctx);
        breakers.answered(lane.key);
        if (take.adaptive) await orOpen('rate lane', () => bucket.succeeded(lane), undefined);
        return result;
      } catch (err) {
        await observeFailure(err, lane, kind, ctx, reservedAt);
        throw err;
      }
    }
    return { name: channel.name, send, close: () => channel.close() };
  }

  async function takeToken(lane: LaneId): Promise<Take> {
    const free: Take = { ok: true, waitMs: 0, adaptive: false, reservedAt: 0 };
    const known = lane.ratePerSec === undefined ? unlimitedUntil.get(lane.key) : undefined;
    if (known && known.until > Date.now()) {
      known.unseen++;
      return free;
    }
    const take = await orOpen('rate lane', () => bucket.take(lane, MAX_SLOT_WAIT_MS, known?.unseen ?? 0), free);
    if (lane.ratePerSec === undefined && take.ok && !take.adaptive && take.waitMs === 0) {
      unlimitedUntil.set(lane.key, { until: Date.now() + UNLIMITED_RECHECK_MS, unseen: 0 });
    } else {
      unlimitedUntil.delete(lane.key);
    }
    return take;
  }

  async function observeFailure(err: unknown, lane: LaneId, kind: string, ctx: SendContext, reservedAt: number): Promise<void> {
    const code = errorCode(err);
    if (code === 'RECIPIENT_LIMIT' || code === 'PROVIDER_PACED') {
      // herald's own refusal: the provider was not asked; the breaker's probe (if any) is given back.
      breakers.abandon(lane.key);
      return;
    }
    if (isRateLimited(err)) {
      bump(stats.throttled, kind);
      unlimitedUntil.delete(lane.key);
      breakers.answered(lane.key);
      const retryAfter = (err as RateLimitedError).retryAfterMs;
      const rate = await orOpen(
        'rate lane',
        () => bucket.throttled(lane, retryAfter === undefined ? undefined : Math.min(retryAfter, MAX_RETRY_AFTER_MS), reservedAt),
        0,
      );
      ctx.logger.info({ providerKind: kind, ratePerSecond: Math.round(rate * 100) / 100 }, 'provider throttled; lane slowed down');
      return;
    }
    // The job's own time limit (TransactionDuration) ran out while the provider said nothing:
    // a timeout. An abort at shutdown says nothing about the provider.
    const timedOut = ctx.signal.aborted && (ctx.signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
    if (isConnectionFailure(err) || timedOut) breakers.failed(lane.key);
    else if (ctx.signal.aborted) breakers.abandon(lane.key);
    else breakers.answered(lane.key);
  }

  const defaultLane = (name: string): LaneId => {
    const rate = perSecond(
      name === 'smtp' ? opts.cfg.rates.smtp : name === 'sns' ? opts.cfg.rates.sns : name === 'webhook' ? opts.cfg.rates.webhook : undefined,
    );
    return rate === undefined ? { key: `default-${name}` } : { key: `default-${name}`, ratePerSec: rate };
  };

  return {
    stats,
    slots,
    breakers,
    bucket,
    flood,
    guardChannel,
    guardDefaults(defaults) {
      return {
        email: defaults.email && guardChannel(defaults.email, defaultLane(defaults.email.name)),
        sms: defaults.sms && guardChannel(defaults.sms, defaultLane(defaults.sms.name)),
        close: () => defaults.close(),
      };
    },
    guardInstanceChannels(inner) {
      return {
        email: (instanceId, provider) => guardChannel(inner.email(instanceId, provider), { key: tenantLane(provider) }),
        sms: (instanceId, provider) => guardChannel(inner.sms(instanceId, provider), { key: tenantLane(provider) }),
        forget: (instanceId) => inner.forget(instanceId),
        close: () => inner.close(),
        get size() {
          return inner.size;
        },
      };
    },
  };
}

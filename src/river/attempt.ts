/**
 * One River attempt, decided as ZITADEL's River worker decides it (NotificationWorker.Work,
 * v2.71+), through the same gather/render/send functions as event mode: TTL, args, sent
 * handler, origin, user, provider, render, send. The outcome finishes the row (finish.ts).
 */
import { createHash } from 'node:crypto';

import type { Pool } from 'pg';

import type { SendResult } from '../channels/types.js';
import type { NotificationsConfig, SourceConfig } from '../config/types.js';
import type { Keyring } from '../crypto/keyring.js';
import { asDependency, coerceError, DependencyError, errorCode, isConcurrency, isPermanent } from '../errors.js';
import { NotificationType } from '../eventstore/notification-types.js';
import { customTextsFor } from '../instance/custom-texts.js';
import { loadNotifyUser } from '../instance/notify-user.js';
import type { Logger } from '../logger.js';
import type { RedisClient as Redis } from '../queue/connection.js';
import { maskRecipient } from '../util/mask.js';
import { type AttemptReport, type ReportIds, reportIds } from '../worker/attempt.js';
import { deliver, type InstanceServices, lookFor, pickChannel, policyRefusal } from '../worker/instance.js';
import { buildMessage, originOf, withPreviousDomain } from '../worker/message.js';
import type { Channels } from '../worker/pipeline.js';
import { failureClass, type ResultClass } from '../worker/result-class.js';
import { SENT_EVENTS, sentEventFor } from '../worker/sent-events.js';
import { parseRiverArgs, type RiverRequest } from './args.js';
import { cancelJob, completeWithSent, failJob, RowGoneError } from './finish.js';
import { alreadyAnswered } from './handled.js';
import type { RiverJobData } from './queue.js';
import { planRetry } from './retry.js';
import { getJob, type RiverJob } from './sql.js';

export interface RiverDeps {
  readonly pool: Pool;
  readonly keyring: Keyring;
  readonly channels: Channels;
  readonly cfg: NotificationsConfig;
  readonly source: Pick<SourceConfig, 'riverRetryPolicy'>;
  readonly logger: Logger;
  /** Holds a short send lock per args, so two duplicate rows worked at once send once. */
  readonly redis: Redis;
  readonly lockPrefix: string;
  readonly instance?: InstanceServices;
  readonly now?: () => number;
}

export type RiverOutcome =
  | { readonly kind: 'sent'; readonly channel: string; readonly messageType: string; readonly report: AttemptReport }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'cancelled'; readonly error: string; readonly report?: AttemptReport }
  | { readonly kind: 'retry'; readonly state: string; readonly delayMs: number; readonly error: string; readonly report?: AttemptReport }
  | { readonly kind: 'discarded'; readonly error: string; readonly report?: AttemptReport }
  /** The row is not running this attempt any more (finished, rescued or deleted by someone else). */
  | { readonly kind: 'finished' }
  /** A twin row is being sent right now: look again shortly, no attempt used. */
  | { readonly kind: 'busy'; readonly delayMs: number };

export interface RiverControl {
  readonly signal: AbortSignal;
  markDelivered(result: SendResult): Promise<void>;
  released?(): boolean;
}

/** ZITADEL's texts: `notification is too old`, `no sent handler registered for <type>`. */
export const TOO_OLD = 'notification is too old';

export async function processRiverAttempt(deps: RiverDeps, data: RiverJobData, ctl: RiverControl): Promise<RiverOutcome> {
  const { pool, cfg } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ riverJobId: data.riverId, attempt: data.attempt });
  const found = await asDependency('reading the River job', () => getJob(pool, data.riverId));
  if (!found || found.state !== 'running' || found.attempt !== data.attempt) return { kind: 'finished' };
  const job: RiverJob = found;
  const startedAt = now();
  const seen: { providerKind: string; recipient: string | undefined; otp: boolean; acceptedAt?: number; ids?: ReportIds } = {
    providerKind: 'none',
    recipient: undefined,
    otp: false,
  };
  const report = (resultClass: ResultClass, err?: unknown, result?: SendResult): AttemptReport => ({
    requestedAt: job.createdAt.getTime(),
    startedAt,
    finishedAt: seen.acceptedAt ?? now(),
    providerKind: seen.providerKind,
    resultClass,
    errorCode: err === undefined ? undefined : errorCode(err),
    providerMessageId: result?.providerMessageId,
    otp: seen.otp,
    recipient: seen.recipient,
    ...(seen.ids ? { ids: seen.ids } : {}),
  });

  const cancel = async (reason: string, cls: ResultClass = 'not-sent', err?: unknown): Promise<RiverOutcome> => {
    if (!(await cancelJob(pool, job, reason))) return { kind: 'finished' };
    return { kind: 'cancelled', error: reason, report: report(cls, err) };
  };
  const fail = async (error: string, cls: ResultClass = 'failed', err?: unknown): Promise<RiverOutcome> => {
    const policy = deps.source.riverRetryPolicy === 'river' ? ({ kind: 'river' } as const) : ({ kind: 'herald', cfg } as const);
    const plan = planRetry(job, policy, now());
    const state = await failJob(pool, job, error, plan);
    if (state === undefined) return { kind: 'finished' };
    if (state === 'discarded') return { kind: 'discarded', error, report: report(cls, err) };
    if (state === 'cancelled') return { kind: 'cancelled', error, report: report(cls, err) };
    return { kind: 'retry', state, delayMs: plan.delayMs ?? 0, error, report: report(cls, err) };
  };

  if (job.createdAt.getTime() + cfg.maxTtlMs < now()) return cancel(TOO_OLD);
  let parsed: RiverRequest;
  try {
    parsed = parseRiverArgs(job.args);
  } catch (err) {
    if (isPermanent(err)) return cancel(err.message);
    throw err;
  }
  const instanceId = parsed.aggregate.instanceId;
  let request = parsed.request;
  seen.otp = request.isOTP === true;
  seen.ids = reportIds(instanceId, job.id, request);
  // ZITADEL checks for a sent handler first, then the origin.
  const spec = SENT_EVENTS.get(request.eventType);
  if (!spec) return cancel(`no sent handler registered for ${request.eventType}`);
  try {
    originOf(request);
  } catch (err) {
    if (isPermanent(err)) return cancel(err.message);
    throw err;
  }

  const answered = await asDependency('checking for an earlier answer', () =>
    alreadyAnswered(pool, {
      jobId: job.id,
      argsText: job.argsText,
      hasCode: request.code !== undefined,
      instanceId,
      aggregateType: spec.aggregateType,
      aggregateId: parsed.aggregate.id,
      triggerType: request.eventType,
    }),
  );
  if (answered && !data.delivered) {
    await completeWithSent(pool, job, undefined).catch(rowGone);
    logger.info('duplicate River job: the notification was already sent; completed without sending');
    return { kind: 'duplicate' };
  }

  const lockKey = `${deps.lockPrefix}:river-send:${createHash('sha256').update(`${instanceId}\u0000${job.argsText}`).digest('hex')}`;
  const lockMs = cfg.transactionDurationMs + 5_000;
  const locked = data.delivered ? true : (await deps.redis.set(lockKey, job.id, 'PX', Math.ceil(lockMs), 'NX')) === 'OK';
  if (!locked) return { kind: 'busy', delayMs: 1_000 };
  try {
    return await attemptSend();
  } finally {
    if (!data.delivered) await deps.redis.del(lockKey).catch(() => undefined);
  }

  async function attemptSend(): Promise<RiverOutcome> {
    let built;
    let channel;
    try {
      const services = deps.instance;
      let settings = services ? await services.settings.get(instanceId, request.userResourceOwner) : undefined;
      if (services && settings?.removed && !data.delivered) {
        await services.channels.forget(instanceId);
        return cancel('the instance was removed (instance.removed): nothing is sent for it');
      }
      const known = settings ? { orgId: request.userResourceOwner, login: settings.login } : undefined;
      const user = await asDependency('loading the user', () =>
        loadNotifyUser(pool, { instanceId, userId: request.userID, resourceOwner: request.userResourceOwner }, known),
      );
      // ZITADEL's worker returns a plain error for a user it cannot load: River retries it.
      if (!user) return fail(`user ${request.userID} not found`);
      const orgId = user.ResourceOwner || request.userResourceOwner;
      if (services && settings && orgId !== settings.orgId) settings = await services.settings.get(instanceId, orgId);
      request = withPreviousDomain(request, user);
      if (!data.delivered) {
        const refusal = policyRefusal(request, settings);
        if (refusal) return cancel(refusal, 'refused');
        const kind = request.notificationType === NotificationType.email ? 'email' : 'sms';
        channel = pickChannel(kind, instanceId, settings, services, deps.channels);
      }
      const look = lookFor(request, settings);
      const customTexts = settings ? customTextsFor(settings.texts, request.messageType) : {};
      // The River job id is the message's id (ZITADEL passes it to the SMS providers).
      built = await buildMessage({ instanceId, notificationId: job.id }, request, user, deps.keyring, { ...look, customTexts });
      if (channel) seen.providerKind = channel.name;
      seen.recipient = maskRecipient(built.message.to);
    } catch (err) {
      if (isPermanent(err)) return cancel(err.message, failureClass(err, 'render'), err);
      throw err;
    }

    let result: SendResult | undefined = data.delivered;
    if (!result) {
      try {
        if (!channel) throw new Error('no channel was picked for an undelivered notification');
        result = await deliver(channel, built, request, request.eventType, { signal: ctl.signal, logger });
        seen.acceptedAt = now();
      } catch (caught) {
        const err = coerceError(caught);
        if (ctl.released?.()) throw new DependencyError('released at shutdown', { cause: err });
        logger.warn(
          { err: { name: err.name, code: (err as { code?: unknown }).code }, maxAttempts: job.maxAttempts },
          `send failed (attempt ${job.attempt} of ${job.maxAttempts})`,
        );
        if (isPermanent(err)) return cancel(err.message, failureClass(err, 'send'), err);
        return fail(err.message, failureClass(err, 'send'), err);
      }
    }
    const sent = sentEventFor(instanceId, request, result);
    try {
      await completeWithSent(pool, job, sent);
    } catch (err) {
      if (err instanceof RowGoneError) {
        logger.warn('the River row was finished by someone else while it was being sent');
        return { kind: 'finished' };
      }
      // Remember that the message left: the next run only finishes the row.
      await ctl.markDelivered(result).catch((markErr: unknown) => logger.error({ err: markErr }, 'could not record delivery'));
      if (isConcurrency(err)) throw new DependencyError('the sent event met a concurrent write', { cause: err });
      throw err;
    }
    return { kind: 'sent', channel: channel?.name ?? 'unknown', messageType: request.messageType, report: report('accepted', undefined, result) };
  }
}

function rowGone(err: unknown): void {
  if (err instanceof RowGoneError) return;
  throw err;
}

/** @internal for tests */
export type { RiverJob };

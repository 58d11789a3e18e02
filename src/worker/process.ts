/**
 * One notification attempt, ZITADEL's reduceNotificationRequested / reduceNotificationRetry
 * in one place. Reads the aggregate, decides, sends at most once, writes the outcome.
 * Returns what happened; the BullMQ layer (worker.ts) maps it onto job states.
 */
import type { Pool } from 'pg';

import type { Channel, EmailMessage, SendResult, SmsMessage } from '../channels/types.js';
import { formatGoDuration } from '../config/duration.js';
import type { NotificationsConfig } from '../config/types.js';
import { type CustomTextSource, sharedCustomTextSource } from '../content/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { asDependency, coerceError, DependencyError, isConcurrency, isPermanent, publicReason } from '../errors.js';
import type { PushBatcher } from '../eventstore/batch.js';
import { parseRequestedPayload, parseRetryPayload } from '../eventstore/notification.js';
import { NotificationEvent, type NotificationRequest, NotificationType, type NotifyUser } from '../eventstore/notification-types.js';
import { readAggregate } from '../eventstore/read.js';
import type { StoredEvent } from '../eventstore/types.js';
import type { Logger } from '../logger.js';
import { msToNs, nextBackoffMs, nsToMs } from '../queue/backoff.js';
import type { NotificationJobData } from '../queue/names.js';
import { type Built, deliver, type InstanceServices, lookFor, pickChannel, policyRefusal } from './instance.js';
import { buildMessage, withPreviousDomain } from './message.js';
import { loadNotifyUser } from './notify-user.js';
import { writeCanceled, writeRetry, writeSent } from './outcome.js';
import { sentEventFor } from './sent-events.js';

/** The deployment's default channels; undefined when configured as `none`. */
export interface Channels {
  readonly email: Channel<EmailMessage> | undefined;
  readonly sms: Channel<SmsMessage> | undefined;
}

export interface ProcessDeps {
  readonly pool: Pool;
  readonly keyring: Keyring;
  readonly channels: Channels;
  readonly cfg: NotificationsConfig;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Custom texts (cached per instance and organisation). @defaultValue one shared source per pool */
  readonly texts?: CustomTextSource;
  /**
   * Per-instance providers, branding, policies and login names from the eventstore. Without
   * it every notification goes through `channels` with herald's own look (as before issue #8).
   */
  readonly instance?: InstanceServices;
  /** Group commit for the sent write-back (one transaction for many jobs under load). */
  readonly writer?: PushBatcher;
}

export type Outcome =
  | { readonly kind: 'sent'; readonly attempt: number; readonly channel: string; readonly messageType: string }
  | { readonly kind: 'canceled'; readonly attempt: number; readonly error: string }
  | { readonly kind: 'retry'; readonly attempt: number; readonly delayMs: number; readonly error: string }
  | { readonly kind: 'not-due'; readonly delayMs: number }
  | { readonly kind: 'finished' }
  | { readonly kind: 'missing' };

export interface AttemptControl {
  readonly signal: AbortSignal;
  /** Remembers (in the job) that the message left, before a failed write-back is retried. */
  markDelivered(result: SendResult): Promise<void>;
  /** True when the attempt was aborted because this process is shutting down. */
  released?(): boolean;
}

const FINISHED: ReadonlySet<string> = new Set([NotificationEvent.sent, NotificationEvent.canceled]);

interface Attempt {
  readonly latest: StoredEvent;
  readonly request: NotificationRequest;
  /** The NotifyUser snapshot of a retry event (a retry never re-queries the user). */
  readonly snapshot: NotifyUser | undefined;
  readonly previousBackOffMs: number;
  /** created_at of the event this attempt answers (MaxTtl counts from it, as in ZITADEL). */
  readonly since: Date;
}

/** Parses the aggregate into the attempt to make; throws PermanentError on malformed input. */
function attemptOf(events: readonly StoredEvent[], latest: StoredEvent): Attempt {
  if (latest.eventType === NotificationEvent.retryRequested) {
    const retry = parseRetryPayload(latest.payload);
    return {
      latest,
      request: retry.request,
      snapshot: retry.notifyUser,
      previousBackOffMs: nsToMs(retry.backOff),
      since: latest.createdAt,
    };
  }
  const requested = events.find((e) => e.eventType === NotificationEvent.requested) ?? latest;
  return {
    latest,
    request: parseRequestedPayload(requested.payload),
    snapshot: undefined,
    previousBackOffMs: 0,
    since: requested.createdAt,
  };
}

export async function processNotification(
  deps: ProcessDeps,
  data: NotificationJobData,
  ctl: AttemptControl,
): Promise<Outcome> {
  const { pool, cfg } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ instanceId: data.instanceId, notificationId: data.aggregateId });
  const ref = { instanceId: data.instanceId, aggregateType: 'notification', aggregateId: data.aggregateId };
  const events = await asDependency('reading the notification', () => readAggregate(pool, ref));
  const latest = events.at(-1);
  if (!latest) return { kind: 'missing' };
  if (events.some((e) => FINISHED.has(e.eventType))) return { kind: 'finished' };
  const attemptNo = latest.sequence;

  const cancel = async (error: string): Promise<Outcome> => {
    try {
      await writeCanceled(pool, latest, error);
    } catch (err) {
      if (isConcurrency(err)) return { kind: 'finished' };
      throw err;
    }
    logger.info({ attempt: attemptNo, error }, 'notification canceled');
    return { kind: 'canceled', attempt: attemptNo, error };
  };

  let attempt: Attempt;
  try {
    attempt = attemptOf(events, latest);
  } catch (err) {
    if (isPermanent(err)) return cancel(publicReason(err));
    throw err;
  }
  if (attempt.since.getTime() + cfg.maxTtlMs < now()) {
    return cancel(`notification expired: not delivered within MaxTtl (${formatGoDuration(cfg.maxTtlMs)})`);
  }
  if (attempt.snapshot) {
    const dueIn = latest.createdAt.getTime() + attempt.previousBackOffMs - now();
    if (dueIn > 0) return { kind: 'not-due', delayMs: dueIn };
  }

  let request = attempt.request;
  let user: NotifyUser;
  let built: Built;
  let targetSent;
  let channel: Channel<EmailMessage | SmsMessage> | undefined;
  try {
    const services = deps.instance;
    const orgHint = attempt.snapshot?.ResourceOwner || request.userResourceOwner;
    let settings = services ? await services.settings.get(data.instanceId, orgHint) : undefined;
    if (services && settings?.removed && !data.delivered) {
      // instance.removed: ZITADEL stops handling the instance; herald also closes its pools.
      await services.channels.forget(data.instanceId);
      return cancel('the instance was removed (instance.removed): nothing is sent for it');
    }
    const known = settings ? { orgId: orgHint, login: settings.login } : undefined;
    const found =
      attempt.snapshot ??
      (await asDependency('loading the user', () =>
        loadNotifyUser(pool, { instanceId: data.instanceId, userId: request.userID, resourceOwner: request.userResourceOwner }, known),
      ));
    if (!found) return cancel(`user ${request.userID} not found`);
    user = found;
    const orgId = user.ResourceOwner || request.userResourceOwner;
    if (services && settings && orgId !== settings.orgId) settings = await services.settings.get(data.instanceId, orgId);
    request = withPreviousDomain(request, user);
    // Known before sending: a trigger type with no sent handler is canceled, as in ZITADEL.
    targetSent = sentEventFor(data.instanceId, request, data.delivered ?? {});
    if (!targetSent) return cancel(`no sent handler for event type ${request.eventType}`);
    // Once delivered, only the write-back is left: a provider or policy changed since then changes nothing.
    if (!data.delivered) {
      const refusal = policyRefusal(request, settings);
      if (refusal) return cancel(refusal);
      const kind = request.notificationType === NotificationType.email ? 'email' : 'sms';
      channel = pickChannel(kind, data.instanceId, settings, services, deps.channels);
    }
    const texts = await asDependency('loading custom texts', () =>
      (deps.texts ?? sharedCustomTextSource(pool)).settingsFor(data.instanceId, orgId, request.messageType),
    );
    const look = lookFor(request, settings);
    built = await buildMessage({ instanceId: data.instanceId, notificationId: data.aggregateId }, request, user, deps.keyring, {
      ...look,
      ...texts,
      ...(texts.defaultLanguage === undefined && look?.defaultLanguage !== undefined ? { defaultLanguage: look.defaultLanguage } : {}),
    });
  } catch (err) {
    if (isPermanent(err)) return cancel(publicReason(err));
    throw err;
  }

  let result: SendResult | undefined = data.delivered;
  if (!result) {
    const started = now();
    try {
      if (!channel) throw new Error('no channel was picked for an undelivered notification');
      result = await deliver(channel, built, request, latest.eventType, { signal: ctl.signal, logger });
    } catch (caught) {
      const err = coerceError(caught);
      // Cut short by a shutdown, not by the provider: another replica retries it, no attempt used.
      if (ctl.released?.()) throw new DependencyError('released at shutdown', { cause: err });
      logger.warn(
        { err: { name: err.name, code: (err as { code?: unknown }).code }, attempt: attemptNo, maxAttempts: cfg.maxAttempts, durationMs: now() - started },
        `send failed (attempt ${attemptNo} of ${cfg.maxAttempts})`,
      );
      if (isPermanent(err) || attemptNo >= cfg.maxAttempts) return cancel(publicReason(err, [built.args.Code]));
      const delayMs = nextBackoffMs(attempt.previousBackOffMs, cfg);
      try {
        await writeRetry(pool, latest, { request, notifyUser: user, error: publicReason(err, [built.args.Code]), backOffNs: msToNs(delayMs) });
      } catch (writeErr) {
        if (isConcurrency(writeErr)) return { kind: 'finished' };
        throw writeErr;
      }
      return { kind: 'retry', attempt: attemptNo, delayMs, error: publicReason(err, [built.args.Code]) };
    }
  }
  const channelName = channel?.name ?? 'unknown';

  const sentCmd = sentEventFor(data.instanceId, request, result) ?? targetSent;
  for (let tries = 1; ; tries++) {
    try {
      // The user was just loaded (and is not removed): no need to look it up again before
      // writing its sent event. A retry's snapshot or a session target is looked up.
      const targetChecked = !attempt.snapshot && sentCmd?.aggregateType === 'user' && sentCmd.aggregateId === user.ID;
      await writeSent(pool, latest, sentCmd, { batcher: deps.writer, targetChecked });
      return { kind: 'sent', attempt: attemptNo, channel: channelName, messageType: request.messageType };
    } catch (err) {
      // A conflict may come from ZITADEL writing the user at the same moment: look again.
      const again = isConcurrency(err)
        ? await asDependency('re-reading the notification', () => readAggregate(pool, ref)).catch(() => undefined)
        : undefined;
      if (again?.some((e) => FINISHED.has(e.eventType))) {
        logger.warn('another worker finished this notification while it was being sent');
        return { kind: 'finished' };
      }
      if (tries >= 3 || again?.at(-1)?.sequence !== latest.sequence) {
        await ctl.markDelivered(result).catch((markErr: unknown) => logger.error({ err: markErr }, 'could not record delivery'));
        throw err;
      }
    }
  }
}

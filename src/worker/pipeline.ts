/**
 * One notification attempt, whatever its source, in explicit steps:
 *
 *   gather  → the instance's settings for the user's organisation and the user
 *   decide  → pure (decide.ts): cancel, not due, or go ahead
 *   render  → the channel (instance provider or deployment default), texts, the message
 *   send    → at most once, with the job's AbortSignal
 *   decide  → again, with the send's result: sent, retry, throttled or cancel
 *   write back through the source's port (attempt.ts WriteBack)
 *
 * Returns what happened; the BullMQ layer (worker.ts) maps it onto job states. Errors thrown
 * are dependency problems (Postgres unavailable: the job comes back later, no attempt used).
 */
import type { Pool } from 'pg';

import type { Channel, EmailMessage, SendResult, SmsMessage } from '../channels/types.js';
import type { NotificationsConfig } from '../config/types.js';
import type { Keyring } from '../crypto/keyring.js';
import { asDependency, coerceError, DependencyError, errorCode, isPermanent } from '../errors.js';
import { type NotificationRequest, NotificationType, type NotifyUser } from '../eventstore/notification-types.js';
import { customTextsFor } from '../instance/custom-texts.js';
import { loadNotifyUser, type NotifyUserRef } from '../instance/notify-user.js';
import type { InstanceSettings } from '../instance/types.js';
import type { Logger } from '../logger.js';
import { maskRecipient } from '../util/mask.js';
import { type Attempt, type AttemptControl, type AttemptReport, type Loaded, type Outcome, reportIds, type WriteBack } from './attempt.js';
import { decide, type Decision, type Facts, type Failure } from './decide.js';
import { deliver, type InstanceServices, lookFor, pickChannel } from './instance.js';
import { buildMessage, type Built } from './message.js';
import type { WorkerReads } from './reads.js';
import { failureClass, type ResultClass } from './result-class.js';
import { sentEventFor } from './sent-events.js';

/** The deployment's default channels; undefined when configured as `none`. */
export interface Channels {
  readonly email: Channel<EmailMessage> | undefined;
  readonly sms: Channel<SmsMessage> | undefined;
}

export interface PipelineDeps {
  readonly pool: Pool;
  readonly keyring: Keyring;
  /** The deployment's default channels (HERALD_EMAIL_PROVIDER / HERALD_SMS_PROVIDER). */
  readonly channels: Channels;
  /** Per-instance settings and the channels of the instances' own providers. */
  readonly instance: InstanceServices;
  readonly cfg: NotificationsConfig;
  readonly logger: Logger;
  readonly now: () => number;
  /** The retry policy's next delay after `previousDelayMs` (queue/backoff.ts). */
  readonly retryDelayMs: (attempt: Attempt) => number;
  /** Per-job reads batched across concurrent jobs (reads.ts); absent: one query per job. */
  readonly reads?: WorkerReads;
}

interface Gathered {
  readonly settings: InstanceSettings | undefined;
  readonly user: NotifyUser | undefined;
  readonly failure?: Failure;
}

const kindOf = (request: NotificationRequest): 'email' | 'sms' => (request.notificationType === NotificationType.email ? 'email' : 'sms');

/** The batched user read, in loadNotifyUser's shape. */
const userEventsOf = (reads: WorkerReads | undefined) =>
  reads && ((ref: NotifyUserRef) => reads.userEvents({ instanceId: ref.instanceId, aggregateId: ref.userId }));

/** Settings for the user's organisation, and the user (a retry's snapshot, else loaded). */
async function gather(deps: PipelineDeps, attempt: Attempt): Promise<Gathered> {
  const { request, instanceId } = attempt;
  try {
    const orgHint = attempt.snapshot?.ResourceOwner || request.userResourceOwner;
    let settings = await deps.instance.settings.get(instanceId, orgHint);
    // Nothing more is needed to cancel for a removed instance.
    if (settings.removed && !attempt.delivered) return { settings, user: undefined };
    const known = { orgId: orgHint, login: settings.login };
    const user =
      attempt.snapshot ??
      (await asDependency('loading the user', () =>
        loadNotifyUser(deps.pool, { instanceId, userId: request.userID, resourceOwner: request.userResourceOwner }, known, userEventsOf(deps.reads)),
      )) ??
      undefined;
    const orgId = user?.ResourceOwner || request.userResourceOwner;
    if (user && orgId !== settings.orgId) settings = await deps.instance.settings.get(instanceId, orgId);
    return { settings, user };
  } catch (err) {
    if (!isPermanent(err)) throw err;
    return { settings: undefined, user: undefined, failure: { stage: 'gather', error: err, released: false } };
  }
}

/** The channel and the rendered message; a PermanentError (no provider, no address) cancels. */
async function render(
  deps: PipelineDeps,
  attempt: Attempt,
  request: NotificationRequest,
  user: NotifyUser,
  settings: InstanceSettings | undefined,
): Promise<{ channel: Channel<EmailMessage | SmsMessage>; built: Built } | Failure> {
  try {
    const channel = pickChannel(kindOf(request), attempt.instanceId, settings, deps.instance, deps.channels);
    const look = lookFor(request, settings);
    const customTexts = settings ? customTextsFor(settings.texts, request.messageType) : {};
    const ids = { instanceId: attempt.instanceId, notificationId: attempt.notificationId };
    const built = await buildMessage(ids, request, user, deps.keyring, { ...look, customTexts });
    return { channel, built };
  } catch (err) {
    if (!isPermanent(err)) throw err;
    return { stage: 'render', error: err, released: false };
  }
}

/** Runs one attempt of a loaded notification (see the steps above). */
export async function runAttempt(deps: PipelineDeps, loaded: Loaded, ctl: AttemptControl): Promise<Outcome> {
  const now = deps.now();
  const base = { now, maxTtlMs: deps.cfg.maxTtlMs };
  if (loaded.kind !== 'attempt') {
    const facts: Facts = { ...base, loaded, settings: undefined, user: undefined, retryDelayMs: 0 };
    const decision = decide(facts);
    if (decision.kind === 'missing' || decision.kind === 'finished') return decision;
    if (decision.kind !== 'cancel' || loaded.kind !== 'malformed') {
      throw new Error(`unexpected decision ${decision.kind} for a ${loaded.kind} request`);
    }
    const report: AttemptReport = {
      requestedAt: now,
      startedAt: now,
      finishedAt: deps.now(),
      providerKind: 'none',
      resultClass: 'not-sent',
      errorCode: errorCode(loaded.error),
      providerMessageId: undefined,
      otp: false,
      recipient: undefined,
    };
    return (await loaded.writeBack.cancel(decision.error))
      ? { kind: 'canceled', attempt: 0, channel: 'unknown', messageType: 'unknown', error: decision.error, report }
      : { kind: 'finished' };
  }

  const { attempt, writeBack } = loaded;
  const logger = deps.logger.child({ instanceId: attempt.instanceId, notificationId: attempt.notificationId });
  const labels = { attempt: attempt.number, channel: kindOf(attempt.request) as string, messageType: attempt.request.messageType };
  const seen: { providerKind: string; recipient: string | undefined; acceptedAt?: number } = { providerKind: 'none', recipient: undefined };
  const report = (resultClass: ResultClass, error?: Error, result?: SendResult): AttemptReport => ({
    requestedAt: attempt.requestedAt.getTime(),
    startedAt: now,
    finishedAt: seen.acceptedAt ?? deps.now(),
    providerKind: seen.providerKind,
    resultClass,
    errorCode: error ? errorCode(error) : undefined,
    providerMessageId: result?.providerMessageId,
    otp: attempt.request.isOTP === true,
    recipient: seen.recipient,
    ids: reportIds(attempt.instanceId, attempt.notificationId, attempt.request),
  });
  // Expired and not-due need nothing gathered.
  const early = decide({ ...base, loaded, settings: undefined, user: undefined, retryDelayMs: 0, failure: undefined });
  if (early.kind === 'not-due') return early;
  if (early.kind === 'cancel' && early.reason === 'expired') return finish(early, { writeBack, labels, logger, report });

  const gathered = await gather(deps, attempt);
  const facts: Facts = { ...base, loaded, ...gathered, retryDelayMs: deps.retryDelayMs(attempt) };
  let decision = decide(facts);
  if (decision.kind === 'cancel' && decision.reason === 'instance-removed') await deps.instance.channels.forget(attempt.instanceId);
  if (decision.kind !== 'send') {
    const failure = gathered.failure;
    return finish(decision, { writeBack, labels, logger, attempt, result: attempt.delivered, report, ...(failure ? { failure } : {}) });
  }

  const rendered = await render(deps, attempt, decision.request, decision.user, gathered.settings);
  if ('stage' in rendered) return finish(decide({ ...facts, failure: rendered }), { writeBack, labels, logger, report, failure: rendered });
  const { channel, built } = rendered;
  seen.providerKind = channel.name;
  seen.recipient = maskRecipient(built.message.to);
  const sending = { ...labels, channel: channel.name };

  const started = deps.now();
  let result: SendResult;
  try {
    result = await deliver(channel, built, decision.request, attempt.eventType, { signal: ctl.signal, logger });
  } catch (caught) {
    const error = coerceError(caught);
    logger.warn(
      {
        err: { name: error.name, code: (error as { code?: unknown }).code },
        attempt: attempt.number,
        maxAttempts: attempt.maxAttempts,
        durationMs: deps.now() - started,
      },
      `send failed (attempt ${attempt.number} of ${attempt.maxAttempts})`,
    );
    const failure: Failure = { stage: 'send', error, released: ctl.released() };
    decision = decide({ ...facts, hide: [built.args.Code], send: { ok: false, failure } });
    return finish(decision, { writeBack, labels: sending, logger, attempt, report, failure });
  }
  seen.acceptedAt = deps.now();
  decision = decide({ ...facts, send: { ok: true } });
  return finish(decision, { writeBack, labels: sending, logger, attempt, result, ctl, report });
}

interface Labels {
  readonly attempt: number;
  readonly channel: string;
  readonly messageType: string;
}

interface Finishing {
  readonly writeBack: WriteBack;
  readonly labels: Labels;
  readonly logger: Logger;
  readonly attempt?: Attempt;
  /** What the send returned (or an earlier try's delivery). */
  readonly result?: SendResult | undefined;
  readonly ctl?: AttemptControl;
  /** Builds the attempt's report once its result class is known. */
  readonly report: (resultClass: ResultClass, error?: Error, result?: SendResult) => AttemptReport;
  /** The step that failed, if one did (its error gives the result class). */
  readonly failure?: Failure;
}

/** The result class of a decision that ends the attempt (see result-class.ts). */
function classOf(decision: Decision, failure: Failure | undefined): ResultClass {
  if (decision.kind === 'write-sent') return 'accepted';
  if (failure) return failureClass(failure.error, failure.stage);
  return decision.kind === 'cancel' && decision.reason === 'policy' ? 'refused' : 'not-sent';
}

/** Writes the decision back through the source's port and names the outcome. */
async function finish(decision: Decision, f: Finishing): Promise<Outcome> {
  const { writeBack, labels, logger } = f;
  const report = (): AttemptReport => f.report(classOf(decision, f.failure), f.failure?.error, f.result);
  switch (decision.kind) {
    case 'missing':
    case 'finished':
    case 'not-due':
      return decision;
    case 'release':
      // Cut short by a shutdown, not by the provider: another replica retries it, no attempt used.
      throw new DependencyError('released at shutdown', { cause: decision.error });
    case 'throttled':
      return { kind: 'throttled', ...labels, delayMs: decision.delayMs, error: decision.error, report: report() };
    case 'cancel':
      if (!(await writeBack.cancel(decision.error))) return { kind: 'finished' };
      return { kind: 'canceled', ...labels, error: decision.error, report: report() };
    case 'retry': {
      const { request, user, error, delayMs } = decision;
      if (!(await writeBack.retry({ request, user, error, delayMs }))) return { kind: 'finished' };
      return { kind: 'retry', ...labels, delayMs, error, report: report() };
    }
    case 'send':
      throw new Error('finish() is never asked to send');
    case 'write-sent': {
      const { attempt, result = {}, ctl } = f;
      if (!attempt) throw new Error('write-sent without an attempt');
      const target = sentEventFor(attempt.instanceId, decision.request, result);
      // The user was just loaded (and is not removed): no need to look it up again before
      // writing its sent event. A retry's snapshot or a session target is looked up.
      const targetChecked = !attempt.snapshot && target?.aggregateType === 'user' && target.aggregateId === decision.user.ID;
      try {
        if (!(await writeBack.sent(target, { targetChecked }))) {
          logger.warn('another worker finished this notification while it was being sent');
          return { kind: 'finished' };
        }
      } catch (err) {
        // The message left: remember it in the job so the retried job only writes back.
        if (ctl && f.result && !attempt.delivered) {
          const delivered = f.result;
          await ctl.markDelivered(delivered).catch((markErr: unknown) => logger.error({ err: markErr }, 'could not record delivery'));
        }
        throw err;
      }
      return { kind: 'sent', ...labels, report: report() };
    }
  }
}

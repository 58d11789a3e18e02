/**
 * One info line per outcome of a send (sent, retry, canceled, throttled), from the workers'
 * onOutcome listeners: what an operator needs to answer "was this mail late, and why" without
 * reconstructing it from the eventstore. Instance id, notification id, channel, provider kind,
 * result class, attempt, latency (from the ZITADEL event) and the attempt's duration; never a
 * code or a full address (`maskedRecipient` only: `recipient` is redacted by the logger; an
 * error text passes sanitizeText).
 */
import type { Job } from 'bullmq';

import { sanitizeText } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NotificationJobData } from '../queue/names.js';
import type { RiverOutcome } from '../river/attempt.js';
import type { RiverJobData } from '../river/queue.js';
import type { AttemptReport, Outcome } from '../worker/attempt.js';
import { channelOf } from './metrics.js';

export interface OutcomeLog {
  event(outcome: Outcome, job: Job<NotificationJobData>, durationMs: number): void;
  river(outcome: RiverOutcome, job: Job<RiverJobData>, durationMs: number): void;
}

const MESSAGES = {
  sent: 'notification sent',
  retry: 'notification send failed; retry scheduled',
  canceled: 'notification canceled',
  throttled: 'provider throttled; tried again later without using an attempt',
} as const;

/** The fields every line has, from the attempt's report. */
function fields(report: AttemptReport, durationMs: number): Record<string, unknown> {
  return {
    channel: channelOf(report),
    providerKind: report.providerKind,
    resultClass: report.resultClass,
    otp: report.otp,
    latencyMs: Math.max(0, report.finishedAt - report.requestedAt),
    durationMs,
    ...(report.recipient === undefined ? {} : { maskedRecipient: report.recipient }),
    ...(report.errorCode === undefined ? {} : { errorCode: report.errorCode }),
    ...(report.providerMessageId === undefined ? {} : { providerMessageId: report.providerMessageId }),
  };
}

export function makeOutcomeLog(logger: Logger): OutcomeLog {
  const log = logger.child({ component: 'outcome' });
  return {
    event(outcome, job, durationMs) {
      if (!('report' in outcome)) return;
      const ids = {
        instanceId: job.data.instanceId,
        notificationId: job.data.aggregateId,
        attempt: outcome.attempt,
        messageType: outcome.messageType,
      };
      const extra =
        outcome.kind === 'sent'
          ? {}
          : {
              error: sanitizeText(outcome.error),
              ...(outcome.kind === 'retry' || outcome.kind === 'throttled' ? { delayMs: outcome.delayMs } : {}),
            };
      log.info({ ...ids, ...fields(outcome.report, durationMs), ...extra }, MESSAGES[outcome.kind]);
    },
    river(outcome, job, durationMs) {
      if (!('report' in outcome) || outcome.report === undefined) return;
      const ids = {
        ...(job.data.instanceId === undefined ? {} : { instanceId: job.data.instanceId }),
        notificationId: job.data.riverId,
        attempt: job.data.attempt,
      };
      if (outcome.kind === 'sent') {
        log.info({ ...ids, messageType: outcome.messageType, ...fields(outcome.report, durationMs) }, MESSAGES.sent);
        return;
      }
      const extra = { error: sanitizeText(outcome.error), ...(outcome.kind === 'retry' ? { delayMs: outcome.delayMs, state: outcome.state } : {}) };
      // River's discarded (attempts used up) is a cancel, as ZITADEL's canceled.
      const message = outcome.kind === 'retry' ? MESSAGES.retry : MESSAGES.canceled;
      log.info({ ...ids, ...fields(outcome.report, durationMs), ...extra, riverState: outcome.kind }, message);
    },
  };
}

/**
 * Outcomes → history entries. The workers' `onOutcome` listeners (src/worker/worker.ts,
 * src/river/worker.ts) hand every outcome here with its job's data; app.ts wires them.
 *
 * `attempts` counts sends: attempts that asked a provider to take the message (classes
 * accepted, throttled, rejected, timeout, unreachable, failed, with a provider picked).
 * Refusals before sending, breaker-open and not-sent lines appear in the timeline but are
 * not sends — so `attempts` equals what the provider saw.
 */
import { sanitizeText } from '../errors.js';
import type { NotificationJobData } from '../queue/names.js';
import type { RiverOutcome } from '../river/attempt.js';
import type { RiverJobData } from '../river/queue.js';
import type { AttemptReport, Outcome } from '../worker/attempt.js';
import type { ResultClass } from '../worker/result-class.js';
import type { DeliveryState, HistoryEntry } from './types.js';

const SEND_CLASSES: ReadonlySet<ResultClass> = new Set(['accepted', 'throttled', 'rejected', 'timeout', 'unreachable', 'failed']);

/**
 * The provider's id for the message (SMTP Message-ID, SNS MessageId, Twilio SID, outbox file):
 * printable ASCII only, at most 200 characters. Not run through sanitizeText, which would
 * mask exactly what makes it useful (the id's digits and letters); no provider puts the
 * recipient in it.
 */
function messageId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const clean = id.replace(/[^\x21-\x7e]/g, '').slice(0, 200);
  return clean === '' ? undefined : clean;
}

/** Did this attempt ask a provider to take the message? */
export function isSend(report: AttemptReport): boolean {
  return report.providerKind !== 'none' && SEND_CLASSES.has(report.resultClass);
}

function fromReport(
  base: { source: HistoryEntry['source']; id: string; instanceId: string; state: DeliveryState; attempt: number; error?: string },
  report: AttemptReport | undefined,
  now: number,
): HistoryEntry {
  const reason = base.error === undefined ? undefined : sanitizeText(base.error);
  if (!report) {
    return { source: base.source, id: base.id, instanceId: base.instanceId, state: base.state, sends: 0, otp: false, requestedAt: now, reason };
  }
  const ids = report.ids;
  const sent = base.state === 'sent' && report.resultClass === 'accepted' && report.providerKind !== 'none';
  return {
    source: base.source,
    id: base.id,
    instanceId: base.instanceId,
    orgId: ids?.orgId || undefined,
    userId: ids?.userId || undefined,
    messageType: ids?.messageType,
    channel: ids?.channel,
    providerKind: report.providerKind === 'none' ? undefined : report.providerKind,
    recipient: report.recipient,
    state: base.state,
    line: {
      attempt: base.attempt,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      providerKind: report.providerKind,
      resultClass: report.resultClass,
      errorCode: report.errorCode ?? null,
    },
    sends: isSend(report) ? 1 : 0,
    resultClass: report.resultClass,
    errorCode: report.errorCode,
    reason,
    providerMessageId: messageId(report.providerMessageId),
    otp: report.otp,
    requestedAt: report.requestedAt,
    finishedAt: base.state === 'sent' || base.state === 'canceled' ? report.finishedAt : undefined,
    latencyMs: sent ? Math.max(0, report.finishedAt - report.requestedAt) : undefined,
  };
}

/** An event-mode outcome; undefined for outcomes that change nothing (not due, finished, missing). */
export function eventOutcomeEntry(
  outcome: Outcome,
  data: Pick<NotificationJobData, 'instanceId' | 'aggregateId'>,
  now = Date.now(),
): HistoryEntry | undefined {
  const base = { source: 'events' as const, id: data.aggregateId, instanceId: data.instanceId };
  switch (outcome.kind) {
    case 'sent':
      return fromReport({ ...base, state: 'sent', attempt: outcome.attempt }, outcome.report, now);
    case 'canceled':
      return fromReport({ ...base, state: 'canceled', attempt: outcome.attempt, error: outcome.error }, outcome.report, now);
    case 'retry':
    case 'throttled':
      return fromReport({ ...base, state: 'retrying', attempt: outcome.attempt, error: outcome.error }, outcome.report, now);
    default:
      return undefined;
  }
}

/** A River outcome (River's `discarded` is canceled); undefined for finished/busy. */
export function riverOutcomeEntry(
  outcome: RiverOutcome,
  data: Pick<RiverJobData, 'riverId' | 'attempt' | 'instanceId'>,
  now = Date.now(),
): HistoryEntry | undefined {
  const base = { source: 'river' as const, id: data.riverId, instanceId: data.instanceId ?? '', attempt: data.attempt };
  switch (outcome.kind) {
    case 'sent':
      return fromReport({ ...base, state: 'sent' }, outcome.report, now);
    case 'cancelled':
    case 'discarded':
      return fromReport({ ...base, state: 'canceled', error: outcome.error }, outcome.report, now);
    case 'retry':
      return fromReport({ ...base, state: 'retrying', error: outcome.error }, outcome.report, now);
    case 'duplicate':
      return fromReport(
        { ...base, state: 'sent', error: 'duplicate River job: the notification was already sent; completed without sending' },
        undefined,
        now,
      );
    default:
      return undefined;
  }
}

/** The event-mode workers' onOutcome listener. */
export function eventHistoryListener(record: (entry: HistoryEntry) => void) {
  return (outcome: Outcome, job: { readonly data: Pick<NotificationJobData, 'instanceId' | 'aggregateId'> }): void => {
    const entry = eventOutcomeEntry(outcome, job.data);
    if (entry) record(entry);
  };
}

/** The River worker's onOutcome listener. */
export function riverHistoryListener(record: (entry: HistoryEntry) => void) {
  return (outcome: RiverOutcome, job: { readonly data: Pick<RiverJobData, 'riverId' | 'attempt' | 'instanceId'> }): void => {
    const entry = riverOutcomeEntry(outcome, job.data);
    if (entry) record(entry);
  };
}

/**
 * Event mode's entry to the pipeline: one BullMQ job names a notification aggregate; its
 * attempt is loaded from the eventstore and run through the source-agnostic steps of
 * pipeline.ts, with outcomes written back as notification.* events (event-source.ts).
 */
import type { PushBatcher } from '../eventstore/batch.js';
import { nextBackoffMs } from '../queue/backoff.js';
import type { NotificationJobData } from '../queue/names.js';
import type { AttemptControl, Outcome } from './attempt.js';
import { loadEventAttempt } from './event-source.js';
import { type PipelineDeps, runAttempt } from './pipeline.js';

export type { AttemptControl, Outcome } from './attempt.js';
export type { Channels } from './pipeline.js';

export interface ProcessDeps extends Omit<PipelineDeps, 'retryDelayMs'> {
  /** Group commit for the sent write-back (one transaction for many jobs under load). */
  readonly writer: PushBatcher;
}

export async function processNotification(deps: ProcessDeps, data: NotificationJobData, ctl: AttemptControl): Promise<Outcome> {
  const loaded = await loadEventAttempt(deps.pool, data, { maxAttempts: deps.cfg.maxAttempts, writer: deps.writer, reads: deps.reads });
  // ZITADEL's exponential backoff from the delay the last retry event recorded.
  return runAttempt({ ...deps, retryDelayMs: (attempt) => nextBackoffMs(attempt.previousDelayMs, deps.cfg) }, loaded, ctl);
}

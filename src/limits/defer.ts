/**
 * The per-instance share of a worker process's slots (HERALD_INSTANCE_CONCURRENCY, slots.ts)
 * applied to one BullMQ job, the same way by the event-mode worker and the River worker: an
 * instance at its share while another instance has work here gets its job moved back to
 * delayed for a moment, before anything is read or written (a River row stays `running`
 * with herald, as on River's own "busy" path), and the job holds no slot while it waits.
 * Counted in herald_instance_concurrency_deferred_total.
 */
import { DelayedError } from 'bullmq';

import type { LimitsStats } from './guard.js';
import { DEFER_MS, type InstanceSlots } from './slots.js';

/** Per-instance concurrency of this process (shared by its workers), and where deferrals are counted. */
export interface InstanceShare {
  readonly slots: InstanceSlots;
  readonly stats: LimitsStats;
}

/** What of a BullMQ job the deferral needs. */
export interface DeferrableJob {
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

/**
 * Runs `run` in one of the instance's slots, or defers the job (DelayedError) when the
 * instance is at its share. Without a share or an instance id (a River job queued by an
 * older herald), `run` runs unlimited.
 */
export async function withInstanceShare<T>(
  share: InstanceShare | undefined,
  instanceId: string | undefined,
  job: DeferrableJob,
  token: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (!share || instanceId === undefined) return run();
  if (!share.slots.tryAcquire(instanceId)) {
    // At its share while others have work: give the slot back at once, come back shortly.
    share.stats.deferred++;
    await job.moveToDelayed(Date.now() + DEFER_MS + Math.floor(Math.random() * DEFER_MS), token);
    throw new DelayedError();
  }
  try {
    return await run();
  } finally {
    share.slots.release(instanceId);
  }
}

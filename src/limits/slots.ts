/**
 * Per-instance concurrency in one worker process (HERALD_INSTANCE_CONCURRENCY): an instance
 * holds at most `limit` of the process's job slots while another instance has work here
 * (a job of it in flight or fetched within the last ACTIVE_WINDOW_MS). Alone, an instance
 * may use every slot: a single-tenant deployment keeps its full throughput. A job over the
 * limit does not wait in its slot; the worker moves it back to delayed for DEFER_MS.
 */
export interface InstanceSlots {
  readonly limit: number;
  /** Takes a slot for the instance's job, or false when it is at its share. */
  tryAcquire(instanceId: string): boolean;
  release(instanceId: string): void;
  inFlight(instanceId: string): number;
}

/** An instance whose job was fetched this recently counts as having work. */
export const ACTIVE_WINDOW_MS = 2000;
/** How long a deferred job waits in delayed before it is fetched again. */
export const DEFER_MS = 250;

export function makeInstanceSlots(limit: number, now: () => number = Date.now): InstanceSlots {
  const running = new Map<string, number>();
  const lastSeen = new Map<string, number>();

  function othersActive(instanceId: string, at: number): boolean {
    for (const [id, n] of running) if (id !== instanceId && n > 0) return true;
    for (const [id, t] of lastSeen) {
      if (at - t > ACTIVE_WINDOW_MS) lastSeen.delete(id);
      else if (id !== instanceId) return true;
    }
    return false;
  }

  return {
    limit,
    tryAcquire(instanceId) {
      const at = now();
      lastSeen.delete(instanceId);
      lastSeen.set(instanceId, at);
      const n = running.get(instanceId) ?? 0;
      if (n >= limit && othersActive(instanceId, at)) return false;
      running.set(instanceId, n + 1);
      return true;
    },
    release(instanceId) {
      const n = (running.get(instanceId) ?? 1) - 1;
      if (n <= 0) running.delete(instanceId);
      else running.set(instanceId, n);
    },
    inFlight: (instanceId) => running.get(instanceId) ?? 0,
  };
}

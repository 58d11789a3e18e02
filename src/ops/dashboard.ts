/**
 * Bull Board under /dashboard for every herald queue, read-only unless configured otherwise.
 *
 * Jobs only carry event coordinates (src/queue/names.ts), but the board shows whatever is in
 * Redis, so its formatters pass through an allow-list of fields and replace anything else
 * with "[redacted]": a job written by a future version or by hand cannot leak a code here.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Job } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { sanitizeText } from '../errors.js';
import type { Queues } from '../queue/queues.js';

export const DASHBOARD_PATH = '/dashboard';
const REDACTED = '[redacted]';

/** Fields of NotificationJobData / Outcome that are known to be safe to show. */
const SAFE_DATA_KEYS: ReadonlySet<string> = new Set(['instanceId', 'aggregateId', 'sequence', 'delivered', 'at']);
const SAFE_RESULT_KEYS: ReadonlySet<string> = new Set(['kind', 'attempt', 'channel', 'messageType', 'delayMs']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps allow-listed keys with primitive (or nested allow-listed) values; masks the rest. */
export function redactJobField(value: unknown, safe: ReadonlySet<string>): unknown {
  if (value === null || value === undefined) return value;
  if (!isRecord(value)) return typeof value === 'number' || typeof value === 'boolean' ? value : REDACTED;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!safe.has(key)) out[key] = REDACTED;
    else if (isRecord(v)) out[key] = redactJobField(v, safe);
    else out[key] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? v : REDACTED;
  }
  return out;
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A Host header's name without its port: `[::1]:8080` → `::1`, `localhost:8080` → `localhost`. */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >>> 0);
  const colon = host.lastIndexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

/** localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function refuse(reply: FastifyReply, status: 403 | 415, error: string): FastifyReply {
  return reply.status(status).send({ error });
}

/**
 * The dashboard's request rule (README, "Security and threat model"):
 * 1. Bound to a loopback address, the board answers only requests whose Host is a loopback
 *    name (localhost, 127.x.x.x, [::1]): a DNS-rebinding name pointing at 127.0.0.1 gets 403.
 * 2. A mutating request (anything but GET, HEAD, OPTIONS) is refused with 403 when its
 *    Sec-Fetch-Site is present and not `same-origin` (or `none`, typed by the user), or when
 *    its Origin is present and is not the request's own Host; and with 415 when it has a body
 *    that is not `application/json`. A form on another site (a `text/plain` POST needs no
 *    CORS preflight) is refused on both counts; curl and scripts without Origin still work.
 */
export function dashboardGuard(opts: { readonly loopbackOnly: boolean }) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const host = req.headers.host ?? '';
    if (opts.loopbackOnly && !isLoopbackName(hostName(host))) {
      await refuse(reply, 403, 'the dashboard answers loopback host names only');
      return;
    }
    if (SAFE_METHODS.has(req.method)) return;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      await refuse(reply, 403, 'cross-site request refused');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (originHost === undefined || originHost.toLowerCase() !== host.toLowerCase()) {
        await refuse(reply, 403, 'cross-origin request refused');
        return;
      }
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
    const type = req.headers['content-type'] ?? '';
    if (hasBody && !/^application\/json\s*(;|$)/i.test(type)) {
      await refuse(reply, 415, 'dashboard requests with a body must be application/json');
    }
  };
}

/** Stack frames only: a stack's first line repeats the message. */
function sanitizeStack(stack: string): string {
  const frames = stack
    .slice(0, 4000)
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '));
  return [sanitizeText(stack.split('\n')[0] ?? ''), ...frames.slice(0, 12)].join('\n');
}

/**
 * Bull Board has no formatter for failedReason, stacktrace or job logs, which BullMQ fills
 * from whatever error a job failed with. herald writes public reasons there already
 * (errors.ts); this adapter sanitises them again for jobs failed by older versions or by
 * BullMQ itself, and shows no job logs (herald writes none).
 */
class SanitizingAdapter extends BullMQAdapter {
  private static sanitize(job: Job): Job {
    const toJSON = job.toJSON.bind(job);
    job.toJSON = () => {
      const json = toJSON();
      return {
        ...json,
        failedReason: sanitizeText(String(json.failedReason ?? '')),
        stacktrace: (Array.isArray(json.stacktrace) ? json.stacktrace : []).map((s) => sanitizeStack(String(s))),
      };
    };
    return job;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    return job ? SanitizingAdapter.sanitize(job) : job;
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    return (await super.getJobs(...args)).map((job) => SanitizingAdapter.sanitize(job));
  }

  override async getJobLogs(): Promise<string[]> {
    return [];
  }
}

export interface DashboardOptions {
  readonly queues: Queues;
  readonly readonly: boolean;
  /** Links in Bull Board's header menu (the Deliveries page). */
  readonly links?: readonly { readonly text: string; readonly url: string }[];
}

/** Registers Bull Board's routes and static assets on `scope` (its prefix is DASHBOARD_PATH). */
export async function registerDashboard(scope: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const adapters = [opts.queues.requests, opts.queues.retries].map((queue) => {
    const adapter = new SanitizingAdapter(queue, {
      readOnlyMode: opts.readonly,
      allowRetries: !opts.readonly,
      description: 'herald',
    });
    adapter.setFormatter('data', (data: unknown) => redactJobField(data, SAFE_DATA_KEYS));
    adapter.setFormatter('returnValue', (value: unknown) => redactJobField(value, SAFE_RESULT_KEYS));
    adapter.setFormatter('progress', (value: unknown) => redactJobField(value, new Set()));
    return adapter;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: 'herald', ...(opts.links ? { miscLinks: [...opts.links] } : {}) } },
  });
  await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}

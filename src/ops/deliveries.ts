/**
 * The delivery history over HTTP, in the dashboard's scope (same basic auth, same
 * loopback-only rule without credentials, same request guard):
 * - GET /api/v1/notifications?instance=&user=&state=&since=&limit= → { notifications: [...] }
 *   newest first (limit 1–500, default 50; since is a Go duration: requested within it);
 * - GET /api/v1/notifications/<id>[?source=&instance=] → the newest notification with that id
 *   (aggregate id or River job id) with its timeline, or 404;
 * - GET /deliveries: a static page (HTML, one script, one stylesheet, no build step) that
 *   lists, filters and opens them. Every value is put in the page with textContent.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';

import { tryParseGoDuration } from '../config/duration.js';
import { getDeliveries, listDeliveries, MAX_LIMIT, SOURCES, STATES } from '../history/index.js';
import { DELIVERIES_CSS, DELIVERIES_HTML, DELIVERIES_JS } from './deliveries-page.js';

export const DELIVERIES_PATH = '/deliveries';
export const NOTIFICATIONS_API = '/api/v1/notifications';

/** ids as ZITADEL and River write them (digits), with some room; never anything that needs escaping. */
const Id = z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'must be 1-200 letters, digits, _ . or -');
const Since = z.string().transform((v, ctx) => {
  const parsed = tryParseGoDuration(v.trim());
  if (!parsed.ok || parsed.ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive Go duration, e.g. 1h or 30m' });
    return z.NEVER;
  }
  return parsed.ms;
});

const ListQuery = z
  .object({
    instance: Id.optional(),
    user: Id.optional(),
    state: z.enum(STATES).optional(),
    since: Since.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
  })
  .strict();
const GetParams = z.object({ id: Id }).strict();
const GetQuery = z.object({ source: z.enum(SOURCES).optional(), instance: Id.optional() }).strict();

function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return reply.status(400).send({ error: `${where}${issue?.message ?? 'invalid request'}` });
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export interface DeliveriesOptions {
  readonly pool: Pool;
}

/** Registers the API and the page on `scope` (the dashboard's authenticated scope). */
export function registerDeliveries(scope: FastifyInstance, opts: DeliveriesOptions): void {
  const { pool } = opts;
  scope.get(NOTIFICATIONS_API, async (req, reply) => {
    const q = ListQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const { instance, user, state, since, limit } = q.data;
    const notifications = await listDeliveries(pool, { instanceId: instance, userId: user, state, sinceMs: since, limit });
    return reply.headers(SECURITY_HEADERS).send({ notifications });
  });
  scope.get(`${NOTIFICATIONS_API}/:id`, async (req, reply) => {
    const p = GetParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const q = GetQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const found = (await getDeliveries(pool, p.data.id)).filter(
      (d) => (q.data.source === undefined || d.source === q.data.source) && (q.data.instance === undefined || d.instanceId === q.data.instance),
    );
    const first = found[0];
    if (!first) return reply.status(404).headers(SECURITY_HEADERS).send({ error: 'no notification with this id in the delivery history' });
    return reply.headers(SECURITY_HEADERS).send(first);
  });
  scope.get(DELIVERIES_PATH, async (_req, reply) => reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(DELIVERIES_HTML));
  scope.get(`${DELIVERIES_PATH}/app.js`, async (_req, reply) =>
    reply.headers(SECURITY_HEADERS).type('text/javascript; charset=utf-8').send(DELIVERIES_JS),
  );
  scope.get(`${DELIVERIES_PATH}/style.css`, async (_req, reply) =>
    reply.headers(SECURITY_HEADERS).type('text/css; charset=utf-8').send(DELIVERIES_CSS),
  );
}

/**
 * The ops HTTP server, in every role, on HERALD_HTTP_PORT: /healthz, /readyz, /metrics, and
 * (dashboard and all roles) Bull Board under /dashboard, the delivery history's API
 * (/api/v1/notifications) and its page (/deliveries), all behind basic auth.
 *
 * The dashboard without credentials answers loopback clients only (403 to any other peer):
 * an open board that can retry or remove jobs must never be reachable from the network by
 * accident, while /healthz, /readyz and /metrics stay on the configured host for probes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import basicAuth from '@fastify/basic-auth';
import { fastify, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Queues } from '../queue/queues.js';
import { DASHBOARD_PATH, dashboardGuard, isLoopbackName, registerDashboard } from './dashboard.js';
import { DELIVERIES_PATH, type DeliveriesOptions, registerDeliveries } from './deliveries.js';
import type { ReadinessProbe } from './health.js';

export const ALL_INTERFACES = '0.0.0.0';
export const LOOPBACK = '127.0.0.1';

export interface OpsServerOptions {
  /** 0 picks a free port (tests); the bound one is OpsServer.port. */
  readonly port: number;
  /** @defaultValue 0.0.0.0 */
  readonly host?: string;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly readiness: ReadinessProbe;
  readonly dashboard?: {
    readonly queues: Queues;
    readonly readonly: boolean;
    readonly user: string | undefined;
    readonly password: string | undefined;
    /** The delivery history's API and page (/api/v1/notifications, /deliveries), in the dashboard's scope. */
    readonly history?: DeliveriesOptions;
  };
}

export interface OpsServer {
  readonly port: number;
  readonly host: string;
  /** Base URL for clients on this machine, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  close(): Promise<void>;
}

/** Constant-time comparison that does not leak the length either (both sides hashed). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A peer on this host's loopback (IPv4 127/8, ::1, or IPv4-mapped 127/8). */
export function isLoopbackPeer(address: string | undefined): boolean {
  const a = address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return a === '::1' || (a !== undefined && /^127\.\d+\.\d+\.\d+$/.test(a));
}

async function addDashboard(app: FastifyInstance, opts: NonNullable<OpsServerOptions['dashboard']>, host: string): Promise<void> {
  const { user, password } = opts;
  const open = user === undefined || password === undefined;
  await app.register(async (scope) => {
    // Before authentication: a rebinding Host or a cross-site mutation is refused outright.
    // An open dashboard is a loopback one, whatever the bind address: loopback Host names only.
    scope.addHook('onRequest', dashboardGuard({ loopbackOnly: open || isLoopbackName(host.replace(/^\[|\]$/g, '')) }));
    if (open) {
      scope.addHook('onRequest', async (req, reply) => {
        if (isLoopbackPeer(req.socket.remoteAddress)) return;
        return reply.status(403).send({ error: 'the dashboard has no HERALD_DASHBOARD_USER/PASSWORD: loopback clients only' });
      });
    } else {
      await scope.register(basicAuth, {
        authenticate: { realm: 'herald' },
        async validate(givenUser, givenPassword) {
          // Evaluate both so a wrong user costs the same time as a wrong password.
          const ok = [sameSecret(givenUser, user), sameSecret(givenPassword, password)].every(Boolean);
          if (!ok) return new Error('invalid credentials');
        },
      });
      scope.addHook('onRequest', scope.basicAuth);
    }
    await registerDashboard(scope, {
      queues: opts.queues,
      readonly: opts.readonly,
      ...(opts.history ? { links: [{ text: 'Deliveries', url: DELIVERIES_PATH }] } : {}),
    });
    if (opts.history) registerDeliveries(scope, opts.history);
  });
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const logger = opts.logger.child({ component: 'http' });
  const open = opts.dashboard !== undefined && (opts.dashboard.user === undefined || opts.dashboard.password === undefined);
  const host = opts.host ?? ALL_INTERFACES;
  if (open) logger.warn({ host }, 'dashboard without HERALD_DASHBOARD_USER/PASSWORD: served to loopback clients only');

  // fastify's own request logging would log URLs and headers; errors are logged below.
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((caught, _req, reply) => {
    const err = coerceError(caught);
    const status = (err as { statusCode?: unknown }).statusCode;
    const code = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
    if (code >= 500) logger.error({ err }, 'http request failed');
    return reply.status(code).send({ error: code < 500 ? err.message : 'internal error' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await opts.readiness.check();
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', checks: r.checks });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(body);
  });
  if (opts.dashboard) await addDashboard(app, opts.dashboard, host);

  await app.listen({ port: opts.port, host });
  const { port } = app.server.address() as AddressInfo;
  logger.info({ host, port, dashboard: opts.dashboard ? DASHBOARD_PATH : undefined }, 'ops server listening');
  return {
    port,
    host,
    url: `http://${host === ALL_INTERFACES ? LOOPBACK : host}:${port}`,
    close: () => app.close(),
  };
}

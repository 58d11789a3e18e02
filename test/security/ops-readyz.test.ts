/**
 * /readyz must not echo dependency error text (issue #11 item 9): Postgres and Redis errors
 * name databases, users and hosts. The probe answers fixed words per dependency.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { makeReadinessProbe, READINESS_WORDS } from '../../src/ops/health.js';
import { type OpsServer, startOpsServer } from '../../src/ops/server.js';
import { silent } from '../helpers/herald.js';

const SECRET_DB = `leak_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;
let redis: Redis;
let server: OpsServer;

beforeAll(async () => {
  // A database that does not exist: Postgres answers with its name in the error text.
  pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${SECRET_DB}`, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  // Nothing listens on port 1: ioredis fails fast (no offline queue).
  redis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const readiness = makeReadinessProbe({ pool, redis, workers: () => [] });
  server = await startOpsServer({ port: 0, host: '127.0.0.1', logger: silent, registry: new Registry(), readiness });
});
afterAll(async () => {
  await server?.close();
  await pool?.end();
  redis?.disconnect();
});

it('answers fixed words per dependency, never the error text', async () => {
  const res = await fetch(`${server.url}/readyz`);
  expect(res.status).toBe(503);
  const text = await res.text();
  expect(text).not.toContain(SECRET_DB);
  expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|does not exist/);
  const body = JSON.parse(text) as { status: string; checks: Record<string, string> };
  expect(body.checks).toEqual({ postgres: 'unavailable', redis: 'unavailable', workers: 'ok' });
  for (const word of Object.values(body.checks)) expect(READINESS_WORDS).toContain(word);
});

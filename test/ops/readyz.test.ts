/**
 * /readyz turns not-ready when Redis or Postgres stops answering and ready again when they
 * come back; /healthz stays up throughout. The shared servers are left alone: this herald
 * reaches them through TCP proxies that the test cuts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { waitUntil } from '../helpers/wait.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let h: Harness;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let herald: Herald;
let base: string;

interface ReadyBody {
  status: string;
  checks: Record<string, string>;
}

beforeAll(async () => {
  h = await makeHarness();
  pgProxy = await startTcpProxy(5432);
  redisProxy = await startTcpProxy(6379);
  const cfg = h.config({
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgProxy.port}/${h.db.name}`,
    REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
    HERALD_HTTP_PORT: '0',
  });
  herald = await h.start(cfg, ['all'], { producerLoops: false, http: { host: '127.0.0.1' } });
  base = herald.http!.url;
});
afterAll(async () => {
  await pgProxy.restore();
  await redisProxy.restore();
  await h.close();
  await pgProxy.close();
  await redisProxy.close();
});

async function readyz(): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

function waitReady(ready: boolean, what: string) {
  return waitUntil(
    async () => {
      const r = await readyz();
      return (r.status === 200) === ready ? r : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, what },
  );
}

it('is ready while Postgres, Redis and the workers are up', async () => {
  const r = await waitReady(true, 'ready at start');
  expect(r.body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', workers: 'ok' } });
});

it('turns not-ready when Redis stops, and ready again when it is back', async () => {
  await redisProxy.cut();
  const down = await waitReady(false, 'not ready without Redis');
  expect(down.status).toBe(503);
  expect(down.body.status).toBe('not ready');
  expect(down.body.checks.redis).not.toBe('ok');
  expect(down.body.checks.postgres).toBe('ok');
  // Liveness does not depend on Redis: the process is not restarted for an outage.
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  await redisProxy.restore();
  await waitReady(true, 'ready after Redis is back');
});

it('turns not-ready when Postgres stops, and ready again when it is back', async () => {
  await pgProxy.cut();
  const down = await waitReady(false, 'not ready without Postgres');
  expect(down.status).toBe(503);
  expect(down.body.checks.postgres).not.toBe('ok');
  expect(down.body.checks.redis).toBe('ok');
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  await pgProxy.restore();
  await waitReady(true, 'ready after Postgres is back');
});

it('says "shutting down" once stop has begun', async () => {
  const stopping = herald.stop();
  // The server stays open until the workers are closed; it may already be gone if that was quick.
  const r = await readyz().catch(() => undefined);
  if (r) expect(r.body.checks.workers).toBe('shutting down');
  await stopping;
  await expect(fetch(`${base}/readyz`)).rejects.toThrow();
});

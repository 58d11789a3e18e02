/**
 * The dashboard in read-write mode (issue #11 item 9): a cross-site page must not be able to
 * drive it (a `text/plain` form POST needs no CORS preflight), and a DNS-rebinding name must
 * not reach the loopback-only board. The rule (README, "Security and threat model"):
 * - every dashboard request on a loopback-bound server must name a loopback Host;
 * - a mutating request (not GET/HEAD/OPTIONS) is refused when Sec-Fetch-Site says it is not
 *   same-origin, when its Origin does not match its Host, or when it has a body that is not
 *   JSON.
 */
import { request } from 'node:http';

import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { type OpsServer, startOpsServer } from '../../src/ops/server.js';
import { QUEUE } from '../../src/queue/names.js';
import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';

const USER = 'operator';
const PASSWORD = 'pw-dashboard-test';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

let h: Harness;
let herald: Herald;
let open: OpsServer;
let base: string;

beforeAll(async () => {
  h = await makeHarness();
  const cfg = h.config({
    HERALD_HTTP_PORT: '0',
    HERALD_DASHBOARD_USER: USER,
    HERALD_DASHBOARD_PASSWORD: PASSWORD,
    HERALD_DASHBOARD_READONLY: 'false',
  });
  herald = await h.start(cfg, ['dashboard'], { producerLoops: false, http: { host: '127.0.0.1' } });
  base = herald.http!.url;
  // Without credentials the board is bound to loopback only.
  open = await startOpsServer({
    port: 0,
    logger: silent,
    registry: new Registry(),
    readiness: { check: async () => ({ ready: true, checks: {} }), drain: () => undefined },
    dashboard: { queues: herald.queues, readonly: false, user: undefined, password: undefined },
  });
});
afterAll(async () => {
  await open?.close();
  await h?.close();
});

const addPath = `/dashboard/api/queues/${encodeURIComponent(QUEUE.requests)}/add`;
const formBody = JSON.stringify({ name: 'requested', data: { instanceId: 'x', aggregateId: 'csrf', sequence: 1 } });

async function jobCount(): Promise<number> {
  const counts = await herald.queues.requests.getJobCounts('waiting', 'prioritized', 'delayed');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

it('refuses a cross-site text/plain POST (a form on another site)', async () => {
  const before = await jobCount();
  const res = await fetch(`${base}${addPath}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'text/plain', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    body: formBody,
  });
  expect(res.status).toBe(403);
  expect(await jobCount()).toBe(before);
});

it('refuses a mutating request whose Origin does not match its Host', async () => {
  const res = await fetch(`${base}/dashboard/api/queues/pause`, {
    method: 'PUT',
    headers: { authorization: AUTH, origin: 'http://evil.example', 'content-type': 'application/json' },
    body: JSON.stringify({ queues: [QUEUE.requests] }),
  });
  expect(res.status).toBe(403);
  expect(await herald.queues.requests.isPaused()).toBe(false);
});

it('refuses a mutating request with a non-JSON body even without Origin', async () => {
  const res = await fetch(`${base}${addPath}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'text/plain' },
    body: formBody,
  });
  expect(res.status).toBe(415);
});

it('accepts a same-origin JSON request from the board itself', async () => {
  const res = await fetch(`${base}/dashboard/api/queues/pause`, {
    method: 'PUT',
    headers: { authorization: AUTH, origin: base, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
    body: JSON.stringify({ queues: [QUEUE.requests] }),
  });
  expect(res.status).toBeLessThan(300);
  await herald.queues.requests.resume();
});

/** fetch() does not let a caller choose the Host header; node:http does. */
function getWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: open.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

it('refuses a non-loopback Host on the loopback-only board (DNS rebinding)', async () => {
  const { port } = open;
  expect(await getWithHost('/dashboard/api/queues', `evil.example:${port}`)).toBe(403);
  expect(await getWithHost('/dashboard/api/queues', `localhost:${port}`)).toBe(200);
  expect(await getWithHost('/dashboard/api/queues', `127.0.0.1:${port}`)).toBe(200);
  // Probes and metrics are not part of the board: any Host.
  expect(await getWithHost('/healthz', 'evil.example')).toBe(200);
});

it('shows failed jobs without the codes or addresses their error text carried', async () => {
  const CODE = '483921';
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE.requests,
    async () => {
      throw new Error(`550 reply quoted ${CODE} for bob@example.com`);
    },
    { connection, prefix: h.prefix, autorun: false },
  );
  try {
    const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
    await herald.queues.requests.add('requested', { instanceId: 'x', aggregateId: 'failing', sequence: 1 }, { jobId: 'failing-job', attempts: 1 });
    void worker.run();
    await failed;
    const raw = await herald.queues.requests.getJob('failing-job');
    expect(raw?.failedReason).toContain(CODE); // what BullMQ stored
    const res = await fetch(`${base}/dashboard/api/queues?activeQueue=${encodeURIComponent(QUEUE.requests)}&status=failed&page=1&jobsPerPage=10`, {
      headers: { authorization: AUTH },
    });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).toContain('failing-job');
    expect(body).not.toContain(CODE);
    expect(body).not.toContain('bob@example.com');
  } finally {
    await worker.close();
    connection.disconnect();
  }
});

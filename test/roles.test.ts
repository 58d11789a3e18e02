/**
 * `herald start` with no role or `--role all` runs every role, the dashboard included: with
 * credentials /dashboard/ answers behind basic auth; without them it answers loopback clients
 * only (health and metrics stay on the configured host) and the start log says so.
 * Real Postgres, Redis and HTTP; a non-loopback peer is made by binding the client socket to
 * this host's own non-loopback address while still connecting to 127.0.0.1.
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { expand, type Herald, type Role, startHerald } from '../src/app.js';
import { type Harness, makeHarness } from './helpers/herald.js';

let h: Harness;
const running: Herald[] = [];
beforeAll(async () => {
  h = await makeHarness();
  return () => h.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

/** Starts herald with a logger whose lines the test can read. */
async function start(roles: readonly Role[], env: Record<string, string>): Promise<{ herald: Herald; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const cfg = h.config({ HERALD_HTTP_PORT: '0', ...env });
  const herald = await startHerald(cfg, roles, pino({ level: 'info' }, sink), { producerLoops: false, http: { host: '127.0.0.1' } });
  running.push(herald);
  return { herald, lines };
}

function get(url: string, opts: { auth?: string; localAddress?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ...(opts.auth ? { auth: opts.auth } : {}), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** This host's first non-loopback IPv4 address (the test container has one). */
function ownAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (!found) throw new Error('no non-loopback IPv4 interface to act as a remote peer');
  return found.address;
}

describe('role all', () => {
  it('is every role, the dashboard included (also when no role is given)', () => {
    const every = ['producer', 'worker', 'retry-worker', 'dashboard'];
    expect([...expand([])].sort()).toEqual([...every].sort());
    expect([...expand(['all'])].sort()).toEqual([...every].sort());
    expect([...expand(['worker'])]).toEqual(['worker']);
  });

  for (const roles of [[], ['all']] as Role[][]) {
    it(`serves /dashboard/ behind basic auth with credentials (roles ${JSON.stringify(roles)})`, async () => {
      const { herald, lines } = await start(roles, { HERALD_DASHBOARD_USER: 'op', HERALD_DASHBOARD_PASSWORD: 'pw-roles' });
      const url = `${herald.http!.url}/dashboard/`;
      expect(await get(url, { auth: 'op:pw-roles' })).toBe(200);
      expect(await get(url)).toBe(401);
      expect(await get(url, { auth: 'op:wrong' })).toBe(401);
      expect(herald.workers).toHaveLength(2); // the other roles still run
      expect(lines.find((l) => l['msg'] === 'herald started')?.['dashboard']).toBe('/dashboard: basic auth');
    });
  }

  it('without credentials answers loopback clients only, keeps health on the host, and logs it', async () => {
    const { herald, lines } = await start(['all'], {});
    const url = `${herald.http!.url}/dashboard/`;
    expect(await get(url)).toBe(200);
    const remote = ownAddress();
    expect(await get(url, { localAddress: remote })).toBe(403);
    expect(await get(`${herald.http!.url}/healthz`, { localAddress: remote })).toBe(200);
    expect(lines.find((l) => l['msg'] === 'herald started')?.['dashboard']).toBe(
      '/dashboard: loopback clients only (no HERALD_DASHBOARD_USER/PASSWORD)',
    );
    expect(lines.some((l) => l['msg'] === 'dashboard without HERALD_DASHBOARD_USER/PASSWORD: served to loopback clients only')).toBe(true);
  });
});

/**
 * Redis and Postgres over authenticated and TLS URLs. loadConfig accepts rediss:// with
 * user and password and postgres:// with sslmode; a private TLS redis-server with a
 * password (self-signed certificate made here with openssl) carries a real
 * enqueue → dequeue → delivery; Postgres is checked over sslmode=require when the local
 * server has ssl on, and otherwise must fail cleanly (exit 1, one clear line).
 * Credentials never appear in herald's output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { PG_ADMIN_URL } from '../helpers/env.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { runHerald, spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { finishedAs, KEYS_ENV, newId, requestNotification, seedUser } from '../helpers/zitadel.js';
import { heraldEnv } from './helpers/fleet.js';
import { type PrivateRedis, startPrivateRedis } from './helpers/redis-server.js';

const REDIS_PASSWORD = 'r3dis-Secret!';
const PG_PASSWORD = 'pg-Secret-42';

let h: Harness;
let sink: SmtpSink;
let dir: string;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
});
afterAll(async () => {
  await sink.close();
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  it('accepts rediss:// with credentials and postgres:// with sslmode', () => {
    const cfg = loadConfig({
      REDIS_URL: 'rediss://herald:p%40ss@127.0.0.1:6380/2',
      DATABASE_URL: 'postgres://herald:secret@127.0.0.1:5432/zitadel?sslmode=require',
      HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    });
    expect(cfg.redisUrl).toBe('rediss://herald:p%40ss@127.0.0.1:6380/2');
    expect(cfg.databaseUrl).toContain('sslmode=require');
    for (const mode of ['disable', 'prefer', 'verify-ca', 'verify-full']) {
      expect(() => loadConfig({ DATABASE_URL: `postgres://u:p@127.0.0.1/db?sslmode=${mode}` })).not.toThrow();
    }
  });
});

describe('postgres', () => {
  it('migrates over an authenticated URL, and over sslmode=require when the server has ssl', async () => {
    const ssl = (await h.db.pool.query<{ ssl: string }>('SHOW ssl')).rows[0]?.ssl;
    const base = new URL(h.db.url);
    base.username = 'postgres';
    base.password = PG_PASSWORD; // trust auth ignores it; it must still be parsed and never printed
    const env = { DATABASE_URL: `${base.href}?sslmode=disable`, HERALD_ENCRYPTION_KEYS: KEYS_ENV, LOG_LEVEL: 'info' };
    const plain = await runHerald(['migrate'], env);
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).not.toContain(PG_PASSWORD);

    const required = await runHerald(['migrate'], { ...env, DATABASE_URL: `${base.href}?sslmode=require` });
    expect(required.output).not.toContain(PG_PASSWORD);
    if (ssl === 'on') {
      expect(required.code, required.output).toBe(0);
    } else {
      // No TLS on this server: herald must say so and exit 1, not hang or crash.
      expect(required.code, required.output).toBe(1);
      expect(required.output).toMatch(/does not support SSL/i);
    }
    console.info(`[fault:tls] postgres ssl=${ssl}: sslmode=require → exit ${required.code}; admin url ${PG_ADMIN_URL.replace(/\/\/.*@/, '//…@')}`);
  });
});

describe('redis', () => {
  let redis: PrivateRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('delivers through a TLS Redis that requires a password (rediss://default:…@)', async () => {
    const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(certFile);
    redis = await startPrivateRedis({ password: REDIS_PASSWORD, tls: { certFile, keyFile, caFile: certFile, ca } });
    expect(redis.url).toMatch(/^rediss:\/\/default:/);

    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'tls@example.com' });
    const id = await requestNotification(h.db.pool, user, {}, { code: 'TLS123' });
    const env = {
      ...heraldEnv({ databaseUrl: h.db.url, redisUrl: redis.url, prefix: h.prefix, smtpUrl: sink.url }),
      NODE_EXTRA_CA_CERTS: certFile, // trust the self-signed certificate, as an operator would
      LOG_LEVEL: 'info',
    };
    const p = spawnHerald(['start'], env);
    try {
      const outcome = await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { timeoutMs: 20_000, what: 'delivery via TLS redis' });
      expect(outcome, p.output()).toBe('notification.sent');
    } finally {
      expect(await p.stop('SIGTERM'), p.output()).toBe(0);
    }
    expect(sink.messages.map((m) => m.envelope.to[0])).toContain('tls@example.com');
    expect(p.output()).not.toContain(REDIS_PASSWORD);
    // The jobs really went through the TLS instance.
    const client = redis.client();
    try {
      expect((await client.keys(`${h.prefix}:*`)).length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  /**
   * KNOWN BUG (src/cli.ts runReconcile / src/queue/connection.ts, not owned by this suite):
   * with a wrong Redis password `herald reconcile` never exits (BullMQ waits for a ready
   * connection that authentication keeps refusing), and with nothing pending it exits 0
   * without touching Redis. This test fails until reconcile checks Redis first (PING with
   * a deadline) and exits 1 on an auth error. Also: ioredis puts the failed command into
   * the error (`command.args: ["3","AUTH","default","<password>"]`) and herald logs it as is,
   * so an attempted password reaches the log.
   */
  it('refuses a wrong password with a clear error instead of hanging', async () => {
    const instanceId = newId();
    await requestNotification(h.db.pool, await seedUser(h.db.pool, { instanceId })); // something to enqueue
    const url = redis!.url.replace(encodeURIComponent(REDIS_PASSWORD), 'wrong');
    const env = { ...heraldEnv({ databaseUrl: h.db.url, redisUrl: url, prefix: h.prefix, smtpUrl: sink.url }), LOG_LEVEL: 'info' };
    const p = spawnHerald(['reconcile'], { ...env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
    const code = await waitUntil(() => (p.child.exitCode === null ? undefined : { exit: p.child.exitCode }), {
      timeoutMs: 15_000,
      intervalMs: 100,
    }).catch(async () => {
      await p.stop('SIGKILL');
      return { exit: 'still running after 15 s' };
    });
    expect(code, p.output()).toEqual({ exit: 1 });
    expect(p.output()).toMatch(/WRONGPASS|invalid username-password/i);
    expect(p.output()).not.toContain('"wrong"'); // no attempted password in the log
  });
});

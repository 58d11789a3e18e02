/**
 * A private redis-server on an ephemeral port, for faults that must not touch the shared
 * Redis on 6379 (FLUSHALL, TLS, a password). No persistence; stopped by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

import { Redis, type RedisOptions } from 'ioredis';

import { waitUntil } from '../../helpers/wait.js';

export interface PrivateRedisOptions {
  /** requirepass for the default user. */
  readonly password?: string;
  /** Serve TLS only (the plain port is disabled); client certificates are not required. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string; readonly ca: Buffer };
}

export interface PrivateRedis {
  readonly port: number;
  /** redis://… or rediss://…, with the password when one is set. */
  readonly url: string;
  /** An ioredis client for the test itself. */
  client(): Redis;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  if (opts.tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.certFile, '--tls-key-file', opts.tls.keyFile);
    args.push('--tls-ca-cert-file', opts.tls.caFile, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (opts.password) args.push('--requirepass', opts.password);
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const exited = once(child, 'exit');

  const auth = opts.password ? `default:${encodeURIComponent(opts.password)}@` : '';
  const url = `${opts.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
  const clientOptions: RedisOptions = {
    maxRetriesPerRequest: 1,
    ...(opts.tls ? { tls: { ca: opts.tls.ca } } : {}),
  };
  const client = (): Redis => {
    const r = new Redis(url, clientOptions);
    r.on('error', () => undefined);
    return r;
  };

  const probe = client();
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
        return (await probe.ping().catch(() => undefined)) === 'PONG';
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `private redis-server on ${port}` },
    );
  } finally {
    probe.disconnect();
  }

  return {
    port,
    url,
    client,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

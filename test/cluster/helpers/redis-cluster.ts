/**
 * A real Redis Cluster on loopback: six `redis-server --cluster-enabled yes` in a temp
 * directory (three masters, three replicas), joined with `redis-cli --cluster create`.
 * Node timeout 1 s, so a replica takes over about two seconds after its master dies.
 * stop() kills every server by its own pid and removes the directory; it also runs when the
 * test process exits, so a failed test never leaves servers behind.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { Cluster, Redis } from 'ioredis';

import { waitUntil } from '../../helpers/wait.js';

export interface ClusterNode {
  readonly port: number;
  readonly child: ChildProcess;
  /** Output of the server, for failure messages. */
  output(): string;
}

export interface LocalCluster {
  /** REDIS_URL for herald: every node as a seed, comma-separated. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** An ioredis Cluster client for the test itself. */
  client(): Cluster;
  /** A direct connection to one node. */
  node(port: number): Redis;
  /** Ports of the live masters. */
  masters(): Promise<number[]>;
  /** Port of the master that serves the slot of `key` now. */
  masterFor(key: string): Promise<number>;
  /** SIGKILLs one server (no goodbye to its peers: a crash). */
  kill(port: number): Promise<void>;
  /** Resolves once a replica has taken over every slot and the cluster says ok again. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Ports p with p and its cluster bus port p + 10000 both free (p below 55535). */
async function freeClusterPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n && tries < 500; tries++) {
    const p = 20_000 + Math.floor(Math.random() * 25_000);
    if (ports.includes(p)) continue;
    if ((await canListen(p)) && (await canListen(p + 10_000))) ports.push(p);
  }
  if (ports.length < n) throw new Error('no free ports for a Redis Cluster');
  return ports;
}

function quietClient(port: number): Redis {
  const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: false, retryStrategy: () => null });
  r.on('error', () => undefined);
  return r;
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = quietClient(port);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

export async function startRedisCluster(): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-cluster-'));
  const nodes: ClusterNode[] = [];
  const killed = new Set<number>();
  let stopped = false;
  const killAll = (): void => {
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killAll);
    const exits = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => once(n.child, 'exit'));
    killAll();
    await Promise.all(exits);
  };

  try {
    const ports = await freeClusterPorts(6);
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '1000',
          // A replica may always take over, however long it was cut off.
          '--cluster-replica-validity-factor',
          '0',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--loglevel',
          'warning',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      nodes.push({ port, child, output: () => out });
    }
    for (const n of nodes) {
      await waitUntil(
        async () => {
          if (n.child.exitCode !== null) throw new Error(`redis-server ${n.port} exited: ${n.output()}`);
          return (await ask(n.port, (r) => r.ping()).catch(() => undefined)) === 'PONG';
        },
        { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on ${n.port}` },
      );
    }
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 30_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const cluster: LocalCluster = {
    url: nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(','),
    nodes,
    client() {
      const c = new Cluster(
        nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { maxRetriesPerRequest: 3 } },
      );
      c.on('error', () => undefined);
      return c;
    },
    node: (port) => quietClient(port),
    async masters() {
      const live = nodes.filter((n) => !killed.has(n.port));
      const roles = await Promise.all(live.map((n) => ask(n.port, (r) => r.info('replication')).catch(() => '')));
      return live.filter((_, i) => /role:master/.test(roles[i] ?? '')).map((n) => n.port);
    },
    async masterFor(key) {
      const live = nodes.find((n) => !killed.has(n.port));
      if (!live) throw new Error('no live node');
      return ask(live.port, async (r) => {
        const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
        const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`slot ${slot} is not served`);
        return Number(range[2][1]);
      });
    },
    async kill(port) {
      const n = nodes.find((x) => x.port === port);
      if (!n) throw new Error(`no node on ${port}`);
      killed.add(port);
      const exit = once(n.child, 'exit');
      n.child.kill('SIGKILL');
      await exit;
    },
    async waitHealthy(timeoutMs = 20_000) {
      await waitUntil(
        async () => {
          const live = nodes.filter((n) => !killed.has(n.port));
          const states = await Promise.all(
            live.map((n) =>
              ask(n.port, async (r) => ({
                info: String(await r.call('CLUSTER', 'INFO')),
                slots: (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][],
              })).catch(() => undefined),
            ),
          );
          // Every live node agrees the cluster is ok, every slot is served, and no slot is
          // served by a killed node any more (right after a kill the others still think it
          // is up, for about the node timeout).
          return states.every(
            (s) =>
              s !== undefined &&
              /cluster_state:ok/.test(s.info) &&
              /cluster_slots_ok:16384/.test(s.info) &&
              s.slots.every((range) => !killed.has(Number(range[2][1]))),
          );
        },
        { timeoutMs, intervalMs: 100, what: 'Redis Cluster state ok' },
      );
    },
    stop,
  };
  try {
    await cluster.waitHealthy();
    // Replicas attached and synced, so a failover has a copy to promote.
    await waitUntil(
      async () => {
        const roles = await Promise.all(nodes.map((n) => ask(n.port, (r) => r.info('replication'))));
        const replicas = roles.filter((i) => /role:slave/.test(i));
        return replicas.length === 3 && replicas.every((i) => /master_link_status:up/.test(i));
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'replicas in sync' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}

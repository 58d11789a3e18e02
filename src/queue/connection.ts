/**
 * Redis connections (house style §17): producers fail fast when Redis is away (the
 * eventstore keeps the work; the next tick re-adds it), workers wait for Redis forever.
 *
 * Two modes (HERALD_REDIS_MODE): `standalone` (one `redis://` URL, as before) and `cluster`
 * (an ioredis Cluster seeded from one or more URLs separated by commas). In cluster mode
 * every BullMQ key carries the hash tag `{<prefix>}` (see bullPrefix), so the keys a BullMQ
 * script touches share one slot; standalone key names are unchanged.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

import type { Config, RedisMode } from '../config/types.js';
import type { Logger } from '../logger.js';

export type RedisRole = 'producer' | 'worker';

/** A standalone connection or a cluster client: both speak the commands herald uses. */
export type RedisClient = Redis | Cluster;

export interface RedisSettings {
  /** REDIS_URL: one URL, or (cluster mode) seed nodes separated by commas. */
  readonly url: string;
  readonly mode: RedisMode;
  /** HERALD_QUEUE_PREFIX (names the connections, so CLIENT LIST shows whose they are). */
  readonly prefix: string;
}

/**
 * The prefix BullMQ is given. Standalone: the configured prefix, unchanged (existing
 * deployments keep their keys). Cluster: `{<prefix>}`, a hash tag, so that every key of a
 * queue (and of both queues) lands in one slot and BullMQ's multi-key scripts never hit
 * CROSSSLOT.
 */
export function bullPrefix(prefix: string, mode: RedisMode): string {
  return mode === 'cluster' ? `{${prefix}}` : prefix;
}

/**
 * CLIENT SETNAME accepts no spaces or newlines: `herald-<role>-<prefix>`, with anything
 * else replaced by `_`.
 */
export function connectionName(role: RedisRole, prefix: string): string {
  return `herald-${role}-${prefix}`.replace(/[^\x21-\x7e]/g, '_');
}

export interface SeedNode {
  readonly host: string;
  readonly port: number;
}

export interface ClusterSeeds {
  readonly nodes: readonly SeedNode[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/**
 * Seed nodes from `redis[s]://[user:pass@]host:port[,redis[s]://…|,host:port]…`. Credentials
 * and TLS come from the first URL that has them (every node of a cluster shares them).
 */
export function parseClusterSeeds(url: string): ClusterSeeds {
  const parts = url
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const first = new URL(parts[0] ?? '');
  const tls = first.protocol === 'rediss:';
  let username: string | undefined;
  let password: string | undefined;
  const nodes = parts.map((part) => {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? part : `${first.protocol}//${part}`);
    if (password === undefined && u.password !== '') {
      password = decodeURIComponent(u.password);
      username = u.username === '' ? undefined : decodeURIComponent(u.username);
    } else if (password === undefined && username === undefined && u.username !== '') {
      // `redis://:pass@` has no user; `redis://pass@` is ioredis' shorthand for a password.
      password = decodeURIComponent(u.username);
    }
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? 6379 : Number(u.port) };
  });
  return { nodes, username, password, tls };
}

/** The settings of a Config (REDIS_URL, HERALD_REDIS_MODE, HERALD_QUEUE_PREFIX). */
export function redisSettings(cfg: Pick<Config, 'redisUrl' | 'redisMode' | 'queuePrefix'>): RedisSettings {
  return { url: cfg.redisUrl, mode: cfg.redisMode, prefix: cfg.queuePrefix };
}

/** A bare URL is a standalone connection (tests and tools). */
export function makeRedis(target: RedisSettings | string, role: RedisRole, logger: Logger): RedisClient {
  const settings: RedisSettings = typeof target === 'string' ? { url: target, mode: 'standalone', prefix: 'herald' } : target;
  const perRequest: RedisOptions = {
    // BullMQ requires null for blocking worker connections.
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectionName: connectionName(role, settings.prefix),
  };
  let redis: RedisClient;
  if (settings.mode === 'cluster') {
    const seeds = parseClusterSeeds(settings.url);
    const options: ClusterOptions = {
      enableOfflineQueue: role === 'worker',
      // Replicas are for failover only: every command goes to the slot's master.
      scaleReads: 'master',
      // A failover takes a few seconds (node timeout + election): keep retrying a command
      // on a closed connection for ~15 s, refreshing the slot map each time, instead of
      // ioredis' 16 × 100 ms; and refresh the map now and then anyway.
      retryDelayOnFailover: 250,
      maxRedirections: 60,
      slotsRefreshInterval: 5000,
      redisOptions: {
        ...perRequest,
        ...(seeds.username === undefined ? {} : { username: seeds.username }),
        ...(seeds.password === undefined ? {} : { password: seeds.password }),
        // Managed clusters (ElastiCache, MemoryDB) announce nodes by address; TLS still
        // verifies against the seed's host name (servername is set per node by ioredis).
        ...(seeds.tls ? { tls: {} } : {}),
      },
      ...(seeds.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    };
    redis = new Cluster(
      seeds.nodes.map((n) => ({ host: n.host, port: n.port })),
      options,
    );
  } else {
    redis = new Redis(settings.url, { ...perRequest, lazyConnect: false });
  }
  redis.on('error', (err: Error) => logger.warn({ err, role }, 'redis connection error'));
  return redis;
}

/**
 * Waits until Redis accepts us, failing fast (instead of hanging) when it refuses: wrong
 * password, unreachable. The first connection error is the one reported.
 */
export async function pingRedis(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  let onError: ((err: Error) => void) | undefined;
  try {
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onError = reject;
        redis.once('ready', onReady);
        redis.once('error', onError);
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
    }
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis unavailable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
    if (onError) redis.off('error', onError);
  }
}

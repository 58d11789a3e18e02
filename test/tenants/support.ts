/**
 * Shared by the slow-tenant tests (event and River mode): a black-holed SMTP server that
 * accepts connections and never answers, instance events, and the p99 of latencies.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';

import type { ZitadelEvent } from '../helpers/events.js';

export interface BlackHole {
  /** `127.0.0.1:<port>`, as an instance's SMTP host. */
  readonly host: string;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const held = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Events on an instance aggregate (its settings and providers). */
export const instanceEvents =
  (instanceId: string) =>
  (eventType: string, payload?: unknown): ZitadelEvent => ({
    instanceId,
    aggregateType: 'instance',
    aggregateId: instanceId,
    owner: instanceId,
    eventType,
    payload,
  });

export const p99 = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
};

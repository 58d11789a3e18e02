/**
 * A TCP proxy on 127.0.0.1 (ephemeral port) in front of a real service, to simulate that
 * service going away without touching the shared instance: down() cuts every connection
 * and refuses new ones (ECONNREFUSED, as a restarting server does), up() accepts again on
 * the same port.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  readonly isUp: boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let isUp = false;

  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect({ host, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on('error', () => undefined);

  async function listen(port: number): Promise<void> {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    isUp = true;
  }
  await listen(0);
  const { port } = server.address() as net.AddressInfo;

  async function down(): Promise<void> {
    if (!isUp) return;
    isUp = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  }

  return {
    port,
    get accepted() {
      return accepted;
    },
    get isUp() {
      return isUp;
    },
    down,
    async up() {
      if (!isUp) await listen(port);
    },
    close: down,
  };
}

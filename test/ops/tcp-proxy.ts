/**
 * A TCP proxy on 127.0.0.1 that a test can cut and restore, to take Postgres or Redis away
 * from one herald without touching the shared servers other test files use.
 */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Stops listening and resets every open connection: the target looks down. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const makeServer = (): net.Server =>
    net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });

  let server = makeServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let listening = true;

  async function cut(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.resetAndDestroy();
    await closed;
  }
  return {
    port,
    cut,
    async restore() {
      if (listening) return;
      server = makeServer();
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    },
    close: cut,
  };
}

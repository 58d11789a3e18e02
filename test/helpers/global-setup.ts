import net from 'node:net';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export default async function setup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable(5432))) missing.push('PostgreSQL at 127.0.0.1:5432');
  if (!(await reachable(6379))) missing.push('Redis at 127.0.0.1:6379');
  if (missing.length > 0) {
    throw new Error(`tests need ${missing.join(' and ')}; .ci/run starts them (see README)`);
  }
}

/**
 * #11 item 4: a tenant's HTTP provider controls its answers. herald reads at most a small,
 * bounded part of an answer (a 150 MB body raised RSS by 500 MB before), follows no redirect
 * (it could lead where the egress rule did not look), and copies no remote text into errors.
 * The provider is a real HTTP server on 127.0.0.1, allowed as an operator would allow a relay.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { makeHttpEmailProviderChannel } from '../../src/channels/http-provider.js';
import type { EmailMessage } from '../../src/channels/types.js';
import { isPermanent } from '../../src/errors.js';
import { parseEgressAllow } from '../../src/net/egress.js';
import { sendContext, silentLogger, useCleanups } from '../helpers/channel-test.js';
import { startHttpSink } from '../helpers/http-sink.js';

const cleanups = useCleanups();
const egress = parseEgressAllow('127.0.0.1/32').policy;

const MAIL: EmailMessage = {
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: 's',
  text: 't',
  html: '<p>h</p>',
};

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const channel = (endpoint: string) => makeHttpEmailProviderChannel({ endpoint, providerId: 'p', description: 'd', logger: silentLogger, egress });

describe('tenant HTTP provider answers are bounded', () => {
  it('a 150 MB answer body is cut after a small bound: the server cannot push it all', async () => {
    const TOTAL = 150 * 1024 * 1024;
    const CHUNK = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    let gaveUp: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (gaveUp = resolve));
    const url = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(TOTAL) });
      res.on('close', () => gaveUp());
      // Honour backpressure: only what the client reads (plus socket buffers) leaves.
      const pump = (): void => {
        while (written < TOTAL) {
          written += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const rssBefore = process.memoryUsage().rss;
    await channel(url).send(MAIL, sendContext());
    await stopped;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    // 64 KiB are read; the kernel's socket buffers take a few MB more at most.
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
  });

  it('a redirect is not followed: the notification is canceled and the target never asked', async () => {
    const target = await startHttpSink();
    cleanups.push(() => target.close());
    const url = await serve((res) => {
      res.writeHead(307, { location: target.url });
      res.end();
    });
    const err = await channel(url)
      .send(MAIL, sendContext())
      .catch((e: unknown) => e);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toBe('http provider rejected the notification with 307');
    expect(target.requests).toHaveLength(0);
  });

  it('no remote text (status line, body) reaches the error', async () => {
    const url = await serve((res) => {
      res.statusMessage = 'Redis 7.2 ready +PONG';
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('-ERR internal banner: postgres 15 at 10.0.0.5');
    });
    const err = (await channel(url)
      .send(MAIL, sendContext())
      .catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('HTTP_PROVIDER_UNAVAILABLE');
    expect(err.message).toBe('http provider answered 503');
  });
});

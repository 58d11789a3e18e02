/**
 * A tiny HTTP server on 127.0.0.1 (ephemeral port) that records every request and answers
 * as the test programs it: a status (default 200), or never (to test timeouts and aborts).
 * Waits are event-driven, never sleeps.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  readonly method: string;
  readonly path: string;
  /** Node's lower-cased header map. */
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as received (UTF-8). */
  readonly body: string;
}

export type SinkAnswer = { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> } | 'hang';

export interface HttpSinkOptions {
  /** Answer for request n (counts from 1). @defaultValue `{ status: 200 }` */
  readonly respond?: (n: number, req: SinkRequest) => SinkAnswer;
}

export interface HttpSink {
  /** `http://127.0.0.1:<port>/hook` */
  readonly url: string;
  /** Every request, in arrival order, answered or not. */
  readonly requests: SinkRequest[];
  /** Resolves when request number `n` has arrived; rejects after timeoutMs (default 5000). */
  waitForRequest(n: number, timeoutMs?: number): Promise<SinkRequest>;
  /** Resolves when the client has closed a connection the sink was holding (abort/timeout). */
  waitForHangup(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpSink(opts: HttpSinkOptions = {}): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  const waiters: Array<{ n: number; resolve: (r: SinkRequest) => void }> = [];
  let hangups = 0;
  const hangupWaiters: Array<() => void> = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: SinkRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      for (const w of waiters.splice(0)) {
        const hit = requests[w.n - 1];
        if (hit) w.resolve(hit);
        else waiters.push(w);
      }
      const answer = opts.respond?.(requests.length, recorded) ?? { status: 200 };
      if (answer === 'hang') {
        res.on('close', () => {
          hangups++;
          for (const notify of hangupWaiters.splice(0)) notify();
        });
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  function timed<T>(what: string, timeoutMs: number, register: (done: (v: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`http-sink: ${what} did not happen`)), timeoutMs);
      register((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    waitForRequest(n, timeoutMs = 5000) {
      const hit = requests[n - 1];
      if (hit) return Promise.resolve(hit);
      return timed(`request ${n}`, timeoutMs, (resolve) => waiters.push({ n, resolve }));
    },
    waitForHangup(timeoutMs = 5000) {
      if (hangups > 0) return Promise.resolve();
      return timed('hangup', timeoutMs, (resolve) => hangupWaiters.push(() => resolve(undefined)));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

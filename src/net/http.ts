/**
 * herald's one HTTP client for outgoing POSTs (herald's webhook, an instance's HTTP email/SMS
 * provider), built on node:http so that every bound is herald's own:
 * - redirects are never followed (node:http does not);
 * - at most `maxResponseBytes` of an answer are read, then the connection is dropped, so a
 *   150 MB body costs 64 KiB, not 150 MB;
 * - connecting is bounded by `connectTimeoutMs`, the whole exchange by `timeoutMs` and the
 *   caller's signal;
 * - with `egress`, the address connected to is the one the egress rule checked (a `lookup`
 *   that refuses, plus a check of IP literals, which net.connect does not look up).
 * Answers are returned as status and a bounded body; callers decide what a status means and
 * never copy remote text into their errors.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

import { coerceError, HeraldError, isPermanent } from '../errors.js';
import type { EgressPolicy } from './egress.js';
import { checkedLookup, resolveChecked } from './egress.js';

export interface HttpClientOptions {
  /** Bound on one request from connecting to the last byte read. */
  readonly timeoutMs: number;
  /** Bound on connecting (DNS included). @defaultValue min(timeoutMs, 5000) */
  readonly connectTimeoutMs?: number;
  /** Bytes of an answer read at most; the rest is dropped with the connection. @defaultValue 65536 */
  readonly maxResponseBytes?: number;
  /** Tenant-configured targets only: the egress rule every address must pass. */
  readonly egress?: EgressPolicy;
}

export interface HttpAnswer {
  readonly status: number;
  /** A header value, lower-case name; the first one when repeated. */
  header(name: string): string | undefined;
  /** At most maxResponseBytes of the body. */
  readonly body: Buffer;
  /** Bytes read from the answer's body (≤ maxResponseBytes + one chunk). */
  readonly bytesRead: number;
  /** The body was longer than maxResponseBytes and was cut. */
  readonly truncated: boolean;
}

/** Why no answer came: the caller maps it to its own code. */
export type HttpFailure = 'timeout' | 'connect-timeout' | 'aborted' | 'network';

/** No status arrived. `reason` is a fixed word, `sysCode` a system error code (ECONNREFUSED, …). */
export class HttpTransportError extends HeraldError {
  readonly reason: HttpFailure;
  readonly sysCode: string | undefined;
  constructor(reason: HttpFailure, sysCode: string | undefined) {
    super('HTTP_TRANSPORT', `http request failed: ${reason}${sysCode ? ` (${sysCode})` : ''}`);
    this.reason = reason;
    this.sysCode = sysCode;
  }
}

export interface HttpClient {
  /** POSTs `body`; resolves with any status (3xx included), rejects with HttpTransportError or the egress refusal. */
  post(url: URL, body: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<HttpAnswer>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** `code` of a system error, when it is a short token (never a message). */
function sysCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : undefined;
}

export function makeHttpClient(opts: HttpClientOptions): HttpClient {
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const connectTimeoutMs = opts.connectTimeoutMs ?? Math.min(opts.timeoutMs, 5000);
  const lookup = opts.egress ? checkedLookup(opts.egress) : undefined;
  // One agent pair per client: sockets opened under one egress policy are reused only by it.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };

  async function post(url: URL, body: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<HttpAnswer> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpTransportError('network', 'EPROTO');
    // net.connect does not call `lookup` for an IP literal: check it here.
    if (opts.egress && net.isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
      await resolveChecked(url.hostname, opts.egress).catch(rethrowRefusal);
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let failure: Error | undefined;
      const fail = (err: Error): void => {
        failure ??= err;
        req.destroy();
        cleanup();
        reject(failure);
      };
      const onAbort = (): void => fail(new HttpTransportError('aborted', undefined));
      const overall = setTimeout(() => fail(new HttpTransportError('timeout', undefined)), opts.timeoutMs);
      let connectTimer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        clearTimeout(overall);
        if (connectTimer) clearTimeout(connectTimer);
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) {
        clearTimeout(overall);
        reject(new HttpTransportError('aborted', undefined));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });

      const req = mod.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(lookup ? { lookup } : {}),
      });
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => fail(new HttpTransportError('connect-timeout', undefined)), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (err) => {
        if (failure) return;
        // The egress refusal comes through the lookup as the socket's error: pass it on as it is.
        fail(isPermanent(err) ? err : new HttpTransportError('network', sysCodeOf(err)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let bytesRead = 0;
        let truncated = false;
        const finish = (): void => {
          if (failure) return;
          cleanup();
          const all = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = res.headers[name.toLowerCase()];
              return Array.isArray(v) ? v[0] : v;
            },
            body: all.subarray(0, maxBytes),
            bytesRead,
            truncated,
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          bytesRead += chunk.length;
          if (bytesRead > maxBytes) {
            truncated = true;
            chunks.push(chunk.subarray(0, Math.max(0, maxBytes - (bytesRead - chunk.length))));
            // Drop the connection: the rest of the body is never read.
            res.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', finish);
        res.on('error', (err) => {
          if (!truncated) fail(new HttpTransportError('network', sysCodeOf(err)));
        });
      });
      req.end(body);
    });
  }

  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function rethrowRefusal(err: unknown): never {
  if (isPermanent(err)) throw err;
  throw new HttpTransportError('network', sysCodeOf(coerceError(err)));
}

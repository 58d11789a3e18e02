/**
 * A local SNS endpoint on 127.0.0.1 (ephemeral port) for tests that drive the REAL SNSClient.
 *
 * @aws-sdk/client-sns 3.1169 speaks the AWS query protocol (`AwsQueryProtocol` in its
 * dist-cjs): a form-encoded POST `Action=Publish&Version=2010-03-31&PhoneNumber=…&Message=…&
 * MessageAttributes.entry.N.Name=…&MessageAttributes.entry.N.Value.DataType=…&
 * MessageAttributes.entry.N.Value.StringValue=…`, answered with `PublishResponse` XML, errors as
 * `ErrorResponse` XML. Anything else (e.g. a future SDK switching to the JSON protocol) is
 * answered 400 `UnsupportedProtocol` so the test fails loudly instead of passing on a guess.
 * Signatures are not checked: the client signs with static test credentials.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SnsAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
}

export interface SnsRequest {
  readonly action: string;
  readonly version: string;
  readonly phoneNumber?: string;
  readonly message?: string;
  /** MessageAttributes by name. */
  readonly attributes: Readonly<Record<string, SnsAttribute>>;
  /** Every form parameter as sent. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** An error answer in SNS's query-protocol shape. */
export interface SnsFailure {
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  readonly code: string;
  readonly message: string;
}

export const THROTTLING: SnsFailure = { status: 400, type: 'Sender', code: 'Throttling', message: 'Rate exceeded' };
export const INVALID_PARAMETER: SnsFailure = {
  status: 400,
  type: 'Sender',
  code: 'InvalidParameter',
  message: 'Invalid parameter: PhoneNumber Reason: +15550001111 is not valid to publish to',
};
export const INTERNAL_ERROR: SnsFailure = {
  status: 500,
  type: 'Receiver',
  code: 'InternalError',
  message: 'Internal service error',
};

export interface SnsEndpointOptions {
  /** Called per request (n counts from 1); a failure is answered instead of success. */
  readonly failWith?: (n: number, req: SnsRequest) => SnsFailure | undefined;
  /** Never answer request n (abort and timeout tests); the socket is destroyed on close(). */
  readonly hold?: (n: number) => boolean;
}

export interface SnsEndpoint {
  /** `http://127.0.0.1:<port>` for the client's `endpoint`. */
  readonly url: string;
  /** Every parsed request, in arrival order, answered or not. */
  readonly requests: SnsRequest[];
  /** MessageIds returned, in order. */
  readonly messageIds: string[];
  /** Resolves when request number `n` has arrived; rejects after timeoutMs (default 5000). */
  waitForRequest(n: number, timeoutMs?: number): Promise<SnsRequest>;
  close(): Promise<void>;
}

const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function parseQuery(body: string, headers: IncomingMessage['headers']): SnsRequest {
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) params[key] = value;
  const attributes: Record<string, SnsAttribute> = {};
  for (let i = 1; params[`MessageAttributes.entry.${i}.Name`] !== undefined; i++) {
    const prefix = `MessageAttributes.entry.${i}`;
    const name = params[`${prefix}.Name`] ?? '';
    const stringValue = params[`${prefix}.Value.StringValue`];
    attributes[name] = {
      dataType: params[`${prefix}.Value.DataType`] ?? '',
      ...(stringValue === undefined ? {} : { stringValue }),
    };
  }
  return {
    action: params.Action ?? '',
    version: params.Version ?? '',
    ...(params.PhoneNumber === undefined ? {} : { phoneNumber: params.PhoneNumber }),
    ...(params.Message === undefined ? {} : { message: params.Message }),
    attributes,
    params,
    headers: { ...headers },
  };
}

function reply(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(xml);
}

function errorXml(f: SnsFailure): string {
  return (
    `<ErrorResponse xmlns="${NS}"><Error><Type>${f.type}</Type><Code>${escapeXml(f.code)}</Code>` +
    `<Message>${escapeXml(f.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}

export async function startSnsEndpoint(opts: SnsEndpointOptions = {}): Promise<SnsEndpoint> {
  const requests: SnsRequest[] = [];
  const messageIds: string[] = [];
  const waiters: Array<{ n: number; resolve: (r: SnsRequest) => void }> = [];

  function record(req: SnsRequest): number {
    requests.push(req);
    for (const w of waiters.splice(0)) {
      const hit = requests[w.n - 1];
      if (hit) w.resolve(hit);
      else waiters.push(w);
    }
    return requests.length;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || !type.startsWith('application/x-www-form-urlencoded')) {
        const f: SnsFailure = {
          status: 400,
          type: 'Sender',
          code: 'UnsupportedProtocol',
          message: `sns-endpoint speaks the query protocol only, got ${req.method ?? '?'} ${type}`,
        };
        reply(res, f.status, errorXml(f));
        return;
      }
      const parsed = parseQuery(body, req.headers);
      const n = record(parsed);
      if (opts.hold?.(n)) return;
      const failure = opts.failWith?.(n, parsed);
      if (failure) return reply(res, failure.status, errorXml(failure));
      if (parsed.action !== 'Publish') {
        return reply(res, 400, errorXml({ status: 400, type: 'Sender', code: 'InvalidAction', message: parsed.action }));
      }
      const messageId = randomUUID();
      messageIds.push(messageId);
      reply(
        res,
        200,
        `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messageIds,
    waitForRequest(n, timeoutMs = 5000) {
      const hit = requests[n - 1];
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sns-endpoint: request ${n} did not arrive`)), timeoutMs);
        waiters.push({
          n,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

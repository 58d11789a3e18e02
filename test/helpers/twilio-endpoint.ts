/**
 * A local stand-in for Twilio's REST API on 127.0.0.1 (through the HTTP sink), answering
 * Messages.json and Verify's Verifications the way Twilio does: 201 with a JSON resource,
 * or a programmed error `{code, message, more_info, status}`.
 */
import type { SinkAnswer, SinkRequest } from './http-sink.js';
import { startHttpSink } from './http-sink.js';

export interface TwilioRequest extends SinkRequest {
  /** The form-encoded body, decoded. */
  readonly form: Readonly<Record<string, string>>;
}

export interface TwilioError {
  readonly status: number;
  readonly code?: number;
  readonly message?: string;
}

export interface TwilioEndpointOptions {
  /** Request n (from 1) fails with this; `'hang'` never answers. */
  readonly failWith?: (n: number, req: TwilioRequest) => TwilioError | 'hang' | undefined;
}

export interface TwilioEndpoint {
  /** `http://127.0.0.1:<port>`: pass as the channel's apiBaseUrl. */
  readonly baseUrl: string;
  readonly requests: TwilioRequest[];
  waitForRequest(n: number, timeoutMs?: number): Promise<TwilioRequest>;
  waitForHangup(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function formOf(req: SinkRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(req.body));
}

const json = (status: number, body: unknown): SinkAnswer => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

function success(n: number, req: SinkRequest): SinkAnswer {
  if (/\/v2\/Services\/[^/]+\/Verifications$/.test(req.path)) {
    return json(201, { sid: `VE${String(n).padStart(32, '0')}`, status: 'pending', channel: 'sms' });
  }
  if (/\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(req.path)) {
    return json(201, { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' });
  }
  return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
}

export async function startTwilioEndpoint(opts: TwilioEndpointOptions = {}): Promise<TwilioEndpoint> {
  const requests: TwilioRequest[] = [];
  const sink = await startHttpSink({
    respond(n, req) {
      const recorded: TwilioRequest = { ...req, form: formOf(req) };
      requests.push(recorded);
      const failure = opts.failWith?.(n, recorded);
      if (failure === 'hang') return 'hang';
      if (failure) {
        return json(failure.status, {
          code: failure.code,
          message: failure.message ?? 'programmed failure',
          more_info: failure.code === undefined ? undefined : `https://www.twilio.com/docs/errors/${failure.code}`,
          status: failure.status,
        });
      }
      return success(n, req);
    },
  });
  return {
    baseUrl: new URL(sink.url).origin,
    requests,
    async waitForRequest(n, timeoutMs) {
      await sink.waitForRequest(n, timeoutMs);
      const hit = requests[n - 1];
      if (!hit) throw new Error(`twilio endpoint: request ${n} not recorded`);
      return hit;
    },
    waitForHangup: (timeoutMs) => sink.waitForHangup(timeoutMs),
    close: () => sink.close(),
  };
}

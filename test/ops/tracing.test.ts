/**
 * Optional OpenTelemetry traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, one delivered
 * notification gives one trace (BullMQ's process span, herald's settings/send/write-back
 * spans, Postgres queries beneath) posted as OTLP/HTTP JSON to a local receiver, and no
 * span, event or resource attribute holds the recipient's address or the code. Without an
 * endpoint, tracing is off. Real Postgres, Redis and SMTP sink.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { startTracing } from '../../src/ops/tracing.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
}
interface OtlpExport {
  resourceSpans: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}

/** A tiny OTLP/HTTP receiver: POST /v1/traces with a JSON body. */
async function startReceiver(): Promise<{ url: string; exports: OtlpExport[]; paths: string[]; close(): Promise<void> }> {
  const exports: OtlpExport[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      if (req.method === 'POST' && req.url === '/v1/traces') exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    paths,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const flatValue = (v: OtlpValue): string =>
  v.stringValue ?? String(v.intValue ?? v.boolValue ?? v.doubleValue ?? (v.arrayValue?.values ?? []).map(flatValue).join(','));
const attr = (span: OtlpSpan, key: string): string | undefined => {
  const a = span.attributes?.find((x) => x.key === key);
  return a ? flatValue(a.value) : undefined;
};

let h: Harness;
let sink: SmtpSink;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.close();
  await sink.close();
  await receiver.close();
});

describe('tracing', () => {
  it('is off without an OTLP endpoint', async () => {
    const cfg = loadConfig({});
    expect(cfg.tracing.tracesUrl).toBeUndefined();
    expect(await startTracing(cfg.tracing, '0', silent)).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing.tracesUrl).toBe('http://collector:4318/v1/traces');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing.tracesUrl).toBeUndefined();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('exports one trace per delivery, with herald spans and no address or code', async () => {
    const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const herald = await h.start(cfg, ['all']);
    const instanceId = newId();
    const email = 'trace-ada@example.com';
    const code = 'TRC0DE9';
    const user = await seedUser(h.db.pool, { instanceId, email });
    const id = await requestNotification(h.db.pool, user, {}, { code });
    await herald.producer?.tickRequests();
    await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
    expect(sink.messages.length).toBe(1);
    // Stopping flushes the spans still buffered.
    await herald.stop();

    expect(receiver.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
    const resources = receiver.exports.flatMap((e) => e.resourceSpans);
    expect(resources.length).toBeGreaterThan(0);
    const service = resources[0]?.resource?.attributes?.find((a) => a.key === 'service.name');
    expect(service?.value.stringValue).toBe('herald');
    const spans = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans ?? []));

    // Every trace starts at a BullMQ process span (idle fetches and stalled checks are not kept).
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => s.name)).toEqual(['process notification-requests']);
    const root = roots[0]!;
    expect(attr(root, 'herald.notification_id')).toBe(id);
    expect(attr(root, 'herald.instance_id')).toBe(instanceId);
    expect(attr(root, 'herald.outcome')).toBe('sent');
    expect(attr(root, 'herald.result_class')).toBe('accepted');
    expect(attr(root, 'herald.provider_kind')).toBe('smtp');
    expect(attr(root, 'herald.channel')).toBe('email');
    expect(attr(root, 'herald.message_type')).toBe('InitCode');

    const trace = spans.filter((s) => s.traceId === root.traceId);
    expect(trace).toHaveLength(spans.length);
    const names = trace.map((s) => s.name);
    for (const n of ['herald.settings', 'herald.send', 'herald.write-back']) expect(names).toContain(n);
    const send = trace.find((s) => s.name === 'herald.send')!;
    expect(attr(send, 'herald.provider_kind')).toBe('smtp');
    // Postgres queries of the attempt (load, user, write-back) are in the trace.
    const queries = trace.filter((s) => attr(s, 'db.system') === 'postgresql' || attr(s, 'db.system.name') === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    // Each span's parent is in the trace: one tree.
    const ids = new Set(trace.map((s) => s.spanId));
    for (const s of trace) if (s.parentSpanId) expect(ids.has(s.parentSpanId), s.name).toBe(true);

    const everything = JSON.stringify(receiver.exports);
    expect(everything).not.toContain(email);
    expect(everything).not.toContain(code);
  });

  it('names only the host of an HTTP provider in its spans (a URL may hold a token)', async () => {
    const hook = await startHttpSink();
    try {
      const url = `${hook.url}/PATHSECRET77?token=QUERYSECRET88`;
      const cfg = h.config({ HERALD_EMAIL_PROVIDER: 'webhook', HERALD_WEBHOOK_URL: url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const before = receiver.exports.length;
      const herald = await h.start(cfg, ['all']);
      const instanceId = newId();
      const user = await seedUser(h.db.pool, { instanceId, email: 'trace-hook@example.com' });
      const id = await requestNotification(h.db.pool, user);
      await herald.producer?.tickRequests();
      await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
      await herald.stop();
      expect(hook.requests.length).toBe(1);
      const exported = JSON.stringify(receiver.exports.slice(before));
      // The send is in the trace; an HTTP client span, where one is made, names the host only.
      expect(exported).toContain('"herald.send"');
      for (const u of exported.match(/"(?:http\.url|url\.full)","value":\{"stringValue":"[^"]*"/g) ?? []) expect(u).toMatch(/\/…"$/);
      expect(exported).not.toContain('PATHSECRET77');
      expect(exported).not.toContain('QUERYSECRET88');
      expect(exported).not.toContain('trace-hook@example.com');
    } finally {
      await hook.close();
    }
  });
});

/**
 * The OpenTelemetry SDK side of ops/tracing.ts, loaded only when tracing is on (a dynamic
 * import: nothing here is loaded, nor costs anything, otherwise).
 *
 * Spans go to the OTLP/HTTP endpoint (JSON) in batches. A sampler keeps traces that start
 * at a BullMQ `process` span (one per attempt of a notification) and drops the other root
 * spans BullMQ makes while idle (job fetches, stalled checks); Postgres and HTTP spans are
 * made only inside a trace. Incoming HTTP (health checks, scrapes) is not traced.
 */
import { createRequire } from 'node:module';

import { type Attributes, context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-node';
import { BullMQOtel } from 'bullmq-otel';

import type { Logger } from '../logger.js';
import type { SpanAttributes, TracingBackend } from './tracing-backend.js';

/**
 * The URL attributes of an outgoing HTTP span, cut to scheme, host and port: they replace
 * what the instrumentation read from the request (old and stable semantic conventions).
 */
function urlOnlyHost(request: {
  protocol?: string | null;
  hostname?: string | null;
  host?: string | null;
  port?: number | string | null;
}): Attributes {
  const host = `${request.protocol ?? 'http:'}//${request.hostname ?? request.host ?? ''}${request.port ? `:${String(request.port)}` : ''}`;
  return { 'http.url': `${host}/…`, 'http.target': '/…', 'url.full': `${host}/…`, 'url.path': '/…', 'url.query': '' };
}

/** Root spans kept: BullMQ's `process <queue>` (consumer) spans. */
const rootSampler: Sampler = {
  shouldSample(_ctx, _traceId, name) {
    return { decision: name.startsWith('process ') ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  },
  toString: () => 'HeraldRootSampler{process spans}',
};

export function startOtel(opts: { tracesUrl: string; serviceName: string; version: string; logger: Logger }): TracingBackend {
  const exporter = new OTLPTraceExporter({ url: opts.tracesUrl });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'service.version': opts.version }),
    sampler: new ParentBasedSampler({ root: rootSampler }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  const instrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Statements without their values (enhancedDatabaseReporting off): no code, no address.
      new PgInstrumentation({ requireParentSpan: true }),
      // A provider URL may carry a token in its path or query: spans name the host only.
      new HttpInstrumentation({ ignoreIncomingRequestHook: () => true, requireParentforOutgoingSpans: true, startOutgoingSpanHook: urlOnlyHost }),
    ],
  });
  // herald is ESM: its imports do not pass through require(), where the instrumentations
  // hook in. Requiring the modules once patches the (shared) module objects in place.
  const require = createRequire(import.meta.url);
  for (const name of ['pg', 'http', 'https']) require(name);

  const tracer = provider.getTracer('herald', opts.version);
  opts.logger.info({ tracesUrl: redact(opts.tracesUrl), serviceName: opts.serviceName }, 'OpenTelemetry tracing on (OTLP/HTTP)');
  return {
    telemetry: new BullMQOtel({ tracerName: 'bullmq', version: opts.version }),
    annotate(attributes: SpanAttributes) {
      trace.getActiveSpan()?.setAttributes(attributes as Attributes);
    },
    inSpan(name, attributes, fn) {
      return tracer.startActiveSpan(name, { attributes: attributes as Attributes }, async (span) => {
        try {
          return await fn();
        } catch (err) {
          // The error's name and code only: its message may quote a remote answer.
          const e = err as { name?: unknown; code?: unknown };
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error',
          });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    async shutdown() {
      instrumentations();
      await provider.shutdown().catch((err: unknown) => opts.logger.warn({ err }, 'flushing the last spans failed'));
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The endpoint without credentials or query, for the start log. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '[invalid]';
  }
}

/**
 * Optional OpenTelemetry traces (issue #16). Off unless an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, see Config.tracing):
 * then, and only then, the SDK is loaded (a dynamic import of ./otel.ts), so a process without
 * an endpoint pays nothing.
 *
 * One trace per attempt of a notification, from pickup to write-back: BullMQ's own `process
 * <queue>` span (its `telemetry` option, through bullmq-otel) is the root, and herald adds
 * child spans for the settings lookup (`herald.settings`), the send (`herald.send`) and the
 * sent write-back (`herald.write-back`), with Postgres queries (instrumentation-pg) and
 * outgoing HTTP (instrumentation-http: webhook, HTTP providers, SNS, Twilio) beneath them.
 * Attributes name the instance, notification, message type, channel, provider kind and
 * result class; never a code or an address (SQL is recorded without its values).
 */
import type { InstanceChannels } from '../channels/instance-channels.js';
import type { Channel, EmailMessage, SmsMessage } from '../channels/types.js';
import type { Config } from '../config/types.js';
import type { PushBatcher } from '../eventstore/batch.js';
import type { InstanceSettingsSource } from '../instance/types.js';
import type { Logger } from '../logger.js';
import type { NotificationJobData } from '../queue/names.js';
import type { RiverOutcome } from '../river/attempt.js';
import type { RiverJobData } from '../river/queue.js';
import type { Outcome } from '../worker/attempt.js';
import { channelOf, providerKindOf } from './metrics.js';
import type { TracingBackend } from './tracing-backend.js';

export interface Tracing extends TracingBackend {
  /** The same channel, its sends in a `herald.send` span. */
  channel<C extends Channel<EmailMessage> | Channel<SmsMessage>>(channel: C): C;
  instanceChannels(channels: InstanceChannels): InstanceChannels;
  settings(source: InstanceSettingsSource): InstanceSettingsSource;
  writer(writer: PushBatcher): PushBatcher;
  /** The workers' onOutcome listeners: the outcome's attributes on the process span. */
  onOutcome(outcome: Outcome, job: { readonly data: NotificationJobData }): void;
  onRiverOutcome(outcome: RiverOutcome, job: { readonly data: RiverJobData }): void;
}

let running: { backend: Promise<TracingBackend>; users: number } | undefined;

/**
 * Starts tracing when `cfg.tracesUrl` is set; undefined otherwise. The SDK is global to the
 * process: herald instances in one process (tests) share it, and the last `shutdown` ends it.
 */
export async function startTracing(cfg: Config['tracing'], version: string, logger: Logger): Promise<Tracing | undefined> {
  const url = cfg.tracesUrl;
  if (url === undefined) return undefined;
  if (!running) {
    const backend = import('./otel.js').then((m) => m.startOtel({ tracesUrl: url, serviceName: cfg.serviceName, version, logger }));
    running = { backend, users: 0 };
    backend.catch(() => {
      running = undefined;
    });
  }
  const shared = running;
  const backend = await shared.backend;
  shared.users++;
  let stopped: Promise<void> | undefined;
  return withHelpers({
    ...backend,
    shutdown() {
      stopped ??= (async () => {
        shared.users--;
        if (shared.users > 0) return;
        if (running === shared) running = undefined;
        await backend.shutdown();
      })();
      return stopped;
    },
  });
}

function withHelpers(backend: TracingBackend): Tracing {
  const { inSpan, annotate } = backend;
  const channel = <C extends Channel<EmailMessage> | Channel<SmsMessage>>(c: C): C => {
    const kind = providerKindOf(c.name);
    const send = c.send.bind(c) as (message: EmailMessage | SmsMessage, ctx: Parameters<C['send']>[1]) => ReturnType<C['send']>;
    return {
      ...c,
      name: c.name,
      send: (message: EmailMessage | SmsMessage, ctx: Parameters<C['send']>[1]) =>
        inSpan('herald.send', { 'herald.provider_kind': kind, 'herald.message_type': message.messageType }, () => send(message, ctx)),
      close: () => c.close(),
    } as C;
  };
  return {
    ...backend,
    channel,
    instanceChannels(channels) {
      return {
        email: (instanceId, provider) => channel(channels.email(instanceId, provider)),
        sms: (instanceId, provider) => channel(channels.sms(instanceId, provider)),
        forget: (instanceId) => channels.forget(instanceId),
        close: () => channels.close(),
        get size() {
          return channels.size;
        },
      };
    },
    settings(source) {
      return {
        get: (instanceId, orgId) => inSpan('herald.settings', { 'herald.instance_id': instanceId }, () => source.get(instanceId, orgId)),
        forget: (instanceId) => source.forget(instanceId),
      };
    },
    writer(writer) {
      return { push: (commands, opts) => inSpan('herald.write-back', { 'herald.events': commands.length }, () => writer.push(commands, opts)) };
    },
    onOutcome(outcome, job) {
      const ids = { 'herald.instance_id': job.data.instanceId, 'herald.notification_id': job.data.aggregateId, 'herald.outcome': outcome.kind };
      if (!('report' in outcome)) return annotate(ids);
      annotate({
        ...ids,
        'herald.attempt': outcome.attempt,
        'herald.message_type': outcome.messageType,
        'herald.channel': channelOf(outcome.report),
        'herald.provider_kind': providerKindOf(outcome.report.providerKind),
        'herald.result_class': outcome.report.resultClass,
      });
    },
    onRiverOutcome(outcome, job) {
      annotate({
        ...(job.data.instanceId === undefined ? {} : { 'herald.instance_id': job.data.instanceId }),
        'herald.notification_id': job.data.riverId,
        'herald.attempt': job.data.attempt,
        'herald.outcome': outcome.kind,
        ...(outcome.kind === 'sent' ? { 'herald.message_type': outcome.messageType } : {}),
        ...('report' in outcome && outcome.report
          ? {
              'herald.channel': channelOf(outcome.report),
              'herald.provider_kind': providerKindOf(outcome.report.providerKind),
              'herald.result_class': outcome.report.resultClass,
            }
          : {}),
      });
    },
  };
}

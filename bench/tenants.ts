/**
 * Tenants (issue #15), herald in-process against real Postgres, Redis, an SMTP sink and the
 * real SNS client on a local SNS endpoint:
 *
 * - slow tenant: instance A's own SMTP server accepts connections and never answers; B sends
 *   10 requests/s for 20 s through the deployment SMTP. B's request→delivery p50/p99, with the
 *   per-instance share (HERALD_INSTANCE_CONCURRENCY default, half of Workers) and without it
 *   (= Workers, as before #15).
 * - throttled provider: a shared SNS that meters 5 requests/s (bucket of 5) while 200 SMS are
 *   due; with HERALD_SNS_RATE=5/s and with no rate set (adaptive after the first throttle).
 *   Delivered, canceled, SNS requests per delivered SMS, throttle answers, settled rate.
 *
 * Not in the default set (about 2 minutes): `npm run bench -- --only tenants`.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';

import { makeSnsChannel } from '../src/channels/sns.js';
import type { Outcome } from '../src/worker/process.js';
import { insertZitadelEvents, type ZitadelEvent } from '../test/helpers/events.js';
import { makeHarness, silent } from '../test/helpers/herald.js';
import { startSmtpSink } from '../test/helpers/smtp-sink.js';
import { startSnsEndpoint, THROTTLING } from '../test/helpers/sns-endpoint.js';
import { encryptCode, finishedAs, newId, requestFor, requestNotification, seedUser, USER_KEY } from '../test/helpers/zitadel.js';
import type { BenchContext } from './lib/context.js';
import { fig, type Figure, type ScenarioResult } from './lib/report.js';
import { latencySummary, sleep } from './lib/stats.js';

const SMTP_KEY = 'smtp-key-0123456789abcdef0123456';
const B_RATE = 10;
const B_SECONDS = 20;
const SMS = 200;
const SNS_LIMIT = 5;

async function slowTenant(ctx: BenchContext, share: 'default' | 'off'): Promise<{ p50: number; p99: number; delivered: number; n: number }> {
  const h = await makeHarness();
  const sink = await startSmtpSink();
  const held = new Set<net.Socket>();
  const blackHole = net.createServer((s) => {
    held.add(s);
    s.on('error', () => undefined);
  });
  blackHole.listen(0, '127.0.0.1');
  await new Promise((r) => blackHole.once('listening', r));
  try {
    const a = newId();
    const b = newId();
    const ev = (eventType: string, payload: unknown): ZitadelEvent => ({
      instanceId: a,
      aggregateType: 'instance',
      aggregateId: a,
      owner: a,
      eventType,
      payload,
    });
    await insertZitadelEvents(h.db.pool, [
      ev('instance.added', { name: 'A' }),
      ev('instance.smtp.config.added', {
        id: 'smtp-a',
        host: `127.0.0.1:${(blackHole.address() as AddressInfo).port}`,
        user: 'user-a',
        senderAddress: 'no-reply@a.example',
        password: encryptCode('pass-a', 'smtpKey', SMTP_KEY),
      }),
      ev('instance.smtp.config.activated', { id: 'smtp-a' }),
    ]);
    const userA = await seedUser(h.db.pool, { instanceId: a, email: 'a@a.example' });
    const userB = await seedUser(h.db.pool, { instanceId: b, email: 'b@b.example' });
    const workers = ctx.opts.workers;
    const cfg = h.config({
      SMTP_URL: sink.url,
      SMTP_FROM: 'herald@example.com',
      HERALD_ENCRYPTION_KEYS: JSON.stringify({ userKey: USER_KEY, smtpKey: SMTP_KEY }),
      HERALD_EGRESS_ALLOW: '127.0.0.1/32',
      HERALD_RECIPIENT_LIMIT: '0',
      ZITADEL_NOTIFICATIONS_WORKERS: String(workers),
      ZITADEL_NOTIFICATIONS_REQUEUEEVERY: ctx.opts.requeueEvery,
      ...(share === 'off' ? { HERALD_INSTANCE_CONCURRENCY: String(workers) } : {}),
    });
    const requestedAt = new Map<string, number>();
    const latency: number[] = [];
    await h.start(cfg, ['all'], {
      producerLoops: true,
      onOutcome: (o: Outcome, job) => {
        const at = requestedAt.get(job.data.aggregateId);
        if (o.kind === 'sent' && at !== undefined) latency.push(Date.now() - at);
      },
    });
    const n = B_RATE * B_SECONDS;
    for (let i = 0; i < n; i++) {
      const next = Date.now() + 1000 / B_RATE;
      await requestNotification(h.db.pool, userA);
      const t = Date.now();
      requestedAt.set(await requestNotification(h.db.pool, userB), t);
      await sleep(Math.max(0, next - Date.now()));
    }
    const settle = Date.now() + 30_000;
    while (latency.length < n && Date.now() < settle) await sleep(100);
    const s = latencySummary(latency);
    ctx.log(`tenants: slow tenant, share ${share}: B delivered ${latency.length}/${n}, p50 ${s.p50} ms, p99 ${s.p99} ms`);
    return { p50: s.p50, p99: latency.length < n ? Infinity : s.p99, delivered: latency.length, n };
  } finally {
    await h.close();
    for (const s of held) s.destroy();
    await new Promise((r) => blackHole.close(r));
    await sink.close();
  }
}

async function throttledSns(
  ctx: BenchContext,
  rate: string | undefined,
): Promise<{ delivered: number; canceled: number; perDelivered: number; throttles: number; settledRate: number; seconds: number }> {
  const h = await makeHarness();
  let tokens = SNS_LIMIT;
  let at = Date.now();
  const accepted: number[] = [];
  let throttles = 0;
  const endpoint = await startSnsEndpoint({
    failWith: () => {
      const now = Date.now();
      tokens = Math.min(SNS_LIMIT, tokens + ((now - at) * SNS_LIMIT) / 1000);
      at = now;
      if (tokens < 1) {
        throttles++;
        return THROTTLING;
      }
      tokens -= 1;
      accepted.push(now);
      return undefined;
    },
  });
  try {
    const instanceId = newId();
    const events: ZitadelEvent[] = [];
    for (let i = 0; i < SMS; i++) {
      const user = await seedUser(h.db.pool, { instanceId, phone: `+4915200${String(i).padStart(5, '0')}` });
      events.push({
        instanceId,
        aggregateType: 'notification',
        aggregateId: `sms${i}-${newId()}`,
        eventType: 'notification.requested',
        owner: user.orgId,
        payload: {
          request: requestFor(
            user,
            { eventType: 'user.human.phone.code.added', messageType: 'VerifyPhone', notificationType: 1, urlTemplate: undefined, args: {} },
            String(300000 + i),
          ),
        },
      });
    }
    const cfg = h.config({
      HERALD_SMS_PROVIDER: 'sns',
      ...(rate === undefined ? {} : { HERALD_SNS_RATE: rate }),
      ZITADEL_NOTIFICATIONS_WORKERS: String(ctx.opts.workers),
      ZITADEL_NOTIFICATIONS_REQUEUEEVERY: ctx.opts.requeueEvery,
      ZITADEL_NOTIFICATIONS_BULKLIMIT: String(SMS),
    });
    await h.start(cfg, ['all'], {
      producerLoops: true,
      channels: {
        defaults: () => {
          const sms = makeSnsChannel({
            logger: silent,
            clientConfig: { endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' } },
          });
          return { email: undefined, sms, close: () => sms.close() };
        },
      },
    });
    const started = Date.now();
    await insertZitadelEvents(h.db.pool, events);
    let outcomes: (string | undefined)[] = [];
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      outcomes = await Promise.all(events.map((e) => finishedAs(h.db.pool, instanceId, e.aggregateId)));
      if (outcomes.every((o) => o !== undefined)) break;
      await sleep(500);
    }
    const delivered = outcomes.filter((o) => o === 'notification.sent').length;
    const settled = accepted.slice(Math.floor(accepted.length / 5));
    const settledRate = settled.length > 1 ? ((settled.length - 1) * 1000) / (settled.at(-1)! - settled[0]!) : NaN;
    const r = {
      delivered,
      canceled: outcomes.filter((o) => o === 'notification.canceled').length,
      perDelivered: delivered === 0 ? NaN : endpoint.requests.length / delivered,
      throttles,
      settledRate,
      seconds: (Date.now() - started) / 1000,
    };
    ctx.log(`tenants: throttled SNS, HERALD_SNS_RATE=${rate ?? 'unset'}: ${JSON.stringify(r)}`);
    return r;
  } finally {
    await h.close();
    await endpoint.close();
  }
}

export async function runTenants(ctx: BenchContext): Promise<ScenarioResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const on = await slowTenant(ctx, 'default');
  const off = await slowTenant(ctx, 'off');
  const ms = (x: number): string => (Number.isFinite(x) ? `${x} ms` : 'not all delivered');
  figures.push(
    fig('tenants', `slow tenant: B p99 (${B_RATE}/s, A black-holed), per-instance share on`, ms(on.p99), {
      baseline: ms(off.p99),
      target: '< 1000 ms',
      met: on.p99 < 1000,
    }),
    fig('tenants', 'slow tenant: B p50, share on / off', `${ms(on.p50)} / ${ms(off.p50)}`),
    fig('tenants', 'slow tenant: B delivered, share on / off', `${on.delivered}/${on.n} / ${off.delivered}/${off.n}`),
  );
  notes.push('slow tenant baseline = HERALD_INSTANCE_CONCURRENCY set to Workers (no share, as before #15); the breaker is on in both runs');
  for (const rate of [`${SNS_LIMIT}/1s`, undefined]) {
    const r = await throttledSns(ctx, rate);
    const label = rate === undefined ? 'rate unset (adaptive)' : `HERALD_SNS_RATE=${rate}`;
    figures.push(
      fig('tenants', `throttled SNS (${SNS_LIMIT}/s), ${label}: delivered / canceled`, `${r.delivered}/${SMS} / ${r.canceled}`, {
        target: `${SMS} / 0`,
        met: r.delivered === SMS && r.canceled === 0,
      }),
      // ≤ 1.05 is the target with the rate set; unset, the first burst finds the limit by being throttled.
      fig(
        'tenants',
        `throttled SNS, ${label}: SNS requests per delivered SMS`,
        r.perDelivered.toFixed(3),
        rate === undefined ? {} : { target: '≤ 1.05', met: r.perDelivered <= 1.05 },
      ),
      fig('tenants', `throttled SNS, ${label}: settled rate (last 80 %)`, `${r.settledRate.toFixed(2)}/s`, {
        target: `${SNS_LIMIT}/s ± 10 %`,
        met: Math.abs(r.settledRate - SNS_LIMIT) <= SNS_LIMIT * 0.1,
      }),
      fig('tenants', `throttled SNS, ${label}: throttle answers, wall time`, `${r.throttles}, ${r.seconds.toFixed(1)} s`),
    );
  }
  return { name: 'tenants', wallSeconds: 0, figures, notes };
}

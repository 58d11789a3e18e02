/**
 * Plain-text views for the CLI: `herald history` (one line per notification, a table) and
 * `herald status` (one notification's timeline). Every value is stripped of control
 * characters: ids and message types come from tenants' data and must not drive a terminal.
 */
import type { Delivery, DeliveryDetail } from './types.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const clean = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v).replace(CONTROL, '?');
/** 2026-12-07T05:01:02.345Z → 2026-12-07 05:01:02 */
const shortTime = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

const HEADERS = [
  'REQUESTED',
  'STATE',
  'ATTEMPTS',
  'RESULT',
  'ERROR',
  'TYPE',
  'CHANNEL',
  'PROVIDER',
  'RECIPIENT',
  'SOURCE',
  'ID',
  'INSTANCE',
  'USER',
] as const;

function cells(d: Delivery): string[] {
  return [
    shortTime(d.requestedAt),
    d.state,
    String(d.attempts),
    d.resultClass,
    d.errorCode,
    d.messageType,
    d.channel,
    d.providerKind,
    d.recipient,
    d.source,
    d.id,
    d.instanceId,
    d.userId,
  ].map(clean);
}

/** A table with a header line, columns padded to their widest cell. */
export function renderTable(rows: readonly Delivery[]): string {
  const lines = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

/** JSON lines: one object per notification. */
export function renderJsonLines(rows: readonly Delivery[]): string {
  return rows.map((r) => JSON.stringify(r) + '\n').join('');
}

function duration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One notification's timeline: the request, each attempt, the outcome. */
export function renderTimeline(d: DeliveryDetail): string {
  const out: string[] = [];
  out.push(`notification ${clean(d.id)} (${d.source}), instance ${clean(d.instanceId)}`);
  out.push(
    `  ${clean(d.messageType)} over ${clean(d.channel)} to ${clean(d.recipient)} for user ${clean(d.userId)} of org ${clean(d.orgId)}${d.otp ? ' (OTP)' : ''}`,
  );
  out.push(`  ${shortTime(d.requestedAt).padEnd(22)} requested`);
  if (d.timeline.length === 0 && d.state === 'pending') out.push('  (not worked yet)');
  if (d.attempts > 0 && d.timeline.length > 0 && d.timeline.length < d.attempts) {
    out.push(`  (${d.attempts - d.timeline.length} earlier sends not shown)`);
  }
  for (const a of d.timeline) {
    const took = duration(a.startedAt, a.finishedAt);
    out.push(
      `  ${shortTime(a.startedAt).padEnd(22)} attempt ${a.attempt}: ${clean(d.channel)} via ${clean(a.providerKind)} → ${clean(a.resultClass)}` +
        (a.errorCode ? ` (${clean(a.errorCode)})` : '') +
        (took ? `, ${took}` : ''),
    );
  }
  const at = d.finishedAt ?? d.updatedAt;
  const sends = `${d.attempts} send${d.attempts === 1 ? '' : 's'}`;
  out.push(`  ${shortTime(at).padEnd(22)} ${d.state}: ${sends}${d.latencyMs === null ? '' : `, ${d.latencyMs} ms from the request to the provider`}`);
  if (d.providerMessageId) out.push(`  provider message id: ${clean(d.providerMessageId)}`);
  if (d.reason) out.push(`  reason: ${clean(d.reason)}`);
  return out.join('\n') + '\n';
}

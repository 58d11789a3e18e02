/**
 * deploy/prometheus and deploy/grafana: promtool accepts the rules and their unit tests pass
 * (`promtool check rules`, `promtool test rules`; promtool is required: `.ci/run` installs
 * Debian's `prometheus` package when it is missing), and every metric the rules and the
 * Grafana dashboard query is one herald registers (or a rule records).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { makeMetrics, type MetricsDeps } from '../../src/ops/metrics.js';
import type { Queues } from '../../src/queue/queues.js';
import { silent } from '../helpers/herald.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROMETHEUS = path.join(ROOT, 'deploy/prometheus');
const RULES = path.join(PROMETHEUS, 'herald-rules.yml');
const RULE_TESTS = path.join(PROMETHEUS, 'herald-rules.test.yml');
const DASHBOARD = path.join(ROOT, 'deploy/grafana/herald.json');

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every name herald's registry holds, with the series names of histograms and summaries. */
function heraldMetricNames(): Set<string> {
  // Nothing is scraped: the registry is only listed, so the queues, pool and counters are never
  // read. `limits` stands for the tenant limits' counters (#15), which makeMetrics may take to
  // register the breaker and throttle metrics.
  const deps = { queues: {} as Queues, pool: {} as Pool, producer: true, logger: silent, limits: {} } as MetricsDeps;
  const metrics = makeMetrics(deps);
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${name}${s}`);
  }
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression selects (not functions, labels, keywords or template variables). */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = stripped.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));

describe('deploy/prometheus/herald-rules.yml', () => {
  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('passes its unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', RULE_TESTS]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('has the alerts the issue asks for', () => {
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts.sort()).toEqual(
      [
        'HeraldNoDeliveriesWhilePending',
        'HeraldOldestPendingHigh',
        'HeraldProviderBreakerOpen',
        'HeraldProviderFailureRatioHigh',
        'HeraldProviderThrottled',
      ].sort(),
    );
  });

  it('uses only metrics herald registers, or rules record', () => {
    const known = heraldMetricNames();
    const used = rules.groups.flatMap((g) => g.rules.flatMap((r) => metricNamesIn(r.expr)));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !known.has(n) && !recorded.has(n))).toEqual([]);
    // The tenants' metrics are among them, with the names the shared contract fixes.
    expect(used).toEqual(
      expect.arrayContaining(['herald_provider_throttled_total', 'herald_provider_breaker_open', 'herald_oldest_pending_seconds']),
    );
  });
});

describe('deploy/grafana/herald.json', () => {
  interface Panel {
    title: string;
    datasource?: { uid?: string };
    targets?: { expr: string; datasource?: { uid?: string } }[];
  }
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    title: string;
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };

  it('parses, and every panel queries the dashboard datasource variable', () => {
    expect(dashboard.title).toBe('herald');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    for (const p of dashboard.panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics herald registers, and shows the figures #16 names', () => {
    const known = heraldMetricNames();
    const used = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNamesIn(t.expr)));
    expect(used.filter((n) => !known.has(n))).toEqual([]);
    for (const m of [
      'herald_delivery_latency_seconds_bucket',
      'herald_oldest_pending_seconds',
      'herald_provider_results_total',
      'herald_provider_throttled_total',
      'herald_provider_breaker_open',
      'herald_backlog',
      'herald_attempts_used_bucket',
    ]) {
      expect(used).toContain(m);
    }
  });

  it('the name extraction sees through functions, selectors, ranges and groupings', () => {
    expect(metricNamesIn('histogram_quantile(0.5, sum by (le, channel) (rate(herald_x_bucket{a="b"}[$__rate_interval])))')).toEqual([
      'herald_x_bucket',
    ]);
    expect(metricNamesIn('a:b:c > 1 and on () (sum(increase(m_total{class="x"}[10m])) or vector(0)) == 0')).toEqual(['a:b:c', 'm_total']);
  });
});

it('promtool is on the PATH (CI installs Debian prometheus for it)', () => {
  expect(execFileSync('promtool', ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version/);
});

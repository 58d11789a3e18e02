/**
 * Template bombs (issue #11 item 2): a tenant's custom text, URL template or mail template
 * must not be able to run for hours, build huge strings or freeze the event loop. Every such
 * template ends within the rendering budget and cancels with a fixed reason.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { renderGoTemplate } from '../../src/content/go-template.js';
import { renderMailTemplate } from '../../src/content/mail-template.js';
import { renderMessage } from '../../src/content/render.js';
import type { MailTemplateData, TemplateArgs } from '../../src/content/types.js';
import { isPermanent } from '../../src/errors.js';
import type { ReadinessProbe } from '../../src/ops/health.js';
import { type OpsServer, startOpsServer } from '../../src/ops/server.js';
import { silent } from '../helpers/herald.js';

/** Like the args herald builds for a notification: ~17 keys, one of them a code. */
const args: TemplateArgs = Object.fromEntries([
  ...['Origin', 'Domain', 'Expiry', 'UserID', 'OrgID', 'UserName', 'FirstName', 'LastName', 'NickName'].map((k) => [k, `${k}-value`]),
  ...['DisplayName', 'LastEmail', 'VerifiedEmail', 'LastPhone', 'PreferredLoginName', 'LoginName', 'ChangeDate'].map((k) => [k, `${k}-v`]),
  ['Code', '483921'],
  ['LoginNames', ['a@example.com', 'b@example.com']],
]);

const BUDGET_REASON = /template exceeds herald's rendering budget \((steps|work|value size|output size|template size|nesting depth)\)/;

function nestedRange(depth: number): string {
  // No output at all: the output cap alone never stops it.
  return '{{range $}}'.repeat(depth) + '{{end}}'.repeat(depth);
}

function nestedPrintf(depth: number): string {
  // Each level doubles the string; nothing is written until the innermost level.
  return '{{with .Code}}' + '{{with printf "%s%s" . .}}'.repeat(depth) + '{{len .}}' + '{{end}}'.repeat(depth + 1);
}

/** Renders and returns the error with the time it took; fails when the render succeeds. */
function renderFails(fn: () => unknown): { err: Error & { code?: string }; ms: number } {
  const started = performance.now();
  try {
    fn();
  } catch (err) {
    return { err: err as Error & { code?: string }, ms: performance.now() - started };
  }
  throw new Error('the template rendered although it exceeds every budget');
}

describe('the Go-template engine has a budget', () => {
  it('cancels nested {{range $}} eight deep within milliseconds, with a fixed reason', () => {
    const { err, ms } = renderFails(() => renderGoTemplate(nestedRange(8), args));
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toMatch(/template exceeds herald's rendering budget \(steps\)/);
    expect(ms).toBeLessThan(1000);
  });

  it('cancels nested {{with printf}} doubling before it builds a huge string', () => {
    const before = process.memoryUsage().heapUsed;
    const { err, ms } = renderFails(() => renderGoTemplate(nestedPrintf(30), args));
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toMatch(/template exceeds herald's rendering budget \(value size\)/);
    expect(ms).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a template above the size cap before parsing it', () => {
    const { err, ms } = renderFails(() => renderGoTemplate(`${'{{.Code}}'.repeat(200_000)}`, args));
    expect(err.message).toMatch(/template exceeds herald's rendering budget \(template size\)/);
    expect(ms).toBeLessThan(1000);
  });

  it('refuses nesting deeper than the parse-depth cap', () => {
    const { err } = renderFails(() => renderGoTemplate('{{if .Code}}'.repeat(200) + '{{end}}'.repeat(200), args));
    expect(err.message).toMatch(/template exceeds herald's rendering budget \(nesting depth\)/);
  });

  it('bounds the work of text written inside a loop, even where it is not output', () => {
    // An HTML comment's text is dropped from the output, so the output cap alone never trips.
    const big = `<!--${'y'.repeat(60_000)}-->`;
    const tmpl = `<p>${'{{range $}}'.repeat(4)}${big}${'{{end}}'.repeat(4)}</p>`;
    const data = { ...(args as Record<string, unknown>) } as unknown as MailTemplateData;
    const { err, ms } = renderFails(() => renderMailTemplate(tmpl, data));
    expect(err.message).toMatch(BUDGET_REASON);
    expect(ms).toBeLessThan(1000);
  });

  it('cancels a bomb in a custom text with the fixed reason, naming which text', () => {
    const { err } = renderFails(() =>
      renderMessage({
        messageType: 'InitCode',
        language: 'en',
        channel: 'email',
        args,
        customTexts: { en: { Text: nestedRange(8) } },
      }),
    );
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toBe("InitCode.Text: template exceeds herald's rendering budget (steps)");
  });
});

describe('/healthz keeps answering while bombs are rendered in the same process', () => {
  let server: OpsServer;
  const readiness: ReadinessProbe = { check: async () => ({ ready: true, checks: {} }), drain: () => undefined };

  beforeAll(async () => {
    server = await startOpsServer({ port: 0, host: '127.0.0.1', logger: silent, registry: new Registry(), readiness });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers every probe within two seconds while one render after another hits the budget', async () => {
    let rendering = true;
    const latencies: number[] = [];
    const prober = (async () => {
      while (rendering) {
        const started = performance.now();
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).toBe(200);
        latencies.push(performance.now() - started);
      }
    })();
    try {
      // Six deep freezes an unbounded engine for many seconds per render.
      for (let i = 0; i < 20; i++) {
        const { err } = renderFails(() => renderGoTemplate(nestedRange(6), args));
        expect(err.message).toMatch(BUDGET_REASON);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      rendering = false;
      await prober;
    }
    expect(latencies.length).toBeGreaterThan(0);
    // Each render blocks the loop for milliseconds (tens on a loaded CI machine); an unbounded
    // engine blocked it for seconds to hours per render.
    expect(Math.max(...latencies)).toBeLessThan(2000);
  });
});

/**
 * The dashboard role in a real browser (Debian's chromium driven by playwright-core): without
 * credentials it is 401; with them Bull Board loads its JS/CSS, lists both herald queues and
 * shows a job — and neither the page nor its API responses ever hold a clear code, address or
 * anything outside the job-data allow-list (a hand-made job carrying a code shows "[redacted]").
 * Read-only by default: mutations answer 405.
 */
import { randomBytes } from 'node:crypto';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { jobIdFor, QUEUE } from '../../src/queue/names.js';
import { launchChromium } from '../helpers/browser.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { newId, requestNotification, seedUser } from '../helpers/zitadel.js';

const USER = 'operator';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const CODE = 'DSH4K2';
const ROGUE_CODE = 'R0GUE7';
const EMAIL = 'dashboard-user@example.com';

let h: Harness;
let herald: Herald;
let browser: Browser;
let base: string;
let jobId: string;
let aggregateId: string;

beforeAll(async () => {
  h = await makeHarness();
  const cfg = h.config({ HERALD_HTTP_PORT: '0', HERALD_DASHBOARD_USER: USER, HERALD_DASHBOARD_PASSWORD: PASSWORD });
  // No worker: the jobs stay waiting, so the board has something to show.
  herald = await h.start(cfg, ['producer', 'dashboard'], { producerLoops: false, http: { host: '127.0.0.1' } });
  base = `${herald.http!.url}/dashboard`;

  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId, email: EMAIL });
  aggregateId = await requestNotification(h.db.pool, user, {}, { code: CODE });
  expect(await herald.producer!.tickRequests()).toBe(1);
  jobId = jobIdFor(instanceId, aggregateId, 1);
  // A job herald would never write: whatever is outside the allow-list must be masked.
  await herald.queues.requests.add(
    'requested',
    {
      instanceId,
      aggregateId: 'rogue',
      sequence: 1,
      ...({ code: ROGUE_CODE, to: EMAIL } as object),
    },
    { jobId: 'rogue-job' },
  );

  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

it('answers 401 without credentials and with wrong ones', async () => {
  const anonymous = await browser.newContext();
  try {
    const page = await anonymous.newPage();
    // A navigation to a 401 makes headless Chromium abort (no one to type a password), so
    // the page asks from an open path of the same origin.
    expect((await page.goto(`${herald.http!.url}/healthz`))?.status()).toBe(200);
    const answer = await page.evaluate(async (url) => {
      // credentials: 'omit' so that Chromium answers with the 401 instead of an auth prompt.
      const res = await fetch(url, { credentials: 'omit' });
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
    }, `${base}/`);
    expect(answer.status).toBe(401);
    expect(answer.challenge).toContain('Basic');
    expect(answer.body).not.toContain(QUEUE.requests);
    expect((await anonymous.request.get(`${base}/api/queues`)).status()).toBe(401);
  } finally {
    await anonymous.close();
  }
  const wrong = await browser.newContext({ httpCredentials: { username: USER, password: 'wrong' } });
  try {
    expect((await wrong.request.get(`${base}/api/queues`)).status()).toBe(401);
  } finally {
    await wrong.close();
  }
  // Health and metrics stay open for probes and Prometheus.
  expect((await fetch(`${herald.http!.url}/healthz`)).status).toBe(200);
});

it('logs in, shows the queues and a job, and never a clear code', async () => {
  const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
  // Bull Board's page links Google Fonts; tests never leave 127.0.0.1.
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort('blockedbyclient'),
  );
  try {
    const page = await context.newPage();
    const failures: string[] = [];
    const apiBodies: Promise<string>[] = [];
    page.on('requestfailed', (req) => {
      if (new URL(req.url()).hostname === '127.0.0.1') failures.push(`${req.url()} ${req.failure()?.errorText ?? ''}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) failures.push(`${res.url()} ${res.status()}`);
      if (res.url().includes('/dashboard/api/')) apiBodies.push(res.text().catch(() => ''));
    });

    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    await page.getByText(QUEUE.requests).first().waitFor({ timeout: 15_000 });
    await page.getByText(QUEUE.retries).first().waitFor({ timeout: 15_000 });

    // herald's job: prioritized (the producer sets a priority), with its data on the card.
    await page.goto(`${base}/queue/${QUEUE.requests}?status=prioritized`);
    await page.getByText(jobId).first().waitFor({ timeout: 15_000 });
    await page.getByText(`aggregateId:"${aggregateId}"`).first().waitFor({ timeout: 15_000 });
    const jobPage = await page.content();
    // The hand-made job: its code and address are masked by the formatter.
    await page.goto(`${base}/queue/${QUEUE.requests}?status=waiting`);
    await page.getByText('rogue-job').first().waitFor({ timeout: 15_000 });
    await page.getByText('code:"[redacted]"').first().waitFor({ timeout: 15_000 });

    const html = jobPage + (await page.content());
    const bodies = (await Promise.all(apiBodies)).join('\n');
    expect(bodies).toContain(jobId);
    for (const secret of [CODE, ROGUE_CODE, EMAIL]) {
      expect(html).not.toContain(secret);
      expect(bodies).not.toContain(secret);
    }
    // Bull Board's own JS and CSS were served (the @fastify/static path works on this Node).
    expect(failures).toEqual([]);
    const assets = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .filter((n) => /\.(js|css)(\?|$)/.test(n)),
    );
    expect(assets.filter((a) => a.startsWith(base)).length).toBeGreaterThan(0);

    // Read-only unless HERALD_DASHBOARD_READONLY=false.
    expect((await context.request.put(`${base}/api/queues/${QUEUE.requests}/pause`)).status()).toBe(405);
    expect((await context.request.put(`${base}/api/queues/${QUEUE.requests}/rogue-job/clean`)).status()).toBe(405);
  } finally {
    await context.close();
  }
});

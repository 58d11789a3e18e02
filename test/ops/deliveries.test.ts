/**
 * The Deliveries page and /api/v1/notifications in a real browser (Debian's chromium driven by
 * playwright-core), behind the dashboard's basic auth: the page lists the history, filters by
 * state, opens one notification's timeline; values are text, never markup; no address in clear.
 */
import { randomBytes } from 'node:crypto';

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { launchChromium } from '../helpers/browser.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { newId, requestNotification, seedUser } from '../helpers/zitadel.js';
import { waitForRow } from '../history/support.js';

const USER = 'operator';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const GOOD = 'deliveries-good@example.com';
const BOUNCE = 'deliveries-bounce@example.com';
const CODE = 'DLV7Q2';
const MARKUP = '<img src=x onerror="window.__pwned=1">';

let h: Harness;
let herald: Herald;
let sink: SmtpSink;
let browser: Browser;
let ids: { good: string; bounce: string };

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink({ failWith: (_n, mail) => (mail.envelope.to[0] === BOUNCE ? { code: 550, message: 'no such user' } : undefined) });
  const cfg = h.config({
    HERALD_HTTP_PORT: '0',
    HERALD_DASHBOARD_USER: USER,
    HERALD_DASHBOARD_PASSWORD: PASSWORD,
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
  });
  herald = await h.start(cfg, ['all'], { producerLoops: false, http: { host: '127.0.0.1' } });
  const instanceId = newId();
  const good = await seedUser(h.db.pool, { instanceId, email: GOOD });
  const bounce = await seedUser(h.db.pool, { instanceId, email: BOUNCE });
  ids = { good: await requestNotification(h.db.pool, good, {}, { code: CODE }), bounce: await requestNotification(h.db.pool, bounce) };
  await herald.producer!.tickRequests();
  await waitForRow(h.db.pool, ids.good);
  await waitForRow(h.db.pool, ids.bounce);
  // A row whose tenant-controlled fields hold markup: it must show as text.
  await h.db.pool.query(
    `INSERT INTO herald.deliveries (source, id, instance_id, message_type, state, requested_at) VALUES ('events', 'markup-row', $1, $2, 'canceled', now() - interval '1 minute')`,
    [instanceId, MARKUP],
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sink?.close();
  await h?.close();
});

it('answers 401 without credentials, 400 for a bad filter, 404 for an unknown id', async () => {
  const api = `${herald.http!.url}/api/v1/notifications`;
  expect((await fetch(api)).status).toBe(401);
  expect((await fetch(`${herald.http!.url}/deliveries`)).status).toBe(401);
  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  expect((await fetch(`${api}?state=lost`, { headers: auth })).status).toBe(400);
  expect((await fetch(`${api}?limit=100000`, { headers: auth })).status).toBe(400);
  expect((await fetch(`${api}?since=yesterday`, { headers: auth })).status).toBe(400);
  expect((await fetch(`${api}?order=id`, { headers: auth })).status).toBe(400);
  expect((await fetch(`${api}/nope`, { headers: auth })).status).toBe(404);
  expect((await fetch(`${api}/${encodeURIComponent('a b')}`, { headers: auth })).status).toBe(400);
  const list = (await (await fetch(`${api}?state=sent`, { headers: auth })).json()) as { notifications: { id: string; state: string }[] };
  expect(list.notifications.map((n) => [n.id, n.state])).toEqual([[ids.good, 'sent']]);
});

it('lists the deliveries, filters by state and opens a timeline, with every value as text', async () => {
  const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort('blockedbyclient'),
  );
  try {
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('pageerror', (err) => failures.push(err.message));
    page.on('response', (res) => {
      if (res.status() >= 400) failures.push(`${res.url()} ${res.status()}`);
    });
    expect((await page.goto(`${herald.http!.url}/deliveries`))?.status()).toBe(200);
    await page.locator(`#rows tr[data-id="${ids.good}"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator('#rows tr').count()).toBe(3);
    // The markup is shown as text and never runs.
    await page.getByText(MARKUP).waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('#rows img').count()).toBe(0);

    await page.selectOption('select[name=state]', 'canceled');
    await expect.poll(() => page.locator('#rows tr').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.locator('#rows tr.state-canceled').count()).toBe(2);
    expect(page.url()).toContain('state=canceled');

    await page.locator(`#rows tr[data-id="${ids.bounce}"] button`).click();
    await page.locator('#timeline li.attempt').first().waitFor({ timeout: 15_000 });
    const timeline = await page.locator('#timeline').innerText();
    expect(timeline).toContain('attempt 1: email via smtp → rejected (SMTP_REJECTED)');
    expect(await page.locator('#detail-title').innerText()).toContain(ids.bounce);
    expect(await page.locator('#detail-fields').innerText()).toContain('d***@example.com');

    const html = await page.content();
    for (const secret of [GOOD, BOUNCE, CODE]) expect(html).not.toContain(secret);
    expect(failures).toEqual([]);
  } finally {
    await context.close();
  }
});

it('links the Deliveries page from Bull Board', async () => {
  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  const board = await (await fetch(`${herald.http!.url}/dashboard/`, { headers: auth })).text();
  expect(board).toContain('/deliveries');
});

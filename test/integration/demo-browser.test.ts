/**
 * The demo page in two real headless Chromium pages against a real hub: accounts, a channel
 * message from one page to the other, who is in the channel (presence, join/leave), a progress
 * walker, an alert toast, a refresher frame, and Directual redirects. Saves a screenshot to test/artifacts/. Without /usr/bin/chromium it skips
 * loudly, unless REQUIRE_SERVICES=1 (CI), where a missing browser is a failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { REDIS_URL, serviceFor } from '../broker-helpers.js';
import { launchChromium, POLL, recordProblems, withChromium } from '../browser.js';
import { startHub, stopAll, tempDir } from '../helpers.js';

const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

/** What the demo page exposes on `window` (its SDK client), as far as this test uses it. */
interface PageGlobals {
  hub: { sendToChannels(ids: string[], data: unknown): Promise<void>; sendToClients(ids: string[], data: unknown): Promise<void> };
}

withChromium('demo page in Chromium', () => {
  let hub: RunningHub;
  let browser: Browser;
  beforeAll(async () => {
    // Channels without a namespace (the page's `lobby`) have presence and join/leave; `quiet:*` has neither.
    const channels = join(tempDir(), 'channels.json');
    writeFileSync(channels, JSON.stringify({ default: { presence: true, join_leave: true }, namespaces: { quiet: {} } }));
    hub = await startHub({ channelsFile: channels });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  /** A fresh browser context (its own sessionStorage), signed up and in through the page's form. */
  async function signedInPage(email: string, path = '/'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    recordProblems(page, problems);
    await page.goto(hub.url + path);
    await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('Connected');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.locator('#account-status', { hasText: `Signed in as ${email}` }).waitFor();
    // The page shows the connection's new user root, not the public one.
    await expect.poll(() => page.locator('#root-id').textContent(), POLL).toMatch(/^n::(?!0{23}1$)[0-9a-f]{24}$/);
    await page.getByLabel('Channel name').fill('lobby');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#joined', { hasText: 'lobby' }).waitFor();
    expect(problems).toEqual([]);
    return page;
  }

  it('two pages: channel message, progress, alert toast, refresher, redirects', async () => {
    const a = await signedInPage('ada@example.com');
    const b = await signedInPage('bob@example.com', '/demo/rooms');

    const bobRoot = await b.locator('#root-id').textContent();
    const aId = (await a.locator('#client-id').textContent()) ?? '';
    const bFirstId = (await b.locator('#client-id').textContent()) ?? '';
    // Both pages list both connections: B from its presence reply, A from B's join frame.
    const inLobby = (page: Page) => page.locator('#presence [data-channel="lobby"] li');
    for (const page of [a, b]) {
      await expect.poll(() => inLobby(page).allTextContents(), POLL).toHaveLength(2);
      expect(await page.locator('#presence').isVisible()).toBe(true);
    }
    expect(await inLobby(a).filter({ hasText: `${aId} (you)` }).count()).toBe(1);
    expect(await inLobby(a).filter({ hasText: bFirstId }).textContent()).toContain(bobRoot);
    expect(await inLobby(b).filter({ hasText: `${bFirstId} (you)` }).count()).toBe(1);
    // A sends to the channel; B sees it.
    await a.getByLabel('Message', { exact: true }).fill('hello from ada');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await b.locator('#messages li', { hasText: 'ada@example.com: hello from ada' }).waitFor();

    // B runs the progress walker and sees it reach 100%.
    await b.getByRole('button', { name: 'Run progress walker' }).click();
    await b.locator('#progress-label', { hasText: '100% completed' }).waitFor();
    expect(await b.locator('#progress').evaluate((el) => (el as unknown as { value: number }).value)).toBe(100);
    await b.locator('#messages li', { hasText: 'self_progress_notif: 6 reports' }).waitFor();

    // A's send_alert walker puts a toast on B's page.
    await a.getByLabel('Alert text').fill('Deploy finished');
    await a.getByRole('button', { name: 'Send alert' }).click();
    const toast = b.locator('.toast-group[data-position="top-right"] .toast', { hasText: 'Deploy finished' });
    await toast.waitFor();
    expect(await toast.textContent()).toContain('🔔');

    // A refresher frame makes B reload its hub data.
    // The page's own first load must be done, or it could pass for the refresh.
    await b.locator('#refreshed[data-count]').waitFor();
    const before = Number(await b.locator('#refreshed').getAttribute('data-count'));
    await a.evaluate(() => (globalThis as unknown as PageGlobals).hub.sendToChannels(['lobby'], { type: 'refresh' }));
    await expect.poll(async () => Number(await b.locator('#refreshed').getAttribute('data-count')), POLL).toBe(before + 1);
    expect(await b.locator('#stat-users').textContent()).toBe('2');

    mkdirSync(ARTIFACTS, { recursive: true });
    await b.screenshot({ path: resolve(ARTIFACTS, 'demo-page.png'), fullPage: true });

    // Redirects follow the Directual rules: ./param appends, a page filter that does not match is ignored, <= goes back.
    const bId = (await b.locator('#client-id').textContent()) ?? '';
    const redirect = (data: unknown) =>
      a.evaluate(
        ([id, d]) => (globalThis as unknown as PageGlobals).hub.sendToClients([id as string], { type: 'redirect', data: d }),
        [bId, data] as const,
      );
    await redirect({ target: './lobby', delay: 10 });
    await b.waitForURL(`${hub.url}/demo/rooms/lobby`);
    await expect.poll(() => b.locator('#status').textContent(), POLL).toBe('Connected');
    // The page reconnected as the same user (token kept in sessionStorage, given by getToken).
    await b.locator('#account-status', { hasText: 'Signed in as bob@example.com' }).waitFor();
    expect(await b.locator('#root-id').textContent()).toBe(bobRoot);
    // B's old page left the channel: A's list drops it (a leave frame).
    await expect.poll(() => inLobby(a).allTextContents(), POLL).toEqual([expect.stringContaining(`${aId} (you)`)]);
    // A channel whose namespace has no presence: the hub refuses, the page shows no list.
    await b.getByLabel('Channel name').fill('quiet:1');
    await b.getByRole('button', { name: 'Join' }).click();
    await b.locator('#messages li', { hasText: 'quiet:1: not shown (forbidden)' }).waitFor();
    expect(await b.locator('#presence').isHidden()).toBe(true);
    const bId2 = (await b.locator('#client-id').textContent()) ?? '';
    const redirect2 = (data: unknown) =>
      a.evaluate(
        ([id, d]) => (globalThis as unknown as PageGlobals).hub.sendToClients([id as string], { type: 'redirect', data: d }),
        [bId2, data] as const,
      );
    await redirect2({ target: '<=', page: 'profile' });
    await b.locator('#messages li', { hasText: 'ignored: not on page profile' }).waitFor();
    await redirect2({ target: 'https://evil.example/' });
    await b.locator('#messages li', { hasText: 'ignored: target leaves this site' }).waitFor();
    await redirect2({ target: '<=', page: 'rooms' });
    await b.waitForURL(`${hub.url}/demo/rooms`);
  }, 90_000);

  it('a history channel on Redis: after its hub restarts, the page says how many messages it recovered', async (ctx) => {
    const url = serviceFor(ctx, 'the demo page recovery note', 'REDIS_URL', REDIS_URL);
    const channels = join(tempDir(), 'channels-history.json');
    writeFileSync(channels, JSON.stringify({ namespaces: { news: { history_size: 50, history_ttl: 600 } } }));
    const key = 'a-server-key-of-enough-length';
    const options = { channelsFile: channels, redisUrl: url, redisPrefix: `demo${Date.now()}:`, apiKeys: key };
    let shown = await startHub(options);
    const other = await startHub(options);
    const port = shown.port;
    const page = await (await browser.newContext()).newPage();
    await page.goto(shown.url);
    await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('Connected');
    await page.getByLabel('Channel name').fill('news:today');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#joined', { hasText: 'news:today' }).waitFor();
    await shown.close();
    for (let i = 1; i <= 3; i++) {
      const res = await fetch(`${other.url}/api/notify`, { method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify({ channels: ['news:today'], data: { type: 'chat', text: `missed ${i}` } }) });
      expect(res.status).toBe(202);
    }
    shown = await startHub({ ...options, port });
    await page.locator('#messages li', { hasText: 'news:today: recovered 3 messages' }).waitFor(POLL);
    await page.locator('#messages li', { hasText: 'missed 3' }).waitFor(POLL);
  }, 90_000);
});

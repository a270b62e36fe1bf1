/**
 * Collections in headless Chromium against a hub serving the example collections/: the demo page's
 * shared todo list kept live on two pages (one signed in and editing, one public and watching),
 * and the Directus seed's sample run as it is written, with the browser's own WebSocket. Without
 * /usr/bin/chromium it skips loudly, unless REQUIRE_SERVICES=1, where that is a failure.
 */
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { launchChromium, POLL, recordProblems, withChromium } from '../browser.js';
import { signToken, startHub, stopAll } from '../helpers.js';

const COLLECTIONS = resolve(import.meta.dirname, '../../collections');

withChromium('collections in Chromium', () => {
  let hub: RunningHub;
  let browser: Browser;
  beforeAll(async () => {
    hub = await startHub({ collectionsDir: COLLECTIONS });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  async function page(problems: string[]): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await context.newPage();
    recordProblems(p, problems);
    await p.goto(hub.url);
    await expect.poll(() => p.locator('#status').textContent(), POLL).toBe('Connected');
    return p;
  }

  it('keeps the shared todo list live on two pages: a signed-in one edits, a public one watches', async () => {
    const problems: string[] = [];
    const editor = await page(problems);
    const watcher = await page(problems);
    await editor.getByLabel('Email').fill('todo@example.com');
    await editor.getByLabel('Password').fill('correct horse battery');
    await editor.getByRole('button', { name: 'Register' }).click();
    await editor.locator('#account-status', { hasText: 'Signed in as todo@example.com' }).waitFor();
    for (const p of [editor, watcher]) await p.locator('#todos').waitFor();

    for (const text of ['buy milk', 'write docs']) {
      await editor.getByLabel('New todo').fill(text);
      await editor.getByRole('button', { name: 'Add' }).click();
    }
    const texts = (p: Page) => p.locator('#todo-list li span').allTextContents();
    for (const p of [editor, watcher]) await expect.poll(() => texts(p), POLL).toEqual(['buy milk', 'write docs']);

    await editor.locator('#todo-list li', { hasText: 'buy milk' }).getByRole('checkbox').check();
    await expect.poll(() => watcher.locator('#todo-list li.done span').allTextContents(), POLL).toEqual(['buy milk']);
    await editor.getByRole('button', { name: 'Remove write docs' }).click();
    await expect.poll(() => texts(watcher), POLL).toEqual(['buy milk']);

    // The public page may watch but not write: the hub's refusal is shown, the list unchanged.
    await watcher.getByLabel('New todo').fill('sneaky');
    await watcher.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => watcher.locator('#todo-status').textContent(), POLL).toContain('(unauthorized)');
    expect(await texts(editor)).toEqual(['buy milk']);
    expect(problems).toEqual([]);
  }, 90_000);

  it('runs the Directus seed\'s sample with the browser\'s WebSocket: auth, subscribe, three creates, latest', async () => {
    const problems: string[] = [];
    const p = await page(problems);
    const { token } = await signToken();
    // The sample's code, its URL and token changed; messages are collected instead of logged.
    const frames = await p.evaluate(
      async ({ url, access_token }) => {
        const got: Array<Record<string, unknown>> = [];
        const connection = new WebSocket(url);
        const next = () => new Promise<void>((done) => connection.addEventListener('message', () => done(), { once: true }));
        connection.addEventListener('message', (message) => {
          const data = JSON.parse(message.data as string) as Record<string, unknown>;
          if (data['type'] !== 'connection') got.push(data);
        });
        const count = (n: number) => new Promise<void>((done) => {
          const check = () => (got.length >= n ? done() : void next().then(check));
          check();
        });
        await new Promise((done) => connection.addEventListener('open', done, { once: true }));
        connection.send(JSON.stringify({ type: 'auth', access_token }));
        await count(1);
        connection.send(JSON.stringify({ type: 'subscribe', collection: 'messages', query: { fields: ['*'] } }));
        await count(2);
        const createItem = (text: string, user: string) => connection.send(JSON.stringify({ type: 'items', collection: 'messages', action: 'create', data: { text, user } }));
        createItem('Hello World!', 'Ben');
        createItem('Hello Universe!', 'Rijk');
        createItem('Hello Everyone Everywhere All At Once!', 'Kevin');
        await count(8);
        connection.send(JSON.stringify({ type: 'items', collection: 'messages', action: 'read', query: { limit: 1, sort: '-date_created' } }));
        await count(9);
        connection.close();
        return got;
      },
      { url: hub.url.replace(/^http/, 'ws') + '/websocket', access_token: token },
    );
    expect(frames[0]).toEqual({ type: 'auth', status: 'ok' });
    expect(frames[1]).toMatchObject({ type: 'subscription', event: 'init' });
    const creates = frames.slice(2, 8);
    expect(creates.filter((f) => f['type'] === 'items').map((f) => (f['data'] as { user: string }).user)).toEqual(['Ben', 'Rijk', 'Kevin']);
    expect(creates.filter((f) => f['type'] === 'subscription' && f['event'] === 'create')).toHaveLength(3);
    expect(frames[8]).toMatchObject({ type: 'items', data: [{ text: 'Hello Everyone Everywhere All At Once!', user: 'Kevin' }] });
    expect(problems).toEqual([]);
  }, 60_000);
});

/**
 * The demo page's HTTP side: content types, cache headers, content-hashed assets, the config flag
 * that turns it off, and one bundle per process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../../src/http/demo.js';
import { startHub, stopAll } from '../helpers.js';

afterAll(stopAll);

describe('demo page', () => {
  it('serves the page no-cache and its hashed assets immutable, with their content types', async () => {
    const hub = await startHub();
    for (const path of ['/', '/demo', '/demo/rooms/lobby']) {
      const page = await fetch(hub.url + path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await page.text()).toContain('<title>Walker Hub demo</title>');
    }
    const html = await (await fetch(hub.url)).text();
    const script = /src="(\/demo-assets\/app\.[\w-]{12}\.js)"/.exec(html)?.[1];
    const style = /href="(\/demo-assets\/demo\.[\w-]{12}\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();

    const js = await fetch(hub.url + script!);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const code = await js.text();
    expect(code).toContain('/websocket');
    // Types only from the protocol module: zod stays out of the browser bundle.
    expect(code).not.toMatch(/ZodError|\$ZodType/);
    const css = await fetch(hub.url + style!);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const missing = await fetch(`${hub.url}/demo-assets/app.nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('is bundled once per process: every hub serves the same bundle', async () => {
    const [a, b] = await Promise.all([startHub(), startHub()]);
    const [pa, pb] = await Promise.all([fetch(a.url).then((r) => r.text()), fetch(b.url).then((r) => r.text())]);
    expect(pa).toBe(pb);
    expect(await buildDemo()).toBe(await buildDemo());
  });

  it('--demo false turns it off: / is a JSON 404 like any unknown route', async () => {
    const hub = await startHub({ demo: 'false' });
    for (const path of ['/', '/demo/x']) {
      const res = await fetch(hub.url + path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});

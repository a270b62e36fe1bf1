/**
 * The demo page: `demo/` (HTML, CSS, a plain-JS app using walker-hub/client), bundled for the
 * browser once per process with esbuild and then served from memory.
 *
 * Caching: the page is `no-cache` (always revalidated, so a restarted hub's new script names are
 * picked up), and the script and style sheet have content-hashed names served `immutable` for a
 * year, so a browser fetches each version once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { errorResponse, RawBody, type RestRequest, type RestResponse } from './request.js';
import { HubError } from '../errors.js';

const DEMO_DIR = new URL('../../demo/', import.meta.url);
// The SDK as this process runs it: sources in a checkout (under tsx), the built JS in a package.
const CLIENT_ENTRY = fileURLToPath(new URL(`../client/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** Where the page finds its assets; a name is `app.<hash>.js` or `demo.<hash>.css`. */
export const ASSET_PREFIX = '/demo-assets/';

const PAGE_HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Only this origin's script, style and sockets; no inline script, so injected markup cannot run.
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};
const ASSET_HEADERS = { 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' };

export interface DemoBundle {
  readonly page: RawBody;
  readonly assets: ReadonlyMap<string, RawBody>;
  /** Bundle size of the page script, bytes (minified). */
  readonly scriptBytes: number;
}

let built: Promise<DemoBundle> | null = null;

/** Bundles the demo once per process (every hub in it shares the result). */
export function buildDemo(): Promise<DemoBundle> {
  built ??= bundle().catch((err: unknown) => {
    built = null;
    throw err;
  });
  return built;
}

async function bundle(): Promise<DemoBundle> {
  const [result, css, html] = await Promise.all([
    build({
      entryPoints: [fileURLToPath(new URL('app.js', DEMO_DIR))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      write: false,
      logLevel: 'silent',
      alias: { 'walker-hub/client': CLIENT_ENTRY },
      // Browsers have a global WebSocket; the SDK imports `ws` only where none exists.
      external: ['ws'],
    }),
    readFile(new URL('demo.css', DEMO_DIR)),
    readFile(new URL('index.html', DEMO_DIR), 'utf8'),
  ]);
  const script = result.outputFiles[0];
  if (!script) throw new Error('demo bundle produced no output');
  const scriptName = `app.${hash(script.contents)}.js`;
  const cssName = `demo.${hash(css)}.css`;
  const page = html.replaceAll('{{script}}', ASSET_PREFIX + scriptName).replaceAll('{{style}}', ASSET_PREFIX + cssName);
  return {
    page: new RawBody('text/html; charset=utf-8', page),
    assets: new Map([
      [scriptName, new RawBody('text/javascript; charset=utf-8', Buffer.from(script.contents))],
      [cssName, new RawBody('text/css; charset=utf-8', css)],
    ]),
    scriptBytes: script.contents.byteLength,
  };
}

function hash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 12);
}

/**
 * GET routes: the page at `/` and under `/demo/` (so the Directual redirect rules, which change the
 * path, land on the page again), and its assets.
 */
export function createDemoRoutes(demo: DemoBundle): Record<string, (req: RestRequest) => RestResponse> {
  const page = (): RestResponse => ({ status: 200, body: demo.page, headers: PAGE_HEADERS });
  return {
    '/': page,
    '/demo': page,
    '/demo/*': page,
    [`${ASSET_PREFIX}:name`]: (req) => {
      const asset = demo.assets.get(req.name);
      return asset ? { status: 200, body: asset, headers: ASSET_HEADERS } : errorResponse(new HubError('not_found', `No demo asset ${req.name}`));
    },
  };
}

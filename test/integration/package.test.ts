/**
 * The npm package as a user gets it: `npm pack` (whose prepack builds dist/), installed into a
 * fresh project with `npm install <tarball>` (dependencies from the npm registry), then there:
 * `npx walker-hub` serves a JS and a TS walker, and `walker-hub/client` imports from a plain .mjs.
 *
 * Packing runs in a copy of the package's files (node_modules linked), so the checkout gets no
 * dist/ and nothing else written: `npm test` keeps running the sources.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { standaloneEnv } from '../helpers.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const PACKAGE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'demo', 'walkers', 'collections', 'README.md'];
const tmp = mkdtempSync(join(tmpdir(), 'walker-hub-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('packs, installs into a fresh project, serves JS and TS walkers with npx, and imports walker-hub/client', async () => {
  const distBefore = existsSync(join(REPO, 'dist'));
  const copy = join(tmp, 'source');
  mkdirSync(copy);
  for (const name of PACKAGE_FILES) cpSync(join(REPO, name), join(copy, name), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  await run('npm', ['pack', '--pack-destination', tmp], { cwd: copy });
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  expect(tarball).toBeDefined();

  const app = join(tmp, 'app');
  mkdirSync(join(app, 'my-walkers'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // ws: the SDK's optional peer, for Node 20 (no global WebSocket).
  await run('npm', ['install', '--no-audit', '--no-fund', join(tmp, tarball!), 'ws@8.23.0'], { cwd: app });
  const installed = join(app, 'node_modules/walker-hub');
  expect(existsSync(join(installed, 'dist/index.js'))).toBe(true);
  expect(existsSync(join(installed, 'dist/index.d.ts'))).toBe(true);
  expect(existsSync(join(installed, 'dist/client/index.d.ts'))).toBe(true);
  expect(existsSync(join(installed, 'src'))).toBe(false);

  writeFileSync(
    join(app, 'my-walkers/echo_js.js'),
    `import { defineWalker, z } from 'walker-hub';
export default defineWalker({ input: z.object({ text: z.string() }), auth: false, methods: ['post', 'websocket'], run: (_ctx, { text }) => ({ echoed: text }) });
`,
  );
  writeFileSync(
    join(app, 'my-walkers/greet_ts.ts'),
    `import { defineWalker, z, type WalkerContext } from 'walker-hub';
const input = z.object({ name: z.string() });
type Input = z.infer<typeof input>;
const greet = (ctx: WalkerContext, i: Input): string => \`hello \${i.name} via \${ctx.via}\`;
export default defineWalker({ input, auth: false, methods: ['post', 'websocket'], run: (ctx, i) => greet(ctx, i) });
`,
  );

  const hub = spawn('npx', ['--no-install', 'walker-hub', '--port', '0', '--announce', 'true', '--walkers', 'my-walkers', '--data-dir', 'data', '--log-level', 'warn'], {
    cwd: app,
    env: standaloneEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  hub.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => hub.once('exit', (code) => done(code)));
  try {
    const url = await new Promise<string>((done, fail) => {
      let out = '';
      hub.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
        if (line) done((JSON.parse(line) as { listening: string }).listening);
      });
      void exited.then((code) => fail(new Error(`walker-hub exited (${code}) before listening: ${stderr}`)));
    });

    const call = async (walker: string, body: unknown) => {
      const res = await fetch(`${url}/walker/${walker}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await call('echo_js', { text: 'hi' })).toEqual({ status: 200, body: { status: 200, reports: [{ echoed: 'hi' }] } });
    expect(await call('greet_ts', { name: 'ts' })).toEqual({ status: 200, body: { status: 200, reports: ['hello ts via post'] } });
    // The demo page is bundled from the package's built client.
    const page = await fetch(url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');

    writeFileSync(
      join(app, 'client.mjs'),
      `import { connect } from 'walker-hub/client';
const hub = connect(process.argv[2]);
const info = await hub.ready;
console.log(JSON.stringify({ info, reports: await hub.call('greet_ts', { name: 'sdk' }) }));
hub.close();
`,
    );
    const { stdout } = await run(process.execPath, ['client.mjs', url], { cwd: app });
    const result = JSON.parse(stdout) as { info: { client_id: string }; reports: unknown[] };
    expect(result.info.client_id).toEqual(expect.any(String));
    expect(result.reports).toEqual(['hello sdk via websocket']);
  } finally {
    // npx runs the hub as its child: signal the whole process group this test started.
    if (hub.exitCode === null && hub.pid !== undefined) process.kill(-hub.pid, 'SIGTERM');
    await exited;
  }
  expect(existsSync(join(REPO, 'dist'))).toBe(distBefore);
}, 240_000);

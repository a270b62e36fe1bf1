/**
 * The npm package as a user gets it: `npm pack` (whose prepack builds dist/) in a copy of the
 * package's files (node_modules linked), so the checkout gets no dist/ and nothing else written:
 * `npm test` keeps running the sources. Then:
 * - the tarball's file list (`npm pack --json`, the list `npm publish` would upload): dist/ complete,
 *   no tests, bench, data or sources;
 * - `walker-hub/client`'s types compile in a consumer without @types/node, under moduleResolution
 *   node16, nodenext, bundler (and node10, through `typesVersions`);
 * - installed into a fresh project with `npm install <tarball>` (dependencies from the npm registry):
 *   `npx walker-hub` serves a JS and a TS walker, and `walker-hub/client` imports from a plain .mjs.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standaloneEnv } from '../helpers.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const PACKAGE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'demo', 'walkers', 'require.cjs', 'README.md'];
const tmp = mkdtempSync(join(tmpdir(), 'walker-hub-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let tarball = '';
let packed: string[] = [];
let distBefore = false;

beforeAll(async () => {
  distBefore = existsSync(join(REPO, 'dist'));
  const copy = join(tmp, 'source');
  mkdirSync(copy);
  // What packing needs: the build's inputs and everything package.json's "files" ships.
  const shipped = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files: string[] }).files.filter((f) => f !== 'dist');
  for (const name of new Set([...PACKAGE_FILES, ...shipped])) cpSync(join(REPO, name), join(copy, name), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // --json: stdout is the pack report alone (prepack's build writes to stderr).
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: copy });
  const [report] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(tmp, report!.filename);
  packed = report!.files.map((f) => f.path);
}, 120_000);

/** Every .ts file under `dir` (relative to src/), recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [relative(join(REPO, 'src'), join(dir, e.name))] : [],
  );
}

it('is publishable and its tarball holds dist/ complete, the command, demo, walkers and docs, and nothing else', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { private?: boolean; files: string[] };
  expect(pkg.private).toBeUndefined();
  expect(existsSync(tarball)).toBe(true);
  // Exactly what package.json's "files" lists (each of them present), and package.json itself.
  const top = [...new Set(packed.map((p) => p.split('/')[0]!))].sort();
  expect(top).toEqual([...pkg.files, 'package.json'].sort());
  for (const name of ['bin', 'dist', 'demo', 'walkers', 'docs', 'README.md']) expect(pkg.files).toContain(name);
  // No tests, bench, data, sources or build leftovers, at any depth.
  expect(packed.filter((p) => /(^|\/)(test|tests|bench|data|src|node_modules|conformance)\//.test(p) || /\.(test|spec)\.|\.tsbuildinfo$|\.tgz$/.test(p))).toEqual([]);
  // dist/ complete: every source module as JavaScript with its declarations.
  const missing = sources(join(REPO, 'src')).flatMap((f) => {
    const base = `dist/${f.replace(/\.ts$/, '')}`;
    return [`${base}.js`, `${base}.d.ts`].filter((p) => !packed.includes(p));
  });
  expect(missing).toEqual([]);
  for (const f of ['bin/walker-hub.js', 'demo/index.html', 'docs/configuration.md', 'walkers/send_alert.ts']) expect(packed).toContain(f);
});

it('types walker-hub/client for a consumer without @types/node, under node16, nodenext, bundler and node10', async () => {
  const app = join(tmp, 'types-consumer');
  const installed = join(app, 'node_modules/walker-hub');
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  // zod: the one dependency the client's declarations reach (the wire protocol's types).
  symlinkSync(join(REPO, 'node_modules/zod'), join(app, 'node_modules/zod'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'types-consumer', private: true, type: 'module' }));
  writeFileSync(
    join(app, 'client.ts'),
    `import { connect, HubClientError, type ConnectionInfo } from 'walker-hub/client';
const hub = connect('http://127.0.0.1:8000', { token: 't', reconnect: false });
const info: ConnectionInfo = await hub.ready;
const id: string = info.client_id;
const reports: unknown[] = await hub.call('echo', { text: 'hi' }, { timeoutMs: 1000 });
hub.on('chat', (frame) => void [frame.type, id, reports]);
try {
  await hub.subscribe(['lobby']);
} catch (err) {
  if (err instanceof HubClientError) void [err.status, err.code];
}
// @ts-expect-error a walker name is a string: real types, not any
void hub.call(42);
hub.close();
`,
  );
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  // Browser projects (DOM lib) are checked whole, the package's declarations included. Node projects
  // without @types/node have no DOM lib either; zod's own declarations name URL (a DOM / @types/node
  // global), so such projects need skipLibCheck (tsc --init's default). node10 ignores "exports":
  // the package's typesVersions maps walker-hub/client there (zod's CommonJS declarations need skipLibCheck).
  const cases = [
    ...(['node16', 'nodenext', 'bundler'] as const).flatMap((resolution) => [
      { resolution, lib: ['es2022', 'dom'], skipLibCheck: false },
      { resolution, lib: ['es2022'], skipLibCheck: true },
    ]),
    { resolution: 'node10', lib: ['es2022', 'dom'], skipLibCheck: true },
  ];
  const failures: string[] = [];
  for (const c of cases) {
    const module = c.resolution === 'node16' || c.resolution === 'nodenext' ? c.resolution : 'esnext';
    const config = { compilerOptions: { strict: true, noEmit: true, target: 'es2022', module, moduleResolution: c.resolution, lib: c.lib, types: [], skipLibCheck: c.skipLibCheck }, files: ['client.ts'] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
    const out = await run(process.execPath, [tsc, '-p', app]).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    if (out !== '') failures.push(`${JSON.stringify(c)}:\n${out}`);
  }
  expect(failures).toEqual([]);
}, 120_000);

it('installs into a fresh project, serves JS and TS walkers with npx, and imports walker-hub/client', async () => {
  const app = join(tmp, 'app');
  mkdirSync(join(app, 'my-walkers'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // ws: the SDK's optional peer, for Node 20 (no global WebSocket).
  await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'ws@8.23.0'], { cwd: app });
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
}, 240_000);

it('leaves the checkout without a dist/ of its own', () => {
  expect(existsSync(join(REPO, 'dist'))).toBe(distBefore);
});

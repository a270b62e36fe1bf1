/** The `walker-hub` command as `npm start` runs it: a real child process. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { announcedPort, HUB_BIN as BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, stopAll, tempDir } from '../helpers.js';
import { selfSigned } from '../tls-certs.js';

/** The default `--data-dir` (`data`), relative to the checkout the hub is started from. */
const CHECKOUT_DATA = resolve(import.meta.dirname, '../../data');
let checkoutHadData = false;

beforeAll(() => {
  checkoutHadData = existsSync(CHECKOUT_DATA);
});

afterAll(async () => {
  await stopAll();
  // Every hub below gets its own --data-dir, so none may create the default one in the checkout.
  if (!checkoutHadData) expect(existsSync(CHECKOUT_DATA)).toBe(false);
});

afterEach(killChildren);

/** Runs the command from the checkout (its default data folder would be `./data`) with a temp --data-dir. */
function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, '--data-dir', tempDir('walker-hub-cli-'), ...args], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', ...env }),
  });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited };
}

/** Runs the command from `cwd` (a fresh project: no ./walkers) with a temp --data-dir. */
function runIn(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, '--data-dir', tempDir('walker-hub-cli-'), ...args], { cwd, env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1' }) });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited };
}

/** Resolves with the first stderr line of `child` that `match`es (rejects if the child exits first). */
function untilLine(child: ChildProcessWithoutNullStreams, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const found = lines.find(match);
      if (found === undefined) return;
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      resolve(found);
    };
    const onExit = () => reject(new Error('the hub exited before logging the expected line'));
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The `msg` of every JSON log line (the format when stderr is not a terminal). */
function messages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('walker-hub command', () => {
  it('starts on the example walkers, serves WebSocket and health, and stops cleanly on SIGTERM', async () => {
    const { child, exited } = run(['--port', '0', '--host', '127.0.0.1']);
    const port = await announcedPort(child);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', walkers: 8, clients: 0 });

    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    const [first] = (await once(ws, 'message')) as [Buffer];
    expect(JSON.parse(first.toString())).toMatchObject({ type: 'connection', data: { root_id: 'n::000000000000000000000001' } });
    const closed = once(ws, 'close');
    child.kill('SIGTERM');
    const [code] = (await closed) as [number];
    // A signal drains: sockets are told to reconnect (1012, service restart), not 1001.
    expect(code).toBe(1012);
    const result = await exited;
    expect(result.code).toBe(0);
    expect(messages(result.stderr).some((m) => m.includes('no JWT secret configured'))).toBe(true);
    expect(messages(result.stderr)).toContain('SIGTERM: shutting down');
  });

  it('exits with status 2 when --jwks-url comes without an issuer and an audience, saying why', async () => {
    const { exited } = run(['--port', '0', '--jwks-url', 'https://idp.test/jwks.json']);
    const result = await exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs both --jwt-issuer and --jwt-audience');
  });

  it('exits with status 2 listing every configuration problem', async () => {
    const { exited } = run(['--port', 'abc', '--peer-events', 'nobody']);
    const result = await exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('port (--port / WALKER_HUB_PORT)');
    expect(result.stderr).toContain('peerEvents (--peer-events / WALKER_HUB_PEER_EVENTS)');
  });

  it('exits with status 2 when the TLS key does not match the certificate, or a TLS file is missing, saying why', async () => {
    const a = selfSigned();
    const b = selfSigned(a.dir, 'other');
    const mismatch = await run(['--port', '0', '--tls-cert', a.cert, '--tls-key', b.key]).exited;
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain(`--tls-key ${b.key} does not match the public key of --tls-cert ${a.cert}`);
    const missing = await run(['--port', '0', '--tls-cert', join(a.dir, 'nope.pem'), '--tls-key', a.key]).exited;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--tls-cert ${join(a.dir, 'nope.pem')}: ENOENT`);
  });

  it('serves wss:// with --tls-cert/--tls-key and re-checks the files on SIGHUP', async () => {
    const pair = selfSigned();
    const { child } = run(['--port', '0', '--host', '127.0.0.1', '--tls-cert', pair.cert, '--tls-key', pair.key]);
    const port = await announcedPort(child);
    const ws = new WebSocket(`wss://127.0.0.1:${port}/websocket`, { ca: readFileSync(pair.cert) });
    const [first] = (await once(ws, 'message')) as [Buffer];
    expect(JSON.parse(first.toString())).toMatchObject({ type: 'connection' });
    const checked = untilLine(child, (line) => line.includes('TLS certificate on disk is the one being served'));
    child.kill('SIGHUP');
    await checked;
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });

  it('refuses to start when a walker module is malformed, naming the file', async () => {
    const dir = tempDir('walkers-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'broken.js'), 'export default { run() {} };\n');
    const { exited } = run(['--port', '0', '--walkers', dir]);
    const result = await exited;
    expect(result.code).toBe(1);
    expect(messages(result.stderr).join('\n')).toContain('broken.js: default export must be defineWalker');
  });

  it('in a project with no ./walkers, starts on the bundled examples and says so in one line', async () => {
    const { child, exited } = runIn(tempDir('project-'), ['--port', '0', '--host', '127.0.0.1']);
    const port = await announcedPort(child);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', walkers: 8 });
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    const bundled = resolve(import.meta.dirname, '../../walkers');
    expect(messages(result.stderr).filter((m) => m.startsWith('no ./walkers folder here'))).toEqual([
      `no ./walkers folder here: serving the example walkers bundled with walker-hub (${bundled}); create ./walkers or pass --walkers <folder> for your own`,
    ]);
  });

  it('exits with status 2 and one line when the --walkers folder given is missing', async () => {
    const cwd = tempDir('project-');
    const result = await runIn(cwd, ['--port', '0', '--walkers', 'my-walkers']).exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`Invalid configuration: walkers folder ${join(cwd, 'my-walkers')} (--walkers / WALKER_HUB_WALKERS) does not exist\n`);
  });

  it('writes JSON lines when stderr is not a terminal, and readable text with --log-format text', async () => {
    const json = run(['--port', '0', '--walkers', tempDir('walkers-empty-')]);
    await announcedPort(json.child);
    json.child.kill('SIGTERM');
    const jsonOut = await json.exited;
    expect(jsonOut.code).toBe(0);
    const first = JSON.parse(jsonOut.stderr.split('\n')[0] as string) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'warn', msg: expect.stringContaining('no JWT secret configured'), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    const text = run(['--port', '0', '--walkers', tempDir('walkers-empty-'), '--log-format', 'text']);
    await announcedPort(text.child);
    text.child.kill('SIGTERM');
    const textOut = await text.exited;
    expect(textOut.code).toBe(0);
    const lines = textOut.stderr.split('\n').filter((l) => l !== '');
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: no JWT secret configured/);
    expect(lines.at(-1)).toMatch(/INFO: SIGTERM: shutting down$/);
  });

  it.each([
    ['a folder outside the project (.mts walkers, no package.json)', {}, 'outside.mts'],
    ['a folder with its own package.json', { 'package.json': '{"name":"my-walkers","type":"module"}\n' }, 'own_package.ts'],
  ])("walkers in %s import 'walker-hub' as the running hub's own src/index.ts", async (_kind, extraFiles: Record<string, string>, file) => {
    const dir = tempDir('walkers-');
    for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(dir, name), text);
    writeFileSync(
      join(dir, file),
      [
        "import { defineWalker, z } from 'walker-hub';",
        'export default defineWalker({',
        "  name: 'hello',",
        '  input: z.object({ name: z.string().min(1) }),',
        '  auth: false,',
        "  run: (_ctx, { name }) => ({ hello: name, hub: import.meta.resolve('walker-hub') }),",
        '});',
        '',
      ].join('\n'),
    );
    const { child } = run(['--port', '0', '--host', '127.0.0.1', '--walkers', dir]);
    const port = await announcedPort(child);
    const call = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}/walker/hello`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // The same module URL means the same module instance: one defineWalker, one zod.
    const hub = pathToFileURL(resolve(import.meta.dirname, '../../src/index.ts')).href;
    expect(await call({ name: 'ada' })).toEqual({ status: 200, body: { status: 200, reports: [{ hello: 'ada', hub }] } });
    expect(await call({ name: '' })).toMatchObject({ status: 422, body: { error: { code: 'invalid_input', issues: [{ path: 'name' }] } } });
  });

  it('keeps serving when a walker leaves a rejected promise behind, and logs it', async () => {
    const dir = tempDir('walkers-');
    writeFileSync(
      join(dir, 'dropper.mjs'),
      [
        "import { defineWalker } from 'walker-hub';",
        'export default defineWalker({',
        '  auth: false,',
        "  run: () => { void Promise.reject(new Error('dropped on the floor')); return 'done'; },",
        '});',
        '',
      ].join('\n'),
    );
    const { child, exited } = run(['--port', '0', '--walkers', dir, '--log-format', 'json']);
    const port = await announcedPort(child);
    const call = async () => (await fetch(`http://127.0.0.1:${port}/walker/dropper`, { method: 'POST' })).status;
    expect(await call()).toBe(200);
    expect(await call()).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const out = await exited;
    expect(out.code).toBe(0);
    const lines = out.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; error?: string });
    expect(lines.filter((l) => l.msg.startsWith('unhandled promise rejection')).map((l) => l.error)).toEqual([
      expect.stringContaining('dropped on the floor'),
      expect.stringContaining('dropped on the floor'),
    ]);
  });

  it("keeps serving when a walker's own timer throws, and logs it; a fault outside walker code still ends the process", async () => {
    const dir = tempDir('walkers-');
    const outside = join(tempDir('library-'), 'library.mjs');
    // A "library" outside the walkers folder whose own timer throws: not the walker's fault.
    writeFileSync(outside, "export const later = () => setTimeout(() => { throw new Error('library fault'); }, 0);\n");
    const walker = (name: string, body: string, imports = '') =>
      writeFileSync(join(dir, `${name}.mjs`), [imports, "import { defineWalker } from 'walker-hub';", `export default defineWalker({ auth: false, run: () => { ${body} return 'scheduled'; } });`, ''].join('\n'));
    walker('timer_error', "setTimeout(() => { throw new Error('thrown from a walker timer'); }, 0);");
    walker('timer_string', "setTimeout(() => { throw 'a string from a walker timer'; }, 0);");
    walker('library', 'later();', `import { later } from ${JSON.stringify(pathToFileURL(outside).href)};`);
    const { child, exited } = run(['--port', '0', '--walkers', dir, '--log-format', 'json']);
    const port = await announcedPort(child);
    const logged = (text: string) => untilLine(child, (line) => line.includes(text));
    const call = async (name: string) => (await fetch(`http://127.0.0.1:${port}/walker/${name}`, { method: 'POST' })).status;

    // A socket that is open throughout, and must stay open.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    await once(ws, 'message');
    for (const [name, text] of [['timer_error', 'thrown from a walker timer'], ['timer_string', 'a string from a walker timer']] as const) {
      const line = logged(text);
      expect(await call(name)).toBe(200);
      const entry = JSON.parse(await line) as { msg: string; error: string };
      expect(entry.msg).toContain('uncaught exception in walker code');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }
    ws.send(JSON.stringify({ type: 'ping', uid: 'still-here' }));
    const [pong] = (await once(ws, 'message')) as [Buffer];
    expect(JSON.parse(pong.toString())).toMatchObject({ type: 'pong', uid: 'still-here' });

    const fatal = logged('library fault');
    expect(await call('library')).toBe(200);
    expect((JSON.parse(await fatal) as { msg: string }).msg).toBe('uncaught exception: exiting');
    expect((await exited).code).toBe(1);
  });

  it('prints help', async () => {
    const { child, exited } = run(['--help']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect((await exited).code).toBe(0);
    expect(out).toContain('--peer-events');
  });
});

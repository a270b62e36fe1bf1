/**
 * `--watch` on the real command: walker files added, changed, broken and deleted while clients stay
 * connected. Each step awaits the hub's own log line for it (JSON lines on stderr), never a timer.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir, TestClient, type Frame } from '../helpers.js';

afterEach(killChildren);

type LogLine = Record<string, unknown> & { msg: string };

/** A `walker-hub --watch` process on a folder of its own, with its log lines kept for awaiting. */
async function watchedHub(files: Record<string, string>, args: string[] = []) {
  const folder = join(tempDir('walker-hub-watch-'), 'walkers');
  mkdirSync(folder);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
  const child: ChildProcessWithoutNullStreams = trackChild(
    spawn(process.execPath, [HUB_BIN, '--watch', '--port', '0', '--walkers', folder, '--data-dir', tempDir('walker-hub-watch-data-'), ...args], {
      env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_FORMAT: 'json' }),
    }),
  );
  const lines: LogLine[] = [];
  const waiters: Array<{ from: number; match: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }> = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text === '') continue;
      lines.push(JSON.parse(text) as LogLine);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i] as (typeof waiters)[number];
        const found = lines.slice(w.from).find(w.match);
        if (found) {
          waiters.splice(i, 1);
          w.resolve(found);
        }
      }
    }
  });
  child.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`hub exited (${code}) before logging the expected line:\n${stderr}`));
  });
  const port = await announcedPort(child, () => stderr);
  return {
    folder,
    port,
    url: `http://127.0.0.1:${port}`,
    /** As editors save: a temporary file (skipped by the hub: its name starts with a dot) renamed over the old one, so no read sees half a file. */
    write(name: string, text: string) {
      const temporary = join(folder, `.${name}.saving`);
      writeFileSync(temporary, text);
      renameSync(temporary, join(folder, name));
    },
    remove: (name: string) => rmSync(join(folder, name)),
    /** Where the log is now: `until` from here skips the lines already written. */
    mark: () => lines.length,
    /** The first log line from `from` on that matches. */
    until(from: number, match: (l: LogLine) => boolean): Promise<LogLine> {
      const found = lines.slice(from).find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => waiters.push({ from, match, resolve, reject }));
    },
    /** Every log line from `from` on. */
    since: (from: number) => lines.slice(from),
  };
}

const walker = (body: string) => `import { defineWalker } from 'walker-hub';\nexport default defineWalker({ auth: false, methods: ['websocket', 'post'], ${body} });\n`;

async function rest(url: string, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/walker/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const call = (c: TestClient, name: string): Promise<Frame> => c.request({ type: 'walker', walker: name, response: true, context: {} });

describe('walker-hub --watch', () => {
  it('serves a changed walker on the next call over WebSocket and REST while a call in flight finishes on the old version; sockets stay open', async () => {
    // v1 parks until `release` runs; the gate lives on globalThis so it outlives the module version.
    const v1 = walker(`async run(ctx) { ctx.log.info('v1 parked'); await new Promise((r) => { globalThis.__release = r; }); return 'v1'; }`);
    const hub = await watchedHub({ 'versioned.ts': v1, 'release.ts': walker(`run() { globalThis.__release(); return 'released'; }`) });
    const parkedSocket = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);
    const other = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);
    let closes = 0;
    for (const c of [parkedSocket, other]) c.ws.on('close', () => closes++);

    const parkedAt = hub.mark();
    const inFlight = call(parkedSocket, 'versioned');
    await hub.until(parkedAt, (l) => l.msg === 'v1 parked');

    const reloadAt = hub.mark();
    hub.write('versioned.ts', walker(`run() { return 'v2'; }`));
    expect(await hub.until(reloadAt, (l) => l.msg === 'walker reloaded')).toMatchObject({ walker: 'versioned', file: 'versioned.ts' });

    expect(await call(other, 'versioned')).toMatchObject({ status: 200, reports: ['v2'] });
    expect(await rest(hub.url, 'versioned')).toEqual({ status: 200, body: { status: 200, reports: ['v2'] } });
    // The parked v1 call is still running; releasing it, it answers as v1 did.
    expect(await rest(hub.url, 'release')).toMatchObject({ status: 200 });
    expect(await inFlight).toMatchObject({ status: 200, reports: ['v1'] });
    // The socket that waited is still usable, and the new version serves it too.
    expect(await call(parkedSocket, 'versioned')).toMatchObject({ status: 200, reports: ['v2'] });
    expect(closes).toBe(0);
    expect([parkedSocket.ws.readyState, other.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
    await Promise.all([parkedSocket.close(), other.close()]);
  });

  it('keeps the previous version when a file fails to load and logs why; a delete answers unknown walker; an added walker is callable and in OpenAPI', async () => {
    const hub = await watchedHub({ 'stable.ts': walker(`run() { return 'good'; }`) });
    const client = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);

    // A syntax error: logged with the file, the line and the reason; the good version still answers.
    let at = hub.mark();
    hub.write('stable.ts', `${walker(`run() { return 'broken'; }`)}\nexport const oops = ;\n`);
    const failed = await hub.until(at, (l) => l.msg.startsWith('walker file failed to load'));
    expect(failed.msg).toBe('walker file failed to load; still serving the previous version of stable');
    expect(failed).toMatchObject({ level: 'error', file: 'stable.ts' });
    expect(String((failed.problems as string[])[0])).toMatch(/^stable\.ts: failed to import: .*stable\.ts:\d+:\d+: ERROR: /);
    expect(await call(client, 'stable')).toMatchObject({ status: 200, reports: ['good'] });
    expect(await rest(hub.url, 'stable')).toEqual({ status: 200, body: { status: 200, reports: ['good'] } });

    // A top-level throw and a default export that is not a walker are kept out the same way.
    at = hub.mark();
    hub.write('stable.ts', `throw new Error('top-level failure');\n`);
    expect(await hub.until(at, (l) => l.msg.startsWith('walker file failed to load'))).toMatchObject({ problems: ['stable.ts: failed to import: top-level failure'] });
    expect(await call(client, 'stable')).toMatchObject({ status: 200, reports: ['good'] });

    // Added: callable over both transports and described in /openapi.json.
    at = hub.mark();
    hub.write('fresh.ts', walker(`description: 'Added while running', run() { return 'fresh'; }`));
    expect(await hub.until(at, (l) => l.msg === 'walker added')).toMatchObject({ walker: 'fresh', file: 'fresh.ts' });
    expect(await call(client, 'fresh')).toMatchObject({ status: 200, reports: ['fresh'] });
    expect(await rest(hub.url, 'fresh')).toEqual({ status: 200, body: { status: 200, reports: ['fresh'] } });
    const doc = (await (await fetch(`${hub.url}/openapi.json`)).json()) as { paths: Record<string, { post?: { summary?: string } }> };
    expect(doc.paths['/walker/fresh']?.post?.summary).toBe('Added while running');
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/walker/')).sort()).toEqual(['/walker/fresh', '/walker/stable']);
    expect(((await (await fetch(`${hub.url}/healthz`)).json()) as { walkers: number }).walkers).toBe(2);

    // Deleted: the route stays registered in uWS but answers unknown_walker; OpenAPI drops it.
    at = hub.mark();
    hub.remove('fresh.ts');
    expect(await hub.until(at, (l) => l.msg === 'walker removed')).toMatchObject({ walker: 'fresh' });
    expect(await call(client, 'fresh')).toMatchObject({ type: 'error', error: { code: 'unknown_walker' } });
    const gone = await rest(hub.url, 'fresh');
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'unknown_walker' } });
    const after = (await (await fetch(`${hub.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(after.paths).filter((p) => p.startsWith('/walker/'))).toEqual(['/walker/stable']);

    // Fixing the broken file serves the fix.
    at = hub.mark();
    hub.write('stable.ts', walker(`run() { return 'fixed'; }`));
    await hub.until(at, (l) => l.msg === 'walker reloaded');
    expect(await call(client, 'stable')).toMatchObject({ status: 200, reports: ['fixed'] });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('reloads the walkers that import a helper of the folder when the helper changes, and refuses a second file taking a served name', async () => {
    const helperUser = `import { defineWalker } from 'walker-hub';\nimport { tag } from './_shared.ts';\nexport default defineWalker({ auth: false, run: () => tag });\n`;
    const hub = await watchedHub({ '_shared.ts': `export const tag = 'one';\n`, 'tagged.ts': helperUser });
    expect(await rest(hub.url, 'tagged')).toMatchObject({ body: { reports: ['one'] } });

    let at = hub.mark();
    hub.write('_shared.ts', `export const tag = 'two';\n`);
    await hub.until(at, (l) => l.msg === 'walker reloaded' && l.walker === 'tagged');
    expect(await rest(hub.url, 'tagged')).toMatchObject({ body: { reports: ['two'] } });

    at = hub.mark();
    hub.write('copy.ts', `import { defineWalker } from 'walker-hub';\nexport default defineWalker({ name: 'tagged', auth: false, run: () => 'impostor' });\n`);
    const refused = await hub.until(at, (l) => l.msg.startsWith('walker file failed to load'));
    expect(refused).toMatchObject({ file: 'copy.ts', problems: ['copy.ts: duplicate walker name "tagged" (also defined in tagged.ts)'] });
    expect(await rest(hub.url, 'tagged')).toMatchObject({ body: { reports: ['two'] } });
  });

  it("a namespace's subscribe walker removed by a delete refuses subscriptions (and says so in the log) until it is back", async () => {
    const gate = `import { defineWalker } from 'walker-hub';\nexport default defineWalker({ auth: false, methods: ['websocket'], run: () => true });\n`;
    const channelsFile = join(tempDir('walker-hub-watch-channels-'), 'channels.json');
    writeFileSync(channelsFile, JSON.stringify({ namespaces: { room: { subscribe_walker: 'gate' } } }));
    const hub = await watchedHub({ 'gate.ts': gate }, ['--channels', channelsFile]);
    const client = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);
    expect(await client.request({ type: 'subscribe', channel_ids: ['room:a'] })).toMatchObject({ type: 'subscribed' });

    let at = hub.mark();
    hub.remove('gate.ts');
    expect(await hub.until(at, (l) => l.msg.startsWith('channels file no longer matches the walkers'))).toMatchObject({
      level: 'warn',
      problems: [expect.stringContaining('namespaces.room.subscribe_walker: no walker named "gate" is loaded')],
    });
    expect(await client.request({ type: 'subscribe', channel_ids: ['room:b'] })).toMatchObject({ type: 'error', error: { code: 'forbidden', message: 'Channel "room:b" was refused by gate (unknown_walker)' } });

    at = hub.mark();
    hub.write('gate.ts', gate);
    await hub.until(at, (l) => l.msg === 'walker added');
    expect(await client.request({ type: 'subscribe', channel_ids: ['room:b'] })).toMatchObject({ type: 'subscribed' });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('is off unless asked for: a bare --watch, --watch false, WALKER_HUB_WATCH, and on under npm run dev', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig([], {}).watch).toBe(false);
    expect(loadConfig(['--watch'], {}).watch).toBe(true);
    expect(loadConfig(['--watch', '--port', '0'], {}).watch).toBe(true);
    expect(loadConfig(['--watch', 'false'], {}).watch).toBe(false);
    expect(loadConfig([], { WALKER_HUB_WATCH: '1' }).watch).toBe(true);
    const dev = (await import('../../package.json', { with: { type: 'json' } })).default.scripts.dev;
    expect(dev).toContain('--watch');
  });
});

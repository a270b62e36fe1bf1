/**
 * CommonJS walkers that `require('walker-hub')`: in the checkout (the package's own "require"
 * export condition) and in a project where walker-hub is installed (here linked, as `npm link`
 * does). They get the running hub's own API: its zod schemas validate, its walkerError answers,
 * and `--watch` reloads them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir } from '../helpers.js';

afterEach(killChildren);

const REPO = resolve(import.meta.dirname, '../..');

function run(walkersDir: string, extra: string[] = []) {
  const child: ChildProcessWithoutNullStreams = trackChild(
    spawn(process.execPath, [HUB_BIN, '--port', '0', '--walkers', walkersDir, '--data-dir', tempDir('walker-hub-cjs-'), ...extra], {
      cwd: REPO,
      env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_FORMAT: 'json' }),
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, stderr: () => stderr };
}

/** Resolves once `child` logs a line whose `msg` is `msg` (rejects if it exits first). */
function logged(child: ChildProcessWithoutNullStreams, msg: string): Promise<void> {
  return new Promise((resolveLine, reject) => {
    let partial = '';
    const onData = (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      if (!lines.some((line) => line !== '' && (JSON.parse(line) as { msg: string }).msg === msg)) return;
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      resolveLine();
    };
    const onExit = () => reject(new Error(`hub exited before logging "${msg}"`));
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
}

async function call(port: number, walker: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/walker/${walker}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const CJS_WALKER = (greeting: string) =>
  `const { defineWalker, z } = require('walker-hub');\nmodule.exports = defineWalker({ auth: false, input: z.object({ name: z.string() }), run: (_ctx, { name }) => '${greeting} ' + name });\n`;

describe("CommonJS walkers and require('walker-hub')", () => {
  it('in the checkout: the hub’s own zod validates, walkerError answers, and OpenAPI shows the schema', async () => {
    const hub = run(resolve(REPO, 'test/fixtures/walkers-cjs'));
    const port = await announcedPort(hub.child, hub.stderr);
    expect(await call(port, 'hello_cjs', { name: 'ada' })).toEqual({ status: 200, body: { status: 200, reports: ['hello ada'] } });
    expect(await call(port, 'hello_cjs', {})).toMatchObject({ status: 422, body: { error: { code: 'invalid_input', issues: [{ path: 'name' }] } } });
    expect(await call(port, 'hello_cjs', { name: 'nobody' })).toEqual({ status: 422, body: { status: 422, error: { code: 'walker_failed', message: 'nobody to greet' } } });
    const doc = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { components: { schemas: Record<string, unknown> } };
    expect(doc.components.schemas['walker.hello_cjs']).toMatchObject({ type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } });
  });

  it('in a project where walker-hub is installed, and reloaded by --watch', async () => {
    const project = tempDir('walker-hub-cjs-project-');
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(REPO, join(project, 'node_modules/walker-hub'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'commonjs' }));
    const walkers = join(project, 'walkers');
    mkdirSync(walkers);
    writeFileSync(join(walkers, 'greet.cjs'), CJS_WALKER('hello'));
    const hub = run(walkers, ['--watch']);
    const port = await announcedPort(hub.child, hub.stderr);
    expect(await call(port, 'greet', { name: 'bo' })).toEqual({ status: 200, body: { status: 200, reports: ['hello bo'] } });

    // require caches a CommonJS module by path whatever the import URL says: --watch drops that entry.
    const reloaded = logged(hub.child, 'walker reloaded');
    writeFileSync(join(walkers, '.greet.cjs.saving'), CJS_WALKER('hi'));
    renameSync(join(walkers, '.greet.cjs.saving'), join(walkers, 'greet.cjs'));
    await reloaded;
    expect(await call(port, 'greet', { name: 'bo' })).toEqual({ status: 200, body: { status: 200, reports: ['hi bo'] } });
  });
});

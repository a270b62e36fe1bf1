/**
 * Walker files load as ES modules wherever they live (src/walkers/resolve-hook.ts): a folder with
 * no package.json, or `npm init -y`'s `"type": "commonjs"`, still runs `.js` and `.ts` walkers
 * written with import/export. Files that really are CommonJS stay CommonJS, and fail with a clear
 * message when they cannot reach the hub. Runs the real command, as its hooks are registered there.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir } from '../helpers.js';

afterEach(killChildren);

function run(walkersDir: string) {
  const child = spawn(process.execPath, [HUB_BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir('walker-hub-formats-'), '--walkers', walkersDir], {
    cwd: walkersDir,
    env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1' }),
  });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited, stderr: () => stderr };
}

const ESM_JS = [
  "import { defineWalker, z } from 'walker-hub';",
  "import { shout } from './_shout.js';",
  "export default defineWalker({ name: 'js_walker', auth: false, input: z.object({ text: z.string() }), run: (_ctx, { text }) => shout(text) });",
  '',
].join('\n');
// An ES-module helper beside the walker: relative imports get the same treatment.
const HELPER = 'export const shout = (text) => `${text}!`;\n';
const TS = [
  "import { defineWalker, z } from 'walker-hub';",
  'const suffix: string = "?";',
  "export default defineWalker({ name: 'ts_walker', auth: false, input: z.object({ text: z.string() }), run: (_ctx, { text }: { text: string }) => text + suffix });",
  '',
].join('\n');

async function call(port: number, walker: string, text: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/walker/${walker}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) });
  return res.json();
}

describe('walker module formats', () => {
  it.each([
    ['no package.json', undefined],
    ['"type": "commonjs" (npm init -y)', '{"name":"my-walkers","version":"1.0.0","type":"commonjs"}\n'],
  ])('.js and .ts walkers written as ES modules load from a folder with %s', async (_kind, packageJson) => {
    const dir = tempDir('walkers-');
    if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson);
    writeFileSync(join(dir, 'js_walker.js'), ESM_JS);
    writeFileSync(join(dir, '_shout.js'), HELPER);
    writeFileSync(join(dir, 'ts_walker.ts'), TS);
    const hub = run(dir);
    const port = await announcedPort(hub.child, hub.stderr);
    expect(await call(port, 'js_walker', 'hi')).toEqual({ status: 200, reports: ['hi!'] });
    expect(await call(port, 'ts_walker', 'hi')).toEqual({ status: 200, reports: ['hi?'] });
  });

  it.each([
    ['a .cjs file', 'real.cjs', undefined],
    ['a .js file using require/module.exports in a "type": "commonjs" folder', 'real.js', '{"type":"commonjs"}\n'],
  ])('%s stays CommonJS, and says how to fix a require of the hub', async (_kind, file, packageJson) => {
    const dir = tempDir('walkers-');
    if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson);
    writeFileSync(
      join(dir, file),
      ["const { defineWalker, z } = require('walker-hub');", 'module.exports = defineWalker({ auth: false, input: z.object({}), run: () => 1 });', ''].join('\n'),
    );
    const result = await run(dir).exited;
    expect(result.code).toBe(1);
    // Ran as CommonJS (an ES module would have had no `require`), so Node's require reported the miss.
    expect(result.stderr).toContain(`${file}: failed to import: Cannot find module 'walker-hub': require('walker-hub') works only where walker-hub is installed`);
  });

  it('a CommonJS walker that needs nothing from the hub but its shape is told what its export lacks', async () => {
    const dir = tempDir('walkers-');
    writeFileSync(join(dir, 'plain.cjs'), "exports.run = () => 'x';\n");
    const result = await run(dir).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('plain.cjs: default export must be defineWalker');
  });
});

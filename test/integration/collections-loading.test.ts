/**
 * Loading collection modules: every problem of a folder reported at once, each naming its file;
 * the command refusing to start on them (status 1, as for bad walkers), loading --collections /
 * WALKER_HUB_COLLECTIONS, and ./collections by default when the project has one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectionLoadError, loadCollections } from '../../src/collections/loader.js';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir } from '../helpers.js';

afterEach(killChildren);

const GOOD = `import { defineCollection, z } from 'walker-hub';
export default defineCollection({ schema: z.object({ text: z.string() }), access: { read: 'public', create: 'public' } });
`;

function folder(files: Record<string, string>): string {
  const dir = tempDir('collections-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function start(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = trackChild(spawn(process.execPath, [HUB_BIN, '--data-dir', tempDir('walker-hub-cli-'), '--port', '0', '--host', '127.0.0.1', ...args], { cwd, env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', ...env }) }));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited };
}

describe('loadCollections', () => {
  it('reports every problem of the folder at once, each naming its file', async () => {
    const dir = folder({
      'good.js': GOOD,
      'not_one.js': 'export default { schema: 1 };\n',
      'syntax.js': 'export default defineCollection({\n',
      'bad_bits.js': `import { defineCollection, z } from 'walker-hub';
export default defineCollection({ name: 'bad-name', schema: z.string(), access: { read: 'everyone', write: 'public' } });
`,
      'clash.js': `import { defineCollection, z } from 'walker-hub';
export default defineCollection({ schema: z.object({ id: z.string(), owner: z.string(), 'a b': z.string() }), access: {}, indexes: ['nope'] });
`,
      'twin.js': `import { defineCollection, z } from 'walker-hub';
export default defineCollection({ name: 'good', schema: z.object({}), access: {} });
`,
      '_helper.js': 'export const x = 1;\n',
    });
    const err = await loadCollections(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CollectionLoadError);
    const problems = (err as CollectionLoadError).problems;
    expect(problems).toEqual([
      'bad_bits.js: collection name "bad-name" must match /^[A-Za-z_][A-Za-z0-9_]{0,63}$/ (it becomes a URL path)',
      'bad_bits.js: schema must be a zod object (z.object({...}))',
      'bad_bits.js: access.read must be one of public, authenticated, owner, none',
      'bad_bits.js: access.write is not an action (read, create, update, delete)',
      'clash.js: field "id" is kept by the hub (id, owner, created_at, updated_at); remove it from the schema',
      'clash.js: field "owner" is kept by the hub (id, owner, created_at, updated_at); remove it from the schema',
      'clash.js: field "a b" must match /^[A-Za-z_][A-Za-z0-9_]{0,63}$/',
      'clash.js: indexes names "nope", which is not a field of the schema',
      'not_one.js: default export must be defineCollection({ schema, access, ... })',
      expect.stringMatching(/^syntax\.js: failed to import: /),
      'twin.js: duplicate collection name "good" (also defined in good.js)',
    ]);
  });
});

describe('the command', () => {
  it('refuses to start on a bad collection module (status 1), naming the file', async () => {
    const dir = folder({ 'broken.js': 'export default { access: {} };\n' });
    const result = await start(tempDir('project-'), ['--collections', dir]).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('broken.js: default export must be defineCollection');
  });

  it('refuses to start when the collections folder given is missing', async () => {
    const cwd = tempDir('project-');
    const result = await start(cwd, [], { WALKER_HUB_COLLECTIONS: 'missing' }).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`collections folder ${join(cwd, 'missing')}`);
  });

  it('loads ./collections by default when the project has one, and serves its items', async () => {
    const cwd = tempDir('project-');
    mkdirSync(join(cwd, 'collections'));
    writeFileSync(join(cwd, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(cwd, 'collections/notes.js'), GOOD);
    const { child, exited } = start(cwd, []);
    const port = await announcedPort(child);
    const res = await fetch(`http://127.0.0.1:${port}/items/notes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"hi"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { text: 'hi', id: expect.any(String) } });
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });
});

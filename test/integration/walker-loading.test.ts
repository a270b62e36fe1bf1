/**
 * loadWalkers(dir) on fixture folders (test/fixtures/walkers-*): what loads, what is skipped, and
 * how every problem is reported at once, each naming its file.
 */
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadWalkers, WalkerLoadError } from '../../src/walkers/loader.js';
import { closeClients, post, startHub, stopAll } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const fixture = (name: string) => resolve(import.meta.dirname, '../fixtures', name);
const NAME_RULE = String(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/);
const BAD_METHODS = 'methods must be a non-empty list of "websocket", "post", "get", "put", "patch", "delete"';

/** Awaits a rejection and returns it as a WalkerLoadError (failing if it is anything else). */
async function loadError(dir: string): Promise<WalkerLoadError> {
  const error: unknown = await loadWalkers(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WalkerLoadError);
  const loadErr = error as WalkerLoadError;
  expect(loadErr.name).toBe('WalkerLoadError');
  // The message lists every problem.
  for (const p of loadErr.problems) expect(loadErr.message).toContain(p);
  return loadErr;
}

describe('loadWalkers: a valid folder', () => {
  it('loads walkers by file name and by explicit name, with defaults applied', async () => {
    const walkers = await loadWalkers(fixture('walkers-valid'));
    expect([...walkers.keys()].sort()).toEqual(['alpha', 'custom_beta']);
    const alpha = walkers.get('alpha');
    expect(alpha).toMatchObject({ name: 'alpha', file: resolve(fixture('walkers-valid'), 'alpha.mjs'), auth: false });
    expect([...(alpha?.methods ?? [])]).toEqual(['websocket', 'post']);
    const beta = walkers.get('custom_beta');
    expect(beta).toMatchObject({ name: 'custom_beta', file: resolve(fixture('walkers-valid'), 'beta_file.js'), auth: true });
    expect([...(beta?.methods ?? [])]).toEqual(['post']);
  });

  it('skips _helpers, *.d.ts, *.test.* / *.spec.* and non-module files (each would fail if imported)', async () => {
    const walkers = await loadWalkers(fixture('walkers-valid'));
    const files = [...walkers.values()].map((w) => w.file.split('/').pop()).sort();
    expect(files).toEqual(['alpha.mjs', 'beta_file.js']);
  });

  it('a hub started on the folder serves the loaded walkers', async () => {
    const hub = await startHub({ walkersDir: fixture('walkers-valid') });
    expect([...hub.walkers.keys()].sort()).toEqual(['alpha', 'custom_beta']);
    const res = await post(hub, '/walker/alpha', { text: 'x' });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 200, reports: ['alpha:x'] } });
  });
});

describe('loadWalkers: problems, each naming its file', () => {
  it('a default export that is not a walker (plain object, no default export)', async () => {
    const e = await loadError(fixture('walkers-not-walker'));
    expect(e.problems).toEqual([
      'no_default.mjs: default export must be defineWalker({ input, run, ... })',
      'plain_object.js: default export must be defineWalker({ input, run, ... })',
    ]);
  });

  it('a module that throws on import', async () => {
    const e = await loadError(fixture('walkers-throws'));
    expect(e.problems).toEqual(['explodes.js: failed to import: kaboom while importing']);
  });

  it('a module with a syntax error', async () => {
    const e = await loadError(fixture('walkers-syntax'));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^broken\.js: failed to import: \S/);
  });

  it('a duplicate name across two files names both files', async () => {
    const e = await loadError(fixture('walkers-duplicate'));
    expect(e.problems).toEqual(['second.mjs: duplicate walker name "same_name" (also defined in first.js)']);
    expect(e.message).toContain('first.js');
    expect(e.message).toContain('second.mjs');
  });

  it('an invalid name, from the file name or given explicitly', async () => {
    const e = await loadError(fixture('walkers-bad-name'));
    expect(e.problems).toEqual([
      `bad-file-name.js: walker name "bad-file-name" must match ${NAME_RULE} (it becomes a URL path)`,
      `explicit.mjs: walker name "1 bad/name" must match ${NAME_RULE} (it becomes a URL path)`,
    ]);
  });

  it('bad methods (unknown method, empty list)', async () => {
    const e = await loadError(fixture('walkers-bad-methods'));
    expect(e.problems).toEqual([`get_method.js: ${BAD_METHODS}`, `no_methods.mjs: ${BAD_METHODS}`]);
  });

  it('a missing folder', async () => {
    const dir = fixture('walkers-does-not-exist');
    const e = await loadError(dir);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toContain(`walkers folder ${dir}:`);
    expect(e.problems[0]).toContain('ENOENT');
  });

  it('reports several problems from several files at once', async () => {
    const e = await loadError(fixture('walkers-many-problems'));
    expect(e.problems).toEqual([
      'b_throws.js: failed to import: b_throws failed on import',
      'c_not_walker.mjs: default export must be defineWalker({ input, run, ... })',
      `d_bad_methods.js: ${BAD_METHODS}`,
      'e_no_run.js: run must be a function',
      'e_no_run.js: auth must be true or false',
    ]);
    expect(e.message).not.toContain('a_ok.js');
  });
});

describe('createHub with a bad walkers folder', () => {
  it('rejects with WalkerLoadError naming the file, and leaves no hub running', async () => {
    const error: unknown = await startHub({ walkersDir: fixture('walkers-throws') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WalkerLoadError);
    expect((error as WalkerLoadError).problems).toEqual(['explodes.js: failed to import: kaboom while importing']);
    const missing: unknown = await startHub({ walkersDir: fixture('walkers-does-not-exist') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(WalkerLoadError);
    // A hub on a good folder still starts (and stopAll has only that one to close).
    const hub = await startHub({ walkersDir: fixture('walkers-valid') });
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });
});

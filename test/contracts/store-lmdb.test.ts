/**
 * The embedded LMDB store: the shared contract on a fresh folder per test, plus what only a
 * local store can show: data surviving a clean restart and a SIGKILL right after writes resolved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withDeadline } from '../../src/store/deadline.js';
import { createLmdbStore } from '../../src/store/lmdb.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { storeContract } from './store.contract.js';
import { LMDB_SCAN_CAP, QueryTooBroadError } from '../../src/store/items.js';
import { itemsContract } from './items.contract.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CRASH_WRITER = join(ROOT, 'test/fixtures/store-crash-writer.ts');
const HOUR = 3_600_000;

storeContract('lmdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walker-hub-lmdb-'));
  const store = await createLmdbStore(dir);
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** An LMDB store in a fresh folder behind the store deadline, as the hub calls it. */
async function deadlineLmdb() {
  const dir = await mkdtemp(join(tmpdir(), 'walker-hub-lmdb-'));
  const store = withDeadline(await createLmdbStore(dir), { timeoutMs: 5000 });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

itemsContract('lmdb', deadlineLmdb);

// The hub calls its store through the deadline wrapper: the contract holds through it too.
storeContract('lmdb behind the store deadline', deadlineLmdb);

describe('lmdb items past the scan cap', () => {
  it('answers creation-order queries that fill early, and refuses (never truncates) ones that would examine more than the cap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'walker-hub-lmdb-'));
    const store = await createLmdbStore(dir);
    try {
      const writes: Promise<void>[] = [];
      for (let i = 0; i <= LMDB_SCAN_CAP; i++) {
        const t = `2026-01-01T00:00:${String(Math.floor(i / 1e6)).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}Z`;
        writes.push(store.items.insert('big', { id: `i${String(i).padStart(6, '0')}`, owner: null, created: t, updated: t, rev: 1, data: { n: i } }));
      }
      await Promise.all(writes);
      const latest = await store.items.query('big', { filter: null, sort: [{ path: 'created', dir: -1 }], limit: 2, offset: 0 });
      expect(latest.map((i) => i.data['n'])).toEqual([LMDB_SCAN_CAP, LMDB_SCAN_CAP - 1]);
      const early = await store.items.query('big', { filter: { kind: 'cmp', path: 'data.n', op: 'lt', value: 3 }, sort: [{ path: 'created', dir: 1 }], limit: 3, offset: 0 });
      expect(early.map((i) => i.data['n'])).toEqual([0, 1, 2]);
      // Nothing matches: the walk would pass the cap before it could say so.
      await expect(store.items.query('big', { filter: { kind: 'cmp', path: 'data.n', op: 'lt', value: -1 }, sort: [{ path: 'created', dir: 1 }], limit: 3, offset: 0 })).rejects.toThrow(QueryTooBroadError);
      // Another sort needs the whole collection in memory: over the cap, refused.
      await expect(store.items.query('big', { filter: null, sort: [{ path: 'data.n', dir: -1 }], limit: 1, offset: 0 })).rejects.toThrow(QueryTooBroadError);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('lmdb store on disk', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  const children: ChildProcess[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'walker-hub-lmdb-'));
    dirs.push(dir);
    return dir;
  };
  const open = async (dir: string) => {
    const store = await createLmdbStore(dir);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    // A writer is still running only if its test failed before killing it.
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('keeps users, revocations and data across a restart', async () => {
    const dir = await tempDir();
    const now = Date.now();
    const user = { id: 'u-restart', email: 'restart@example.com', root_id: 'n::aaaaaaaaaaaaaaaaaaaaaaaa', password_hash: 'scrypt$y', created_at: now };
    const token = { jti: 'j-restart', user_id: user.id, expires_at: now + HOUR, revoked_at: now };
    const mark = { user_id: user.id, before: now, revoked_at: now };
    const first = await open(dir);
    await first.createUser(user);
    await first.revokeToken(token);
    await first.revokeUserTokens(mark);
    await first.kvPut(user.root_id, 'profile', { name: 'R', tags: ['a', 'b'] });
    await first.kvPut(user.root_id, 'counter', 3);
    await first.close();

    const second = await open(dir);
    expect(second.description).toBe(`lmdb:${dir}`);
    expect(await second.findUserByEmail('RESTART@example.com')).toEqual(user);
    expect(await second.findUserById(user.id)).toEqual(user);
    expect(await second.revocationsSince(0, now)).toEqual({ tokens: [token], users: [mark] });
    expect(await second.kvList(user.root_id)).toEqual([
      { key: 'counter', value: 3 },
      { key: 'profile', value: { name: 'R', tags: ['a', 'b'] } },
    ]);
    await expect(second.createUser({ ...user, id: 'other', root_id: 'n::bbbbbbbbbbbbbbbbbbbbbbbb' })).rejects.toMatchObject({ field: 'email' });
  });

  it('keeps every resolved write when the process is killed without closing', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_WRITER, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('written\n')) child.kill('SIGKILL');
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    expect(exit, stderr).toEqual({ code: null, signal: 'SIGKILL' });

    const store = await open(dir);
    const user = await store.findUserByEmail('crash@example.com');
    expect(user).toMatchObject({ id: 'crash-user', root_id: 'n::cccccccccccccccccccccccc' });
    const revocations = await store.revocationsSince(0, Date.now());
    expect(revocations.tokens.map((t) => t.jti)).toEqual(['crash-jti']);
    expect(revocations.users.map((u) => u.user_id)).toEqual(['crash-user']);
    const data = await store.kvList('n::cccccccccccccccccccccccc', { limit: 1000 });
    expect(data).toHaveLength(51);
    expect(await store.kvGet('n::cccccccccccccccccccccccc', 'last')).toBe('written');
    expect(await store.kvGet('n::cccccccccccccccccccccccc', 'key-49')).toEqual({ i: 49 });
  });

  it('forgets expired token revocations when it opens', async () => {
    const dir = await tempDir();
    const now = Date.now();
    const live = { jti: 'live', user_id: 'u', expires_at: now + HOUR, revoked_at: now };
    const first = await open(dir);
    await first.revokeToken(live);
    await first.revokeToken({ jti: 'expired', user_id: 'u', expires_at: now - 1, revoked_at: now - HOUR });
    await first.close();
    const second = await open(dir);
    // `now` = 0 asks for everything still stored, expired or not: the sweep has deleted the old one.
    expect((await second.revocationsSince(0, 0)).tokens).toEqual([live]);
  });

  it('fails with StoreUnavailableError when the folder cannot be used', async () => {
    const file = join(await tempDir(), 'not-a-folder');
    await writeFile(file, 'x');
    await expect(createLmdbStore(file)).rejects.toThrow(StoreUnavailableError);
  });
});

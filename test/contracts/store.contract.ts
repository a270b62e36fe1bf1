/**
 * The one Store contract: every implementation runs these tests through its own factory
 * (test/store-lmdb.test.ts, test/store-mongodb.test.ts). Each test gets a fresh, empty store.
 *
 * Times are real epoch milliseconds around Date.now(), because a store may forget revocations
 * whose expires_at has passed by the wall clock (LMDB's sweep, MongoDB's TTL index).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REVOKED_FOREVER } from '../../src/auth/revocations.js';
import { DuplicateUserError, MAX_KV_KEY_LENGTH, MAX_KV_VALUE_BYTES, StoreUnavailableError, type Store, type UserRecord } from '../../src/store/store.js';

export interface StoreFixture {
  store: Store;
  /** Closes the store (again, if a test already did) and removes what it created. */
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const rootId = (): string => `n::${randomBytes(12).toString('hex')}`;
let seq = 0;
function newUser(overrides: Partial<UserRecord> = {}): UserRecord {
  seq++;
  return { id: `user-${seq}-${randomBytes(4).toString('hex')}`, email: `user${seq}@example.com`, root_id: rootId(), password_hash: 'scrypt$test', created_at: 1_700_000_000_000 + seq, ...overrides };
}

async function duplicateField(p: Promise<unknown>): Promise<string> {
  const err: unknown = await p.then(() => new Error('expected DuplicateUserError, but the write succeeded'), (e: unknown) => e);
  expect(err).toBeInstanceOf(DuplicateUserError);
  return (err as DuplicateUserError).field;
}

export function storeContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`${name} store contract`, () => {
    let fixture: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('users', () => {
      it('creates a user and finds it by id and by email, normalising the email', async () => {
        const user = newUser({ email: '  Alice.Smith@Example.COM ' });
        await store.createUser(user);
        const stored = { ...user, email: 'alice.smith@example.com' };
        expect(await store.findUserById(user.id)).toEqual(stored);
        expect(await store.findUserByEmail('alice.smith@example.com')).toEqual(stored);
        expect(await store.findUserByEmail(' ALICE.smith@EXAMPLE.com\t')).toEqual(stored);
      });

      it('returns null for unknown users', async () => {
        await store.createUser(newUser());
        expect(await store.findUserById('nobody')).toBeNull();
        expect(await store.findUserByEmail('nobody@example.com')).toBeNull();
      });

      it('rejects an email that differs only in case and whitespace', async () => {
        const first = newUser({ email: 'bob@example.com' });
        await store.createUser(first);
        const second = newUser({ email: ' BOB@Example.com ' });
        expect(await duplicateField(store.createUser(second))).toBe('email');
        expect(await store.findUserById(second.id)).toBeNull();
        expect(await store.findUserByEmail('bob@example.com')).toEqual(first);
      });

      it('rejects a taken root id and a taken id, leaving no partial record', async () => {
        const first = newUser();
        await store.createUser(first);
        const sameRoot = newUser({ root_id: first.root_id });
        expect(await duplicateField(store.createUser(sameRoot))).toBe('root_id');
        expect(await store.findUserByEmail(sameRoot.email)).toBeNull();
        const sameId = newUser({ id: first.id });
        expect(await duplicateField(store.createUser(sameId))).toBe('id');
        expect(await store.findUserByEmail(sameId.email)).toBeNull();
        expect(await store.findUserById(first.id)).toEqual(first);
      });

      it('lets exactly one of many concurrent registrations of one email succeed', async () => {
        const attempts = Array.from({ length: 10 }, (_, i) => newUser({ email: i % 2 ? 'carol@example.com' : 'Carol@Example.com ' }));
        const results = await Promise.allSettled(attempts.map((u) => store.createUser(u)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [attempts[i] as UserRecord] : []));
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason instanceof DuplicateUserError && r.reason.field).toBe('email');
        }
        expect((await store.findUserByEmail('carol@example.com'))?.id).toBe(won[0]?.id);
      });
    });

    describe('revocations', () => {
      it('records a token revocation once, however often it is repeated', async () => {
        const now = Date.now();
        const revocation = { jti: 'jti-1', user_id: 'u1', expires_at: now + HOUR, revoked_at: now };
        await store.revokeToken(revocation);
        await store.revokeToken(revocation);
        await store.revokeToken({ ...revocation, revoked_at: now + 5 });
        expect(await store.revocationsSince(0, now)).toEqual({ tokens: [revocation], users: [] });
      });

      it('keeps a revocation whose token never expires (REVOKED_FOREVER) in force for good', async () => {
        const now = Date.now();
        const forever = { jti: 'no-exp', user_id: 'u1', expires_at: REVOKED_FOREVER, revoked_at: now };
        await store.revokeToken(forever);
        const millennium = now + 1000 * 366 * 24 * HOUR;
        expect(await store.revocationsSince(0, millennium)).toEqual({ tokens: [forever], users: [] });
      });

      it('only ever raises a user revocation mark', async () => {
        const now = Date.now();
        await store.revokeUserTokens({ user_id: 'u1', before: now, revoked_at: now });
        await store.revokeUserTokens({ user_id: 'u1', before: now - 1000, revoked_at: now + 10 });
        expect((await store.revocationsSince(0, now)).users).toEqual([{ user_id: 'u1', before: now, revoked_at: now }]);
        await store.revokeUserTokens({ user_id: 'u1', before: now + 2000, revoked_at: now + 20 });
        expect((await store.revocationsSince(0, now)).users).toEqual([{ user_id: 'u1', before: now + 2000, revoked_at: now + 20 }]);
      });

      it('returns what was recorded at or after `since` and is still in force at `now`', async () => {
        const t = Date.now();
        const early = { jti: 'early', user_id: 'u1', expires_at: t + 3 * HOUR, revoked_at: t };
        const late = { jti: 'late', user_id: 'u1', expires_at: t + 3 * HOUR, revoked_at: t + 100 };
        const shortLived = { jti: 'short', user_id: 'u2', expires_at: t + HOUR, revoked_at: t + 100 };
        const alreadyExpired = { jti: 'gone', user_id: 'u2', expires_at: t - HOUR, revoked_at: t + 100 };
        for (const r of [early, late, shortLived, alreadyExpired]) await store.revokeToken(r);
        const userEarly = { user_id: 'u3', before: t, revoked_at: t };
        const userLate = { user_id: 'u4', before: t + 100, revoked_at: t + 100 };
        await store.revokeUserTokens(userEarly);
        await store.revokeUserTokens(userLate);

        const byJti = (a: { jti: string }, b: { jti: string }) => a.jti.localeCompare(b.jti);
        const byUser = (a: { user_id: string }, b: { user_id: string }) => a.user_id.localeCompare(b.user_id);
        const all = await store.revocationsSince(0, t);
        expect(all.tokens.sort(byJti)).toEqual([early, late, shortLived]);
        expect(all.users.sort(byUser)).toEqual([userEarly, userLate]);

        const recent = await store.revocationsSince(t + 100, t);
        expect(recent.tokens.sort(byJti)).toEqual([late, shortLived]);
        expect(recent.users).toEqual([userLate]);

        // An hour and a half on, the short-lived token has expired: its revocation is dropped.
        expect((await store.revocationsSince(0, t + 1.5 * HOUR)).tokens.sort(byJti)).toEqual([early, late]);
        expect(await store.revocationsSince(t + 101, t)).toEqual({ tokens: [], users: [] });
      });
    });

    describe('walker data', () => {
      it('round-trips nested JSON values exactly', async () => {
        const root = rootId();
        const value = { s: 'héllo 😀 "quoted"\n', n: -12.5, big: 2 ** 53 - 1, t: true, f: false, nil: null, list: [1, 'two', [3], { four: 4 }], empty: {}, none: [], deep: { a: { b: { c: { d: ['e'] } } } }, $dollar: 1, 'dot.ted': 2 };
        await store.kvPut(root, 'doc', value);
        expect(await store.kvGet(root, 'doc')).toEqual(value);
        for (const scalar of [0, false, null, '', 'text', 42]) {
          await store.kvPut(root, 'scalar', scalar);
          expect(await store.kvGet(root, 'scalar')).toEqual(scalar);
        }
      });

      it('overwrites, deletes and reports whether a key existed', async () => {
        const root = rootId();
        expect(await store.kvGet(root, 'k')).toBeUndefined();
        await store.kvPut(root, 'k', { v: 1 });
        await store.kvPut(root, 'k', { v: 2 });
        expect(await store.kvGet(root, 'k')).toEqual({ v: 2 });
        expect(await store.kvDelete(root, 'k')).toBe(true);
        expect(await store.kvDelete(root, 'k')).toBe(false);
        expect(await store.kvGet(root, 'k')).toBeUndefined();
      });

      it('lists in code point order, by prefix, up to a limit', async () => {
        const root = rootId();
        const keys = ['b', 'a/2', 'A', 'a', 'a/1', 'é', '\u{1F600}', '\uFFFD', 'a/10', 'ab'];
        for (const [i, key] of keys.entries()) await store.kvPut(root, key, i);
        const list = await store.kvList(root);
        expect(list.map((e) => e.key)).toEqual(['A', 'a', 'a/1', 'a/10', 'a/2', 'ab', 'b', 'é', '\uFFFD', '\u{1F600}']);
        expect(list.find((e) => e.key === 'b')?.value).toBe(0);
        expect((await store.kvList(root, { prefix: 'a/' })).map((e) => e.key)).toEqual(['a/1', 'a/10', 'a/2']);
        expect((await store.kvList(root, { prefix: 'a', limit: 2 })).map((e) => e.key)).toEqual(['a', 'a/1']);
        expect(await store.kvList(root, { prefix: 'zzz' })).toEqual([]);
        expect(await store.kvList(root, { prefix: '\u{1F600}' })).toEqual([{ key: '\u{1F600}', value: 6 }]);
      });

      it('lists at most 100 entries unless told otherwise', async () => {
        const root = rootId();
        const keys = Array.from({ length: 105 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
        await Promise.all(keys.map((k) => store.kvPut(root, k, k)));
        const page = await store.kvList(root);
        expect(page.map((e) => e.key)).toEqual(keys.slice(0, 100));
        expect(await store.kvList(root, { limit: 1000 })).toHaveLength(105);
      });

      it('keeps each root separate', async () => {
        const [a, b] = [rootId(), rootId()];
        await store.kvPut(a, 'shared', 'from a');
        await store.kvPut(b, 'shared', 'from b');
        await store.kvPut(b, 'only-b', true);
        expect(await store.kvGet(a, 'shared')).toBe('from a');
        expect(await store.kvGet(a, 'only-b')).toBeUndefined();
        expect(await store.kvList(a)).toEqual([{ key: 'shared', value: 'from a' }]);
        expect(await store.kvDelete(a, 'only-b')).toBe(false);
        expect(await store.kvDelete(a, 'shared')).toBe(true);
        expect(await store.kvGet(b, 'shared')).toBe('from b');
        expect((await store.kvList(b)).map((e) => e.key)).toEqual(['only-b', 'shared']);
      });

      it('refuses keys and values beyond the limits', async () => {
        const root = rootId();
        const longest = 'k'.repeat(MAX_KV_KEY_LENGTH);
        await store.kvPut(root, longest, 1);
        expect(await store.kvGet(root, longest)).toBe(1);
        await expect(store.kvPut(root, `${longest}k`, 1)).rejects.toThrow(RangeError);
        await expect(store.kvPut(root, '', 1)).rejects.toThrow(RangeError);
        await expect(store.kvPut(root, 'lone \uD800 surrogate', 1)).rejects.toThrow(RangeError);
        await expect(store.kvPut(root, 'big', 'x'.repeat(MAX_KV_VALUE_BYTES))).rejects.toThrow(RangeError);
        await expect(store.kvPut(root, 'fn', () => 1)).rejects.toThrow(TypeError);
        await expect(store.kvList(root, { limit: 0 })).rejects.toThrow(RangeError);
        expect(await store.kvList(root)).toEqual([{ key: longest, value: 1 }]);
      });
    });

    describe('lifecycle', () => {
      it('has a description and answers ping', async () => {
        expect(store.description).toMatch(/\S/);
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('fails with StoreUnavailableError once closed, and closes only once', async () => {
        await store.close();
        await store.close();
        await expect(store.ping()).rejects.toThrow(StoreUnavailableError);
        await expect(store.findUserById('x')).rejects.toThrow(StoreUnavailableError);
        await expect(store.kvPut(rootId(), 'k', 1)).rejects.toThrow(StoreUnavailableError);
      });
    });
  });
}

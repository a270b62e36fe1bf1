/**
 * The store deadline wrapper on its own, with a fake store whose operations settle only when the
 * test says so (or never): what it tests is the wrapper, not a backend. The real backends run the
 * shared contract through it (store-lmdb.test.ts) and against a frozen MongoDB
 * (integration/store-deadline-mongodb.test.ts). Timers are vitest's fake ones: no real waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withDeadline, type StoreOp } from '../../src/store/deadline.js';
import { DuplicateUserError, StoreTimeoutError, StoreUnavailableError, type Store } from '../../src/store/store.js';

/** Every operation returns a promise the test settles through `pending` (none settles by itself). */
function stalledStore() {
  const pending: Array<{ op: string; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  const stall = (op: string) => () =>
    new Promise<never>((resolve, reject) => pending.push({ op, resolve: resolve as (v: unknown) => void, reject }));
  const store: Store = {
    description: 'fake:stalled',
    createUser: stall('createUser'),
    findUserByEmail: stall('findUserByEmail'),
    findUserById: stall('findUserById'),
    revokeToken: stall('revokeToken'),
    revokeUserTokens: stall('revokeUserTokens'),
    revocationsSince: stall('revocationsSince'),
    kvGet: stall('kvGet'),
    kvPut: stall('kvPut'),
    kvDelete: stall('kvDelete'),
    kvList: stall('kvList'),
    ping: stall('ping'),
    items: {
      prepare: stall('items.prepare'),
      insert: stall('items.insert'),
      get: stall('items.get'),
      replace: stall('items.replace'),
      remove: stall('items.remove'),
      query: stall('items.query'),
    },
    close: () => Promise.resolve(),
  };
  return { store, pending };
}

const user = { id: 'u1', email: 'a@example.com', root_id: 'n::000000000000000000000000', password_hash: 'x', created_at: 0 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('withDeadline', () => {
  it('rejects an operation that never answers with StoreTimeoutError (a StoreUnavailableError) at the deadline, and reports it once', async () => {
    const { store } = stalledStore();
    const timedOut: StoreOp[] = [];
    const bounded = withDeadline(store, { timeoutMs: 1000, onTimeout: (op) => timedOut.push(op) });
    const outcome = bounded.kvGet('n::root', 'key').then(
      () => null,
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(timedOut).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(StoreTimeoutError);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ op: 'kvGet', timeoutMs: 1000, message: 'fake:stalled: kvGet did not answer within 1000 ms' });
    expect(timedOut).toEqual(['kvGet']);
  });

  it('bounds every operation, each reported by its own name', async () => {
    const { store } = stalledStore();
    const timedOut: StoreOp[] = [];
    const bounded = withDeadline(store, { timeoutMs: 50, onTimeout: (op) => timedOut.push(op) });
    const calls: Array<[StoreOp, () => Promise<unknown>]> = [
      ['createUser', () => bounded.createUser(user)],
      ['findUserByEmail', () => bounded.findUserByEmail('a@example.com')],
      ['findUserById', () => bounded.findUserById('u1')],
      ['revokeToken', () => bounded.revokeToken({ jti: 'j', user_id: 'u1', expires_at: 1, revoked_at: 0 })],
      ['revokeUserTokens', () => bounded.revokeUserTokens({ user_id: 'u1', before: 1, revoked_at: 0 })],
      ['revocationsSince', () => bounded.revocationsSince(0, 0)],
      ['kvGet', () => bounded.kvGet('n::r', 'k')],
      ['kvPut', () => bounded.kvPut('n::r', 'k', 1)],
      ['kvDelete', () => bounded.kvDelete('n::r', 'k')],
      ['kvList', () => bounded.kvList('n::r', { prefix: 'p' })],
      ['ping', () => bounded.ping()],
    ];
    const outcomes = calls.map(([, call]) => call().then(() => null, (err: unknown) => err));
    await vi.advanceTimersByTimeAsync(50);
    const errors = await Promise.all(outcomes);
    expect(errors.map((e) => (e instanceof StoreTimeoutError ? e.op : e))).toEqual(calls.map(([op]) => op));
    expect(timedOut).toEqual(calls.map(([op]) => op));
  });

  it('passes results, arguments and the backend\'s own errors through unchanged, and leaves no timer behind', async () => {
    const { store, pending } = stalledStore();
    const timedOut: StoreOp[] = [];
    const bounded = withDeadline(store, { timeoutMs: 1000, onTimeout: (op) => timedOut.push(op) });
    const listed = bounded.kvList('n::r', { prefix: 'p', limit: 3 });
    const created = bounded.createUser(user).then(() => null, (err: unknown) => err);
    expect(pending.map((p) => p.op)).toEqual([]); // the backend is called on the next microtask
    await vi.advanceTimersByTimeAsync(0);
    expect(pending.map((p) => p.op)).toEqual(['kvList', 'createUser']);
    pending[0]?.resolve([{ key: 'p1', value: 1 }]);
    pending[1]?.reject(new DuplicateUserError('email'));
    expect(await listed).toEqual([{ key: 'p1', value: 1 }]);
    expect(await created).toBeInstanceOf(DuplicateUserError);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(timedOut).toEqual([]);
  });

  it('turns a synchronous throw of the backend into a rejection', async () => {
    const { store } = stalledStore();
    const bounded = withDeadline({ ...store, kvGet: () => { throw new TypeError('bad key'); } }, { timeoutMs: 1000 });
    await expect(bounded.kvGet('n::r', 'k')).rejects.toThrow(TypeError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores what an abandoned operation does after its deadline (a late failure is not an unhandled rejection)', async () => {
    const { store, pending } = stalledStore();
    const bounded = withDeadline(store, { timeoutMs: 10 });
    const outcome = bounded.kvPut('n::r', 'k', 1).then(() => 'resolved', (err: unknown) => err);
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toBeInstanceOf(StoreTimeoutError);
    // vitest fails the run on an unhandled rejection, so this line is the assertion.
    pending[0]?.reject(new StoreUnavailableError('connection reset'));
    await vi.advanceTimersByTimeAsync(0);
  });

  it('passes close through and keeps the description', async () => {
    const { store } = stalledStore();
    const close = vi.fn(() => Promise.resolve());
    const bounded = withDeadline({ ...store, close }, { timeoutMs: 10 });
    expect(bounded.description).toBe('fake:stalled');
    await bounded.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});

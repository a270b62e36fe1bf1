/**
 * A deadline on every store operation, for any backend: `withDeadline(store, ...)` returns a Store
 * whose operations reject with StoreTimeoutError (a StoreUnavailableError, so REST answers 503
 * `store_unavailable` and walkers see a store error) when the backend has not answered within
 * `timeoutMs`. Both backends get it through this one wrapper, applied where the hub is wired.
 *
 * The deadline stops the waiting, not the work: a MongoDB operation already sent may still run on
 * the server, so a write that timed out may or may not have happened. The embedded store's reads are
 * synchronous memory-mapped lookups that finish before any timer can fire; its deadline bounds the
 * writes (which wait on the commit and its fsync).
 *
 * `close()` is passed through unbounded: shutdown bounds it with its own budget (node.ts).
 */
import { withTimeout } from '../timeout.js';
import type { ItemStore } from './items.js';
import { StoreTimeoutError, type Store } from './store.js';

/** The operations a deadline applies to: every method but `close`. */
export type StoreOp = Exclude<keyof Store, 'description' | 'close' | 'items'> | `items.${keyof ItemStore}`;

export interface DeadlineOptions {
  /** Longest wait for one operation, ms. */
  readonly timeoutMs: number;
  /** Told of each operation that missed its deadline (metrics), once per operation. */
  readonly onTimeout?: (op: StoreOp) => void;
}

export function withDeadline(store: Store, options: DeadlineOptions): Store {
  const { timeoutMs, onTimeout } = options;
  const where = store.description;
  const bounded =
    <A extends unknown[], T>(op: StoreOp, call: (...args: A) => Promise<T>) =>
    (...args: A): Promise<T> =>
      // A synchronous throw from the backend rejects like any failure of the operation; settling
      // after the deadline is a no-op, so an abandoned operation never becomes an unhandled rejection.
      withTimeout(
        Promise.resolve().then(() => call(...args)),
        timeoutMs,
        () => {
          onTimeout?.(op);
          return new StoreTimeoutError(op, timeoutMs, where);
        },
      );
  return {
    description: store.description,
    createUser: bounded('createUser', (user) => store.createUser(user)),
    findUserByEmail: bounded('findUserByEmail', (email) => store.findUserByEmail(email)),
    findUserById: bounded('findUserById', (id) => store.findUserById(id)),
    revokeToken: bounded('revokeToken', (r) => store.revokeToken(r)),
    revokeUserTokens: bounded('revokeUserTokens', (r) => store.revokeUserTokens(r)),
    revocationsSince: bounded('revocationsSince', (since, now) => store.revocationsSince(since, now)),
    kvGet: bounded('kvGet', (rootId, key) => store.kvGet(rootId, key)),
    kvPut: bounded('kvPut', (rootId, key, value) => store.kvPut(rootId, key, value)),
    kvDelete: bounded('kvDelete', (rootId, key) => store.kvDelete(rootId, key)),
    kvList: bounded('kvList', (rootId, listOptions?: { prefix?: string; limit?: number }) => store.kvList(rootId, listOptions)),
    ping: bounded('ping', () => store.ping()),
    items: {
      prepare: bounded('items.prepare', (collection, indexes) => store.items.prepare(collection, indexes)),
      insert: bounded('items.insert', (collection, item) => store.items.insert(collection, item)),
      get: bounded('items.get', (collection, id) => store.items.get(collection, id)),
      replace: bounded('items.replace', (collection, next, expectedRev) => store.items.replace(collection, next, expectedRev)),
      remove: bounded('items.remove', (collection, id, expectedRev) => store.items.remove(collection, id, expectedRev)),
      query: bounded('items.query', (collection, query) => store.items.query(collection, query)),
    },
    close: () => store.close(),
  };
}

/**
 * Picks the store: MongoDB when a URL is configured (several hub nodes share it), otherwise the
 * embedded LMDB store in `dataDir` (one machine, nothing to run).
 */
import { createLmdbStore } from './lmdb.js';
import { createMongoStore } from './mongodb.js';
import type { Store } from './store.js';

export * from './store.js';
export { createLmdbStore } from './lmdb.js';
export { createMongoStore, redactUrl } from './mongodb.js';

export { withDeadline, type StoreOp } from './deadline.js';

/** `timeoutMs` (the store deadline) also sets the MongoDB driver's connect and socket timeouts. */
export function createStore(options: { dataDir: string; mongodbUrl?: string | undefined; timeoutMs?: number }): Promise<Store> {
  return options.mongodbUrl
    ? createMongoStore(options.mongodbUrl, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
    : createLmdbStore(options.dataDir);
}
